"""The shared browser fixtures themselves: chromium launches from /usr/bin, JupyterLab starts and stops."""

from __future__ import annotations

import os
import time

import pytest
from browser import CHROMIUM, JupyterLab

pytestmark = pytest.mark.browser


def test_chromium_is_debians_and_logs_console_errors(tab):
    """Is the browser /usr/bin/chromium, and does the console log catch a page's error?"""
    tab.page.set_content("<script>console.error('boom'); throw new Error('bad')</script>")
    version = tab.page.context.browser.version
    assert version.split(".")[0].isdigit()
    assert any("boom" in e for e in tab.console.errors), tab.console.errors
    assert any("bad" in e for e in tab.console.errors), tab.console.errors
    with pytest.raises(AssertionError, match="boom"):
        tab.console.assert_clean()
    tab.console.assert_clean(ignore=("boom", "bad"))
    assert CHROMIUM.exists()


def test_jupyterlab_starts_on_loopback_and_stops_its_process_group(tmp_path, tab):
    """Does JupyterLab answer on 127.0.0.1 with its token only, and does stop() end its whole group?"""
    (tmp_path / "hello.txt").write_text("hi")
    server = JupyterLab(tmp_path).start()
    try:
        status = server.api("GET", "/api/status")
        assert "started" in status
        kernel = server.api("POST", "/api/kernels", {"name": "python3"})
        assert kernel["id"]
        pgid = os.getpgid(server.proc.pid)
        tab.page.goto(server.lab_url("hello.txt"))
        tab.page.wait_for_selector(".jp-FileEditor", timeout=60_000)
        tab.console.assert_clean()
    finally:
        server.stop()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
