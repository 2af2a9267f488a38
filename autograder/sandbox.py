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

Where user namespaces are unavailable, :func:`command` falls back to the rlimits alone and
:func:`describe` says so (the engine copies that text into every result's ``sandbox`` field).

:class:`SandboxedKernelManager` is a Jupyter kernel manager that starts the kernel through :func:`command`
and talks to it over Unix sockets (ZMQ ``ipc`` transport) in the scratch directory, since a kernel without
a network cannot be reached over TCP; this also removes the TCP port clashes of parallel kernels.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, List, Unicode

__all__ = [
    "GIB",
    "SandboxPolicy",
    "SandboxedKernelManager",
    "bwrap_available",
    "command",
    "describe",
    "descendants",
    "kill_tree",
    "parse_bytes",
]

GIB = 1024**3

#: Environment variables passed into the sandbox (everything else is cleared: no tokens, no DB URLs).
_ENV_KEEP = ("LANG", "LC_ALL", "NBGRADER_EXECUTION", "MPLBACKEND", "PYTHONHASHSEED", "OMP_NUM_THREADS")
_ENV_KEEP_PREFIXES = ("JPY_",)


@dataclass(frozen=True)
class SandboxPolicy:
    """Limits and isolation for one sandboxed program.

    Attributes:
        memory: address-space limit in bytes (RLIMIT_AS).
        cpu_seconds: CPU-time limit in seconds (RLIMIT_CPU); 0 means none.
        file_size: largest file the program may write, in bytes (RLIMIT_FSIZE).
        isolate: use namespaces (bubblewrap); False runs with the rlimits only (``--no-sandbox``).
    """

    memory: int = 2 * GIB
    cpu_seconds: int = 600
    file_size: int = GIB
    isolate: bool = True


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


def describe(policy: SandboxPolicy) -> str:
    """One line saying how student code is isolated under ``policy`` (copied into every result)."""
    limits = f"memory {policy.memory / GIB:g} GiB, cpu {policy.cpu_seconds or 'unlimited'} s"
    if not policy.isolate:
        return f"NO SANDBOX (--no-sandbox): rlimits only ({limits}); student code can read the course"
    ok, why = bwrap_available()
    if not ok:
        return f"NO SANDBOX ({why}): rlimits only ({limits}); student code can read the course"
    return f"bwrap: no network, read-only system, private scratch, pid namespace; {limits}"


def _readable_roots() -> list[str]:
    """System and Python paths the sandbox may read (all read-only)."""
    roots = ["/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"]
    roots += [sys.base_prefix, sys.prefix, os.path.realpath(sys.executable)]
    spec = importlib.util.find_spec("gradlib")
    if spec is not None and spec.submodule_search_locations:
        roots += list(spec.submodule_search_locations)
    return roots


def _rlimits(policy: SandboxPolicy) -> list[str]:
    limits = [f"--as={policy.memory}", f"--fsize={policy.file_size}", "--core=0"]
    if policy.cpu_seconds:
        limits.append(f"--cpu={policy.cpu_seconds}")
    return ["prlimit", *limits, "--"]


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith(_ENV_KEEP_PREFIXES)}
    env.setdefault("LANG", "C.UTF-8")
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
) -> list[str]:
    """``argv`` wrapped to run sandboxed; ``writable`` dirs appear at the same paths, read-write.

    ``env`` entries are set inside (``HOME`` and ``TMPDIR`` default to the first writable dir). Without
    isolation (policy or platform) the result only applies the rlimits and the environment is inherited.
    """
    inner = _rlimits(policy) + list(argv)
    ok, exe = bwrap_available()
    if not (policy.isolate and ok):
        return inner
    scratch = str(writable[0])
    variables = _env({"HOME": scratch, "TMPDIR": scratch, **(env or {})})
    cmd = [exe, "--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent"]
    cmd += ["--new-session", "--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev"]
    for root in _readable_roots() + [str(p) for p in readable]:
        cmd += ["--ro-bind-try", root, root]
    for path in writable:
        cmd += ["--bind", str(path), str(path)]
    cmd += ["--remount-ro", "/", "--chdir", str(cwd or scratch), "--clearenv"]
    for key, value in sorted(variables.items()):
        cmd += ["--setenv", key, value]
    return cmd + ["--"] + inner


def descendants(pid: int) -> list[int]:
    """Process ids of every live descendant of ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and all its descendants (used for the whole-notebook timeout)."""
    for target in [pid, *descendants(pid)]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs under :func:`command` and listens on Unix sockets.

    Configure it through traitlets (``c.SandboxedKernelManager.scratch = ...``); the engine sets
    ``c.Execute.kernel_manager_class`` to this class. Interrupts are sent as messages (a signal to
    bubblewrap would not reach the kernel). Before the kernel is stopped, the number of processes the
    kernel left running inside the sandbox is recorded in :data:`STRAY_PROCESSES` (keyed by scratch).
    """

    scratch = Unicode(help="writable scratch directory (kernel sockets, HOME, TMPDIR)").tag(config=True)
    notebook_dir = Unicode(help="directory holding the notebook copy (kernel cwd, writable)").tag(config=True)
    memory = Integer(2 * GIB).tag(config=True)
    cpu_seconds = Integer(600).tag(config=True)
    isolate = Bool(True).tag(config=True)
    extra_env = List(Unicode(), help="KEY=VALUE pairs set inside the sandbox").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        run = Path(self.scratch)
        self.transport = "ipc"
        self.ip = str(run / "k")
        self.connection_file = str(run / "kernel.json")

    @property
    def kernel_spec(self):  # noqa: D102 - same as the base class, with message-based interrupts
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
        return spec

    def format_kernel_cmd(self, extra_arguments=None):  # noqa: D102 - wraps the base command
        argv = super().format_kernel_cmd(extra_arguments)
        policy = SandboxPolicy(memory=self.memory, cpu_seconds=self.cpu_seconds, isolate=self.isolate)
        env = dict(item.split("=", 1) for item in self.extra_env)
        dirs = [self.scratch] + ([self.notebook_dir] if self.notebook_dir else [])
        return command(argv, writable=dirs, policy=policy, cwd=self.notebook_dir or self.scratch, env=env)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own chatter goes to a log in its scratch dir, not the grader's terminal.
        kw["stdout"] = subprocess.DEVNULL
        kw["stderr"] = open(Path(self.scratch) / "kernel.log", "ab")  # noqa: SIM115 - closed with the process
        try:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            kw["stderr"].close()

    async def shutdown_kernel(self, now: bool = False, restart: bool = False):  # noqa: D102
        self._record_strays()
        return await super()._async_shutdown_kernel(now=now, restart=restart)

    def _record_strays(self) -> None:
        process = getattr(self.provisioner, "process", None)
        if process is None or process.poll() is not None:
            return
        # bwrap -> its pid 1 -> the kernel; anything else is a process the kernel left behind.
        STRAY_PROCESSES[self.scratch] = max(0, len(descendants(process.pid)) - 2)


#: scratch dir -> processes left running in the kernel's sandbox when it was shut down.
STRAY_PROCESSES: dict[str, int] = {}
