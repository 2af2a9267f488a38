"""The grading kernel: a Jupyter kernel manager and a kernel provisioner for a kernel in the sandbox.

Owns how nbgrader's ``Execute`` preprocessor starts, watches and stops a student's kernel; *where* the
kernel may go (bubblewrap, rlimits, zygotes) is :mod:`autograder.sandbox`'s.

* :class:`SandboxedKernelManager` (``c.Execute.kernel_manager_class``) holds one kernel's settings as
  traitlets: its scratch and notebook directories, its limits and the worker's kernel
  :class:`~autograder.sandbox.Zygote`. It talks to the kernel over Unix sockets (ZMQ ``ipc`` transport in
  the scratch directory: a kernel without a network cannot be reached over TCP, and parallel kernels never
  clash over TCP ports), sends interrupts as messages (a signal to bubblewrap would not reach the kernel)
  and selects :class:`SandboxProvisioner` in its kernel spec's metadata.
* :class:`SandboxProvisioner` is a jupyter_client kernel provisioner, registered as
  :data:`PROVISIONER_NAME` under the ``jupyter_client.kernel_provisioners`` entry point in
  ``pyproject.toml`` (so the project must be installed, ``pip install -e .``). It wraps the kernel's
  command with :func:`autograder.sandbox.command`, forks the kernel from the zygote when there is one (else
  starts it through bubblewrap, or the rlimits fallback, with its output in ``kernel.log``), counts the
  processes the kernel left running before it is stopped, and kills the kernel's whole process tree when
  the whole-notebook timeout passes.

Written against jupyter_client 8.10 and using only its public extension points: the kernel manager's
``kernel_spec``, ``shutdown_kernel`` and ``provisioner``; the local provisioner's ``pre_launch`` and
``launch_kernel`` and its ``process``, ``pid``, ``pgid`` and ``cwd`` attributes.
"""

from __future__ import annotations

import functools
import subprocess
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_client.provisioning.factory import KernelProvisionerFactory
from traitlets import Any as AnyTrait
from traitlets import Bool, Integer, List, Unicode

from autograder import sandbox
from autograder.sandbox import ForkedProcess, SandboxPolicy

__all__ = ["PROVISIONER_NAME", "SandboxProvisioner", "SandboxedKernelManager", "provisioner_registered"]

#: The provisioner's entry-point name (``[project.entry-points."jupyter_client.kernel_provisioners"]``).
PROVISIONER_NAME = "autograder-sandbox"


@functools.lru_cache(maxsize=1)
def provisioner_registered() -> bool:
    """Whether :data:`PROVISIONER_NAME` is an installed entry point naming :class:`SandboxProvisioner`."""
    found = entry_points(group=KernelProvisionerFactory.GROUP_NAME, name=PROVISIONER_NAME)
    return any(ep.value == f"{__name__}:{SandboxProvisioner.__name__}" for ep in found)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs sandboxed (:class:`SandboxProvisioner`) and listens on Unix sockets.

    Configure it through traitlets (``c.SandboxedKernelManager.scratch = ...``, and ``zygote``: the worker's
    kernel :class:`~autograder.sandbox.Zygote`, or None to start every kernel fresh). When the kernel is
    shut down, :attr:`strays` becomes the number of processes it left running in its sandbox (without
    namespaces: in its process tree, which are then killed).
    """

    scratch = Unicode(help="writable scratch directory (kernel sockets, HOME, TMPDIR)").tag(config=True)
    notebook_dir = Unicode(help="directory holding the notebook copy (kernel cwd, writable)").tag(config=True)
    memory = Integer(SandboxPolicy.memory).tag(config=True)
    cpu_seconds = Integer(SandboxPolicy.cpu_seconds).tag(config=True)
    isolate = Bool(True).tag(config=True)
    extra_env = List(Unicode(), help="KEY=VALUE pairs set inside the sandbox").tag(config=True)
    zygote = AnyTrait(None, allow_none=True, help="the Zygote to fork kernels from (None: fresh)").tag(
        config=True
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not provisioner_registered():
            raise RuntimeError(
                f"the kernel provisioner {PROVISIONER_NAME!r} is not registered: install the project "
                "(pip install -e .) so that its jupyter_client.kernel_provisioners entry point exists"
            )
        run = Path(self.scratch)
        self.transport = "ipc"
        self.ip = str(run / "k")
        self.connection_file = str(run / "kernel.json")
        #: Processes the kernel left running, counted at shutdown (None until then).
        self.strays: int | None = None
        #: Times the kernel was interrupted (nbclient does so when a cell passes its timeout).
        self.interrupts = 0

    @property
    def kernel_spec(self):  # noqa: D102 - the base class's, with message interrupts and our provisioner
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
            spec.metadata["kernel_provisioner"] = {"provisioner_name": PROVISIONER_NAME}
        return spec

    def policy(self) -> SandboxPolicy:
        """The kernel's limits and isolation."""
        return SandboxPolicy(memory=self.memory, cpu_seconds=self.cpu_seconds, isolate=self.isolate)

    def writable_dirs(self) -> list[str]:
        """The directories the kernel may write: the scratch dir and the notebook's."""
        return [self.scratch] + ([self.notebook_dir] if self.notebook_dir else [])

    def kernel_cwd(self) -> str:
        """The kernel's working directory: the notebook's, else the scratch dir."""
        return self.notebook_dir or self.scratch

    def sandbox_env(self) -> dict[str, str]:
        """Variables set inside the sandbox on top of :func:`autograder.sandbox.environment`'s."""
        return {"HOME": self.scratch, "TMPDIR": self.scratch, **dict(i.split("=", 1) for i in self.extra_env)}

    def kill_tree(self) -> bool:
        """SIGKILL the kernel and everything it started; False when no kernel process is known."""
        return isinstance(self.provisioner, SandboxProvisioner) and self.provisioner.kill_tree()

    async def interrupt_kernel(self) -> None:  # noqa: D102 - the base class's, counted
        self.interrupts += 1
        await super().interrupt_kernel()

    async def shutdown_kernel(self, now: bool = False, restart: bool = False):  # noqa: D102
        provisioner = self.provisioner
        self.strays = provisioner.count_strays() if isinstance(provisioner, SandboxProvisioner) else 0
        return await super().shutdown_kernel(now=now, restart=restart)


class SandboxProvisioner(LocalProvisioner):
    """Starts the kernel of a :class:`SandboxedKernelManager` in its sandbox, from its zygote if it can.

    The kernel is forked from the manager's zygote when every directory it may write lies inside the
    zygote's scratch directory (the only one the zygote's sandbox can write); otherwise, or when the zygote
    is gone, it is started fresh through :func:`autograder.sandbox.command`.
    """

    #: The kernel's own command, before the sandbox wraps it (what a zygote runs).
    inner_argv: list[str] | None = None

    @property
    def manager(self) -> SandboxedKernelManager:
        """The kernel manager whose settings this provisioner follows."""
        if not isinstance(self.parent, SandboxedKernelManager):
            raise TypeError(
                f"the {PROVISIONER_NAME!r} kernel provisioner needs a SandboxedKernelManager, "
                f"not {type(self.parent).__name__}"
            )
        return self.parent

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """The local provisioner's launch arguments: the kernel command wrapped by the sandbox, its cwd."""
        kwargs = await super().pre_launch(**kwargs)
        km = self.manager
        self.inner_argv = list(kwargs["cmd"])
        kwargs["cwd"] = km.kernel_cwd()  # bubblewrap sets it too; without namespaces only this does
        kwargs["cmd"] = sandbox.command(
            self.inner_argv,
            writable=km.writable_dirs(),
            policy=km.policy(),
            cwd=km.kernel_cwd(),
            env=km.sandbox_env(),
        )
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        """Fork the kernel from the zygote, or start ``cmd`` with its output in ``kernel.log``."""
        km = self.manager
        zygote = km.zygote
        if zygote is not None and all(Path(d).is_relative_to(zygote.scratch) for d in km.writable_dirs()):
            env = sandbox.environment(km.sandbox_env())
            process = zygote.spawn_kernel(self.inner_argv, km.kernel_cwd(), env, km.cpu_seconds)
            if process is not None:
                self.process, self.pid, self.pgid, self.cwd = process, process.pid, None, km.kernel_cwd()
                return self.connection_info
        # The kernel's own chatter goes to a log in its scratch dir, not the grader's terminal.
        with open(Path(km.scratch) / "kernel.log", "ab") as log:
            return await super().launch_kernel(cmd, **{**kwargs, "stdout": subprocess.DEVNULL, "stderr": log})

    def kill_tree(self) -> bool:
        """SIGKILL the kernel and everything it started; False when there is no kernel process."""
        process = self.process
        if process is None:
            return False
        sandbox.kill_tree(process.pid)
        return True

    def count_strays(self) -> int:
        """Processes the running kernel has left behind (0 once it has exited); ended where no sandbox is."""
        process = self.process
        if process is None or process.poll() is not None:
            return 0
        if isinstance(process, ForkedProcess):
            # bwrap -> its pid 1 -> the zygote -> the kernel; anything else was left behind.
            return max(0, self.manager.zygote.strays() - 1)
        if sandbox.isolates(self.manager.policy()):
            # bwrap -> its pid 1 -> the kernel; anything else is a process the kernel left behind.
            return max(0, len(sandbox.descendants(process.pid)) - 2)
        # Without namespaces the kernel is a child subreaper (see sandbox.command): whatever it started, even
        # a double-forked daemon, is its descendant. Count them, then end them (bubblewrap would have).
        strays = sandbox.descendants(process.pid)
        for pid in strays:
            sandbox.kill_tree(pid)
        return len(strays)
