"""Sandbox scratch folders as sized tmpfs, in a mount namespace private to the grading worker.

A sandbox's scratch folder (its HOME and TMPDIR, the only place it can write) is otherwise a folder on the
grader's disk: ``RLIMIT_FSIZE`` caps each file, but nothing caps how much a notebook writes in all.
:func:`mount_tmpfs` mounts a tmpfs of a given size over such a folder. Its pages are charged to the control
group of the process that writes them, so a notebook's files count against its memory limit, and the
tmpfs refuses to grow past its size (ENOSPC) even where no control group exists.

The mount lives in a mount namespace of this process alone (``unshare(CLONE_NEWNS)``, mounts made private
first, so nothing propagates back to the host): the sandboxes the process starts inherit it, and it
disappears with the last process in it, even when the worker is killed with SIGKILL. This needs
CAP_SYS_ADMIN (the grader running as root); elsewhere :func:`mount_tmpfs` returns the reason and the folder
stays on disk. A mount namespace belongs to a thread: threads already running when :func:`private_mounts`
is first called keep the host's view, so it works from the main thread only (a local grading worker calls it
there before it starts any thread of its own; a Dask worker's task thread keeps its scratch on disk).
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

__all__ = ["is_full", "mount_tmpfs", "private_mounts"]

_CLONE_NEWNS = 0x00020000
_MS_REC, _MS_PRIVATE = 0x4000, 0x40000
#: Whether this process already has its own mount namespace (set by :func:`private_mounts`).
_PRIVATE: dict[int, bool] = {}
#: (process id, folder) of each tmpfs this module mounted (mounting a folder twice is a no-op).
_MOUNTED: set[tuple[int, str]] = set()


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    return libc


def private_mounts() -> str:
    """Give this process (its calling thread and what it starts) its own mount namespace; "" or why not."""
    if _PRIVATE.get(os.getpid()):
        return ""
    if threading.current_thread() is not threading.main_thread():
        # a mount namespace belongs to one thread: a pool thread's (e.g. Dask's) would not be seen by others
        return "called outside the main thread"
    libc = _libc()
    if libc.unshare(_CLONE_NEWNS) != 0:
        return f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}"
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return f"making mounts private: {os.strerror(ctypes.get_errno())}"
    _PRIVATE[os.getpid()] = True
    return ""


def mount_tmpfs(folder: str | Path, size: int) -> str:
    """Mount a tmpfs of ``size`` bytes (mode 0700) over ``folder``, privately; "" or why it could not.

    ``folder`` must exist and should be empty (what it held is hidden while the tmpfs is mounted).
    """
    if size <= 0:
        raise ValueError(f"tmpfs size {size!r} must be a positive number of bytes")
    if (os.getpid(), str(folder)) in _MOUNTED:
        return ""
    why = private_mounts()
    if why:
        return why
    options = f"size={size},mode=0700".encode()
    if _libc().mount(b"tmpfs", str(folder).encode(), b"tmpfs", 0, options) != 0:
        return f"mount tmpfs on {folder}: {os.strerror(ctypes.get_errno())}"
    _MOUNTED.add((os.getpid(), str(folder)))
    return ""


def is_full(folder: str | Path, slack: int = 1024**2) -> bool:
    """Whether the tmpfs this module mounted over ``folder`` has less than ``slack`` bytes left."""
    if (os.getpid(), str(folder)) not in _MOUNTED:
        return False
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize < slack
