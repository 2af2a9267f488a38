"""The sandboxed end of a zygote: preload once, then fork a kernel or a student process per request.

Run as ``python -I cleanroom/__main__.py --zygote FD KIND`` by :class:`autograder.sandbox.Zygote`, as pid 2
of its own bubblewrap sandbox (never without one: :func:`reset` kills every other process it can see).
Requests are :class:`~.wire.ZygoteRequest` datagrams on the ``SOCK_SEQPACKET`` socket ``FD``: ``student``
(a clean-room socket attached with SCM_RIGHTS, answered ``started``), ``kernel`` (answered ``started PID``,
the kernel's pid inside the sandbox) and ``reset`` (answered :data:`~.wire.ZYGOTE_CLEAN`).

The zygote, like every sandboxed program, starts through ``__main__.py --deny-exec``, so it and every
child it forks run under a seccomp filter (:func:`deny_syscalls`) before any student code: no
``ptrace`` or other way into another process's memory (bubblewrap's own pid 1 is dumpable and this
bubblewrap has no ``--as-pid-1``, so refusing the system call is what keeps pid 1 out of reach), and no
kernel keyrings (``add_key``, ``request_key``, ``keyctl``), which every process of one user shares within
the sandbox's user namespace: a key one student adds could otherwise be read by the next.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import socket
import sys

from . import procfs, wire

__all__ = ["DENIED_SYSCALLS", "deny_syscalls", "reset", "serve"]


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


#: Per machine architecture: the seccomp audit value and the system calls a forked child may not make.
DENIED_SYSCALLS = {
    "x86_64": (
        0xC000003E,
        {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
         "perf_event_open": 298, "pidfd_getfd": 438, "add_key": 248, "request_key": 249, "keyctl": 250},
    ),
    "aarch64": (
        0xC00000B7,
        {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
         "perf_event_open": 241, "pidfd_getfd": 438, "add_key": 217, "request_key": 218, "keyctl": 219},
    ),
}  # fmt: skip
_X32_BIT = 0x40000000  # x86-64's x32 system calls: the same numbers with this bit set


def _filter(arch: int, numbers) -> bytes:
    """A classic-BPF seccomp program: EPERM for ``numbers`` and for any other ABI, allow the rest."""
    import errno
    import struct

    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    allow, deny = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    numbers = sorted(numbers)
    n = len(numbers)
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, deny), (ld, 0, 0, 0), (jge, n + 1, 0, _X32_BIT)]
    prog += [(jeq, n - i, 0, nr) for i, nr in enumerate(numbers)]  # each jumps to the deny at the end
    prog += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
    return b"".join(struct.pack("HBBI", *ins) for ins in prog)


def deny_syscalls() -> bool | None:
    """Install :data:`DENIED_SYSCALLS`' filter on this process and all it starts.

    Returns True once installed, False when the kernel refused it, None on an architecture not listed.
    """
    import ctypes

    arch = DENIED_SYSCALLS.get(os.uname().machine)
    if arch is None:
        return None
    code = _filter(arch[0], arch[1].values())
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(code) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, None, 0, 0) != 0:
        return False
    return libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.addressof(prog), 0, 0) == 0


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
    with contextlib.suppress(OSError):  # the OOM killer takes this child, not the zygote
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
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
