"""A local classroom: JupyterHub on 127.0.0.1 with system users, nbgrader's exchange and this course.

``python -m autograder.classroom`` (``make classroom``) creates an instructor and a few students as system
users, gives the instructor a course root (``solutions/`` and ``course/`` of this repository), creates an
exchange root, starts JupyterHub with ``autograder/hub/jupyterhub_config.py`` and prints the URL and the
logins; Ctrl-C stops the hub and every process of those users and removes the users. The test suite starts
the same classroom (``tests/hub.py``). Needs root (``useradd``, the local process spawner).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from autograder import build

__all__ = ["Classroom", "free_port", "main", "run_as", "user_python"]

HUB_CONFIG = Path(__file__).with_name("hub") / "jupyterhub_config.py"
STUDENT_CONFIG = Path(__file__).with_name("hub") / "nbgrader_config.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _others_can_run(path: Path) -> bool:
    real = Path(os.path.realpath(path))
    folders_ok = all(os.stat(p).st_mode & 0o001 for p in real.parents)
    return folders_ok and bool(os.stat(real).st_mode & 0o001)


def user_python(scratch: Path) -> Path:
    """A Python every system user can run that imports this environment's packages (nbgrader, gradlib...).

    This environment's own Python when others may execute it; otherwise (e.g. a Python built under a
    private ``/root``) a virtualenv in ``scratch`` made from the system's Python of the same version,
    which reads this environment's site-packages. Raises RuntimeError when neither exists.
    """
    if _others_can_run(Path(sys.executable)):
        return Path(sys.executable)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(f"python{version}", path="/usr/bin:/usr/local/bin:/bin")
    if system is None or not _others_can_run(Path(system)):
        raise RuntimeError(
            f"{sys.executable} is private and no system python{version} exists for other users"
        )
    venv = Path(scratch) / "user-python"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    target = next((venv / "lib").glob("python*/site-packages"))
    (target / "_course_env.pth").write_text(f"import site; site.addsitedir({site!r})\n")
    _copy_scripts(Path(sys.prefix) / "bin", venv / "bin")
    _world_readable(venv)
    return venv / "bin" / "python"


def open_for_traversal(paths: list[Path]) -> list[tuple[Path, int]]:
    """Let other users pass through (``o+x``, not list) every folder above ``paths``; return what changed.

    The system users of a classroom run this environment's packages and the repository's code in place
    (an editable install). A checkout under a private folder (``mktemp -d`` makes 700 folders) hides them;
    :func:`restore_modes` puts the old modes back when the classroom stops.
    """
    changed = []
    for path in paths:
        for folder in [Path(os.path.realpath(path)), *Path(os.path.realpath(path)).parents]:
            mode = folder.stat().st_mode & 0o7777
            if folder.is_dir() and not mode & 0o001 and folder not in {f for f, _ in changed}:
                folder.chmod(mode | 0o001)
                changed.append((folder, mode))
    return changed


def restore_modes(changed: list[tuple[Path, int]]) -> None:
    """Undo :func:`open_for_traversal`."""
    for folder, mode in reversed(changed):
        with contextlib.suppress(OSError):
            folder.chmod(mode)


def _copy_scripts(source: Path, dest: Path) -> None:
    """This environment's console scripts (jupyter, nbgrader, alembic, autograder...) for the new Python."""
    python = dest / "python"
    for script in sorted(source.iterdir()):
        if (dest / script.name).exists() or not script.is_file():
            continue
        with open(script, "rb") as fh:
            first = fh.readline()
        if first.startswith(b"#!") and b"python" in first:
            body = script.read_bytes()[len(first) :]
            (dest / script.name).write_bytes(b"#!" + str(python).encode() + b"\n" + body)
            (dest / script.name).chmod(0o755)


def _world_readable(path: Path) -> None:
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=True)


def run_as(
    user: str, argv: list[str], *, cwd: Path | None = None, env: dict | None = None, timeout: float = 600
):
    """Run ``argv`` as system user ``user`` (``runuser``) with a clean environment; the CompletedProcess."""
    home = pwd.getpwnam(user).pw_dir
    base = {
        "HOME": home,
        "USER": user,
        "LOGNAME": user,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    base.update(env or {})
    cmd = ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in base.items()), *argv]
    return subprocess.run(cmd, cwd=cwd or home, capture_output=True, text=True, timeout=timeout)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _left_over(user: str) -> bool:
    """Whether ``user`` was created by an earlier classroom that was killed before it could clean up."""
    home = Path(pwd.getpwnam(user).pw_dir)
    temp = Path(tempfile.gettempdir())
    made_here = home.parent.name == "home" and home.parent.parent.name.startswith("autograder-classroom-")
    return made_here and home.parent.parent.parent == temp and not home.parent.parent.exists()


def _kill_user_processes(uids: set[int]) -> None:
    """SIGKILL every process owned by ``uids`` (users this classroom created), by pid."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    os.kill(int(entry.name), signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue


@dataclass
class Classroom:
    """A hub with an instructor and students, an exchange and a course root; :meth:`start` / :meth:`stop`."""

    instructor: str = "aginstructor"
    students: tuple[str, ...] = ("agstudent1", "agstudent2")
    course_id: str = "vg101"
    assignments: tuple[str, ...] = ()
    base: Path | None = None
    port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    python: Path | None = None
    _created: list[str] = field(default_factory=list)
    _own_base: bool = False

    @property
    def url(self) -> str:
        """The hub's URL (through configurable-http-proxy)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def users(self) -> list[str]:
        """The instructor, then the students."""
        return [self.instructor, *self.students]

    @property
    def exchange(self) -> Path:
        """The exchange root (mode 777, as nbgrader expects)."""
        return self.base / "exchange"

    @property
    def config_dir(self) -> Path:
        """The folder holding the course's ``nbgrader_config.py``, on every server's config path."""
        return self.base / "jupyter-config"

    def home(self, user: str) -> Path:
        """A user's home folder (mode 700)."""
        return self.base / "home" / user

    @property
    def course_root(self) -> Path:
        """The instructor's course root: ``solutions/`` and ``course/``; ``submitted/`` and more appear."""
        return self.home(self.instructor) / "course-root"

    def env(self) -> dict[str, str]:
        """What the course's commands need in a user's environment."""
        return {
            "COURSE_ID": self.course_id,
            "EXCHANGE_ROOT": str(self.exchange),
            "JUPYTER_CONFIG_PATH": str(self.config_dir),
            "OMP_NUM_THREADS": "1",
            "PATH": f"{self.python.parent}:/usr/local/bin:/usr/bin:/bin",
        }

    def run(self, user: str, *args: str, timeout: float = 600):
        """Run this environment's Python with ``args`` as ``user`` (e.g. ``"-m", "autograder", ...``)."""
        return run_as(user, [str(self.python), *args], env=self.env(), timeout=timeout)

    # -- set-up ------------------------------------------------------------------------------------
    def _make_users(self) -> None:
        for user in self.users:
            if _user_exists(user) and _left_over(user):
                _kill_user_processes({pwd.getpwnam(user).pw_uid})
                subprocess.run(["userdel", user], capture_output=True, check=True)
            if _user_exists(user):
                raise RuntimeError(f"system user {user!r} already exists; remove it or pick other names")
        for user in self.users:
            home = self.home(user)
            subprocess.run(
                ["useradd", "--no-create-home", "-d", str(home), "-s", "/bin/bash", user], check=True
            )
            self._created.append(user)
            home.mkdir(parents=True)
            shutil.chown(home, user, user)
            home.chmod(0o700)
            self.passwords.setdefault(user, secrets.token_urlsafe(9))

    def _course(self) -> None:
        root = self.course_root
        names = list(self.assignments) or build.assignments()
        for name in names:
            shutil.copytree(build.REPO / "solutions" / name, root / "solutions" / name)
            shutil.copytree(build.REPO / "course" / name, root / "course" / name)
        subprocess.run(["chown", "-R", f"{self.instructor}:{self.instructor}", str(root)], check=True)
        self.exchange.mkdir()
        self.exchange.chmod(0o777)
        self.config_dir.mkdir()
        shutil.copyfile(STUDENT_CONFIG, self.config_dir / "nbgrader_config.py")
        _world_readable(self.config_dir)

    def start(self, timeout: float = 60) -> Classroom:
        """Create the users, the course and the exchange; start the hub and wait until it answers."""
        if os.geteuid() != 0:
            raise RuntimeError("the classroom needs root: it creates system users and spawns their servers")
        if self.base is None:
            self.base = Path(tempfile.mkdtemp(prefix="autograder-classroom-"))
            self._own_base = True
        self.base.chmod(0o755)
        self._opened = open_for_traversal([build.REPO, Path(sys.prefix), self.base])
        (self.base / "home").mkdir(exist_ok=True)
        (self.base / "home").chmod(0o755)
        self.python = user_python(self.base)
        self._make_users()
        self._course()
        state = self.base / "hub"
        state.mkdir()
        (state / "passwords.json").write_text(json.dumps(self.passwords))
        (state / "passwords.json").chmod(0o600)
        env = {
            **os.environ,
            **self.env(),
            "COURSE_HUB_URL": self.url,
            "COURSE_HUB_STATE": str(state),
            "COURSE_INSTRUCTORS": self.instructor,
            "COURSE_STUDENTS": ",".join(self.students),
            "COURSE_PASSWORDS": str(state / "passwords.json"),
            "COURSE_USER_PYTHON": str(self.python),
            "COURSE_JUPYTER_CONFIG": str(self.config_dir),
            "COURSE_HUB_API_TOKEN": self.token,
        }
        hub_port = free_port()
        argv = [
            sys.executable,
            "-m",
            "jupyterhub",
            "-f",
            str(HUB_CONFIG),
            f"--JupyterHub.hub_port={hub_port}",
        ]
        argv.append(f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}")
        log = open(state / "jupyterhub.log", "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            argv, cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait(timeout)
        return self

    def log(self) -> str:
        """The hub's log so far."""
        path = self.base / "hub" / "jupyterhub.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if self.api("GET", "/hub/api/")[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterHub did not answer within {timeout} s:\n{self.log()[-3000:]}")

    # -- the hub's REST API ------------------------------------------------------------------------
    def api(
        self, method: str, path: str, data: dict | None = None, *, timeout: float = 60
    ) -> tuple[int, object]:
        """Call the hub (or, with ``/user/<name>/...``, a user's server) with the course-admin token."""
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.url + path, data=body, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        try:
            return status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return status, raw.decode(errors="replace")

    def spawn(self, user: str, timeout: float = 120) -> None:
        """Start ``user``'s server through the hub and wait until the hub reports it ready."""
        status, body = self.api("POST", f"/hub/api/users/{user}/server")
        if status not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"starting {user}'s server: HTTP {status} {body}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, info = self.api("GET", f"/hub/api/users/{user}")
            server = (info or {}).get("servers", {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{user}'s server was not ready within {timeout} s:\n{self.log()[-3000:]}")

    # -- teardown ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the hub's process group and every process of the created users; remove the users."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        pid_file = self.base / "hub" / "proxy.pid" if self.base else None
        if pid_file and pid_file.is_file():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass
        uids = {pwd.getpwnam(u).pw_uid for u in self._created if _user_exists(u)}
        for _ in range(3):
            _kill_user_processes(uids)
            time.sleep(0.2)
        for user in self._created:
            subprocess.run(["userdel", user], capture_output=True)
        self._created.clear()
        restore_modes(getattr(self, "_opened", []))
        self._opened = []
        if self._own_base and self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``make classroom``: start a hub with an instructor and three students; wait for Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.classroom", description=__doc__)
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    room = Classroom(students=tuple(f"student{i}" for i in range(1, args.students + 1)), port=args.port)
    room.instructor = "instructor"
    try:
        room.start()
        print(f"\nJupyterHub: {room.url}   (Ctrl-C stops it and removes these users)\n")
        for user in room.users:
            role = "instructor" if user == room.instructor else "student"
            print(f"  {role:10} {user:12} password {room.passwords[user]}")
        print(f"\ncourse id {room.course_id}, exchange {room.exchange}")
        print(f"the instructor's course root: {room.course_root}; in a hub terminal, release with")
        print("  autograder release 01-backprop --course ~/course-root\n")
        while room.proc.poll() is None:
            time.sleep(1)
        print(room.log()[-3000:], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        room.stop()


if __name__ == "__main__":
    sys.exit(main())
