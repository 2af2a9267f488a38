"""The one reader of ``/proc``: a process's state and parent, its descendants, its pid in its namespace.

Standard library only: used by the sandbox's owner (:mod:`autograder.sandbox`) and, inside the sandbox, by
the tamper probes (:mod:`.tamper`).
"""

from __future__ import annotations

import os

__all__ = ["descendants", "namespace_pid", "process_state"]


def process_state(pid: int) -> tuple[str, int] | None:
    """``(state letter, parent pid)`` of a process, from ``/proc/PID/stat``; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state, ppid = fh.read().rsplit(")", 1)[1].split()[:2]
    except (OSError, ValueError, IndexError):
        return None
    return state, int(ppid)


def descendants(pid: int) -> list[int]:
    """Process ids of every running descendant of ``pid`` (zombies, which have finished, excluded)."""
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        state = process_state(int(entry))
        if state is not None and state[0] not in "ZX":
            children.setdefault(state[1], []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def namespace_pid(pid: int) -> int | None:
    """``pid``'s id inside its innermost pid namespace (the last NSpid field of ``/proc/PID/status``)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return None
