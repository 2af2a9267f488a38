"""The grading kernel: its manager and its provisioner, found through the installed entry point."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from autograder import kernel, sandbox

pytestmark = pytest.mark.sandbox

needs_bwrap = pytest.mark.skipif(not sandbox.bwrap_available()[0], reason="bubblewrap unavailable")


@pytest.fixture
def scratch():
    """A scratch dir with a notebook dir inside, on a short path (kernel socket paths are ~100 bytes)."""
    root = Path(tempfile.mkdtemp(prefix="kt-", dir="/tmp"))
    (root / "nb").mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


class Client(NotebookClient):
    """nbclient running a notebook as nbgrader's Execute does (it makes and shuts down the kernel manager)."""

    last_km = None

    def create_kernel_manager(self):  # noqa: D102 - keeps the manager, which nbclient forgets at shutdown
        self.last_km = super().create_kernel_manager()
        return self.last_km


def client(*sources: str, timeout: float = 60, **settings) -> Client:
    """A client for one code cell per source, its kernel manager configured with ``settings``."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    config = Config({"SandboxedKernelManager": settings})
    return Client(nb, kernel_manager_class=kernel.SandboxedKernelManager, config=config, timeout=timeout)


def test_the_kernel_spec_selects_the_installed_provisioner(scratch):
    """Does jupyter_client's own factory turn the manager's kernel spec into our provisioner?"""
    km = kernel.SandboxedKernelManager(scratch=str(scratch))
    spec = km.kernel_spec
    factory = KernelProvisionerFactory.instance()
    assert factory.is_provisioner_available(spec)
    provisioner = factory.create_provisioner_instance("k", spec, parent=km)
    assert type(provisioner) is kernel.SandboxProvisioner and provisioner.manager is km
    assert spec.interrupt_mode == "message"


LEAVE_A_PROCESS = """
import os, subprocess
daemon = subprocess.Popen(["sleep", "60"], start_new_session=True)
print(os.getcwd(), os.environ["HOME"], daemon.pid)
"""


@pytest.mark.parametrize("isolate", [False, pytest.param(True, marks=needs_bwrap)])
def test_a_process_the_kernel_leaves_is_counted_and_ended(scratch, isolate):
    """Does a fresh kernel run in the notebook dir, and is a process it leaves counted, then gone?"""
    run = client(LEAVE_A_PROCESS, scratch=str(scratch), notebook_dir=str(scratch / "nb"), isolate=isolate)
    nb = run.execute()
    km = run.last_km
    cwd, home, pid = nb.cells[0].outputs[0]["text"].split()
    assert (cwd, home) == (str(scratch / "nb"), str(scratch))
    assert isinstance(km.provisioner, kernel.SandboxProvisioner)
    assert km.strays == 1
    assert (scratch / "kernel.log").exists()  # a fresh kernel's output goes to its log
    if not isolate:  # the pid is the host's: the daemon must be gone (bubblewrap's pid namespace ends it)
        time.sleep(0.2)
        state = sandbox.process_state(int(pid))
        assert state is None or state[0] in "ZX", state


def test_kill_tree_stops_a_running_kernel(scratch):
    """Does the whole-notebook watchdog's kill_tree end a kernel stuck in a cell, and say it did?"""
    run = client("import time\ntime.sleep(120)", timeout=120, scratch=str(scratch), isolate=False)
    assert kernel.SandboxedKernelManager(scratch=str(scratch)).kill_tree() is False  # no kernel yet
    killed = []
    timer = threading.Timer(5, lambda: killed.append(run.last_km.kill_tree()))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(DeadKernelError):
            run.execute()
    finally:
        timer.cancel()
    assert killed == [True] and time.monotonic() - start < 60


KERNEL_PROBE = """
import os, socket, sys
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    net = "network"
except OSError:
    net = "no network"
print("torch" in sys.modules, os.getcwd() == NBDIR, net, os.environ["NBGRADER_EXECUTION"])
"""


@needs_bwrap
def test_kernel_forked_from_the_zygote(tmp_path, monkeypatch):
    """Is a grading kernel forked from the preloaded zygote, sandboxed, and is nothing left after reset?"""
    root = Path(tempfile.mkdtemp(prefix="zt-", dir="/tmp"))  # kernel socket paths must stay short
    env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    zygote = sandbox.Zygote(root, sandbox.SandboxPolicy(), tmp_path / "zygote.log", kind="kernel", env=env)
    try:
        assert zygote.alive, (tmp_path / "zygote.log").read_text()
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        scratch = Path(tempfile.mkdtemp(dir=root))
        (scratch / "nb").mkdir()
        source = f"NBDIR = {str(scratch / 'nb')!r}\n" + KERNEL_PROBE
        run = client(source, scratch=str(scratch), notebook_dir=str(scratch / "nb"), zygote=zygote)
        nb = run.execute()
        assert nb.cells[0].outputs[0]["text"].split() == ["True", "True", "no", "network", "autograde"]
        assert isinstance(run.last_km.provisioner, kernel.SandboxProvisioner) and run.last_km.strays == 0
        assert zygote.reset() and zygote.strays() == 0 and not any(root.iterdir())
    finally:
        zygote.close()
        subprocess.run(["rm", "-rf", str(root)], check=False)
