"""A real browser and a real JupyterLab for the browser tests: Debian's chromium driven by Playwright.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium`` (``make sysdeps`` installs it)
through ``executable_path``, headless, with :data:`CHROMIUM_ARGS`. Every launch gets a fresh profile
(``--user-data-dir`` in a new temporary folder, removed at close).

Plain helpers (usable from any test module or script)::

    launch_chromium(playwright) -> Browser          # headless /usr/bin/chromium, fresh profile
    ConsoleLog.attach(page) -> ConsoleLog            # collects console errors and uncaught page errors
        .errors -> list[str]; .assert_clean(ignore=(regex, ...)) raises AssertionError listing them
    JupyterLab(root_dir, *, config_dir=None, settings=None, env=None, args=()) # a server to own
        .start(timeout=90) -> self; .stop(); also a context manager
        .url, .token, .port, .lab_url("path/in/root.ipynb", workspace=None), .api("GET", "/api/status")
    free_port() -> int

pytest fixtures (registered by ``tests/conftest.py`` through ``pytest_plugins``)::

    chromium            session: one Browser per test process (xdist worker)
    browser_context     function: a fresh, isolated BrowserContext (own cookies/storage), closed after
    tab                 function: ``Tab(page, console)``; a page in ``browser_context`` with a ConsoleLog
    jupyterlab_factory  function: ``factory(root_dir, **kw) -> JupyterLab`` started; every server it
                        started is stopped (whole process group) at teardown, whatever happened

A module that wants one server for all its tests (the usual case: JupyterLab takes seconds to start)
writes its own module-scoped fixture around :class:`JupyterLab`::

    @pytest.fixture(scope="module")
    def lab(tmp_path_factory):
        with JupyterLab(tmp_path_factory.mktemp("lab")) as server:
            yield server

Servers listen on 127.0.0.1 only, with a random token, and run in their own session (process group), so
:meth:`JupyterLab.stop` ends the server *and* every kernel it started. Each server gets its own
``JUPYTER_CONFIG_DIR`` / ``JUPYTER_DATA_DIR`` / ``JUPYTER_RUNTIME_DIR`` and JupyterLab settings and
workspaces folders in a temporary folder unless told otherwise, so nothing from ``~/.jupyter`` leaks in,
and JupyterLab's news pop-up is turned off (``fetchNews: "false"``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ConsoleLog",
    "JupyterLab",
    "Tab",
    "free_port",
    "launch_chromium",
]

#: Debian's chromium (``make sysdeps``); the only browser these tests use.
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))

#: Flags for a quiet, reproducible headless chromium in a container: no sandbox (root, no user
#: namespaces for chromium's own sandbox), no GPU, no QUIC, and no background traffic of any kind.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: JupyterLab settings every test server starts with (plugin id -> settings).
DEFAULT_LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_chromium(playwright: Any, *, headless: bool = True, args: Sequence[str] = ()) -> Any:
    """Launch ``/usr/bin/chromium`` with Playwright; never downloads a browser.

    Playwright gives each launch a fresh ``--user-data-dir`` in a new temporary folder and deletes it when
    the browser closes; :data:`CHROMIUM_ARGS` plus ``args`` are passed to chromium.

    Args:
        playwright: the object ``sync_playwright().start()`` returned.
        headless: run without a window (the default; the tests always do).
        args: extra chromium flags.

    Returns:
        A Playwright ``Browser``; close it with ``.close()``.

    Raises:
        FileNotFoundError: if chromium is not at :data:`CHROMIUM`.
    """
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"no chromium at {CHROMIUM}: run `make sysdeps` (Debian package chromium)")
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=headless, args=[*CHROMIUM_ARGS, *args]
    )


@dataclass
class ConsoleLog:
    """Console errors and uncaught exceptions of one page, in the order they happened."""

    errors: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Any) -> ConsoleLog:
        """Start collecting ``page``'s console messages (all of them) and errors (type error, page errors)."""
        log = cls()

        def on_console(msg: Any) -> None:
            text = f"{msg.type}: {msg.text}"
            log.messages.append(text)
            if msg.type == "error":
                where = msg.location or {}
                log.errors.append(f"console error: {msg.text} ({where.get('url', '?')})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: log.errors.append(f"uncaught {exc.name}: {exc.message}"))
        return log

    def unexpected(self, ignore: Sequence[str] = ()) -> list[str]:
        """The errors that match none of the ``ignore`` regular expressions."""
        return [e for e in self.errors if not any(re.search(p, e) for p in ignore)]

    def assert_clean(self, ignore: Sequence[str] = ()) -> None:
        """Raise AssertionError listing every error not matched by a regex in ``ignore``."""
        bad = self.unexpected(ignore)
        assert not bad, "the page logged errors:\n" + "\n".join(bad)


@dataclass
class Tab:
    """A browser page and its console log."""

    page: Any
    console: ConsoleLog


def _write_lab_settings(settings_dir: Path, settings: Mapping[str, Mapping[str, Any]]) -> None:
    """Write JupyterLab user settings: ``<dir>/<package>/<plugin>.jupyterlab-settings`` per plugin id."""
    for plugin_id, values in settings.items():
        package, _, plugin = plugin_id.partition(":")
        path = settings_dir / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(values)), encoding="utf-8")


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 that this process owns; stop it with :meth:`stop`.

    Args:
        root_dir: the folder the server shows (notebooks are opened relative to it).
        config_dir: ``JUPYTER_CONFIG_DIR`` (e.g. the course's student or instructor config); default: a new
            empty folder, so the user's ``~/.jupyter`` never applies.
        settings: JupyterLab user settings by plugin id, merged over :data:`DEFAULT_LAB_SETTINGS`.
        env: extra environment variables for the server and its kernels.
        args: extra command-line arguments for ``jupyter lab``.
        cwd: the server's working directory (default: ``root_dir``).
    """

    def __init__(
        self,
        root_dir: Path | str,
        *,
        config_dir: Path | str | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        cwd: Path | str | None = None,
    ) -> None:
        self.root_dir = Path(root_dir).resolve()
        if not self.root_dir.is_dir():
            raise NotADirectoryError(f"JupyterLab root_dir {self.root_dir} is not a folder")
        self.config_dir = Path(config_dir).resolve() if config_dir is not None else None
        self.settings = {**DEFAULT_LAB_SETTINGS, **(settings or {})}
        self.extra_env = dict(env or {})
        self.extra_args = list(args)
        self.cwd = Path(cwd) if cwd is not None else self.root_dir
        self.port = 0
        self.token = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self.home: Path | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        """The server's base URL, ``http://127.0.0.1:<port>/``."""
        return f"http://127.0.0.1:{self.port}/"

    def lab_url(self, path: str = "", *, workspace: str | None = None) -> str:
        """URL opening ``path`` (relative to ``root_dir``) in JupyterLab, token included.

        With ``workspace``, the page uses that JupyterLab workspace (its own set of open tabs), so pages
        of one server do not reopen each other's documents.
        """
        base = f"lab/workspaces/{workspace}" if workspace else "lab"
        target = f"{base}/tree/{path}" if path else base
        return f"{self.url}{target}?token={self.token}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Call the server's REST API (``path`` like ``/api/contents``); returns the decoded JSON or None."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log(self) -> str:
        """What the server wrote to stdout/stderr so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _environment(self, home: Path) -> dict[str, str]:
        env = dict(os.environ)
        config_dir = self.config_dir or home / "config"
        (home / "config").mkdir(exist_ok=True)
        env.update(
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            IPYTHONDIR=str(home / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
            # the virtualenv's commands first (nbgrader runs `alembic`, kernels run its python)
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
        )
        env.pop("NBGRADER_EXECUTION", None)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90) -> JupyterLab:
        """Start the server and wait until its API answers.

        Raises:
            RuntimeError: if the server exits or does not answer within ``timeout`` seconds (its log is
                in the message); the process group is stopped first.
        """
        self.home = Path(tempfile.mkdtemp(prefix="course-jupyterlab-"))
        _write_lab_settings(self.home / "settings", self.settings)
        self.port = free_port()
        self.log_path = self.home / "server.log"
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),
            *self.extra_args,
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.cwd,
                env=self._environment(self.home),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer within {timeout:g} s:\n{self.log()[-4000:]}")

    def stop(self, grace: float = 10) -> None:
        """Stop the server's whole process group (server and kernels): SIGTERM, then SIGKILL."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _kill_group(proc, grace)
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        proc.wait()
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; kernels in the group may linger a moment: make sure they end too
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium per test process, closed at the end of the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev dependencies include playwright
        pytest.fail("playwright is not installed: run `make install` (it is a dev dependency)")
    if not CHROMIUM.exists():
        pytest.fail(f"no chromium at {CHROMIUM}: run `make sysdeps` (Debian package chromium)")
    pw = sync_playwright().start()
    try:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


@pytest.fixture
def browser_context(chromium: Any) -> Iterator[Any]:
    """A fresh BrowserContext (its own cookies and storage) for one test, closed afterwards."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def tab(browser_context: Any) -> Tab:
    """A new page in a fresh context, with its console errors collected."""
    page = browser_context.new_page()
    return Tab(page=page, console=ConsoleLog.attach(page))


@pytest.fixture
def jupyterlab_factory() -> Iterator[Any]:
    """``factory(root_dir, **kwargs) -> JupyterLab`` (started); all are stopped at teardown."""
    started: list[JupyterLab] = []

    def factory(root_dir: Path | str, *, timeout: float = 90, **kwargs: Any) -> JupyterLab:
        server = JupyterLab(root_dir, **kwargs)
        started.append(server)
        return server.start(timeout=timeout)

    try:
        yield factory
    finally:
        for server in started:
            server.stop()
