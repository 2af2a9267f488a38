"""How a failed check shows in a real kernel: short, and Run All goes on only interactively."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

SETUP = "from gradlib import runtime\nruntime.skip_figures_under_grading()"
FAILING = (
    "# a test cell whose check fails\n"
    "from gradlib.checks import core\n"
    "def stub(x):\n"
    "    raise NotImplementedError()\n"
    "core.call(stub, 1)\n"
)
AFTER = "print('the cell after the failing test ran')"


def _run(mode: str | None, cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    old = os.environ.pop("NBGRADER_EXECUTION", None)
    if mode:
        os.environ["NBGRADER_EXECUTION"] = mode
    try:
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
        if old is not None:
            os.environ["NBGRADER_EXECUTION"] = old
    return nb


def _error(cell: nbformat.NotebookNode) -> dict:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0]


def test_interactive_run_all_goes_on_and_the_failure_stays_visible():
    """Interactively, does a failed check show its message first, hide gradlib, and not stop Run All?"""
    nb = _run(None, [SETUP, FAILING, AFTER])
    err = _error(nb.cells[1])
    assert err.ename == "CheckFailure"
    assert "stub is not implemented yet" in err.traceback[0]
    text = "\n".join(err.traceback)
    assert "gradlib/checks" not in text and "core.py" not in text, text
    assert "core.call(stub, 1)" in text and len(err.traceback) <= 3, text
    assert "the cell after the failing test ran" in nb.cells[2].outputs[0].text


def test_other_errors_still_stop_run_all():
    """Does an error that is not a check failure (a typo) still stop Run All interactively?"""
    with pytest.raises(CellExecutionError, match="NameError"):
        _run(None, [SETUP, "undefined_name", AFTER])


def test_validate_sees_the_failure_short():
    """Under Validate, does the failed check still fail the cell, with a short error?"""
    with pytest.raises(CellExecutionError) as info:
        _run("validate", [SETUP, FAILING, AFTER])
    assert "stub is not implemented yet" in str(info.value)
    assert "Run All goes on" not in str(info.value)
    assert "core.py" not in str(info.value)
    assert "at line" not in str(info.value)  # nbgrader's dialog shows the cell's source itself


def test_autograde_sees_plain_ipython():
    """Under autograde, is the failure exactly IPython's full traceback (nothing installed)?"""
    with pytest.raises(CellExecutionError) as info:
        _run("autograde", [SETUP, FAILING, AFTER])
    assert "core.py" in str(info.value)  # IPython's own traceback, gradlib's frames included
