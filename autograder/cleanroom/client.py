"""The harness's end of the wire: start the student process, call the student's functions through proxies.

Runs in the harness (a fork of a grading worker that no student code touched). :class:`StudentProcess`
starts the sandboxed :mod:`.server` (forked from the worker's clean-room zygote when there is one), sends the
:class:`~.wire.Job` and reads :class:`~.wire.Ready`; a :class:`Proxy` stands for each student function.
Replies are unpickled by :class:`DataOnly`, which accepts numbers, strings, containers and numpy arrays
and nothing else. Arguments the student's function changed in place (arrays, lists, dicts, random
generators) are copied back into the harness's objects, so in-place and draw-order checks still see them.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

from autograder import sandbox
from autograder.cleanroom import BOOT, PACKAGE_DIR, wire
from autograder.cleanroom.wire import CALLBACK, GENERATOR, REF

__all__ = ["DataOnly", "Proxy", "StudentGone", "StudentProcess", "clean_room_env"]

#: A student process that ends this many times more is given up on.
RESTARTS = 2
#: The largest reply the harness reads (a student function returning more fails).
MAX_REPLY_BYTES = 512 * 1024**2

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


class DataOnly(pickle.Unpickler):
    """Unpickles numbers, strings, containers and numpy arrays; refuses everything else."""

    def find_class(self, module, name):  # noqa: D102 - pickle.Unpickler's hook
        if (
            (module, name) in _ALLOWED
            or (module == "numpy" and name.endswith("DType"))
            or module == "numpy.dtypes"
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the student process sent a {module}.{name}, which is not plain data")


def _data_only(data: bytes):
    return DataOnly(io.BytesIO(data)).load()


class StudentGone(RuntimeError):
    """The student process ended, timed out or broke the protocol."""


def clean_room_env(scratch: Path) -> dict[str, str]:
    """The student process's environment inside the sandbox."""
    return {
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(scratch / "mpl"),
        "IPYTHONDIR": str(scratch / "ipython"),
        "NBGRADER_EXECUTION": "autograde",
    }


def _known_exceptions() -> dict:
    from gradlib.checks.core import CheckFailure

    return {"CheckFailure": CheckFailure}


class StudentProcess:
    """The sandboxed student process of the clean room, (re)started on demand.

    Args:
        job: what the process runs.
        scratch: its writable directory (HOME).
        policy: its sandbox limits.
        timeout: seconds to wait for any one reply.
        zygote: the worker's clean-room zygote to fork from, or None to start a fresh process.
    """

    def __init__(
        self,
        job: wire.Job,
        scratch: Path,
        policy: sandbox.SandboxPolicy,
        timeout: float,
        zygote: sandbox.Zygote | None = None,
    ):
        self.job, self.scratch, self.policy, self.timeout, self.zygote = job, scratch, policy, timeout, zygote
        self.proc = self.sock = None
        self.starts = 0
        self.callbacks: dict[int, object] = {}
        #: Generators the harness sent, by id: the student's calls back with one get the same object.
        self.generators: dict[int, object] = {}

    def start(self) -> wire.Ready:
        """Start the process, send the job, return its :class:`~.wire.Ready` report."""
        if self.starts > RESTARTS:
            raise StudentGone("the student's code ended the clean-room process too often")
        self.starts += 1
        mine, theirs = socket.socketpair()
        if self.zygote is not None and self.zygote.spawn_student(theirs, self.policy.cpu_seconds):
            self.proc = self.zygote
        else:
            self.proc = self._popen(theirs)
        theirs.close()
        self.sock = mine
        self.sock.settimeout(self.timeout)
        self.send(self.job)
        reply = self.recv()
        if not isinstance(reply, wire.Ready):
            raise StudentGone("the clean-room process sent nonsense")
        return reply

    def _popen(self, theirs: socket.socket) -> subprocess.Popen:
        """A fresh sandboxed student process (when no zygote is running)."""
        argv = [sys.executable, "-I", str(BOOT), str(theirs.fileno())]
        cmd = sandbox.command(
            argv,
            writable=[self.scratch],
            readable=[PACKAGE_DIR],
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

    def send(self, message) -> None:
        """Send one message."""
        try:
            wire.send(self.sock, message)
        except OSError as exc:
            self.stop()
            raise StudentGone(f"the student's code ended the clean-room process ({exc})") from None

    def recv(self):
        """Receive one message; only plain data is unpickled."""
        try:
            return wire.recv(self.sock, loads=_data_only, limit=MAX_REPLY_BYTES)
        except TimeoutError:
            self.stop()
            raise StudentGone(f"the student's code did not answer within {self.timeout:g} s") from None
        except wire.ProtocolError as exc:
            self.stop()
            raise StudentGone(f"the student process broke the protocol: {exc}") from None
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
            self.stop()
            raise StudentGone(f"the student's code ended the clean-room process ({exc})") from None

    def call(self, target, args, kwargs):
        """Call a student function (name or reference); serve callbacks until it returns."""
        if self.proc is None:
            self.start()
        # the caller's floating-point error handling (np.errstate) applies to the call, as in-process
        self.send(wire.Call(target, self.outgoing(list(args)), self.outgoing(kwargs), np.geterr()))
        while True:
            msg = self.recv()
            if isinstance(msg, wire.Callback):
                self._serve_callback(msg)
            elif isinstance(msg, wire.Return):
                _sync_all(args, kwargs, msg.state)
                return self.incoming(msg.value)
            elif isinstance(msg, wire.Raise):
                _sync_all(args, kwargs, msg.state)
                raise wire.rebuild_exception(msg.name, msg.message, _known_exceptions())
            else:
                raise StudentGone(f"unexpected message {msg.kind!r} from the student process")

    def _serve_callback(self, msg: wire.Callback) -> None:
        fn = self.callbacks.get(msg.ident)
        try:
            value = fn(*self.incoming(msg.args), **self.incoming(msg.kwargs))
            states = {key: g.bit_generator.state for key, g in self.generators.items()}
            self.send(wire.Return(self.outgoing(value), states))
        except StudentGone:
            raise
        except Exception as exc:  # noqa: BLE001 - the harness's callback failing goes back to the caller
            self.send(wire.Raise(type(exc).__name__, str(exc)))

    def outgoing(self, value):
        """Harness values to send: callables become callback markers, generators their state."""
        if isinstance(value, list):
            return [self.outgoing(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.outgoing(v) for v in value)
        if isinstance(value, dict):
            return {k: self.outgoing(v) for k, v in value.items()}
        if hasattr(value, "bit_generator"):
            self.generators[id(value)] = value
            return (GENERATOR, value.bit_generator.state, id(value))
        if isinstance(value, Proxy) and value._student is self:
            return (REF, value._target)  # back to the student's own object
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return value  # a record such as gradlib's Activation: sent by value, attributes and all
        if callable(value) and not isinstance(value, type):
            self.callbacks[id(value)] = value
            return (CALLBACK, id(value))
        return value

    def incoming(self, value):
        """Student values received: references become proxies, generator states generators."""
        if wire.is_marker(value, REF):
            return Proxy(self, value[1])
        if wire.is_marker(value, GENERATOR):
            known = self.generators.get(value[2]) if len(value) == 3 else None
            return _generator(value[1], known)
        if isinstance(value, list):
            return [self.incoming(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.incoming(v) for v in value)
        if isinstance(value, dict):
            return {k: self.incoming(v) for k, v in value.items()}
        return value


class Proxy:
    """Stands for one of the student's functions; calling it calls the real one in the student process."""

    def __init__(self, student: StudentProcess, target):
        self._student, self._target = student, target
        self.__name__ = str(target)

    def __call__(self, *args, **kwargs):
        """Call the student's function in the student process."""
        return self._student.call(self._target, args, kwargs)


def _generator(state, into=None):
    """A numpy Generator in ``state`` (``into`` itself when given: identity checks keep working)."""
    if not isinstance(state, dict) or not hasattr(np.random, str(state.get("bit_generator"))):
        raise StudentGone("the student process sent a malformed generator state")
    if into is None:
        into = np.random.Generator(getattr(np.random, state["bit_generator"])())
    into.bit_generator.state = state
    return into


def _sync(orig, new):
    """Copy the student process's final state of an argument back into the harness's object."""
    if new is None:
        return
    if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray):
        if orig.shape == new.shape and not np.array_equal(orig, new, equal_nan=orig.dtype.kind in "fc"):
            try:
                orig[...] = new
            except (ValueError, TypeError):
                pass
    elif (
        isinstance(orig, np.random.Generator) and wire.is_marker(new, GENERATOR) and isinstance(new[1], dict)
    ):
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
    if not mutated:
        return
    new_args, new_kwargs = mutated
    for orig, new in zip(args, new_args, strict=False):
        _sync(orig, new)
    for key, new in new_kwargs.items():
        if key in kwargs:
            _sync(kwargs[key], new)
