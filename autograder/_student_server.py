"""The student side of the clean room; runs sandboxed as ``python -I _student_server.py FD``.

It imports the modules the tests use, snapshots them, runs the student's cells in an IPython shell, reports
what the student's code changed (monkeypatches, input transformers, traceback hooks, leftover processes
and threads), then serves calls to the student's functions over the socket ``FD``: requests and replies
are length-prefixed pickles. Values going back are plain data or references to callables; the harness
never unpickles anything else. This file must not import anything from the ``autograder`` package (it is
the only file of it the sandbox can see).

Run as ``python -I _student_server.py --zygote FD KIND`` it is a grading worker's fork server
(:class:`autograder.sandbox.Zygote`): it imports ipykernel (KIND ``kernel``), IPython, numpy, torch and
gradlib once, then forks a kernel or a clean-room student process per request (see :func:`zygote`).
"""

import builtins
import importlib
import io
import os
import pickle
import socket
import struct
import sys
import threading
import types

import numpy as np  # bound before any student code runs


def send(sock, obj):
    """Write one length-prefixed pickle."""
    data = pickle.dumps(obj, protocol=4)
    sock.sendall(struct.pack("!Q", len(data)) + data)


def recv(sock):
    """Read one length-prefixed pickle (from the trusted harness)."""
    head = _exactly(sock, 8)
    return pickle.loads(_exactly(sock, struct.unpack("!Q", head)[0]))


def _exactly(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("harness closed the connection")
        buf += chunk
    return bytes(buf)


# ---------------------------------------------------------------------------------- tamper probes


def _functions(module):
    for name, value in list(vars(module).items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            yield name, value


def snapshot(prefixes):
    """Module attributes and function code of every loaded module under ``prefixes``, plus builtins."""
    snap = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "builtins" or name.split(".")[0] in prefixes):
            continue
        attrs = dict(vars(module))
        code = {n: (f.__code__, f.__defaults__, f.__kwdefaults__) for n, f in _functions(module)}
        snap[name] = (module, attrs, code)
    return snap


def changes(snap):
    """What differs from ``snap``: replaced or deleted attributes, rewritten functions."""
    found = []
    for name, (module, attrs, code) in sorted(snap.items()):
        if sys.modules.get(name) is not module:
            found.append(f"replaced module {name}")
            continue
        now = vars(module)
        for attr, value in attrs.items():
            if attr in ("__builtins__", "_", "__", "___") or attr.startswith("_i") or attr.startswith("_o"):
                continue
            if attr not in now:
                found.append(f"deleted {name}.{attr}")
            elif now[attr] is not value and not _same_value(now[attr], value):
                found.append(f"replaced {name}.{attr}")
        for fname, (c, d, k) in code.items():
            f = now.get(fname)
            if isinstance(f, types.FunctionType) and (f.__code__, f.__defaults__, f.__kwdefaults__) != (
                c,
                d,
                k,
            ):
                found.append(f"rewrote {name}.{fname}")
    return found


def _same_value(a, b):
    try:
        return type(a) is type(b) and isinstance(a, (int, float, str, bool, bytes)) and a == b
    except Exception:  # noqa: BLE001
        return False


class ShellState:
    """The parts of IPython and ``sys`` that code can hook to change how later cells run or fail."""

    def __init__(self, shell):
        self.shell = shell
        self.before = self._state()

    def _state(self):
        s = self.shell
        return {
            "input transformer": len(s.input_transformers_cleanup) + len(s.input_transformers_post),
            "AST transformer": len(s.ast_transformers),
            "event callback": sum(len(v) for v in s.events.callbacks.values()),
            "custom exception handler": len(s.custom_exceptions),
            "showtraceback hook": "showtraceback" in vars(s) or "_showtraceback" in vars(s),
            "class-level showtraceback hook": type(s).showtraceback.__code__,
            "sys.excepthook": sys.excepthook,
            "import hook": (len(sys.meta_path), len(sys.path_hooks)),
            "trace function": (sys.gettrace(), sys.getprofile()),
        }

    def changes(self):
        """Names of the hooks that differ from when the shell was created."""
        now = self._state()
        return [
            f"installed an {k}" if k[0] in "aeiou" else f"installed a {k}"
            for k in now
            if now[k] != self.before[k]
        ]


def other_processes():
    """Running processes the student's code started: this process's live descendants.

    :func:`main` makes this process a child subreaper, so a detached or double-forked process stays in
    its tree; only processes this process started are looked at, with or without a pid namespace.
    """
    children = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                state, ppid = fh.read().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError, IndexError):
            continue
        if state not in "ZX":
            children.setdefault(int(ppid), []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _settle_matplotlib():
    """Let pyplot load its backend now if it is imported: its own set-up is no change by the student."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.switch_backend(pyplot.get_backend())


# ---------------------------------------------------------------------------------- serving calls


_REFS = {}


def encode(value, depth=0):
    """Plain data as is; callables as ``("__ref__", id)``; anything else is refused."""
    if depth > 20:
        raise TypeError("nesting too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return np.array([encode(v, depth + 1) for v in value.ravel()], dtype=object).reshape(value.shape)
        return np.array(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return (
            type(value)(encode(v, depth + 1) for v in value)
            if not hasattr(value, "_fields")
            else tuple(value)
        )
    if isinstance(value, dict):
        return {encode(k, depth + 1): encode(v, depth + 1) for k, v in value.items()}
    if isinstance(value, np.random.Generator):
        return ("__generator__", value.bit_generator.state, _ORIGIN.get(id(value), (None,))[0])
    if callable(value):
        _REFS[id(value)] = value
        return ("__ref__", id(value))
    raise TypeError(f"returned a {type(value).__name__}, which the tests cannot check")


class Remote:
    """A callable living in the harness (e.g. a lambda a test passes to the student's function)."""

    def __init__(self, sock, ident):
        self.sock, self.ident = sock, ident

    def __call__(self, *args, **kwargs):
        send(self.sock, ("callback", self.ident, encode(list(args)), encode(kwargs)))
        return handle(self.sock, nested=True)


#: id of a generator built from one of the harness's -> (the harness's id for it, the generator).
_ORIGIN = {}


def _tagged(value, tag):
    return isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str) and value[0] == tag


def decode(value, sock):
    """Harness values: callback markers become :class:`Remote` callables."""
    if _tagged(value, "__callback__"):
        return Remote(sock, value[1])
    if _tagged(value, "__ref__"):
        return _REFS.get(value[1]) if isinstance(value[1], int) else NAMESPACE.get(value[1])
    if _tagged(value, "__generator__") and len(value) == 3:
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
            return ("__generator__", v.bit_generator.state)
        if isinstance(v, (list, dict)):
            try:
                return encode(v)
            except TypeError:
                return None
        return None

    return [state(a) for a in args], {k: state(v) for k, v in kwargs.items()}


def handle(sock, nested=False):
    """Serve requests until the harness sends a reply (nested) or says stop."""
    while True:
        msg = recv(sock)
        kind = msg[0]
        if kind in ("return", "raise"):
            if not nested:
                continue
            if kind == "return":
                for key, state in (msg[2] if len(msg) > 2 else {}).items():
                    for origin, gen in _ORIGIN.values():
                        if origin == key:
                            gen.bit_generator.state = state
                return msg[1]
            raise _rebuild(msg[1], msg[2])
        if kind == "stop":
            return None
        if kind == "call":
            target, args, kwargs = msg[1], decode(msg[2], sock), decode(msg[3], sock)
            fn = _REFS.get(target) if isinstance(target, int) else NAMESPACE.get(target)
            errstate = msg[4] if len(msg) > 4 and isinstance(msg[4], dict) else {}
            try:
                with np.errstate(**errstate):
                    value = fn(*args, **kwargs)
                reply = ("return", encode(value), _mutated(args, kwargs))
            except BaseException as exc:  # noqa: BLE001 - every student error goes back to the harness
                if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                    exc = RuntimeError(f"{type(exc).__name__} raised")
                reply = ("raise", type(exc).__name__, str(exc)[:2000], _mutated(args, kwargs))
            send(sock, reply)


def _rebuild(name, message):
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return RuntimeError(f"{name}: {message}")


NAMESPACE = {}


def main(fd):
    """Run the cells the harness sends, report, then serve calls until told to stop."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: see other_processes()
    sock = socket.socket(fileno=fd)
    job = recv(sock)
    for name in job["modules"]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - a module the tests import may be missing here
            continue
    _settle_matplotlib()
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    hooks = ShellState(shell)
    snap = snapshot({n.split(".")[0] for n in job["modules"]} | {"numpy", "gradlib"})
    threads = threading.active_count()
    errors = []
    real_stdout, real_stderr = sys.stdout, sys.stderr
    for index, source in job["cells"]:
        sys.stdout = sys.stderr = io.StringIO()
        try:
            result = shell.run_cell(source, store_history=False, silent=True)
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
        if not result.success:
            err = result.error_in_exec or result.error_before_exec
            errors.append(f"cell {index}: {type(err).__name__}: {err}"[:300])
    tamper = changes(snap) + hooks.changes()
    if threading.active_count() > threads:
        tamper.append(f"started {threading.active_count() - threads} thread(s)")
    if others := other_processes():
        tamper.append(f"started {len(others)} background process(es)")
    skip = {"In", "Out", "get_ipython", "exit", "quit", "open"}
    for name, value in shell.user_ns.items():
        if name.startswith("_") or name in skip or isinstance(value, types.ModuleType):
            continue
        NAMESPACE[name] = value
    names = {}
    for name, value in NAMESPACE.items():
        if callable(value):
            names[name] = ("callable", None)
        else:
            try:
                names[name] = ("value", encode(value))
            except TypeError:
                continue
    send(sock, ("ready", names, tamper, errors))
    handle(sock)
    sock.close()
    os._exit(0)


# ---------------------------------------------------------------------------------- zygote


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


def _kernel(spec):
    """In a forked child: become the IPython kernel the grader asked for (``spec`` from the worker)."""
    os.chdir(spec["cwd"])
    os.environ.clear()
    os.environ.update(spec["env"])
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sys.argv = ["ipykernel_launcher", *spec["args"]]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=spec["args"])


def _reset(home):
    """Kill every process in the sandbox but bubblewrap's pid 1 and this one; leave no file or IPC object.

    Empties ``home`` (the sandbox's writable directory) and /dev/shm, and removes System V IPC objects:
    the next student's process finds nothing the previous one left.
    """
    me = os.getpid()
    for _ in range(50):  # a process may fork while the others are killed: repeat until none is left
        alive = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in (1, me):
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                        continue
                os.kill(int(entry), 9)
                alive.append(entry)
            except OSError:
                continue
        while True:  # reap this process's own children (the rest are pid 1's)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        if not alive:
            break
    for folder in (home, "/dev/shm"):  # /dev/shm is the sandbox's own tmpfs, shared by its processes
        _empty(folder)
    _remove_ipc_objects()


def _empty(folder):
    """Delete everything inside ``folder`` (which stays)."""
    import shutil

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


def zygote(ctrl_fd, kind):
    """Preload, then fork one child per request; ``reset`` clears up after a job.

    Runs as pid 2 of its own bubblewrap sandbox (never without one: ``reset`` kills every other process
    it can see). Requests arrive on a SOCK_SEQPACKET socket from the grading worker: ``student SECONDS``
    with a clean-room socket attached (SCM_RIGHTS), or ``kernel {json spec}``, answered ``started`` (with
    the child's pid for a kernel); ``reset``, answered ``clean``.
    """
    import json
    import resource
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
    ctrl.send(b"ready")
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctrl, 1 << 16, 1)
        except OSError:
            break
        if not msg:
            break
        word, _, rest = msg.decode().partition(" ")
        if word in ("student", "kernel") and (len(fds) == 1) == (word == "student"):
            spec = json.loads(rest) if word == "kernel" else {"cpu": int(rest or 0)}
            pid = os.fork()
            if pid == 0:
                ctrl.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                if spec.get("cpu"):
                    resource.setrlimit(resource.RLIMIT_CPU, (spec["cpu"], spec["cpu"]))
                try:
                    if word == "student":
                        main(fds[0])
                    else:
                        _kernel(spec)
                finally:
                    os._exit(1)
            for fd in fds:
                os.close(fd)
            ctrl.send(b"started %d" % pid if word == "kernel" else b"started")
        elif word == "reset":
            for fd in fds:
                os.close(fd)
            _reset(home)
            ctrl.send(b"clean")
        else:
            for fd in fds:
                os.close(fd)
            ctrl.send(b"unknown")
    _reset(home)


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "student")
    else:
        main(int(sys.argv[1]))
