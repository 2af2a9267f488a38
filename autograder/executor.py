"""Where grading jobs run: a small interface, and a local pool of worker processes.

An executor is a context manager with ``submit(fn, job) -> Future`` and ``map(fn, jobs)``, which yields
``(job, result_or_exception)`` pairs in completion order. ``fn`` and ``job`` must be picklable, and
``initializer(*initargs)`` runs once in every worker before its first job. :class:`LocalExecutor` uses
worker processes, never threads: nbgrader changes ``os.environ`` while it grades. A cluster executor
(e.g. Dask distributed) implements the same three methods.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Protocol

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
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=initializer,
            initargs=initargs,
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
