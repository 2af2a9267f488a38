"""The sandboxed end of a zygote: preload once, then fork a kernel or a student process per request.

Run as ``python -I cleanroom/__main__.py --zygote FD KIND`` by :class:`autograder.sandbox.Zygote`, as pid 2
of its own bubblewrap sandbox (never without one: :func:`reset` kills every other process it can see).
Requests are :class:`~.wire.ZygoteRequest` datagrams on the ``SOCK_SEQPACKET`` socket ``FD``: ``student``
(a clean-room socket attached with SCM_RIGHTS, answered ``started``), ``kernel`` (answered ``started PID``,
the kernel's pid inside the sandbox) and ``reset`` (answered :data:`~.wire.ZYGOTE_CLEAN`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import socket
import sys

from . import procfs, wire

__all__ = ["reset", "serve"]


def _preload(kind):
    """Import what most jobs import, so each forked process starts with it loaded."""
    import pkgutil

    names = ["IPython.core.interactiveshell", "matplotlib", "torch", "gradlib"]
    if kind == "kernel":
        names = ["ipykernel.kernelapp", "ipykernel.ipkernel", *names]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - an optional module may be missing
            continue
    gradlib = sys.modules.get("gradlib")
    for info in pkgutil.walk_packages(gradlib.__path__ if gradlib else [], "gradlib."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001, S112
            continue


def _kernel(request: wire.ZygoteRequest):
    """In a forked child: become the IPython kernel the grader asked for."""
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env or {})
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.path and sys.path[0] == package_parent:
        sys.path.pop(0)
    sys.argv = ["ipykernel_launcher", *request.args]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=list(request.args))


def reset(home):
    """Kill every process in the sandbox but bubblewrap's pid 1 and this one; leave no file or IPC object.

    Empties ``home`` (the sandbox's writable directory) and /dev/shm, and removes System V IPC objects:
    the next student's process finds nothing the previous one left.
    """
    me = os.getpid()
    for _ in range(50):  # a process may fork while the others are killed: repeat until none is left
        alive = []
        for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
            state = procfs.process_state(pid) if pid not in (1, me) else None
            if state is not None and _running(state[0], pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)
                    alive.append(pid)
        while True:  # reap this process's own children (the rest are pid 1's)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        if not alive:
            break
    for folder in (home, "/dev/shm", "/dev/mqueue"):  # the sandbox's tmpfs and POSIX message queues
        _empty(folder)
    _remove_ipc_objects()


def _empty(folder):
    """Delete everything inside ``folder`` (which stays)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        path = os.path.join(folder, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def _remove_ipc_objects():
    """Remove the System V shared memory, message queues and semaphores left in this IPC namespace."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    removers = {"shm": libc.shmctl, "msg": libc.msgctl, "sem": libc.semctl}
    for kind, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            ident = int(row.split()[1])
            if kind == "sem":
                remove(ident, 0, ipc_rmid)
            else:
                remove(ident, ipc_rmid, None)


def _running(state: str, pid: int) -> bool:
    """Whether a process still runs code: not a zombie, or a zombie leader whose other threads run on.

    A leader whose main thread called SYS_exit shows as a zombie; SIGKILL to it ends every thread.
    """
    if state != "Z":
        return True
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def _fork(ctrl, request: wire.ZygoteRequest, fds):
    """Fork the child a request asks for; return its pid (in the parent)."""
    import resource
    import signal

    pid = os.fork()
    if pid:
        return pid
    ctrl.close()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the zygote's stderr is the worker's log: not the child's
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if request.cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (request.cpu, request.cpu))
    try:
        if request.op == "student":
            from . import server

            server.main(fds[0])
        else:
            _kernel(request)
    finally:
        os._exit(1)


def serve(ctrl_fd, kind):
    """Preload, then answer requests until the worker closes the socket; clear the sandbox at the end."""
    import signal

    if os.getpid() > 3:
        raise SystemExit("the zygote must run in its own pid namespace")
    ctrl = socket.socket(fileno=ctrl_fd)
    _preload(kind)
    try:  # not dumpable: a child cannot ptrace this process or read its memory
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel, never zombies
    home = os.environ["HOME"]
    ctrl.send(wire.ZYGOTE_READY)
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(ctrl, 1 << 16, 1)
        except OSError:
            break
        if not data:
            break
        try:
            request = wire.ZygoteRequest.decode(data)
        except (ValueError, KeyError, TypeError):
            request = wire.ZygoteRequest("unknown")
        if request.op in ("student", "kernel") and (len(fds) == 1) == (request.op == "student"):
            pid = _fork(ctrl, request, fds)
            reply = b"started %d" % pid if request.op == "kernel" else b"started"
        elif request.op == "reset":
            reset(home)
            reply = wire.ZYGOTE_CLEAN
        else:
            reply = b"unknown"
        for fd in fds:
            os.close(fd)
        ctrl.send(reply)
    reset(home)
