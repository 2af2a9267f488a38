"""How a failed check looks in a notebook, and why Run All goes on past it.

In JupyterLab (no ``NBGRADER_EXECUTION``), :func:`install` makes a failed test cell show a short, red error
(the check's message first, then the line of the test cell that called it; gradlib's own frames are
hidden) and lets *Run All* go on to the next cell, so a fresh or half-done notebook still shows every
demo, figure and explorer below its first failing test.

Under nbgrader's **Validate** (``NBGRADER_EXECUTION=validate``) only the short error is installed: the
cell still fails, nbgrader still counts it, and the Validate dialog shows one short message per failing
test instead of a screen of traceback. Under **autograde** (``NBGRADER_EXECUTION=autograde``, also set in
the clean room) nothing is installed: grading sees exactly what plain IPython shows.

How it works: an IPython custom exception handler (``InteractiveShell.set_custom_exc``) formats
:class:`~gradlib.checks.core.CheckFailure` and ``NotImplementedError`` and publishes them as the cell's
error output; interactively, a ``post_run_cell`` callback then marks that execution as finished, so the
kernel does not abort the cells queued after it. Any other exception stops Run All as usual.

Lessons reach :func:`install` through :func:`gradlib.runtime.skip_figures_under_grading`, which every
setup cell calls.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

from gradlib.checks.core import CheckFailure

__all__ = ["SHOWN", "format_failure", "install", "installed_mode"]

#: The exceptions shown short (and, interactively, not stopping Run All).
SHOWN: tuple[type[BaseException], ...] = (CheckFailure, NotImplementedError)

_GRADLIB = str(Path(__file__).resolve().parents[1])
_RED, _DIM, _RESET = "\x1b[1;31m", "\x1b[2m", "\x1b[0m"
_GOES_ON = (
    "this test failed; Run All goes on with the cells below, and Validate and grading count the failure"
)


def _mode() -> str:
    """``"interactive"``, ``"validate"`` or ``"autograde"`` (any other NBGRADER_EXECUTION value)."""
    value = os.environ.get("NBGRADER_EXECUTION", "")
    if not value:
        return "interactive"
    return "validate" if value == "validate" else "autograde"


def _cell_line(tb: types.TracebackType | None) -> tuple[int, str] | None:
    """(line number, source line) of the deepest frame outside gradlib: the test cell's call."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if not str(Path(code.co_filename).resolve()).startswith(_GRADLIB):
            found = (tb.tb_lineno, code.co_filename)
        tb = tb.tb_next
    if found is None:
        return None
    import linecache

    lineno, filename = found
    return lineno, linecache.getline(filename, lineno).strip()


def format_failure(
    etype: type[BaseException], value: BaseException, tb: types.TracebackType | None, *, interactive: bool
) -> list[str]:
    """The short error of a failed check: its message first, then (interactively) where the cell called it.

    Under Validate the one message line is all: nbgrader's dialog already shows the cell's source.

    Args:
        etype: the exception class.
        value: the exception.
        tb: its traceback (gradlib's frames are never shown).
        interactive: add the calling line of the test cell and a dim note that Run All goes on.

    Returns:
        Lines with ANSI colours, as IPython's structured tracebacks are.
    """
    lines = [f"{_RED}{etype.__name__}{_RESET}: {value}"]
    if not interactive:
        return lines
    where = _cell_line(tb)
    if where is not None and where[1]:
        lines.append(f"{_DIM}  at line {where[0]} of this cell: {where[1]}{_RESET}")
    lines.append(f"{_DIM}  ({_GOES_ON}){_RESET}")
    return lines


def _handler(interactive: bool) -> Any:
    def show(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> list:
        stb = format_failure(etype, value, tb, interactive=interactive)
        shell._showtraceback(etype, value, stb)
        return stb

    return show


def _keep_going(result: Any) -> None:
    """post_run_cell: a cell that failed only by a shown check counts as run, so Run All goes on."""
    if result is not None and isinstance(result.error_in_exec, SHOWN) and _mode() == "interactive":
        result.error_in_exec = None


def installed_mode(shell: Any) -> str | None:
    """The mode :func:`install` set up on ``shell`` (``"interactive"`` or ``"validate"``), or None."""
    if shell is None or tuple(shell.custom_exceptions) != SHOWN:
        return None
    return "interactive" if _keep_going in shell.events.callbacks.get("post_run_cell", []) else "validate"


def install(shell: Any = None) -> str | None:
    """Show failed checks short and, interactively, let Run All go on past them. Idempotent.

    Args:
        shell: the IPython shell (default: the running one; outside IPython nothing happens).

    Returns:
        The mode installed (``"interactive"`` or ``"validate"``), or None when nothing was installed:
        outside IPython, or under nbgrader's autograde, which must see failures as plain IPython does.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with every kernel
            return None
        shell = get_ipython()
    mode = _mode()
    if shell is None or mode == "autograde":
        return None
    if installed_mode(shell) != mode:
        shell.set_custom_exc(SHOWN, _handler(mode == "interactive"))
        callbacks = shell.events.callbacks.get("post_run_cell", [])
        if mode == "interactive" and _keep_going not in callbacks:
            shell.events.register("post_run_cell", _keep_going)
        if mode != "interactive" and _keep_going in callbacks:
            shell.events.unregister("post_run_cell", _keep_going)
    return mode
