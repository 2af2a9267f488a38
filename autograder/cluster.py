"""Grading on a Dask cluster: an executor for ``autograder grade --scheduler``, and ``autograder worker``.

:class:`DaskExecutor` implements the executor interface of :mod:`autograder.executor` on an existing Dask
scheduler. No filesystem is shared: the parent reads every submitted notebook and sends its bytes with
the job; the release and the template gradebook go to the cluster once, as one set-up task; a worker grades in
a private directory and returns the result together with the autograded notebooks' bytes; the parent
alone writes ``OUT`` and the gradebook.

Jobs run on workers that offer the ``grader`` resource (one per worker process, so one grading process
per worker). At most a few jobs per worker are queued on the scheduler at a time, so a 16,000-notebook
course never sits in the scheduler's memory.

Faults:

- A worker that dies mid-job: the scheduler re-runs its jobs on other workers (Dask's rescheduling).
- A submission that kills every worker it runs on: after ``distributed.scheduler.allowed-failures``
  deaths (default 3) Dask gives up on it; it becomes a ``failed`` row whose reason says so.
- The scheduler disappears: the results received so far are kept (the engine has recorded them),
  no further job is sent, and :attr:`DaskExecutor.lost` says what happened; ``autograder grade`` then
  exits with status 1 and that message.

``autograder worker ADDRESS`` (:func:`worker_main`) checks that bubblewrap works and prints the project's
:func:`fingerprint`, then runs ``dask worker`` with one thread and one ``grader`` resource per process,
non-daemonic processes (grading forks kernels) and no dashboard. At the start of a run the executor
compares every worker's fingerprint with its own and refuses to use a cluster running other code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["ClusterLost", "DaskExecutor", "WorkerLost", "connect", "factory", "fingerprint", "worker_main"]

#: Jobs sent per grading worker at a time; the next is sent as a result comes back. One keeps a job that
#: kills its worker from taking innocent jobs queued on the same worker down with it (Dask counts a death
#: against every job assigned to the worker that died).
QUEUE_PER_WORKER = 1
#: Seconds between two counts of the grading workers (a count asks the scheduler).
RECOUNT_EVERY = 2.0
#: Seconds the client may be disconnected from the scheduler before the run is declared lost.
LOST_AFTER = 20.0
_RESOURCE = {"grader": 1}


class ClusterLost(RuntimeError):
    """The scheduler went away, or no grading worker is connected."""


class WorkerLost(RuntimeError):
    """A job's workers died while running it, more often than the scheduler allows."""


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """The project's version and a hash of its Python sources (``autograder/``, ``gradlib/``)."""
    from importlib import metadata

    try:
        version = metadata.version("vanishing-gradients-course")
    except metadata.PackageNotFoundError:
        version = "not installed"
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for package in ("autograder", "gradlib"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return f"{version}+{digest.hexdigest()[:12]}"


# --------------------------------------------------------------------------------------------------
# Parent side


def connect(address: str, timeout: float = 30.0):
    """A ``distributed.Client`` for ``address``: ``tcp://host:port`` (or ``tls://``) or a scheduler file."""
    from distributed import Client

    _check_address(address)
    if "://" in address:
        return Client(address, timeout=timeout, set_as_default=False)
    return Client(scheduler_file=address, timeout=timeout, set_as_default=False)


def _grading_workers(client) -> dict[str, dict]:
    info = client.scheduler_info(n_workers=-1)["workers"]
    return {addr: w for addr, w in info.items() if w.get("resources", {}).get("grader", 0) >= 1}


def _pack_course(course: Any) -> bytes:
    """The release notebooks and the template gradebook of a prepared course, as a tar archive."""
    root = Path(course.root)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        tar.add(root / "course", arcname="course")
        tar.add(course.template_db, arcname=str(Path(course.template_db).relative_to(root)))
    return buffer.getvalue()


def _pack_initargs(initargs: tuple) -> tuple:
    """Replace parent paths by what a worker can rebuild: a course archive, or a fresh local directory."""
    packed = []
    for arg in initargs:
        if dataclasses.is_dataclass(arg) and hasattr(arg, "root") and hasattr(arg, "template_db"):
            packed.append(("course", arg, _pack_course(arg)))
        elif isinstance(arg, str | Path) and Path(arg).is_dir():
            packed.append(("dir", None, b""))
        else:
            packed.append(("value", arg, b""))
    return tuple(packed)


@dataclasses.dataclass(frozen=True)
class _Setup:
    """What every worker needs once per run: the engine's initializer and its packed arguments."""

    initializer: Callable[..., None] | None
    packed: tuple


class DaskExecutor:
    """Run grading jobs on the grading workers of an existing Dask scheduler (see module doc)."""

    def __init__(
        self,
        address: str,
        workers: int | None = None,
        initializer: Callable[..., None] | None = None,
        initargs: tuple = (),
        *,
        wait_for_workers: float = 60.0,
        lost_after: float = LOST_AFTER,
    ) -> None:
        self.address = address
        self.lost_after = lost_after
        self.client = connect(address)
        self.token = uuid.uuid4().hex[:12]
        self.lost: str | None = None
        self.hosts: set[str] = set()
        self.workers_used: set[str] = set()
        self._counted = (-RECOUNT_EVERY, QUEUE_PER_WORKER)
        try:
            self._check_workers(wait_for_workers)
            packed = _pack_initargs(initargs)
            # A task, not scattered data: if every worker holding it dies, the scheduler computes it again.
            self._setup = self.client.submit(
                _Setup, initializer, packed, pure=False, key=f"setup-{self.token}"
            )
        except BaseException:
            self.client.close()
            raise

    def _check_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not (found := _grading_workers(self.client)):
            if time.monotonic() > deadline:
                raise ClusterLost(
                    f"no grading worker is connected to the scheduler at {self.address} after {timeout:g} s; "
                    "start some with `autograder worker ADDRESS`"
                )
            time.sleep(0.5)
        theirs = self.client.run(fingerprint, workers=list(found))
        mine = fingerprint()
        wrong = {addr: fp for addr, fp in theirs.items() if fp != mine}
        if wrong:
            listed = ", ".join(f"{addr} runs {fp}" for addr, fp in sorted(wrong.items()))
            raise ClusterLost(f"workers run other code than this grader ({mine}): {listed}")

    def submit(self, fn: Callable[[Any], Any], job: Any):
        """Send ``fn(job)`` (the job carries its notebooks' bytes) to a grading worker; return the future."""
        key = f"grade-{job.student_id}-{job.assignment}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(
            _remote, self.token, self._setup, fingerprint(), fn, job,
            resources=_RESOURCE, pure=False, key=key,
        )  # fmt: skip

    def _window(self) -> int:
        """How many jobs may be on the cluster now (the worker count is asked every few seconds)."""
        now = time.monotonic()
        if now - self._counted[0] > RECOUNT_EVERY:
            with contextlib.suppress(Exception):
                self._counted = (now, QUEUE_PER_WORKER * max(1, len(_grading_workers(self.client))))
        return self._counted[1]

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(job, result or exception)`` in completion order; stop early if the scheduler is lost."""
        pending = iter(jobs)
        inflight: dict = {}
        retried: dict[int, int] = {}
        disconnected_since: float | None = None
        while True:
            window = self._window()
            while disconnected_since is None and len(inflight) < window and (job := next(pending, None)):
                inflight[self.submit(fn, job)] = job
            if not inflight:
                return
            done = [f for f in inflight if f.done()]
            if not done:
                if _connected(self.client):
                    disconnected_since = None
                else:
                    disconnected_since = disconnected_since or time.monotonic()
                    if time.monotonic() - disconnected_since > self.lost_after:
                        self._lose(len(inflight), f"no connection for {self.lost_after:g} s")
                        return
                time.sleep(0.05)
                continue
            for future in done:
                job = inflight.pop(future)
                outcome = self._outcome(future, job)
                if outcome is None and _connected(self.client) and retried.get(id(job), 0) < 2:
                    retried[id(job)] = retried.get(id(job), 0) + 1  # the scheduler forgot it: send it again
                    inflight[self.submit(fn, job)] = job
                    continue
                if outcome is None:
                    self._lose(len(inflight) + 1, f"{future.key} was cancelled")
                    return
                yield job, outcome

    def _outcome(self, future, job: Any) -> Any:
        from distributed import KilledWorker

        try:
            result, host, worker = future.result()
        except KilledWorker as exc:
            return WorkerLost(
                f"{exc.allowed_failures + 1} grading workers died one after another while grading this "
                f"submission (the last was {exc.last_worker.address}); it was not tried again"
            )
        except Exception as exc:  # noqa: BLE001 - one job's error is that job's failed row
            if future.status == "cancelled":
                return None
            return exc
        finally:
            future.release()
        self.hosts.add(host)
        self.workers_used.add(worker)
        return result

    def _lose(self, unfinished: int, how: str) -> None:
        self.lost = (
            f"lost the Dask scheduler at {self.address} ({how}); {unfinished} submission(s) in progress and "
            "any not yet sent were not graded. The results received so far are in the gradebook and "
            "grades.csv; grade again to finish"
        )

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.lost is None:
            with contextlib.suppress(Exception):
                self.client.run(_forget, self.token)
        with contextlib.suppress(Exception):
            self.client.close(timeout=5)


def _connected(client) -> bool:
    """Whether the client is running and its connection to the scheduler is open."""
    try:
        return client.status == "running" and not client.scheduler_comm.comm.closed()
    except AttributeError:  # no connection object yet, or any more
        return False


class _Cluster:
    """An executor factory for :func:`autograder.engine.grade` that remembers the executor it made."""

    def __init__(self, address: str, **options: float) -> None:
        self.address = address
        self.options = options
        self.executor: DaskExecutor | None = None

    def __call__(self, workers=None, initializer=None, initargs=()) -> DaskExecutor:
        self.executor = DaskExecutor(self.address, workers, initializer, initargs, **self.options)
        return self.executor


def factory(address: str, **options: float) -> _Cluster:
    """``executor_factory`` for ``engine.grade``; then ``.executor.lost`` and ``.hosts`` tell how it went."""
    _check_address(address)
    return _Cluster(address, **options)


def _check_address(address: str) -> None:
    if "://" not in address and not Path(address).is_file():
        raise ValueError(
            f"scheduler {address!r} is neither an address like tcp://host:8786 nor an existing scheduler file"
        )


# --------------------------------------------------------------------------------------------------
# Worker side

_RUNS: dict[str, Path] = {}
_CURRENT: dict[str, str | None] = {"token": None}


def _unpack(packed: tuple, run_dir: Path) -> tuple:
    args = []
    for kind, value, data in packed:
        if kind == "course":
            root = run_dir / "course-root"
            root.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                tar.extractall(root, filter="data")
            template = root / Path(value.template_db).relative_to(value.root)
            args.append(dataclasses.replace(value, root=root, template_db=template))
        elif kind == "dir":
            # the engine puts Unix sockets under it (~100-byte limit): keep it short, unlike Dask's own dir
            _sweep_dead_runs()
            work = Path(tempfile.mkdtemp(prefix=f"ag-run-{os.getpid()}-", dir="/tmp"))
            link = run_dir / "work"
            if link.is_symlink():  # an earlier set-up of this run failed: start again
                shutil.rmtree(link.resolve(), ignore_errors=True)
                link.unlink()
            link.symlink_to(work)
            args.append(str(work))
        else:
            args.append(value)
    return tuple(args)


def _sweep_dead_runs() -> None:
    """Remove the work folders of worker processes that were killed before they could (``ag-run-PID-*``)."""
    for path in Path("/tmp").glob("ag-run-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def _run_dir(token: str) -> Path:
    if token not in _RUNS:
        from distributed import get_worker

        base = Path(get_worker().local_directory)
        _RUNS[token] = Path(tempfile.mkdtemp(prefix=f"run-{token}-", dir=base))
    return _RUNS[token]


def _remote(token: str, setup: _Setup, expected: str, fn: Callable, job: Any):
    """Runs on a worker: set up for this run once, then return ``fn(job)`` with where it ran."""
    import socket

    from distributed import get_worker

    from autograder import engine

    if fingerprint() != expected:
        raise ClusterLost(f"worker {get_worker().address} runs {fingerprint()}, the grader {expected}")
    run_dir = _run_dir(token)
    if _CURRENT["token"] != token:
        if _CURRENT["token"] is not None:
            # a run with other options (e.g. no sandbox) must not fork from an earlier run's zygotes
            engine.close_worker()
        if setup.initializer is not None:
            setup.initializer(*_unpack(setup.packed, run_dir))
        _CURRENT["token"] = token
    return fn(job), socket.gethostname(), get_worker().address


def _forget(token: str) -> None:
    """Remove a finished run's directory on this worker."""
    path = _RUNS.pop(token, None)
    if path is not None:
        if (path / "work").is_symlink():
            shutil.rmtree((path / "work").resolve(), ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)


def worker_main(
    address: str, nworkers: int | None = None, name: str | None = None, local_directory: str | None = None
) -> int:
    """``autograder worker``: check this machine, then become ``dask worker`` with grading settings."""
    from autograder import sandbox

    _check_address(address)
    if nworkers is not None and nworkers < 1:
        raise ValueError(f"--nworkers {nworkers} must be at least 1")
    ok, why = sandbox.bwrap_available()
    if not ok:
        print(
            f"autograder worker: error: {why}. Grading workers sandbox student code with bubblewrap; "
            "install it (Debian: apt-get install bubblewrap) and start the worker again.",
            file=sys.stderr,
        )
        return 1
    print(f"autograder worker {fingerprint()}: bubblewrap ok ({why}); joining {address}", flush=True)
    argv = [sys.executable, "-m", "distributed.cli.dask_worker"]
    argv += ["--scheduler-file", address] if "://" not in address else [address]
    argv += ["--nworkers", str(nworkers or os.cpu_count() or 1), "--nthreads", "1", "--resources", "grader=1"]
    argv += ["--no-dashboard", "--nanny"]
    if name:
        argv += ["--name", name]
    if local_directory:
        argv += ["--local-directory", local_directory]
    os.environ["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"  # grading forks kernels and clean rooms
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover - execv does not return
