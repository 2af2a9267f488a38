"""Per-sandbox control groups (autograder.limits) against real cgroups: processes, memory, clean-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import limits

MIB = 1024**2
KIND, WHY = limits.support()
needs_cgroups = pytest.mark.skipif(not KIND, reason=f"control groups are not writable here: {WHY}")


def _run(group: limits.Cgroup, code: str, timeout: float = 120, bwrap: bool = False):
    """Run ``python -c code`` inside ``group`` (and, with ``bwrap``, a private /dev of the sandbox's size)."""
    argv = [sys.executable, "-I", "-c", textwrap.dedent(code)]
    if bwrap:
        ro = ["--ro-bind", "/", "/", "--dev", "/dev", *limits.tmpfs_args(group.limits)]
        argv = [shutil.which("bwrap"), *ro, "--unshare-pid", "--die-with-parent", "--", *argv]
    return subprocess.run(group.launcher(argv), capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def group(request):
    """A fresh group with the test's limits (parametrized indirectly), removed at teardown."""
    made = limits.create(request.node.name[:40].replace("[", "-").replace("]", ""), request.param)
    yield made
    made.remove()


@needs_cgroups
@pytest.mark.parametrize("group", [limits.Limits(memory=256 * MIB, pids=40)], indirect=True)
def test_fork_bomb_stops_at_pids_max(group):
    """Does a process that forks as fast as it can get exactly pids.max tasks, and no more?"""
    done = _run(
        group,
        """
        import os, time
        kids = 0
        while True:
            try:
                pid = os.fork()
            except OSError as exc:
                print(kids, exc.errno)
                break
            if pid == 0:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(null, 2)
                time.sleep(60)
                os._exit(0)
            kids += 1
        """,
    )
    kids, errno = map(int, done.stdout.split())
    assert errno == 11, done  # EAGAIN: the pids controller refused the fork
    assert kids + 1 == group.limits.pids  # the parent is one of the tasks
    assert group.pids_refused() >= 1
    assert len(group.pids()) == kids  # the sleeping children are still in the group...
    assert group.kill_all()
    assert group.pids() == set()  # ...until kill_all


@needs_cgroups
@pytest.mark.parametrize("group", [limits.Limits(memory=128 * MIB, pids=64)], indirect=True)
def test_resident_memory_hog_is_killed(group):
    """Is a process that touches twice the memory limit killed by the kernel, and counted as an OOM kill?"""
    done = _run(group, f"x = bytearray({2 * group.limits.memory}); print('survived')")
    assert done.returncode == -9 and "survived" not in done.stdout, done
    assert group.oom_kills() >= 1
    assert group.memory_peak() <= group.limits.memory


@needs_cgroups
@pytest.mark.parametrize("group", [limits.Limits(memory=256 * MIB, pids=64)], indirect=True)
def test_shm_beyond_memory_limit_fails_without_bwrap(group):
    """Are /dev/shm (tmpfs) pages charged to the group, so writing more than its limit there fails?"""
    target = Path("/dev/shm") / f"ag-test-limits-{os.getpid()}"
    try:
        done = _run(
            group,
            f"""
            import sys
            written = 0
            try:
                with open({str(target)!r}, "wb") as fh:
                    for _ in range({2 * group.limits.memory // MIB}):
                        fh.write(b"x" * {MIB})
                        fh.flush()
                        written += {MIB}
            except OSError as exc:
                print("refused", written, exc)
                sys.exit(3)
            print("wrote", written)
            """,
        )
        assert "wrote" not in done.stdout, done
        assert done.returncode in (-9, 3), done  # OOM-killed, or the write failed
        assert target.stat().st_size <= group.limits.memory
    finally:
        target.unlink(missing_ok=True)


@needs_cgroups
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed")
@pytest.mark.parametrize("group", [limits.Limits(memory=256 * MIB, pids=64)], indirect=True)
def test_sandbox_shm_is_sized_inside_the_budget(group):
    """In a sandbox's /dev/shm of tmpfs_args' size, does a big write stop at that size with ENOSPC?"""
    size = int(limits.tmpfs_args(group.limits)[1])
    assert size < group.limits.memory
    done = _run(
        group,
        f"""
        written = 0
        try:
            with open("/dev/shm/fill", "wb") as fh:
                for _ in range({2 * group.limits.memory // MIB}):
                    fh.write(b"x" * {MIB})
                    fh.flush()
                    written += {MIB}
        except OSError as exc:
            print(exc.errno, written)
        """,
        bwrap=True,
    )
    errno, written = map(int, done.stdout.split())
    assert errno == 28, done  # ENOSPC: the tmpfs is full before the memory limit is reached
    assert size - MIB <= written <= size


@needs_cgroups
@pytest.mark.parametrize("group", [limits.Limits(memory=1024 * MIB, pids=256, cpus=0)], indirect=True)
def test_fork_of_a_torch_process_is_measured_by_resident_memory(group):
    """Can a child forked after `import torch` allocate 512 MiB under a 1 GiB group, where RLIMIT_AS fails?"""
    code = """
        import os, sys
        import numpy as np
        import torch
        pid = os.fork()
        if pid == 0:
            try:
                a = np.ones(512 * 1024**2 // 8)
                a.sum()
            except MemoryError:
                os._exit(7)
            os._exit(0)
        print(os.waitpid(pid, 0)[1] >> 8)
        """
    in_group = _run(group, code)
    assert in_group.stdout.split() == ["0"], in_group
    assert group.memory_peak() > 512 * MIB  # the array really was resident inside the group
    as_limit = subprocess.run(
        ["prlimit", f"--as={group.limits.memory}", "--", sys.executable, "-I", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert as_limit.stdout.split() != ["0"], as_limit  # the same work fails under an address-space limit


@needs_cgroups
def test_remove_leaves_no_group_even_with_processes_inside():
    """Does leaving the context manager kill the group's processes and delete every directory of it?"""
    with limits.create("removal", limits.Limits(memory=64 * MIB, pids=16)) as group:
        sleepers = subprocess.Popen(group.launcher(["sh", "-c", "sleep 60 & sleep 60 & wait"]))
        while len(group.pids()) < 3:
            assert sleepers.poll() is None
        dirs = list(group.dirs)
        assert all(path.is_dir() for path in dirs)
    assert sleepers.wait(timeout=10) == -9
    assert not any(path.exists() for path in dirs)
    left = [p for d in dirs for p in d.parent.glob(f"{limits.PREFIX}{os.getpid()}-*")]
    assert left == []


@needs_cgroups
def test_sweep_removes_groups_of_dead_graders_only():
    """After a grader died without cleaning up, does sweep remove its groups and keep the living ones'?"""
    dead = subprocess.Popen(["true"])
    dead.wait()
    mine = limits.create("alive", limits.Limits(memory=64 * MIB))
    orphan = limits.Cgroup(
        mine.kind, [d.with_name(f"{limits.PREFIX}{dead.pid}-0-x") for d in mine.dirs], mine.limits
    )
    try:
        for path in orphan.dirs:
            path.mkdir()
        assert limits.sweep() == len(orphan.dirs)
        assert not any(path.exists() for path in orphan.dirs)
        assert all(path.exists() for path in mine.dirs)
    finally:
        orphan.remove()
        mine.remove()


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [({"memory": 0}, "0"), ({"memory": 1, "pids": 0}, "0"), ({"memory": 1, "cpus": -1}, "-1")],
)
def test_limits_refuse_impossible_values(kwargs, bad):
    """Is a limit that cannot be enforced refused with a ValueError naming the value?"""
    with pytest.raises(ValueError, match=f"{bad!s}"):
        limits.Limits(**kwargs)


def test_describe_states_what_is_not_guaranteed_without_cgroups(monkeypatch):
    """Without cgroups, does describe() say loudly which limits are not enforced, and why?"""
    monkeypatch.setattr(limits, "support", lambda: ("", "no cgroup v1 memory hierarchy is mounted"))
    text = limits.describe(limits.Limits(memory=2 * 1024**3, pids=100))
    assert text.startswith("NO CGROUPS (no cgroup v1 memory hierarchy is mounted)")
    for missing in ("/dev/shm", "number of processes", "CPU"):
        assert missing in text.split("NOT enforced")[1]


@pytest.mark.parametrize("with_group", [False, pytest.param(True, marks=needs_cgroups)])
def test_launcher_starts_with_only_the_given_environment(with_group, monkeypatch):
    """Does a program started by launcher() see only the variables it was given, none of the caller's?"""
    monkeypatch.setenv("JPY_API_TOKEN", "grader-secret")
    group = limits.create("env", limits.Limits(memory=64 * MIB)) if with_group else None
    try:
        argv = limits.launcher(["/bin/cat", "/proc/self/environ"], env={"LANG": "C.UTF-8"}, group=group)
        seen = subprocess.run(argv, capture_output=True, check=True).stdout.split(b"\0")
        assert b"LANG=C.UTF-8" in seen
        assert not any(b"grader-secret" in item for item in seen), seen
        if group is not None:
            assert group.pids_refused() == 0 and group.memory_peak() > 0  # it ran inside the group
    finally:
        if group is not None:
            group.remove()


def test_launcher_refuses_impossible_variable_names():
    """Is an environment variable name containing '=' refused with a ValueError naming it?"""
    with pytest.raises(ValueError, match="A=B"):
        limits.launcher(["true"], env={"A=B": "1"})


@pytest.mark.parametrize(("cpus", "threads"), [(1.0, 1), (1.5, 1), (2.0, 2), (0.5, 1)])
def test_threads_follow_the_cpu_quota(cpus, threads):
    """Does a group with a quota of `cpus` cores get its whole cores as threads, at least one?"""
    assert limits.Limits(memory=MIB, cpus=cpus).threads == threads
    assert limits.thread_env(threads) == dict.fromkeys(limits.THREAD_VARIABLES, str(threads))


def test_threads_without_a_quota_are_the_machines_cores():
    """Without a CPU limit, may a program use every core of the machine?"""
    assert limits.Limits(memory=MIB, cpus=0).threads == os.cpu_count()


@pytest.mark.parametrize(
    ("call", "bad"), [(lambda: limits.threads_for(-2), "-2"), (lambda: limits.thread_env(0), "0")]
)
def test_impossible_thread_counts_are_refused(call, bad):
    """Is a negative quota or a thread count below one refused with a ValueError naming the value?"""
    with pytest.raises(ValueError, match=bad):
        call()


@pytest.mark.parametrize("cpus", [1.0, 2.0])
def test_sandboxed_torch_starts_as_many_threads_as_its_quota(cpus, tmp_path, monkeypatch):
    """Does sandboxed torch use the quota's thread count, even when the grader's OMP_NUM_THREADS says 7?"""
    from autograder import sandbox

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    code = "import os, torch; print(torch.get_num_threads(), os.environ['OPENBLAS_NUM_THREADS'])"
    policy = sandbox.SandboxPolicy(cpus=cpus)
    argv = sandbox.command([sys.executable, "-I", "-c", code], writable=[tmp_path], policy=policy)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == [str(int(cpus))] * 2, done


MOUNT_AND_FILL = """
import os, sys
from autograder import scratch
folder, size = sys.argv[1], int(sys.argv[2])
why = scratch.mount_tmpfs(folder, size)
if why:
    print("SKIP", why)
    sys.exit(0)
written = 0
try:
    with open(os.path.join(folder, "fill"), "wb") as fh:
        for _ in range(4 * size // 2**20):
            fh.write(b"x" * 2**20)
            fh.flush()
            written += 2**20
except OSError as exc:
    print(exc.errno, written, scratch.is_full(folder))
"""


def test_scratch_tmpfs_is_sized_private_and_gone_with_its_process(tmp_path):
    """Does a scratch tmpfs stop writes at its size (ENOSPC), stay invisible to the host, and vanish after?"""
    folder, size = tmp_path / "scratch", 8 * MIB
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", MOUNT_AND_FILL, str(folder), str(size)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.stdout.startswith("SKIP"):
        pytest.skip(done.stdout)
    errno, written, full = done.stdout.split()
    assert (int(errno), full) == (28, "True"), done  # ENOSPC, and is_full says so
    assert size - MIB <= int(written) <= size
    assert list(folder.iterdir()) == []  # the host never saw the file: the mount was private and is gone
    assert str(folder) not in Path("/proc/self/mountinfo").read_text()


def test_scratch_tmpfs_refuses_an_impossible_size(tmp_path):
    """Is a tmpfs size of 0 bytes refused with a ValueError naming it?"""
    from autograder import scratch

    with pytest.raises(ValueError, match="0"):
        scratch.mount_tmpfs(tmp_path, 0)
