"""Resource limits for one sandbox with Linux control groups: resident memory, processes, CPU.

An rlimit applies to one process and counts the wrong thing: ``RLIMIT_AS`` counts virtual address space
(a kernel forked from a zygote that imported torch has most of a 1 GiB limit mapped before it runs a
cell), does not count tmpfs or ``/dev/shm`` pages at all, and ``RLIMIT_NPROC`` counts per user, which for
a grader running as root means nothing. A control group counts every process placed in it together:

* ``memory``: resident memory *including* the page cache and tmpfs/``/dev/shm`` pages the group's
  processes write (cgroup v2 ``memory.max``; v1 ``memory.limit_in_bytes`` and, where swap is accounted,
  ``memory.memsw.limit_in_bytes``). Over the limit the kernel reclaims what it can, then kills a process
  of the group (the OOM killer) or fails the write.
* ``pids``: tasks (processes and threads) alive in the group at once; ``fork`` fails with EAGAIN past
  it, so a fork bomb stops at ``pids`` tasks.
* ``cpu``: CPU bandwidth, in cores (CFS quota per 100 ms period).

A program in a group must not start more compute threads than its CPU quota: OpenMP (torch's intra-op
pool), OpenBLAS and MKL workers spin-wait between parallel regions, so two threads under a one-core quota
burn the quota spinning and the group sits throttled for the rest of each period (lesson 08's training
check took 37 s with torch's default two threads on a busy 2-core machine, 4.8 s with one).
:func:`thread_env` gives the variables those libraries read when they are loaded, and
:func:`pin_threads` sets the count in a process that has loaded them already.

:func:`create` makes one group under the grader's own cgroup (cgroup v2 where its controllers can be
delegated there, else the v1 hierarchies of ``memory``, ``pids`` and ``cpu``) and returns a
:class:`Cgroup`; :meth:`Cgroup.launcher` prefixes an argv so that the program joins the group before it
execs, so no child can be forked outside it. :meth:`Cgroup.kill_all` and :meth:`Cgroup.remove` end
everything in the group and delete it.

Where no cgroup hierarchy is writable (not root, no delegation, a container without cgroups),
:func:`create` returns None and :func:`support` says why; the sandbox then falls back to rlimits alone
and :func:`describe` states what is NOT guaranteed (tmpfs memory, process count, CPU share).

:func:`tmpfs_args` gives bubblewrap the options for a ``/dev/shm`` sized inside the memory budget.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CPU_PERIOD_US",
    "Cgroup",
    "Limits",
    "create",
    "describe",
    "launcher",
    "pin_threads",
    "support",
    "sweep",
    "thread_env",
    "threads_for",
    "tmpfs_args",
]

#: CFS bandwidth period (microseconds); the quota is ``cpus`` times this.
CPU_PERIOD_US = 100_000
#: The CPU bandwidth of a group, in cores, unless its :class:`Limits` say otherwise.
DEFAULT_CPUS = 1.0
#: Variables that fix the thread count of OpenMP (torch's intra-op pool), OpenBLAS and MKL at load time.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Every group this module creates has a name starting with this (see :func:`sweep`).
PREFIX = "autograder-"
_V1_CONTROLLERS = ("memory", "pids", "cpu")
_counter = itertools.count()

#: ``sh`` script run by :meth:`Cgroup.launcher`: write its own pid into each ``cgroup.procs`` file given
#: before ``--``, then exec the command after it (same process, so everything it forks is in the group).
_ATTACH = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'


@dataclass(frozen=True)
class Limits:
    """What one group may use.

    Attributes:
        memory: bytes of resident memory, tmpfs and ``/dev/shm`` pages included.
        pids: tasks (processes plus threads) alive at once.
        cpus: CPU bandwidth in cores (1.0 = one core); 0 means no CPU limit.
    """

    memory: int
    pids: int = 512
    cpus: float = DEFAULT_CPUS

    def __post_init__(self) -> None:
        if self.memory <= 0:
            raise ValueError(f"memory limit {self.memory!r} must be a positive number of bytes")
        if self.pids < 1:
            raise ValueError(f"pids limit {self.pids!r} must be at least 1")
        if self.cpus < 0:
            raise ValueError(f"cpus {self.cpus!r} must be >= 0")

    @property
    def threads(self) -> int:
        """Compute threads a program in the group should use (see :func:`threads_for`)."""
        return threads_for(self.cpus)


def threads_for(cpus: float) -> int:
    """Compute threads for a CPU quota of ``cpus`` cores: the whole cores in it, at least one.

    With no quota (``cpus`` 0) every core of the machine.
    """
    if cpus < 0:
        raise ValueError(f"cpus {cpus!r} must be >= 0")
    return max(1, int(cpus)) if cpus else (os.cpu_count() or 1)


def thread_env(threads: int) -> dict[str, str]:
    """The variables that make OpenMP, OpenBLAS and MKL start ``threads`` threads (read when loaded)."""
    if threads < 1:
        raise ValueError(f"threads {threads!r} must be at least 1")
    return dict.fromkeys(THREAD_VARIABLES, str(threads))


def pin_threads(threads: int) -> None:
    """Use ``threads`` compute threads in this process, in libraries loaded already and any loaded later.

    Sets :func:`thread_env` in ``os.environ`` (for later loads and child processes), torch's intra-op
    pool when torch is imported, and the BLAS and OpenMP pools threadpoolctl finds.
    """
    os.environ.update(thread_env(threads))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads)


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fs type, super options) of every cgroup mount, from mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            pre, _, post = line.partition(" - ")
            fields, tail = pre.split(), post.split()
            if tail and tail[0] in ("cgroup", "cgroup2"):
                found.append(
                    (fields[3], fields[4], tail[0], set(tail[2].split(",")) if len(tail) > 2 else set())
                )
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under ``""`` its v2 path (/proc/self/cgroup)."""
    paths = {}
    with open("/proc/self/cgroup") as fh:
        for line in fh:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _under(mount_root: str, mount_point: str, path: str) -> Path:
    """The directory of cgroup ``path`` in a hierarchy mounted at ``mount_point`` from ``mount_root``."""
    rel = os.path.relpath(path, mount_root) if path.startswith(mount_root) else path.lstrip("/")
    return Path(mount_point) / ("" if rel == "." else rel)


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2_parent() -> tuple[Path | None, str]:
    """The v2 cgroup new groups go under (controllers delegated to it), or (None, why not)."""
    mounts = [m for m in _mounts() if m[2] == "cgroup2"]
    if not mounts:
        return None, "no cgroup2 hierarchy is mounted"
    root, point, _, _ = mounts[0]
    parent = _under(root, point, _own_paths().get("", "/"))
    want = {"memory", "pids"}
    have = set((parent / "cgroup.controllers").read_text().split()) if parent.is_dir() else set()
    if not want <= have:
        return None, f"cgroup2 at {point} offers no {'/'.join(sorted(want - have))} controller here"
    enabled = set((parent / "cgroup.subtree_control").read_text().split())
    missing = [c for c in ("memory", "pids", "cpu") if c in have and c not in enabled]
    try:
        if missing:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))
    except OSError as exc:
        return None, (
            f"cannot delegate {', '.join(missing)} below {parent} ({exc.strerror}); run the grader in a "
            "delegated cgroup, e.g. `systemd-run --scope -p Delegate=yes autograder grade ...`"
        )
    return parent, "cgroup v2"


def _v1_parents() -> tuple[dict[str, Path] | None, str]:
    """Per controller, the v1 cgroup new groups go under (this process's own), or (None, why not)."""
    own = _own_paths()
    parents = {}
    for root, point, kind, options in _mounts():
        for name in _V1_CONTROLLERS:
            if kind == "cgroup" and name in options and name not in parents:
                parents[name] = _under(root, point, own.get(name, "/"))
    missing = [c for c in ("memory", "pids") if c not in parents]
    if missing:
        return None, f"no cgroup v1 {'/'.join(missing)} hierarchy is mounted"
    unwritable = [str(p) for p in parents.values() if not _writable_dir(p)]
    if unwritable:
        return None, f"cgroup v1 directories not writable by this user: {', '.join(unwritable)}"
    return parents, "cgroup v1 (" + ", ".join(sorted(parents)) + ")"


@functools.lru_cache(maxsize=1)
def support() -> tuple[str, str]:
    """``("v2" | "v1", description)`` where groups can be created here, else ``("", why not)``."""
    parent, why2 = _v2_parent()
    if parent is not None:
        return "v2", why2
    parents, why1 = _v1_parents()
    if parents is not None:
        return "v1", why1
    return "", f"{why2}; {why1}"


def describe(limits: Limits) -> str:
    """One line: the limits as enforced here, or the loud fallback saying what is not guaranteed."""
    kind, why = support()
    wanted = (
        f"memory {limits.memory / 1024**3:g} GiB resident incl. /dev/shm and tmpfs, "
        f"{limits.pids} tasks, {limits.cpus or 'unlimited'} CPU"
    )
    if kind:
        return f"{why}: {wanted}"
    return (
        f"NO CGROUPS ({why}): {wanted} NOT enforced; memory is an address-space rlimit (tmpfs and "
        "/dev/shm pages are not counted, torch-sized programs may die early), no limit on the number of "
        "processes, no CPU share"
    )


def tmpfs_args(limits: Limits) -> list[str]:
    """Bubblewrap options for a ``/dev/shm`` of at most a quarter of the memory budget.

    Go after ``--dev /dev`` (whose own ``/dev/shm`` is sized at half the machine's RAM). The pages are
    also charged to the group's memory limit; the size makes a full ``/dev/shm`` fail with ENOSPC even
    where no cgroup exists.
    """
    return ["--size", str(max(limits.memory // 4, 1024**2)), "--tmpfs", "/dev/shm"]


class Cgroup:
    """One control group with limits (see :func:`create`); a context manager that removes it on exit."""

    def __init__(self, kind: str, dirs: list[Path], limits: Limits):
        self.kind, self.dirs, self.limits = kind, dirs, limits

    # ---------------------------------------------------------------------------------- set-up

    @classmethod
    def make(cls, name: str, limits: Limits) -> Cgroup:
        """Create the group (raises OSError where :func:`support` says none can be made)."""
        kind, why = support()
        leaf = f"{PREFIX}{os.getpid()}-{next(_counter)}-{name}"
        if kind == "v2":
            parent, _ = _v2_parent()
            dirs = [parent / leaf]
        elif kind == "v1":
            parents, _ = _v1_parents()
            dirs = [parents[c] / leaf for c in _V1_CONTROLLERS if c in parents]
        else:
            raise OSError(f"no control groups here: {why}")
        group = cls(kind, dirs, limits)
        try:
            for path in dirs:
                path.mkdir()
            group.set_memory(limits.memory)
            group._write("pids.max", str(limits.pids))
            if limits.cpus:
                group._set_cpu(limits.cpus)
        except OSError:
            group.remove()
            raise
        return group

    def _file(self, name: str) -> Path | None:
        """``name`` in whichever of the group's directories has it."""
        for path in self.dirs:
            if (path / name).exists():
                return path / name
        return None

    def _write(self, name: str, value: str) -> None:
        path = self._file(name)
        if path is None:
            raise OSError(f"cgroup file {name} not found under {', '.join(map(str, self.dirs))}")
        path.write_text(value)

    def _read(self, name: str) -> str:
        path = self._file(name)
        return path.read_text() if path is not None else ""

    def set_memory(self, nbytes: int) -> None:
        """Set the memory limit (resident + page cache + tmpfs; swap included where it is accounted)."""
        if self.kind == "v2":
            self._write("memory.max", str(nbytes))
            with contextlib.suppress(OSError):
                self._write("memory.swap.max", "0")
            return
        # v1: memsw (memory + swap) must stay >= the memory limit, so order the writes accordingly.
        memsw = self._file("memory.memsw.limit_in_bytes")
        current = int(self._read("memory.limit_in_bytes") or 0)
        if memsw is not None and nbytes > current:
            memsw.write_text(str(nbytes))
        self._write("memory.limit_in_bytes", str(nbytes))
        if memsw is not None:
            memsw.write_text(str(nbytes))

    def _set_cpu(self, cpus: float) -> None:
        quota = max(1000, int(cpus * CPU_PERIOD_US))
        if self.kind == "v2":
            if self._file("cpu.max") is not None:
                self._write("cpu.max", f"{quota} {CPU_PERIOD_US}")
            return
        if self._file("cpu.cfs_quota_us") is not None:
            self._write("cpu.cfs_period_us", str(CPU_PERIOD_US))
            self._write("cpu.cfs_quota_us", str(quota))

    # ---------------------------------------------------------------------------------- membership

    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` file of each hierarchy the group lives in."""
        return [str(path / "cgroup.procs") for path in self.dirs]

    def launcher(self, argv: list[str]) -> list[str]:
        """``argv`` run by a shell that first moves itself into the group, then execs ``argv``.

        The program keeps the shell's pid, so a Popen of the result is the program itself; every process
        it ever forks starts inside the group.
        """
        return ["/bin/sh", "-c", _ATTACH, "sh", *self.procs_files(), "--", *argv]

    def attach(self, pid: int) -> None:
        """Move process ``pid`` (not its existing children) into the group."""
        for path in self.procs_files():
            Path(path).write_text(str(pid))

    def pids(self) -> set[int]:
        """Processes in the group now (from the ``pids`` hierarchy, or the only one in v2)."""
        path = self._file("pids.max")
        folder = path.parent if path is not None else self.dirs[0]
        try:
            return {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        except (OSError, ValueError):
            return set()

    # ---------------------------------------------------------------------------------- accounting

    def memory_usage(self) -> int:
        """Bytes charged to the group now."""
        text = self._read("memory.current" if self.kind == "v2" else "memory.usage_in_bytes")
        return int(text or 0)

    def memory_peak(self) -> int:
        """Most bytes charged to the group at once (0 where the kernel does not report it)."""
        text = self._read("memory.peak" if self.kind == "v2" else "memory.max_usage_in_bytes")
        return int(text or 0)

    def oom_kills(self) -> int:
        """Processes of the group the kernel killed for exceeding the memory limit."""
        text = self._read("memory.events" if self.kind == "v2" else "memory.oom_control")
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def pids_refused(self) -> int:
        """Forks the group refused because it was at ``pids`` tasks."""
        for line in self._read("pids.events").splitlines():
            key, _, value = line.partition(" ")
            if key == "max":
                return int(value)
        return 0

    # ---------------------------------------------------------------------------------- teardown

    def kill_all(self, timeout: float = 10.0) -> bool:
        """SIGKILL every process of the group, every thread included; True once the group is empty.

        A fork bomb cannot outrun it: forks stop at ``pids`` tasks, and each round kills all it sees.
        """
        kill_file = self._file("cgroup.kill") if self.kind == "v2" else None
        end = time.monotonic() + timeout
        while True:
            pids = self.pids()
            if not pids:
                return True
            if kill_file is not None:
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > end:
                return False
            time.sleep(0.01)

    def remove(self, timeout: float = 10.0) -> bool:
        """Kill what is left in the group and delete it; True when no directory of it is left."""
        self.kill_all(timeout)
        end = time.monotonic() + timeout
        for path in self.dirs:
            while path.exists():
                try:
                    path.rmdir()
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while a killed task is still exiting
                    if time.monotonic() > end:
                        break
                    time.sleep(0.01)
        return not any(path.exists() for path in self.dirs)

    def __enter__(self) -> Cgroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"Cgroup({self.kind}, {', '.join(map(str, self.dirs))}, {self.limits})"


def create(name: str, limits: Limits) -> Cgroup | None:
    """A new group with ``limits``, or None where control groups are unavailable (see :func:`describe`)."""
    if not support()[0]:
        return None
    sweep()  # groups a killed grader left behind
    return Cgroup.make(name, limits)


def launcher(argv: list[str], *, env: dict[str, str], group: Cgroup | None = None) -> list[str]:
    """``argv`` started with exactly ``env`` (nothing of the caller's environment) and inside ``group``.

    For a sandbox this matters twice: bubblewrap's own pid 1 keeps the environment bubblewrap was started
    with (``--clearenv`` clears only its child's), and anything in the sandbox can read it in
    ``/proc/1/environ``; and every process must start inside its group, before it can fork.
    """
    bad = [key for key in env if not key or "=" in key]
    if bad:
        raise ValueError(f"environment variable names {bad!r} are empty or contain '='")
    head = ["/usr/bin/env", "-i", *(f"{key}={value}" for key, value in sorted(env.items()))]
    return head + (group.launcher(argv) if group is not None else list(argv))


def sweep() -> int:
    """Remove the groups left by grader processes that are gone (e.g. after a SIGKILL); return how many."""
    kind, _ = support()
    if kind == "v2":
        parents = [_v2_parent()[0]]
    elif kind == "v1":
        parents = list(_v1_parents()[0].values())
    else:
        return 0
    removed = 0
    for parent in parents:
        for path in parent.glob(f"{PREFIX}*"):
            owner = path.name.removeprefix(PREFIX).split("-", 1)[0]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                group = Cgroup(kind, [path], Limits(memory=1))
                removed += group.remove(timeout=2.0)
    return removed
