"""The harness: run every test cell of one notebook against the student's functions, in a clean fork.

:func:`start` forks the grading worker (:class:`Recheck`); the child, which no student code ever touches,
starts the student process (:class:`~.client.StudentProcess`), runs the instructor's setup cell for the
tests' imports, then each test cell from the gradebook's copy in a fresh namespace where the student's
functions are :class:`~.client.Proxy` objects. A test passes when it raises nothing (stdout, stderr and
warnings do not count). The child sends back one JSON :class:`Verdict`; the kernel pass runs meanwhile.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import select
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from autograder import limits, sandbox
from autograder.cleanroom import wire
from autograder.cleanroom.client import Proxy, StudentGone, StudentProcess

__all__ = ["Recheck", "Verdict", "imported_modules", "python_source", "start", "student_cells"]


#: Characters of a failing test's message sent back (a bound on what one student's exception can carry).
MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Verdict:
    """What the clean room decided for one notebook.

    Attributes:
        tests: grade_id -> (passed, message) for every test cell.
        tamper: what the student process's probes saw.
    """

    tests: dict
    tamper: tuple = ()


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def imported_modules(sources: list[str]) -> list[str]:
    """Modules (and their parents) that the instructor's setup and test cells import."""
    found = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                parts = name.split(".")
                found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found)


def student_cells(submitted, release) -> list[tuple[int, str]]:
    """The cells the student process runs: setup, answers, and code cells the student added or changed."""
    instructor = {c.source.strip() for c in release.cells if c.cell_type == "code"}
    chosen, first = [], True
    for index, cell in enumerate(submitted.cells):
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            continue
        if first or meta.get("solution") or cell.source.strip() not in instructor:
            chosen.append((index, cell.source))
        first = False
    return chosen


def python_source(source: str) -> str:
    """A cell's source as plain Python (IPython's ``%magic`` lines become ``get_ipython()`` calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _run_test(source: str, grade_id: str, namespace: dict, timeout: int) -> tuple[bool, str]:
    """Run one test cell; it passes when it raises nothing (output, stderr and warnings do not count)."""

    def alarm(signum, frame):
        raise TimeoutError(f"the test did not finish within {timeout} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(max(1, int(timeout)))
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(python_source(source), f"<test {grade_id}>", "exec"), namespace)  # noqa: S102
        return True, ""
    except StudentGone as exc:
        return False, f"StudentGone: {exc}"
    except BaseException as exc:  # noqa: BLE001 - any exception fails the test
        return False, f"{type(exc).__name__}: {str(exc).strip()}"[:MAX_MESSAGE]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _run_all(student: StudentProcess, tests, setup: str, timeout: int, threads: int) -> dict:
    """In the harness: start the student process, run the setup, then every test cell; a JSON-able dict.

    The tests' own computations (torch oracles, lesson 08's training) use ``threads`` threads, as the
    student process does: more threads than the worker's share of the cores only spin.
    """
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as in the kernel: gradlib.runtime.grading() is True
    limits.pin_threads(threads)
    try:
        try:
            ready = student.start()
        except StudentGone as exc:
            return {"tests": {gid: [False, f"StudentGone: {exc}"] for gid, _ in tests}, "tamper": []}
        base = {
            name: Proxy(student, name) if kind == "callable" else student.incoming(value)
            for name, (kind, value) in ready.names.items()
        }
        setup_ns: dict = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(python_source(setup), "<setup>", "exec"), setup_ns)  # noqa: S102 - instructor code
        base.update({k: v for k, v in setup_ns.items() if k != "__builtins__"})
        results = {gid: list(_run_test(src, gid, dict(base), timeout)) for gid, src in tests}
        return {"tests": results, "tamper": list(ready.tamper)}
    finally:
        student.stop()


class Recheck:
    """A clean-room re-check running in a forked harness (the kernel pass can run meanwhile)."""

    def __init__(self, fn, deadline: float):
        self.deadline = deadline
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child: a harness no student code ever touched
            os.close(read_fd)
            try:
                payload = json.dumps(fn())
            except BaseException as exc:  # noqa: BLE001
                payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
            with os.fdopen(write_fd, "w") as fh:
                fh.write(payload)
            os._exit(0)
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def result(self) -> Verdict:
        """Wait (until the deadline at most) for the harness's verdict.

        Raises:
            RuntimeError: the harness failed or did not finish in time.
        """
        chunks = []
        with os.fdopen(self.fd, "rb") as fh:
            while True:
                ready, _, _ = select.select([fh], [], [], max(0.1, self.deadline - time.monotonic()))
                if not ready:
                    sandbox.kill_tree(self.pid)
                    break
                chunk = os.read(fh.fileno(), 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        self._reap()
        outcome = json.loads(b"".join(chunks)) if chunks else {"error": "it did not finish in time"}
        if "error" in outcome:
            raise RuntimeError(f"clean-room re-check failed: {outcome['error']}")
        tests = {gid: (bool(passed), message) for gid, (passed, message) in outcome["tests"].items()}
        return Verdict(tests, tuple(outcome["tamper"]))

    def cancel(self) -> None:
        """Stop the harness and the student process (no-op once :meth:`result` returned)."""
        if self.pid is None:
            return
        sandbox.kill_tree(self.pid)
        os.close(self.fd)
        self._reap()

    def _reap(self) -> None:
        os.waitpid(self.pid, 0)
        self.pid = None


def start(
    submitted,
    release,
    tests: list[tuple[str, str]],
    *,
    scratch: Path,
    policy: sandbox.SandboxPolicy,
    cell_timeout: int,
    deadline: float,
    zygote: sandbox.Zygote | None = None,
) -> Recheck:
    """Start re-running the tests across the process boundary; :meth:`Recheck.result` collects them.

    Args:
        submitted: the student's notebook (nbformat).
        release: the release notebook it is graded against.
        tests: ``(grade_id, source)`` of the test cells, from the gradebook, in notebook order.
        scratch: the clean room's own writable directory (the student process's HOME).
        policy: the student process's sandbox.
        cell_timeout: seconds per test cell.
        deadline: ``time.monotonic()`` by which the whole re-check must be done.
        zygote: the worker's clean-room zygote, or None.
    """
    setup = next((c.source for c in release.cells if c.cell_type == "code"), "")
    job = wire.Job(imported_modules([setup] + [src for _, src in tests]), student_cells(submitted, release))
    room = Path(scratch) / "cleanroom"
    room.mkdir(exist_ok=True)
    student = StudentProcess(job, room, policy, cell_timeout, zygote)
    return Recheck(lambda: _run_all(student, tests, setup, cell_timeout, policy.threads), deadline)
