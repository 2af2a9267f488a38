"""The bubblewrap sandbox: what student code can and cannot do inside it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from autograder import sandbox

pytestmark = pytest.mark.sandbox

needs_bwrap = pytest.mark.skipif(not sandbox.bwrap_available()[0], reason="bubblewrap unavailable")


def run(tmp_path, code: str, **policy) -> subprocess.CompletedProcess:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    cmd = sandbox.command(
        [sys.executable, "-c", code], writable=[scratch], policy=sandbox.SandboxPolicy(**policy)
    )
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@needs_bwrap
def test_cannot_read_outside_scratch(tmp_path):
    """Is a file next to the scratch dir (like solutions/ or the gradebook) invisible inside?"""
    secret = tmp_path / "gradebook.db"
    secret.write_text("hidden tests")
    done = run(tmp_path, f"print(open({str(secret)!r}).read())")
    assert done.returncode != 0 and "FileNotFoundError" in done.stderr


@needs_bwrap
def test_can_write_only_scratch(tmp_path):
    """Can the program write its scratch dir but not the system or the virtual environment?"""
    code = (
        "import os, sys\n"
        f"open({str(tmp_path / 'scratch' / 'ok.txt')!r}, 'w').write('x')\n"
        "for p in ('/usr/evil', sys.prefix + '/evil', '/evil'):\n"
        "    try:\n        open(p, 'w')\n        print('WROTE', p)\n"
        "    except OSError as e:\n        print('refused', p, e.errno)\n"
    )
    done = run(tmp_path, code)
    assert (tmp_path / "scratch" / "ok.txt").exists()
    assert "WROTE" not in done.stdout and done.stdout.count("refused") == 3, done.stdout + done.stderr


@needs_bwrap
def test_no_network(tmp_path):
    """Can the program reach neither the internet nor a server listening on the host's loopback?"""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    code = (
        "import socket\n"
        f"for addr in (('1.1.1.1', 80), ('127.0.0.1', {port})):\n"
        "    s = socket.socket(); s.settimeout(3)\n"
        "    try:\n        s.connect(addr); print('CONNECTED', addr)\n"
        "    except OSError as e:\n        print('blocked', e.errno)\n"
    )
    try:
        done = run(tmp_path, code)
    finally:
        server.close()
    assert "CONNECTED" not in done.stdout and done.stdout.count("blocked") == 2, done.stdout + done.stderr


@needs_bwrap
def test_memory_limit(tmp_path):
    """Does allocating past the memory limit fail inside the sandbox?"""
    code = "try:\n    b = bytearray(800 * 1024**2)\n    print('ALLOCATED')\n"
    code += "except MemoryError:\n    print('refused')"
    done = run(tmp_path, code, memory=400 * 1024**2)
    assert done.stdout.strip() == "refused", done.stdout + done.stderr


@needs_bwrap
def test_cpu_limit(tmp_path):
    """Is a busy loop killed when it uses up its CPU seconds?"""
    start = time.monotonic()
    done = run(tmp_path, "while True:\n    pass", cpu_seconds=1)
    assert done.returncode != 0 and time.monotonic() - start < 30


@needs_bwrap
def test_detached_child_dies_with_sandbox(tmp_path):
    """Does a detached process (new session, parent gone) die when the sandboxed program ends?"""
    marker = tmp_path / "scratch" / "late.txt"
    code = (
        "import subprocess\n"
        f"subprocess.Popen(['sh', '-c', 'sleep 2; echo late > {marker}'], start_new_session=True)\n"
        "print('parent done')"
    )
    done = run(tmp_path, code)
    assert done.stdout.strip() == "parent done"
    time.sleep(3.5)
    assert not marker.exists()


@needs_bwrap
def test_a_sandbox_started_without_a_zygote_cannot_trace_pid_1_or_use_keyrings(tmp_path):
    """Does a freshly started sandboxed program get EPERM from ptrace(ATTACH, 1) and add_key?"""
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"  # PTRACE_ATTACH to bwrap's init
        "print('add_key', libc.syscall(248, b'user', b'k', b'v', 1, -3), ctypes.get_errno())\n"
    )
    done = run(tmp_path, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ptrace", "-1", "1", "add_key", "-1", "1"]  # -1 with EPERM (1) each


@needs_bwrap
def test_no_capabilities_no_nested_namespaces(tmp_path):
    """Is every capability dropped, so the program cannot mount or unshare its way out?"""
    code = "print(open('/proc/self/status').read())"
    done = run(tmp_path, code)
    assert "CapEff:\t0000000000000000" in done.stdout


def test_without_isolation_only_rlimits(tmp_path):
    """Does --no-sandbox still apply the rlimits and the environment, and say that there is no sandbox?"""
    policy = sandbox.SandboxPolicy(isolate=False, memory=3 * 1024**3)
    code = "import os, resource as r; print(r.getrlimit(r.RLIMIT_AS)[0], os.environ['HOME'], os.getpid())"
    cmd = sandbox.command([sys.executable, "-c", code], writable=[tmp_path], policy=policy, env={"X": "1"})
    assert "bwrap" not in " ".join(cmd)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    limit, home, pid = proc.communicate(timeout=60)[0].split()
    assert (int(limit), home, int(pid)) == (3 * 1024**3, str(tmp_path), proc.pid)  # exec'd: same process
    assert sandbox.describe(policy).startswith("NO SANDBOX (--no-sandbox)")


def test_without_isolation_orphans_stay_in_the_process_tree(tmp_path):
    """Without namespaces, is a double-forked daemon still a descendant, counted and ended with the tree?"""
    policy = sandbox.SandboxPolicy(isolate=False)
    code = "import subprocess as s, time\ns.run(['sh', '-c', 'sleep 30 &'])\nprint('ready', flush=True)\n"
    code += "time.sleep(30)"
    proc = subprocess.Popen(
        sandbox.command([sys.executable, "-c", code], writable=[tmp_path], policy=policy),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        daemons = sandbox.descendants(proc.pid)
        assert len(daemons) == 1  # sh exited at once; its sleep was re-parented to the program
        sandbox.kill_tree(proc.pid)
        proc.wait(timeout=10)
        time.sleep(0.2)
        state = sandbox.process_state(daemons[0])
        assert state is None or state[0] in "ZX", state
    finally:
        sandbox.kill_tree(proc.pid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2G", 2 * 1024**3), ("512M", 512 * 1024**2), ("1.5GiB", 3 * 1024**3 // 2), ("1000", 1000)],
)
def test_parse_bytes(text, expected):
    """Are memory sizes like 2G, 512M and plain byte counts understood?"""
    assert sandbox.parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["lots", "-1G", "0"])
def test_parse_bytes_rejects(text):
    """Is a nonsense memory size refused with a message naming it?"""
    with pytest.raises(ValueError, match=repr(text).replace("-", r"\-")):
        sandbox.parse_bytes(text)
