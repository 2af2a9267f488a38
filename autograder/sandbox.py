"""Run student code in a bubblewrap sandbox: no network, read-only system, one writable scratch dir.

:func:`command` wraps an argv so that it runs

* in fresh user, pid, network, ipc, uts and cgroup namespaces with every capability dropped (no network
  but loopback; no way to mount or to create nested namespaces);
* on a read-only view of the system (``/usr``, ``/etc``, the Python installation, the virtual environment
  and the ``gradlib`` package) plus the scratch directories it is given, which are the only writable paths:
  the course (``solutions/``), other submissions and the gradebook are simply not there;
* under rlimits: address space (memory, default 2 GiB), CPU seconds, file size and core dumps;
* as the child of bubblewrap's own pid 1, with ``--die-with-parent``: when the sandboxed program ends or
  its parent dies, the pid namespace goes away and every process it started is killed with it.

Where user namespaces are unavailable (or with ``--no-sandbox``), :func:`command` falls back to the
rlimits alone, sets the environment and makes the program a child subreaper, so that what it starts stays
in its process tree (counted and killed there); :func:`describe` says what is then not guaranteed (the
engine copies that text into every result's ``sandbox`` field).

:class:`Zygote` is a worker's handle on a sandboxed fork server (its sandboxed end is
:mod:`autograder.cleanroom.zygote`). Processes are read from ``/proc`` by :mod:`autograder.cleanroom.procfs`.

The grading kernel's manager and provisioner, which start kernels through :func:`command` or a
:class:`Zygote`, are :mod:`autograder.kernel`'s.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from autograder import limits
from autograder.cleanroom import BOOT, PACKAGE_DIR, wire
from autograder.cleanroom.procfs import descendants, namespace_pid, process_state
from autograder.options import GIB, GradeOptions

__all__ = [
    "GIB",
    "ForkedProcess",
    "SandboxPolicy",
    "Zygote",
    "bwrap_available",
    "command",
    "describe",
    "descendants",
    "environment",
    "isolates",
    "kill_tree",
    "parse_bytes",
    "process_state",
]


#: Environment variables passed into the sandbox (everything else is cleared: no tokens, no DB URLs).
#: Thread counts are not kept: they follow the sandbox's CPU quota (:func:`autograder.limits.thread_env`).
_ENV_KEEP = ("LANG", "LC_ALL", "NBGRADER_EXECUTION", "MPLBACKEND", "PYTHONHASHSEED")
_ENV_KEEP_PREFIXES = ()  # never JPY_*: a Hub terminal holds JPY_API_TOKEN there
#: The whole environment bubblewrap itself starts with (its pid 1 keeps it, readable as /proc/1/environ).
_BWRAP_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
#: Memory a zygote may use while it imports ipykernel, numpy and torch, before its jobs' limit applies.
ZYGOTE_MEMORY = 2 * GIB


@dataclass(frozen=True)
class SandboxPolicy:
    """Limits and isolation for one sandboxed program.

    Attributes:
        memory: address-space limit in bytes (RLIMIT_AS).
        cpu_seconds: CPU-time limit in seconds (RLIMIT_CPU); 0 means none.
        file_size: largest file the program may write, in bytes (RLIMIT_FSIZE).
        isolate: use namespaces (bubblewrap); False runs with the rlimits only (``--no-sandbox``).
        cpus: CPU bandwidth of a zygote's control group, in cores; the program's OpenMP, BLAS and torch
            thread count follows it (:attr:`threads`).
    """

    memory: int = GradeOptions.memory
    cpu_seconds: int = GradeOptions().kernel_cpu_seconds
    file_size: int = GIB
    isolate: bool = True
    cpus: float = limits.DEFAULT_CPUS

    @property
    def threads(self) -> int:
        """Compute threads of a program under this policy: the whole cores of its CPU quota, at least 1."""
        return limits.threads_for(self.cpus)


def parse_bytes(text: str | int) -> int:
    """``"2G"``, ``"512M"``, ``"1.5GiB"`` or a plain number of bytes -> bytes."""
    if isinstance(text, int):
        return text
    units = {"": 1, "k": 1024, "m": 1024**2, "g": GIB, "t": 1024**4}
    raw = str(text).strip().lower().removesuffix("ib").removesuffix("b")
    unit = raw[-1:] if raw[-1:] in units else ""
    try:
        value = float(raw[: len(raw) - len(unit)])
    except ValueError:
        raise ValueError(f"memory size {text!r} is not a number of bytes or like 2G, 512M") from None
    if value <= 0:
        raise ValueError(f"memory size {text!r} must be positive")
    return int(value * units[unit])


@functools.lru_cache(maxsize=1)
def bwrap_available() -> tuple[bool, str]:
    """Whether bubblewrap can create the namespaces here; (False, why) otherwise."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap (bwrap) is not installed"
    probe = [exe, "--ro-bind", "/", "/", "--unshare-all", "--unshare-user", "--cap-drop", "ALL", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap failed to start: {exc}"
    if done.returncode != 0:
        return False, f"bwrap cannot create namespaces here: {done.stderr.strip() or done.returncode}"
    return True, exe


def isolates(policy: SandboxPolicy) -> bool:
    """Whether programs run under ``policy`` get bubblewrap's namespaces (else rlimits only)."""
    return policy.isolate and bwrap_available()[0]


def describe(policy: SandboxPolicy) -> str:
    """One line saying how student code is isolated under ``policy`` (copied into every result)."""
    rlimits = f"memory {policy.memory / GIB:g} GiB, cpu {policy.cpu_seconds or 'unlimited'} s"
    ok, why = bwrap_available()
    if not (policy.isolate and ok):
        reason = why if policy.isolate else "--no-sandbox"
        return (
            f"NO SANDBOX ({reason}): rlimits only ({rlimits}); processes a notebook starts are counted and "
            "ended with its process tree, but student code can read every file the grader can (hidden "
            "tests, solutions, other submissions) and reach the network"
        )
    group = limits.describe(limits.Limits(memory=policy.memory, cpus=policy.cpus))
    return f"bwrap: no network, read-only system, private scratch, pid namespace; {rlimits}; {group}"


#: Without namespaces, a sandboxed program starts through this: it sets ``KEY=VALUE`` arguments in the
#: environment, becomes a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``, kept across ``execve``; an
#: orphaned grandchild, even a double-forked daemon, is re-parented to it instead of to the host's init),
#: then execs the command after ``--`` (``prlimit ... program``) in the same process.
_ADOPTING_LAUNCHER = """\
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
end = sys.argv.index("--")
os.environ.update(item.split("=", 1) for item in sys.argv[1:end])
os.execvp(sys.argv[end + 1], sys.argv[end + 1 :])
"""


def _readable_roots() -> list[str]:
    """System and Python paths the sandbox may read (all read-only)."""
    roots = ["/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"]
    roots += [sys.base_prefix, sys.prefix, os.path.realpath(sys.executable)]
    spec = importlib.util.find_spec("gradlib")
    if spec is not None and spec.submodule_search_locations:
        roots += list(spec.submodule_search_locations)
    return roots


def _rlimits(policy: SandboxPolicy, address_space: bool = True) -> list[str]:
    """Prlimit's argv; ``address_space=False`` where a cgroup limits resident memory instead."""
    rlimits = [f"--as={policy.memory}"] if address_space else []
    rlimits += [f"--fsize={policy.file_size}", "--core=0"]
    if policy.cpu_seconds:
        rlimits.append(f"--cpu={policy.cpu_seconds}")
    return ["prlimit", *rlimits, "--"]


def environment(extra: dict[str, str], threads: int | None = None) -> dict[str, str]:
    """The sandbox's environment: the few kept variables, a plain PATH, and ``extra`` on top.

    OpenMP, OpenBLAS and MKL are told to start ``threads`` threads (default: :class:`SandboxPolicy`'s).
    """
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith(_ENV_KEEP_PREFIXES)}
    env.setdefault("LANG", "C.UTF-8")
    env.update(limits.thread_env(SandboxPolicy().threads if threads is None else threads))
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"])
    env.update(extra)
    return env


def command(
    argv: list[str],
    *,
    writable: list[str | Path],
    policy: SandboxPolicy,
    cwd: str | Path | None = None,
    readable: list[str | Path] = (),
    env: dict[str, str] | None = None,
    group: limits.Cgroup | None = None,
) -> list[str]:
    """``argv`` wrapped to run sandboxed; ``writable`` dirs appear at the same paths, read-write.

    ``env`` entries are set inside (``HOME`` and ``TMPDIR`` default to the first writable dir). Without
    isolation (policy or platform) the command applies the rlimits, sets ``env`` on top of the inherited
    environment and makes the program a child subreaper (:data:`_ADOPTING_LAUNCHER`), so that every process
    it starts stays in its process tree, where :func:`descendants` counts and :func:`kill_tree` ends it.
    With a control ``group`` the program starts inside it (resident memory, tmpfs and tasks counted
    there) and the address-space rlimit is left out; bubblewrap itself starts with :data:`_BWRAP_ENV` only.
    """
    inner = _rlimits(policy, address_space=group is None) + list(argv)
    scratch = str(writable[0])
    ok, exe = bwrap_available()
    if not (policy.isolate and ok):
        extra = {"HOME": scratch, "TMPDIR": scratch, **limits.thread_env(policy.threads), **(env or {})}
        adopting = [sys.executable, "-I", "-c", _ADOPTING_LAUNCHER, *(f"{k}={v}" for k, v in extra.items())]
        return (group.launcher if group is not None else list)([*adopting, "--", *inner])
    # every program in the sandbox runs under the zygote's seccomp filter (no ptrace of pid 1, no keyrings)
    inner = [sys.executable, "-I", str(BOOT), "--deny-exec", *inner]
    readable = [*readable, PACKAGE_DIR]
    variables = environment({"HOME": scratch, "TMPDIR": scratch, **(env or {})}, policy.threads)
    cmd = [exe, "--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent"]
    cmd += ["--new-session", "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev"]
    cmd += limits.tmpfs_args(limits.Limits(memory=policy.memory)) + ["--mqueue", "/dev/mqueue"]
    for root in _readable_roots() + [str(p) for p in readable]:
        cmd += ["--ro-bind-try", root, root]
    for path in writable:
        cmd += ["--bind", str(path), str(path)]
    cmd += ["--remount-ro", "/", "--chdir", str(cwd or scratch), "--clearenv"]
    for key, value in sorted(variables.items()):
        cmd += ["--setenv", key, value]
    return limits.launcher(cmd + ["--"] + inner, env=_BWRAP_ENV, group=group)


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and all its descendants (used for the whole-notebook timeout)."""
    _kill([pid, *descendants(pid)])


def _kill(pids: list[int]) -> None:
    for target in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)


class Zygote:
    """A sandboxed fork server: Python with ipykernel, numpy, torch and gradlib imported once.

    Starting Python and importing torch cost ~2 s of CPU per process. A grading worker keeps two
    zygotes, one forking the notebook kernels and one the clean-room student processes, each in its own
    bubblewrap sandbox (:func:`command`: no network, read-only system, ``scratch`` its only writable
    directory) for all the worker's jobs, one job at a time. After each job :meth:`reset` kills every
    other process in that sandbox, empties the scratch dir and /dev/shm and removes System V IPC objects,
    so nothing of one submission is left for the next. The zygote never runs student code and is not
    dumpable (its children cannot ptrace it or read its memory). Used only when bubblewrap isolates:
    ``reset`` relies on the pid namespace. If student code kills a zygote, that student's process dies
    with it; the next start falls back to a fresh process and the worker starts a new zygote.
    """

    def __init__(
        self,
        scratch: Path,
        policy: SandboxPolicy,
        log: Path,
        *,
        kind: str,
        env: dict,
        timeout: float = 120,
        wait: bool = True,
    ):
        """Start the zygote; with ``wait=False`` return at once and let :meth:`wait_ready` wait for it."""
        self.scratch = Path(scratch)
        self.ctrl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [sys.executable, "-I", str(BOOT), "--zygote", str(theirs.fileno()), kind]
        # a control group for the sandbox: resident memory (tmpfs included), tasks and CPU share; while the
        # zygote imports torch it may use ZYGOTE_MEMORY, then each job gets policy.memory on top of it
        self.group = limits.create(
            f"zygote-{kind}", limits.Limits(memory=policy.memory + ZYGOTE_MEMORY, cpus=policy.cpus)
        )
        # no CPU limit on the zygote, which lives for the whole run; each child sets its own
        cmd = command(
            argv,
            writable=[self.scratch],
            readable=[PACKAGE_DIR],
            policy=replace(policy, cpu_seconds=0),
            env=env,
            group=self.group,
        )
        with open(log, "ab") as fh:
            self.process = subprocess.Popen(
                cmd,
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=fh,
            )
        theirs.close()
        self._timeout, self._job_memory = timeout, policy.memory
        self.alive: bool | None = None  # None until the zygote said it is ready (or failed to)
        if wait:
            self.wait_ready()

    def wait_ready(self) -> bool:
        """Wait (once) until the zygote has imported everything and answers; False if it never does."""
        if self.alive is None:
            self.ctrl.settimeout(self._timeout)
            self.alive = self._reply() == wire.ZYGOTE_READY
            self.ctrl.settimeout(30)
            if self.alive and self.group is not None:
                self.group.set_memory(self.group.memory_usage() + self._job_memory)
        return self.alive

    def __deepcopy__(self, memo) -> Zygote:
        """The zygote itself: a handle on a running process (traitlets copies the config holding it)."""
        return self

    def _reply(self) -> bytes:
        try:
            return self.ctrl.recv(256)
        except OSError:
            return b""

    def _request(self, request: wire.ZygoteRequest, fds: list[int] = ()) -> bytes:
        if not self.alive:
            return b""
        try:
            socket.send_fds(self.ctrl, [request.encode()], list(fds))
        except OSError:
            self.alive = False
            return b""
        reply = self._reply()
        self.alive = bool(reply)
        return reply

    def spawn_student(self, theirs: socket.socket, cpu_seconds: int) -> bool:
        """Fork a clean-room student process serving ``theirs``; False when the zygote is gone."""
        request = wire.ZygoteRequest("student", cpu=int(cpu_seconds or 0))
        return self._request(request, [theirs.fileno()]) == b"started"

    def spawn_kernel(self, argv: list[str], cwd: str, env: dict, cpu_seconds: int) -> ForkedProcess | None:
        """Fork an IPython kernel (``argv``: the ``python -m ipykernel_launcher -f ...`` command)."""
        args = argv[argv.index("ipykernel_launcher") + 1 :] if "ipykernel_launcher" in argv else []
        request = wire.ZygoteRequest("kernel", cpu=int(cpu_seconds or 0), args=tuple(args), cwd=cwd, env=env)
        reply = self._request(request)
        if not reply.startswith(b"started "):
            return None
        inner = int(reply.split()[1])
        for pid in descendants(self.process.pid):
            if namespace_pid(pid) == inner:
                return ForkedProcess(pid)
        return None

    def reset(self) -> bool:
        """Kill every process in the sandbox but the zygote, clear files and IPC; False when it is gone."""
        return self._request(wire.ZygoteRequest("reset")) == wire.ZYGOTE_CLEAN

    def strays(self) -> int:
        """Processes in the sandbox besides bubblewrap's two and the zygote (a live kernel counts)."""
        return max(0, len(descendants(self.process.pid)) - 2)

    def close(self) -> None:
        """Stop the zygote and its sandbox."""
        self.alive = False
        self.ctrl.close()
        kill_tree(self.process.pid)
        self.process.wait()
        if self.group is not None:
            self.group.remove()


class ForkedProcess:
    """The :class:`subprocess.Popen` surface jupyter_client uses, for a kernel forked by a zygote.

    The kernel is the zygote's child, so it cannot be waited for here: it has exited once its /proc
    entry is gone or a zombie.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:  # noqa: D102 - as Popen.poll
        if self.returncode is None:
            state = process_state(self.pid)
            if state is None or state[0] in "ZX":
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:  # noqa: D102 - as Popen.wait
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:  # noqa: D102 - as Popen.send_signal
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:  # noqa: D102 - as Popen.kill
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:  # noqa: D102 - as Popen.terminate
        self.send_signal(signal.SIGTERM)
