"""Grading gates for every lesson, with real nbgrader and real kernels.

For each assignment in ``solutions/``: the committed release in ``course/`` matches a fresh nbgrader build;
the solution scores full marks and the untouched release scores 0; the notebook runs in <= 60 s
interactively and <= 10 s under grading; and the authoring rules hold (see ``solutions/README.md``).
"""

from __future__ import annotations

import ast
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from traitlets.config.loader import PyFileConfigLoader

from autograder import build

ASSIGNMENTS = build.assignments()
REPO = build.REPO
INTERACTIVE_LIMIT_S = 60.0
GRADED_LIMIT_S = 10.0
#: No cell of a lesson takes more than a few seconds. The timeout also bounds a stall of the client:
#: nbclient waits for a cell's reply with pyzmq's asyncio poll, which now and then misses the socket's
#: wake-up (a few runs in a hundred of lesson 03, at its ipywidgets cell) and only finds the reply, already
#: there, when the timeout fires; the cell then succeeds, late by the whole timeout.
CELL_TIMEOUT_S = 20
#: how nbgrader stops a kernel once the notebook is graded, read from the course's nbgrader_config.py
_NBGRADER_CONFIG = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "autograder")).load_config()
GRADING_SHUTDOWN = _NBGRADER_CONFIG.Execute.shutdown_kernel

pytestmark = pytest.mark.nbgrader


def _solution(name: str) -> Path:
    return REPO / "solutions" / name / f"{name}.ipynb"


def _parse(source: str) -> ast.Module:
    """Parse a cell as Python after IPython's own rewriting of magics (``%matplotlib`` etc.)."""
    return ast.parse(TransformerManager().transform_cell(source))


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _test_cells(nb) -> list:
    return [c for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]


def _answer_cells(nb) -> list:
    return [c for c in nb.cells if _nbgrader(c).get("solution") and c.cell_type == "code"]


def test_there_are_lessons():
    """Does solutions/ hold at least one assignment?"""
    assert ASSIGNMENTS, "no assignment found in solutions/"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_is_in_sync(name):
    """Does the committed course/ release equal a fresh nbgrader build of solutions/?"""
    assert build.stale_notebooks(name) == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_full_marks_release_zero(name):
    """Does nbgrader give the solution full marks and the untouched release 0?"""
    result = build.run_gates(name)
    assert result.problems == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_points_total(name):
    """Is each notebook worth 20-30 points in all (autograded and manual)?"""
    nb = nbformat.read(_solution(name), as_version=4)
    total = sum(_nbgrader(c).get("points", 0) for c in nb.cells if _nbgrader(c).get("grade"))
    assert 20 <= total <= 30, f"{name} is worth {total} points"


def _execute(name: str, *, grading: bool) -> tuple[float, str]:
    """Run the solution top to bottom in a fresh kernel; return the seconds and where they went."""
    nb = nbformat.read(_solution(name), as_version=4)
    env_before = os.environ.get("NBGRADER_EXECUTION")
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(_solution(name).parent)}},
            # under grading, as autograder/nbgrader_config.py and the engine stop the kernel
            shutdown_kernel=GRADING_SHUTDOWN if grading else "graceful",
        )
        cells = []
        start = time.perf_counter()
        with client.setup_kernel():
            started = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    before = time.perf_counter()
                    client.execute_cell(cell, index)
                    cells.append((time.perf_counter() - before, index))
                    # interactively a failed check no longer stops the run (gradlib.checks.display): it
                    # leaves an error output instead, which a solution must never show
                    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                    assert not errors, f"{name} cell {index} failed: {errors[0].get('evalue', '')}"
            finished = time.perf_counter()
        seconds = time.perf_counter() - start
        slowest = ", ".join(f"cell {i} {t:.1f} s" for t, i in sorted(cells, reverse=True)[:3])
        where = (
            f"kernel start {started - start:.1f} s, cells {finished - started:.1f} s ({slowest}), "
            f"shutdown {seconds - (finished - start):.1f} s"
        )
        return seconds, where
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before


def _assert_runs_within(name: str, *, grading: bool, limit: float) -> None:
    """Fail when the solution takes longer than ``limit`` twice in a row.

    A second run tells a slow notebook from a one-off stall of the client, which costs up to
    ``CELL_TIMEOUT_S`` (seen in lesson 03's widget cell). A notebook that is really over its limit fails
    both runs; the message says where the time went.
    """
    how = "under grading" if grading else "interactively"
    first, where = _execute(name, grading=grading)
    if first <= limit:
        return
    again, where_again = _execute(name, grading=grading)
    assert again <= limit, (
        f"{name} took {first:.1f} s {how} ({where}), then {again:.1f} s ({where_again}); limit {limit:g} s"
    )


@pytest.mark.runtime
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_runs_interactively_within_limit(name):
    """Does the solution run top to bottom in <= 60 s without NBGRADER_EXECUTION?"""
    _assert_runs_within(name, grading=False, limit=INTERACTIVE_LIMIT_S)


@pytest.mark.runtime
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_runs_under_grading_within_limit(name):
    """Does the solution run in <= 10 s with NBGRADER_EXECUTION set?"""
    _assert_runs_within(name, grading=True, limit=GRADED_LIMIT_S)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_without_outputs(name):
    """Are the solution and release notebooks committed without outputs or execution counts?"""
    for path in (_solution(name), REPO / "course" / name / f"{name}.ipynb"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        for cell in raw["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (path, cell.get("id"))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_test_cells_never_end_with_an_expression(name):
    """Does every test cell end with a statement (nbgrader reads a numeric result as partial credit)?"""
    nb = nbformat.read(_solution(name), as_version=4)
    for cell in _test_cells(nb):
        tree = _parse(cell.source)
        last = tree.body[-1] if tree.body else None
        bare = isinstance(last, ast.Expr) and not (
            isinstance(last.value, ast.Call) and getattr(last.value.func, "id", "") == "print"
        )
        assert not bare, f"{name}: test cell {_nbgrader(cell)['grade_id']} ends with a bare expression"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_test_cells_are_documented_and_named(name):
    """Does every test cell start with a comment and carry the id of the function it checks?"""
    nb = nbformat.read(_solution(name), as_version=4)
    answers = {_nbgrader(c)["grade_id"] for c in _answer_cells(nb)}
    for cell in _test_cells(nb):
        grade_id = _nbgrader(cell)["grade_id"]
        assert cell.source.lstrip().startswith("#"), f"{name}: {grade_id} has no leading comment"
        assert any(grade_id.startswith(a + "_") for a in answers), (
            f"{name}: test cell {grade_id} is not named <function>_<property> after an answer cell"
        )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_answer_cells_define_their_function(name):
    """Does each autograded answer cell define the function its grade id names?"""
    nb = nbformat.read(_solution(name), as_version=4)
    for cell in _answer_cells(nb):
        grade_id = _nbgrader(cell)["grade_id"]
        defined = {n.name for n in _parse(cell.source).body if isinstance(n, ast.FunctionDef)}
        assert grade_id in defined, f"{name}: answer cell {grade_id} defines {sorted(defined)}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_setup_cell_first(name):
    """Is the first code cell an import-only setup cell that answer cells can rely on?"""
    nb = nbformat.read(_solution(name), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert not _nbgrader(first).get("grade") and not _nbgrader(first).get("solution")
    for node in _parse(first.source).body:
        assert isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.Expr)), (
            f"{name}: setup cell has a {type(node).__name__}"
        )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_goals_and_recap(name):
    """Does the lesson state its learning goals at the top and end with a recap?"""
    nb = nbformat.read(_solution(name), as_version=4)
    md = [c.source.lower() for c in nb.cells if c.cell_type == "markdown"]
    assert any("learning goals" in s or "you will learn" in s for s in md[:3]), name
    assert any("recap" in s or "summary" in s for s in md[-3:]), name
