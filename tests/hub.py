"""A real JupyterHub for the tests: configurable-http-proxy, three system users, nbgrader's exchange.

:func:`classroom` (module scope) starts :class:`autograder.classroom.Classroom` on 127.0.0.1 with one
instructor and two students (system users created with ``useradd``, each with a password only they
know), the local process spawner and a temporary exchange root; at teardown it stops the hub's process
group and every process of those users, and removes the users, whatever happened. :class:`HubSession`
logs a user in through the hub's login form. Needs root and ``make sysdeps``
(configurable-http-proxy under ``.venv/node``).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from autograder.build import REPO
from autograder.classroom import Classroom

__all__ = ["HubSession", "classroom"]

PROXY = REPO / ".venv" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
ASSIGNMENT = "01-backprop"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HubSession:
    """One browser-like session (cookies, XSRF token) against the hub."""

    def __init__(self, url: str):
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def _open(self, req):
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read().decode(errors="replace"), resp.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), exc.headers

    def login(self, user: str, password: str) -> tuple[int, str]:
        """Post the login form; the HTTP status and the redirect target (302 and /hub/... when accepted)."""
        _, page, _ = self._open(self.url + "/hub/login")
        match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page)
        form = {"username": user, "password": password, "_xsrf": match[1] if match else ""}
        req = urllib.request.Request(self.url + "/hub/login", data=urllib.parse.urlencode(form).encode())
        status, _, headers = self._open(req)
        return status, headers.get("Location", "")


@pytest.fixture(scope="module")
def classroom():
    """A started classroom (a hub, an instructor and two students, named per pytest-xdist worker)."""
    if os.geteuid() != 0:
        pytest.skip("the hub tests create system users and spawn their servers: run them as root")
    if not PROXY.exists() and shutil.which("configurable-http-proxy") is None:
        pytest.fail(f"configurable-http-proxy is missing ({PROXY}): run `make sysdeps`")
    # pytest-xdist may run this module's tests on two workers: each gets its own users and hub
    tag = os.environ.get("PYTEST_XDIST_WORKER", "").replace("gw", "")
    room = Classroom(
        instructor=f"aginstructor{tag}",
        students=(f"agstudent1x{tag}", f"agstudent2x{tag}"),
        assignments=(ASSIGNMENT,),
    )
    try:
        room.start()
        yield room
    finally:
        room.stop()
    assert not Path(room.base or "/nonexistent").exists()
