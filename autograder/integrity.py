"""Tamper detection and the clean-room re-check that decides the points.

Two parts:

* :func:`static_flags` compares the submitted notebook with the release: deleted or edited locked cells
  (nbgrader restores them), changed points or nbgrader metadata, duplicated cell ids.
* :func:`recheck` re-runs every test cell across a process boundary. A sandboxed *student process*
  (forked from the worker's clean-room :class:`~autograder.sandbox.Zygote` when there is one) runs
  the setup cell, the answer cells and any cell the student added or changed, then serves calls to the
  student's functions. The *harness process* (a fork of the worker, never touched by student code) runs
  each test cell from the gradebook's copy in a fresh namespace where the student's functions are
  proxies: arguments go to the student process, results come back as plain data (numpy arrays, numbers,
  strings, lists, dicts; nothing else is unpickled), and arguments the student function changed in place
  (arrays, random generators) are copied back so in-place and draw-order checks still see them. A test
  passes when it raises nothing; stderr does not matter. The student process also reports the
  tampering it can see (patched numpy/gradlib/builtins, IPython input transformers, hooks on
  showtraceback, leftover processes).

Points are the clean-room results. A test that passed in the kernel but fails in the clean room is
flagged, as is every tampering reported.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import io
import json
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import warnings
from pathlib import Path

from autograder import sandbox

__all__ = [
    "Proxy",
    "Recheck",
    "StudentGone",
    "StudentProcess",
    "finish_recheck",
    "recheck",
    "start_recheck",
    "static_flags",
    "student_cells",
]


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _release(prepared_root: Path, assignment: str, notebook: str):
    import nbformat

    return nbformat.read(Path(prepared_root) / "course" / assignment / f"{notebook}.ipynb", as_version=4)


def static_flags(submitted, release, raw_ids: list | None = None) -> list[str]:
    """Tampering visible in the submitted notebook itself, compared with the release notebook.

    ``raw_ids`` are the cell ids as written in the file (nbformat silently renames duplicates on read).
    """
    flags = []
    ids = [i for i in (raw_ids if raw_ids is not None else [c.get("id") for c in submitted.cells]) if i]
    dup_ids = sorted({i for i in ids if ids.count(i) > 1})
    grade_ids = [_nbgrader(c).get("grade_id") for c in submitted.cells if _nbgrader(c).get("grade_id")]
    dup_ids += sorted({g for g in grade_ids if grade_ids.count(g) > 1} - set(dup_ids))
    if dup_ids:
        flags.append(f"duplicated cell ids: {', '.join(dup_ids)}")
    mine = {_nbgrader(c).get("grade_id"): c for c in submitted.cells if _nbgrader(c).get("grade_id")}
    for cell in release.cells:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if not gid or not (meta.get("locked") or meta.get("grade")):
            continue
        theirs = mine.get(gid)
        kind = "test cell" if meta.get("grade") and not meta.get("solution") else "locked cell"
        if theirs is None:
            if meta.get("locked"):
                flags.append(f"{kind} {gid} was deleted (restored from the gradebook)")
            continue
        if meta.get("locked") and theirs.source.rstrip() != cell.source.rstrip():
            flags.append(f"{kind} {gid} was edited (restored from the gradebook)")
        their_meta = _nbgrader(theirs)
        if their_meta.get("points") != meta.get("points"):
            flags.append(f"points of {gid} changed from {meta.get('points')} to {their_meta.get('points')}")
        elif any(their_meta.get(k) != meta.get(k) for k in ("grade", "solution", "locked")):
            flags.append(f"nbgrader metadata of {gid} changed")
    return flags


SERVER = sandbox.SERVER
_RESTARTS = 2

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
}


class _DataOnly(pickle.Unpickler):
    """Unpickles numbers, strings, containers and numpy arrays; refuses everything else."""

    def find_class(self, module, name):
        if (
            (module, name) in _ALLOWED
            or (module == "numpy" and name.endswith("DType"))
            or (module == "numpy.dtypes")
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the student process sent a {module}.{name}, which is not plain data")


class StudentGone(RuntimeError):
    """The student process ended, timed out or broke the protocol."""


def clean_room_env(scratch: Path) -> dict[str, str]:
    """The clean room's environment inside the sandbox."""
    return {
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(scratch / "mpl"),
        "IPYTHONDIR": str(scratch / "ipython"),
        "NBGRADER_EXECUTION": "autograde",
    }


#: The worker's zygote (set by the grading engine); None: start every student process fresh.
ZYGOTE: sandbox.Zygote | None = None


class StudentProcess:
    """The sandboxed student process of the clean room, (re)started on demand."""

    def __init__(self, job: dict, scratch: Path, policy: sandbox.SandboxPolicy, timeout: float):
        self.job, self.scratch, self.policy, self.timeout = job, scratch, policy, timeout
        self.proc = self.sock = None
        self.starts = 0
        self.report: tuple | None = None
        self.callbacks: dict[int, object] = {}
        #: Generators the harness sent, by id: the student's calls back with one get the same object.
        self.generators: dict[int, object] = {}

    def start(self) -> tuple:
        """Start the process, send the job, return its ``ready`` report."""
        if self.starts > _RESTARTS:
            raise StudentGone("the student's code ended the clean-room process too often")
        self.starts += 1
        mine, theirs = socket.socketpair()
        if ZYGOTE is not None and ZYGOTE.spawn_student(theirs, self.policy.cpu_seconds):
            self.proc = ZYGOTE
        else:
            self.proc = self._popen(theirs)
        theirs.close()
        self.sock = mine
        self.sock.settimeout(self.timeout)
        self.send(self.job)
        reply = self.recv()
        if not (isinstance(reply, tuple) and reply and reply[0] == "ready"):
            raise StudentGone("the clean-room process sent nonsense")
        if self.report is None:
            self.report = reply
        return reply

    def _popen(self, theirs: socket.socket) -> subprocess.Popen:
        """A fresh sandboxed ``python _student_server.py`` (when no zygote is running)."""
        argv = [sys.executable, "-I", str(SERVER), str(theirs.fileno())]
        cmd = sandbox.command(
            argv,
            writable=[self.scratch],
            readable=[SERVER],
            policy=self.policy,
            env=clean_room_env(self.scratch),
        )
        with open(self.scratch / "student.log", "ab") as log:
            return subprocess.Popen(
                cmd,
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def stop(self) -> None:
        """Kill the process and everything it started."""
        if self.sock is not None:
            self.sock.close()
        if isinstance(self.proc, sandbox.Zygote):
            self.proc.reset()
        elif self.proc is not None:
            sandbox.kill_tree(self.proc.pid)
            self.proc.wait()
        self.proc = self.sock = None

    def send(self, obj) -> None:
        """Send one length-prefixed pickle."""
        data = pickle.dumps(obj, protocol=4)
        try:
            self.sock.sendall(struct.pack("!Q", len(data)) + data)
        except OSError as exc:
            self.stop()
            raise StudentGone(f"the student's code ended the clean-room process ({exc})") from None

    def recv(self):
        """Receive one message; only plain data is unpickled."""
        try:
            head = self._exactly(8)
            size = struct.unpack("!Q", head)[0]
            if size > 512 * 1024**2:
                raise StudentGone("the student's function returned more than 512 MB")
            return _DataOnly(io.BytesIO(self._exactly(size))).load()
        except TimeoutError:
            self.stop()
            raise StudentGone(f"the student's code did not answer within {self.timeout:g} s") from None
        except (OSError, EOFError, pickle.UnpicklingError, struct.error) as exc:
            self.stop()
            raise StudentGone(f"the student's code ended the clean-room process ({exc})") from None

    def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return bytes(buf)

    def call(self, target, args, kwargs):
        """Call a student function (name or reference); serve callbacks until it returns."""
        if self.proc is None:
            self.start()
        import numpy as np

        # the caller's floating-point error handling (np.errstate) applies to the call, as in-process
        self.send(("call", target, self._out(list(args)), self._out(kwargs), np.geterr()))
        while True:
            msg = self.recv()
            if msg[0] == "callback":
                self._serve_callback(msg)
                continue
            if msg[0] == "return":
                _sync_all(args, kwargs, msg[2])
                return self._in(msg[1])
            if msg[0] == "raise":
                _sync_all(args, kwargs, msg[3])
                raise _rebuild(msg[1], msg[2])
            raise StudentGone(f"unexpected message {msg[0]!r} from the student process")

    def _serve_callback(self, msg) -> None:
        fn = self.callbacks.get(msg[1])
        try:
            value = fn(*self._in(msg[2]), **self._in(msg[3]))
            states = {key: g.bit_generator.state for key, g in self.generators.items()}
            self.send(("return", self._out(value), states))
        except StudentGone:
            raise
        except Exception as exc:  # noqa: BLE001 - the harness's callback failing goes back to the caller
            self.send(("raise", type(exc).__name__, str(exc)))

    def _out(self, value):
        """Harness values to send: callables become callback markers."""
        if isinstance(value, list):
            return [self._out(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._out(v) for v in value)
        if isinstance(value, dict):
            return {k: self._out(v) for k, v in value.items()}
        if hasattr(value, "bit_generator"):
            self.generators[id(value)] = value
            return ("__generator__", value.bit_generator.state, id(value))
        if isinstance(value, Proxy) and value._student is self:
            return ("__ref__", value._target)  # back to the student's own object
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return value  # a record such as gradlib's Activation: sent by value, attributes and all
        if callable(value) and not isinstance(value, type):
            self.callbacks[id(value)] = value
            return ("__callback__", id(value))
        return value

    def _in(self, value):
        """Student values received: references become proxies, generator states generators."""
        if _tagged(value, "__ref__"):
            return Proxy(self, value[1])
        if _tagged(value, "__generator__"):
            known = self.generators.get(value[2]) if len(value) == 3 else None
            return _generator(value[1], known)
        if isinstance(value, list):
            return [self._in(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._in(v) for v in value)
        if isinstance(value, dict):
            return {k: self._in(v) for k, v in value.items()}
        return value


class Proxy:
    """Stands for one of the student's functions; calling it calls the real one in the student process."""

    def __init__(self, student: StudentProcess, target):
        self._student, self._target = student, target
        self.__name__ = str(target)

    def __call__(self, *args, **kwargs):
        """Call the student's function in the student process."""
        return self._student.call(self._target, args, kwargs)


def _tagged(value, tag: str) -> bool:
    """Whether ``value`` is a ``(tag, payload[, id])`` marker (an array compared with a tag is not one)."""
    return isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str) and value[0] == tag


def _generator(state, into=None):
    """A numpy Generator in ``state`` (``into`` itself when given: identity checks keep working)."""
    import numpy as np

    if not isinstance(state, dict) or not hasattr(np.random, str(state.get("bit_generator"))):
        raise StudentGone("the student process sent a malformed generator state")
    if into is None:
        into = np.random.Generator(getattr(np.random, state["bit_generator"])())
    into.bit_generator.state = state
    return into


def _rebuild(name: str, message: str) -> BaseException:
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    if name == "CheckFailure":
        from gradlib.checks.core import CheckFailure

        return CheckFailure(message)
    return RuntimeError(f"{name}: {message}")


def _sync(orig, new):
    """Copy the student process's final state of an argument back into the harness's object."""
    import numpy as np

    if new is None:
        return
    if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray):
        if orig.shape == new.shape and not np.array_equal(orig, new, equal_nan=orig.dtype.kind in "fc"):
            try:
                orig[...] = new
            except (ValueError, TypeError):
                pass
    elif isinstance(orig, np.random.Generator) and _tagged(new, "__generator__") and isinstance(new[1], dict):
        orig.bit_generator.state = new[1]
    elif isinstance(orig, list) and isinstance(new, list):
        if len(orig) != len(new):
            orig[:] = new
        for i, item in enumerate(new):
            if isinstance(orig[i], (np.ndarray, list, dict)):
                _sync(orig[i], item)
            elif orig[i] is not item:
                orig[i] = item
    elif isinstance(orig, dict) and isinstance(new, dict):
        for key in set(orig) - set(new):
            del orig[key]
        for key, item in new.items():
            if key in orig and isinstance(orig[key], (np.ndarray, list, dict)):
                _sync(orig[key], item)
            else:
                orig[key] = item


def _sync_all(args, kwargs, mutated) -> None:
    new_args, new_kwargs = mutated
    for orig, new in zip(args, new_args, strict=False):
        _sync(orig, new)
    for key, new in new_kwargs.items():
        if key in kwargs:
            _sync(kwargs[key], new)


def _imported_modules(sources: list[str]) -> list[str]:
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
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution"):
            continue
        if first or meta.get("solution") or cell.source.strip() not in instructor:
            chosen.append((index, cell.source))
        first = False
    return chosen


def _setup_source(release) -> str:
    return next((c.source for c in release.cells if c.cell_type == "code"), "")


def _python(source: str) -> str:
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
            exec(compile(_python(source), f"<test {grade_id}>", "exec"), namespace)  # noqa: S102 - instructor
        return True, ""
    except StudentGone as exc:
        return False, f"StudentGone: {exc}"
    except BaseException as exc:  # noqa: BLE001 - any exception fails the test
        text = str(exc).strip()
        return False, f"{type(exc).__name__}: {text}"[:500]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _harness(
    job: dict, tests: list[tuple[str, str]], setup: str, scratch: Path, policy, timeout: int
) -> dict:
    """Runs in a fresh fork of the worker: start the student process, then run every test cell."""
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as in the kernel: gradlib.runtime.grading() is True
    student = StudentProcess(job, scratch, policy, timeout)
    try:
        try:
            _, names, tamper, errors = student.start()
        except StudentGone as exc:
            return {
                "tests": {gid: [False, f"StudentGone: {exc}"] for gid, _ in tests},
                "tamper": [],
                "errors": [],
            }
        base = {
            name: Proxy(student, name) if kind == "callable" else student._in(value)
            for name, (kind, value) in names.items()
        }
        setup_ns: dict = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(_python(setup), "<setup>", "exec"), setup_ns)  # noqa: S102 - instructor code
        base.update({k: v for k, v in setup_ns.items() if k != "__builtins__"})
        results = {gid: list(_run_test(src, gid, dict(base), timeout)) for gid, src in tests}
        return {"tests": results, "tamper": tamper, "errors": errors}
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

    def result(self) -> dict:
        """Wait (until the deadline at most) for the harness's JSON result."""
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
        if not chunks:
            return {"error": "the clean-room re-check did not finish in time"}
        return json.loads(b"".join(chunks))

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


def _in_fork(fn, deadline: float) -> dict:
    """Run ``fn()`` in a forked child (a harness no student code ever touched); return its JSON result."""
    return Recheck(fn, deadline).result()


def start_recheck(submitted, release, tests, *, scratch: Path, policy, cell_timeout: int, deadline: float):
    """Start re-running the tests across the process boundary; :func:`finish_recheck` collects them.

    ``tests`` are ``(grade_id, source)`` from the gradebook, in notebook order. ``scratch`` is the clean
    room's own writable directory (the student process's HOME).
    """
    setup = _setup_source(release)
    modules = _imported_modules([setup] + [src for _, src in tests])
    job = {"modules": modules, "cells": student_cells(submitted, release)}
    room = Path(scratch) / "cleanroom"
    room.mkdir(exist_ok=True)
    return Recheck(lambda: _harness(job, tests, setup, room, policy, cell_timeout), deadline)


def finish_recheck(run: Recheck, cells) -> list[str]:
    """Set each cell's clean result and points from ``run``; return the flags.

    ``cells`` is the :class:`CellResult` list of the in-kernel pass (changed in place).
    """
    outcome = run.result()
    if "error" in outcome:
        raise RuntimeError(f"clean-room re-check failed: {outcome['error']}")
    flags = [f"tampering: {t}" for t in outcome["tamper"]]
    for cell in cells:
        passed, message = outcome["tests"].get(cell.grade_id, [False, "test cell missing from the gradebook"])
        cell.passed_clean = bool(passed)
        cell.points = cell.max_points if passed else 0.0
        if not passed:
            cell.message = _clean_message(message) or cell.message
        if cell.passed_in_kernel and not passed:
            flags.append(f"{cell.grade_id} passed in the kernel but fails the clean-room re-check")
    return flags


def recheck(submitted, release, tests, cells, *, scratch: Path, policy, cell_timeout: int, deadline: float):
    """Re-run the tests across the process boundary; set each cell's clean result and points.

    ``tests`` are ``(grade_id, source)`` from the gradebook, in notebook order; ``cells`` the
    :class:`CellResult` list of the in-kernel pass (changed in place). Returns the flags.
    """
    run = start_recheck(
        submitted,
        release,
        tests,
        scratch=scratch,
        policy=policy,
        cell_timeout=cell_timeout,
        deadline=deadline,
    )
    return finish_recheck(run, cells)


def _clean_message(message: str) -> str:
    return message.strip().splitlines()[0][:300] if message.strip() else ""
