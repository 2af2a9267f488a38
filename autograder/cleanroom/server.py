"""The student process: run the student's cells, report the tampering seen, serve calls to their functions.

Runs sandboxed (``python -I cleanroom/__main__.py FD``, or forked by a :mod:`.zygote`). It receives a
:class:`~.wire.Job` on the socket ``FD``, imports the modules the tests use, runs the setup, answer and
student-added cells in an IPython shell, answers :class:`~.wire.Ready` with its namespace and what the
:mod:`.tamper` probes saw, then serves :class:`~.wire.Call` messages until :class:`~.wire.Stop`. Values
going back are plain data or :data:`~.wire.REF` markers (:func:`encode`); the harness never unpickles
anything else. The harness is trusted, so what it sends is unpickled as is.
"""

from __future__ import annotations

import importlib
import io
import os
import socket
import sys
import types

import numpy as np  # bound before any student code runs

from . import tamper, wire
from .wire import CALLBACK, GENERATOR, REF

__all__ = ["Remote", "decode", "encode", "handle", "main"]

#: The student's namespace after their cells ran (what the tests may call).
NAMESPACE: dict = {}
#: id -> object of every callable or reference sent to the harness.
_REFS: dict = {}
#: id of a generator built from one of the harness's -> (the harness's id for it, the generator).
_ORIGIN: dict = {}


def encode(value, depth=0):
    """Plain data as is; callables as :data:`~.wire.REF` markers; anything else is refused."""
    if depth > 20:
        raise TypeError("nesting too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return np.array([encode(v, depth + 1) for v in value.ravel()], dtype=object).reshape(value.shape)
        return np.array(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        if hasattr(value, "_fields"):
            return tuple(value)
        return type(value)(encode(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return {encode(k, depth + 1): encode(v, depth + 1) for k, v in value.items()}
    if isinstance(value, np.random.Generator):
        return (GENERATOR, value.bit_generator.state, _ORIGIN.get(id(value), (None,))[0])
    if callable(value):
        _REFS[id(value)] = value
        return (REF, id(value))
    raise TypeError(f"returned a {type(value).__name__}, which the tests cannot check")


class Remote:
    """A callable living in the harness (e.g. a lambda a test passes to the student's function)."""

    def __init__(self, sock, ident):
        self.sock, self.ident = sock, ident

    def __call__(self, *args, **kwargs):  # noqa: D102 - calls the harness's callable
        wire.send(self.sock, wire.Callback(self.ident, encode(list(args)), encode(kwargs)))
        return handle(self.sock, nested=True)


def decode(value, sock):
    """Harness values: callback markers become :class:`Remote` callables, references their objects."""
    if wire.is_marker(value, CALLBACK):
        return Remote(sock, value[1])
    if wire.is_marker(value, REF):
        return _REFS.get(value[1]) if isinstance(value[1], int) else NAMESPACE.get(value[1])
    if wire.is_marker(value, GENERATOR) and len(value) == 3:
        state = value[1]
        gen = np.random.Generator(getattr(np.random, state["bit_generator"])())
        gen.bit_generator.state = state
        _ORIGIN[id(gen)] = (value[2], gen)
        return gen
    if isinstance(value, list):
        return [decode(v, sock) for v in value]
    if isinstance(value, tuple):
        return tuple(decode(v, sock) for v in value)
    if isinstance(value, dict):
        return {k: decode(v, sock) for k, v in value.items()}
    return value


def _mutated(args, kwargs):
    """The final state of the arguments a function may change in place."""

    def state(v):
        if isinstance(v, np.ndarray) and not v.dtype.hasobject:
            return np.array(v)
        if isinstance(v, np.random.Generator):
            return (GENERATOR, v.bit_generator.state)
        if isinstance(v, (list, dict)):
            try:
                return encode(v)
            except TypeError:
                return None
        return None

    return [state(a) for a in args], {k: state(v) for k, v in kwargs.items()}


def _call(sock, msg: wire.Call):
    target = _REFS.get(msg.target) if isinstance(msg.target, int) else NAMESPACE.get(msg.target)
    args, kwargs = decode(msg.args, sock), decode(msg.kwargs, sock)
    try:
        with np.errstate(**(msg.errstate or {})):
            value = target(*args, **kwargs)
        return wire.Return(encode(value), _mutated(args, kwargs))
    except BaseException as exc:  # noqa: BLE001 - every student error goes back to the harness
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            exc = RuntimeError(f"{type(exc).__name__} raised")
        return wire.Raise(type(exc).__name__, str(exc)[:2000], _mutated(args, kwargs))


def handle(sock, nested=False):
    """Serve calls until the harness answers a callback (``nested``) or says stop."""
    while True:
        msg = wire.recv(sock)
        if isinstance(msg, (wire.Return, wire.Raise)):
            if not nested:
                continue
            if isinstance(msg, wire.Raise):
                raise wire.rebuild_exception(msg.name, msg.message)
            for key, state in (msg.state or {}).items():
                for origin, gen in _ORIGIN.values():
                    if origin == key:
                        gen.bit_generator.state = state
            return msg.value
        if isinstance(msg, wire.Stop):
            return None
        if isinstance(msg, wire.Call):
            wire.send(sock, _call(sock, msg))


def _namespace_report(user_ns):
    skip = {"In", "Out", "get_ipython", "exit", "quit", "open"}
    for name, value in user_ns.items():
        if not (name.startswith("_") or name in skip or isinstance(value, types.ModuleType)):
            NAMESPACE[name] = value
    names = {}
    for name, value in NAMESPACE.items():
        if callable(value):
            names[name] = ("callable", None)
            continue
        try:
            names[name] = ("value", encode(value))
        except TypeError:
            continue
    return names


def main(fd):
    """Run the cells the harness sends, report, then serve calls until told to stop."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: strays stay in this process's tree
    sock = socket.socket(fileno=fd)
    job = wire.recv(sock)
    for name in job.modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a module the tests import may be missing here
            continue
    tamper.settle_matplotlib()
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    probes = tamper.Probes(shell, {n.split(".")[0] for n in job.modules})
    real_stdout, real_stderr = sys.stdout, sys.stderr
    for _, source in job.cells:
        sys.stdout = sys.stderr = io.StringIO()
        try:
            shell.run_cell(source, store_history=False, silent=True)
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
    found = probes.changes(os.getpid())
    wire.send(sock, wire.Ready(_namespace_report(shell.user_ns), found))
    handle(sock)
    sock.close()
    os._exit(0)
