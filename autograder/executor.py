"""Where grading jobs run: a small interface, and a local pool of worker processes.

An executor is a context manager with ``submit(fn, job) -> Future`` and ``map(fn, jobs)``, which yields
``(job, result_or_exception)`` pairs in completion order. ``fn`` and ``job`` must be picklable, and
``initializer(*initargs)`` runs once in every worker before its first job. :class:`LocalExecutor` uses
worker processes, never threads: nbgrader changes ``os.environ`` while it grades. A cluster executor
(e.g. Dask distributed) implements the same three methods.

Workers die with the process that made the executor, even when it is SIGKILLed: each worker holds the read
end of a pipe (a "lifeline") whose write end only that process holds. The kernel closes the write end when
the process dies, however it dies; a thread in each worker sees end-of-file, kills every process the worker
started (its sandboxes, the clean-room harness) and then the worker. Processes the worker forks get
``PR_SET_PDEATHSIG`` (SIGKILL), so they die with the worker too, however the worker dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from autograder.cleanroom.procfs import descendants

__all__ = ["Executor", "LocalExecutor"]


class Executor(Protocol):
    """What the engine needs from a pool of workers."""

    def submit(self, fn: Callable[[Any], Any], job: Any) -> Future:
        """Run ``fn(job)`` on a worker; the future holds its result."""

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Run ``fn`` on every job; yield ``(job, result or the exception raised)`` as each finishes."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class LocalExecutor:
    """``workers`` processes on this machine (default: one per core), started with ``spawn``."""

    def __init__(
        self,
        workers: int | None = None,
        initializer: Callable[..., None] | None = None,
        initargs: tuple = (),
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        context = multiprocessing.get_context("spawn")
        # the write end stays in this process alone: spawned workers receive only the fds they are given
        self._lifeline, self._holder = context.Pipe(duplex=False)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self._lifeline, initializer, initargs),
        )

    def submit(self, fn: Callable[[Any], Any], job: Any) -> Future:
        """Run ``fn(job)`` in a worker process."""
        return self._pool.submit(fn, job)

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(job, result)`` in completion order; a job that raised yields its exception."""
        futures = {self.submit(fn, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as exc:  # noqa: BLE001 - reported per job, the batch goes on
                yield futures[future], exc

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._holder.close()
        self._lifeline.close()


#: prctl options (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit now if the parent already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(1)


def _orphaned() -> None:
    """The executor's process is gone: kill everything this worker started, then the worker itself."""
    for pid in descendants(os.getpid()):  # one snapshot, then kill: a killed parent's children stay listed
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def _watch(lifeline: multiprocessing.connection.Connection) -> None:
    """Block until the lifeline reads end-of-file (the executor's process ended); then :func:`_orphaned`."""
    try:
        while True:
            lifeline.recv_bytes()  # nothing is ever sent: this returns only at end-of-file
    except (EOFError, OSError):
        _orphaned()


def _start_worker(lifeline, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """In each new worker: watch the lifeline, make forked children die with the worker, then initialize."""
    worker = os.getpid()
    os.register_at_fork(after_in_child=lambda: _die_with_parent(worker))
    threading.Thread(target=_watch, args=(lifeline,), name="lifeline", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)
