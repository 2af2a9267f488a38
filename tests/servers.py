"""Real server processes for tests: start one in its own process group, wait until it is ready, stop it.

The generic part is :func:`serve`, a context manager::

    with serve(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port)],
               name="scheduler", ready=lambda: port_open("127.0.0.1", port),
               log_dir=tmp_path, cwd=tmp_path / "scheduler") as server:
        ...  # server.pid, server.log (a Path), server.alive(), server.signal(sig), server.stop()

- The command runs with ``start_new_session=True``, so it leads a new session and process group; every
  process it forks stays in that group unless it calls ``setsid`` itself.
- ``ready()`` is polled every ``poll`` seconds until it returns true. If the process exits first, or
  ``timeout`` seconds pass, :class:`ServerError` is raised with the command, the exit code and the last
  lines of its log, and the group is stopped.
- stdout and stderr go to ``log_dir/<name>.log`` (``server.log``); :func:`tail` reads its last lines.
- On leaving the block, however it is left (return, failed assertion, KeyboardInterrupt), the whole group
  gets ``stop_signal`` (SIGTERM unless given, e.g. SIGINT for PostgreSQL's fast shutdown), then SIGKILL
  after ``stop_timeout`` seconds if any member is still alive. An ``atexit`` hook does the same for
  groups that are still running when the interpreter exits, so a crashed fixture leaves nothing behind.
- ``user="postgres"`` runs the command through ``runuser -u postgres --`` (for programs that refuse root).

Readiness probes: :func:`port_open` (TCP connect), :func:`free_port` (an unused port on 127.0.0.1), and
:func:`wait_for` (poll any predicate with a timeout and a message).

The project-specific fixtures build on it:

- :func:`postgres_server`: ``initdb`` and ``postgres`` run as the ``postgres`` user in a fresh temporary
  directory, listening on a Unix socket only (``listen_addresses=''``), with fsync off; yields a
  :class:`Postgres` whose :meth:`Postgres.create_database` returns a ``postgresql+psycopg://`` URL.
- :func:`dask_scheduler` and :func:`grading_worker`: a ``dask scheduler`` and ``autograder worker``
  processes on 127.0.0.1, each with its own working directory.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Postgres",
    "Server",
    "ServerError",
    "dask_scheduler",
    "free_port",
    "grading_worker",
    "port_open",
    "postgres_server",
    "serve",
    "tail",
    "wait_for",
]

_RUNNING: dict[int, Server] = {}


class ServerError(RuntimeError):
    """A server process did not become ready (it exited, or the timeout passed)."""


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    """Poll ``predicate`` until true; raise :class:`ServerError` naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise ServerError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Server:
    """A process started by :func:`serve`, leader of its own process group."""

    name: str
    command: list[str]
    process: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10.0
    stopped: bool = field(default=False, init=False)

    @property
    def pid(self) -> int:
        """The leader's process id, which is also the group id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the leader process is still running."""
        return self.process.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to every process in the group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def stop(self) -> None:
        """Stop the whole group: ``stop_signal``, then SIGKILL after ``stop_timeout`` s. Idempotent."""
        if self.stopped:
            return
        self.stopped = True
        self.signal(self.stop_signal)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline:
            self.process.poll()
            if not _group_alive(self.pid):
                break
            time.sleep(0.05)
        else:
            self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        _RUNNING.pop(self.pid, None)


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_RUNNING.values()):
        server.stop()


@contextlib.contextmanager
def serve(
    command: Sequence[str],
    *,
    name: str,
    ready: Callable[[], bool],
    log_dir: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
    timeout: float = 60.0,
    poll: float = 0.1,
    stop_signal: int = signal.SIGTERM,
    stop_timeout: float = 10.0,
) -> Iterator[Server]:
    """Run ``command`` as a server in its own process group for the duration of the block (see module doc)."""
    argv = [str(part) for part in command]
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    if cwd is not None:
        Path(cwd).mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(name, argv, process, log, stop_signal, stop_timeout)
    _RUNNING[server.pid] = server
    try:
        _wait_ready(server, ready, timeout, poll)
        yield server
    finally:
        server.stop()


def _wait_ready(server: Server, ready: Callable[[], bool], timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = server.process.poll()
        if code is not None:
            raise ServerError(
                f"{server.name} exited with code {code} before it was ready: {' '.join(server.command)}\n"
                f"--- last lines of {server.log} ---\n{tail(server.log)}"
            )
        if ready():
            return
        if time.monotonic() > deadline:
            raise ServerError(
                f"{server.name} was not ready after {timeout:g} s: {' '.join(server.command)}\n"
                f"--- last lines of {server.log} ---\n{tail(server.log)}"
            )
        time.sleep(poll)


# --- PostgreSQL ---------------------------------------------------------------------------------------


def _pg_bindir() -> Path:
    """Debian's PostgreSQL binaries (``/usr/lib/postgresql/<major>/bin``), newest major first."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ServerError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run `make sysdeps`"
        )
    return found[-1].parent


@dataclass
class Postgres:
    """A running PostgreSQL server reachable only through the Unix socket in ``socket_dir``."""

    server: Server
    bindir: Path
    socket_dir: Path
    user: str = "postgres"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with psql as the server's superuser; return its output."""
        result = subprocess.run(
            ["runuser", "-u", self.user, "--", str(self.bindir / "psql"), "-h", str(self.socket_dir),
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServerError(f"psql failed on {sql!r}: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL for psycopg 3 over the Unix socket."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str) -> str:
        """The ``postgresql+psycopg://`` URL of ``database`` through the socket directory."""
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.socket_dir}"


@contextlib.contextmanager
def postgres_server(timeout: float = 60.0) -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster: Unix socket only, fsync off, run as the ``postgres`` user.

    Its directory is made with :func:`tempfile.mkdtemp` and opened to the ``postgres`` user (pytest's own
    tmp dirs are private to root, so they cannot hold it); it is removed, logs included, at the end.
    """
    bindir = _pg_bindir()
    pg = pwd.getpwnam("postgres")
    base = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    try:
        base.chmod(0o755)
        data = base / "pgdata"
        data.mkdir()
        os.chown(data, pg.pw_uid, pg.pw_gid)
        sock = _world_writable(base / "socket")
        logs = _world_writable(base / "logs")
        _initdb(bindir, data, base)
        command = [
            bindir / "postgres", "-D", data, "-k", sock, "-c", "listen_addresses=", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100",
        ]  # fmt: skip
        with serve(
            command, name="postgres", ready=(sock / ".s.PGSQL.5432").exists, log_dir=logs, cwd=base,
            user="postgres", timeout=timeout, stop_signal=signal.SIGINT,
        ) as server:  # fmt: skip
            postgres = Postgres(server, bindir, sock)
            wait_for(lambda: _accepts(postgres), timeout, "PostgreSQL to accept connections")
            yield postgres
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _world_writable(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o1777)
    return path


def _initdb(bindir: Path, data: Path, cwd: Path) -> None:
    init = subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
        capture_output=True, text=True, check=False, cwd=cwd,
    )  # fmt: skip
    if init.returncode != 0:
        raise ServerError(
            f"initdb failed (code {init.returncode}): {init.stderr.strip() or init.stdout[-2000:]}"
        )


def _accepts(postgres: Postgres) -> bool:
    try:
        postgres.psql("SELECT 1")
    except ServerError:
        return False
    return True


# --- Dask ---------------------------------------------------------------------------------------------


def _bin(name: str) -> str:
    """An executable of this virtualenv (beside the running interpreter), else one on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


@contextlib.contextmanager
def dask_scheduler(
    workdir: Path, timeout: float = 60.0, config: dict[str, str] | None = None
) -> Iterator[tuple[Server, str]]:
    """A ``dask scheduler`` on 127.0.0.1 (dashboard off) in ``workdir``; yields ``(server, "tcp://…")``.

    ``config`` holds Dask settings as environment variables, e.g.
    ``{"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}``.
    """
    port = free_port()
    workdir = Path(workdir)
    command = [_bin("dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    with serve(
        command, name="scheduler", ready=lambda: port_open("127.0.0.1", port), log_dir=workdir,
        cwd=workdir, timeout=timeout, env={**_quiet_env(), **(config or {})},
    ) as server:  # fmt: skip
        yield server, f"tcp://127.0.0.1:{port}"


@contextlib.contextmanager
def grading_worker(
    address: str,
    workdir: Path,
    name: str,
    ready: Callable[[], bool],
    nworkers: int = 1,
    timeout: float = 120.0,
) -> Iterator[Server]:
    """``autograder worker ADDRESS`` in ``workdir``; ready when ``ready()`` (e.g. the scheduler sees it)."""
    workdir = Path(workdir)
    command = [sys.executable, "-m", "autograder", "worker", address, "--nworkers", str(nworkers),
               "--name", name, "--local-directory", str(workdir / "dask")]  # fmt: skip
    with serve(
        command, name=name, ready=ready, log_dir=workdir, cwd=workdir, timeout=timeout, env=_quiet_env(),
    ) as server:  # fmt: skip
        yield server


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    return env
