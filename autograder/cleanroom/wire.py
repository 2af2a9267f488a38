"""The clean room's one protocol: framing, value markers and the named messages both ends exchange.

Both ends import this module: the harness's client (:mod:`.client`, in a grading worker) and the student
process (:mod:`.server`, in the sandbox). It uses the standard library only, so it runs in the sandbox.

**Framing.** A message is an 8-byte big-endian length and a pickle (protocol 4) of a plain tuple
``(kind, *fields)``. In code every message is a frozen dataclass below; :func:`send` packs it and
:func:`recv` unpacks it, so neither end handles positional tuples. The harness unpickles with a
data-only unpickler (:mod:`.client`): a tuple of strings, numbers, containers and numpy arrays is all it
accepts.

**Values.** Plain data crosses as is. Three markers, ``(tag, payload[, id])`` tuples, stand for what
cannot: :data:`REF` a student object left in the student process (a function, or a tuple the tests pass
back), :data:`CALLBACK` a harness callable the student's code may call, :data:`GENERATOR` a numpy random
generator's state (with the harness's id for it, so state changes flow back into the same object).

**Conversation.** The harness sends :class:`Job`; the student process answers :class:`Ready`. Then, per
call, :class:`Call` -> (any number of :class:`Callback` -> :class:`Return` / :class:`Raise` the other way)
-> :class:`Return` or :class:`Raise`; finally :class:`Stop`.

**Zygote control** (:class:`ZygoteRequest`, :data:`ZYGOTE_READY`...) is the second, tiny protocol: a
grading worker asks its fork server for a process, over a ``SOCK_SEQPACKET`` socket, one JSON datagram
per request.
"""

from __future__ import annotations

import builtins
import json
import pickle
import struct
from dataclasses import dataclass, fields
from typing import Any, ClassVar

__all__ = [
    "CALLBACK",
    "GENERATOR",
    "MESSAGES",
    "REF",
    "ZYGOTE_CLEAN",
    "ZYGOTE_READY",
    "Call",
    "Callback",
    "Job",
    "ProtocolError",
    "Raise",
    "Ready",
    "Return",
    "Stop",
    "ZygoteRequest",
    "is_marker",
    "rebuild_exception",
    "recv",
    "send",
]

REF = "__ref__"
CALLBACK = "__callback__"
GENERATOR = "__generator__"

_HEADER = struct.Struct("!Q")


class ProtocolError(RuntimeError):
    """The other end sent something that is not a message of this protocol."""


@dataclass(frozen=True)
class Job:
    """Harness -> student: import ``modules`` (the tests' imports), then run ``cells`` ``(index, source)``."""

    kind: ClassVar[str] = "job"
    modules: list
    cells: list


@dataclass(frozen=True)
class Ready:
    """Student -> harness: the namespace (name -> ``("callable", None)`` or ``("value", data)``), tamper."""

    kind: ClassVar[str] = "ready"
    names: dict
    tamper: list


@dataclass(frozen=True)
class Call:
    """Harness -> student: call ``target`` (a name, or a :data:`REF` id) under numpy's ``errstate``."""

    kind: ClassVar[str] = "call"
    target: Any
    args: list
    kwargs: dict
    errstate: dict


@dataclass(frozen=True)
class Callback:
    """Student -> harness: call the harness callable ``ident`` (sent to the student as a :data:`CALLBACK`)."""

    kind: ClassVar[str] = "callback"
    ident: int
    args: list
    kwargs: dict


@dataclass(frozen=True)
class Return:
    """A call's value; ``state``: what the callee changed in place.

    From the student: ``([arg states], {kwarg: state})`` of the call's arguments. From the harness (a
    callback's return): ``{generator id: bit-generator state}`` of the generators the harness sent.
    """

    kind: ClassVar[str] = "return"
    value: Any
    state: Any = None


@dataclass(frozen=True)
class Raise:
    """A call raised ``name(message)``; ``state`` as in :class:`Return` (student side only)."""

    kind: ClassVar[str] = "raise"
    name: str
    message: str
    state: Any = None


@dataclass(frozen=True)
class Stop:
    """Harness -> student: no more calls."""

    kind: ClassVar[str] = "stop"


#: kind -> message class.
MESSAGES = {cls.kind: cls for cls in (Job, Ready, Call, Callback, Return, Raise, Stop)}


def send(sock, message) -> None:
    """Write one message (a dataclass above) as a length-prefixed pickle of ``(kind, *fields)``."""
    raw = (message.kind, *(getattr(message, f.name) for f in fields(message)))
    data = pickle.dumps(raw, protocol=4)
    sock.sendall(_HEADER.pack(len(data)) + data)


def recv(sock, *, loads=pickle.loads, limit: int | None = None):
    """Read one message; ``loads`` unpickles (the harness passes a data-only one).

    Raises:
        EOFError: the other end closed the connection.
        ProtocolError: a frame over ``limit`` bytes, or something that is not a message.
    """
    size = _HEADER.unpack(_exactly(sock, _HEADER.size))[0]
    if limit is not None and size > limit:
        raise ProtocolError(f"a message of {size / 1024**2:.0f} MB, over the {limit / 1024**2:.0f} MB limit")
    raw = loads(_exactly(sock, size))
    cls = MESSAGES.get(raw[0]) if isinstance(raw, tuple) and raw and isinstance(raw[0], str) else None
    if cls is None or not len(raw) - 1 <= len(fields(cls)):
        raise ProtocolError(f"not a clean-room message: {str(raw)[:80]}")
    return cls(*raw[1:])


def _exactly(sock, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the connection")
        buf += chunk
    return bytes(buf)


def is_marker(value, tag: str) -> bool:
    """Whether ``value`` is a ``(tag, payload[, id])`` marker (an array compared with a tag is not one)."""
    return isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str) and value[0] == tag


def rebuild_exception(name: str, message: str, known: dict | None = None) -> BaseException:
    """The exception ``name(message)`` raised on the other end: builtin, one of ``known``, or RuntimeError."""
    cls = (known or {}).get(name) or getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return RuntimeError(f"{name}: {message}")


# --------------------------------------------------------------------------------------------------
# Zygote control

#: The zygote's greeting once it has preloaded, and its answer to a reset.
ZYGOTE_READY = b"ready"
ZYGOTE_CLEAN = b"clean"


@dataclass(frozen=True)
class ZygoteRequest:
    """Worker -> zygote: fork a ``student`` process (its socket attached) or a ``kernel``, or ``reset``.

    ``cpu`` is the child's CPU-time limit in seconds (0: none); a kernel also gets its ipykernel
    ``args``, ``cwd`` and ``env``. The zygote answers ``started PID`` (``started`` for a student),
    :data:`ZYGOTE_CLEAN` after a reset, ``unknown`` otherwise.
    """

    op: str
    cpu: int = 0
    args: tuple = ()
    cwd: str = ""
    env: dict | None = None

    def encode(self) -> bytes:
        """The request as one datagram."""
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)}).encode()

    @classmethod
    def decode(cls, data: bytes) -> ZygoteRequest:
        """Parse a datagram from :meth:`encode`."""
        spec = json.loads(data.decode())
        return cls(
            spec["op"],
            int(spec.get("cpu") or 0),
            tuple(spec.get("args") or ()),
            spec.get("cwd", ""),
            spec.get("env"),
        )
