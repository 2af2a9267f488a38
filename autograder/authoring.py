"""Build nbgrader notebooks from Python: one constructor per kind of cell; fill a release in as a student.

Lessons are edited as notebooks in JupyterLab (with nbgrader's "Create Assignment" toolbar); these
constructors are for writing or rewriting a notebook from a script, and for the tests' small fixture
courses. The metadata is nbgrader's schema version 3. :func:`solution_answers` and :func:`fill_answers`
make the simulated submissions of ``autograder demo`` and ``autograder selfcheck``.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = [
    "SOLUTION_MARKER",
    "answer",
    "code",
    "fill_answers",
    "locked_markdown",
    "manual_answer",
    "markdown",
    "notebook",
    "solution_answers",
    "test",
]

#: The lines nbgrader removes from an answer cell when it makes the release.
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.MULTILINE)

_SCHEMA = 3


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": _SCHEMA,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str):
    """A plain markdown cell (prose the student may edit freely)."""
    return new_markdown_cell(text.strip("\n"))


def locked_markdown(grade_id: str, text: str):
    """A read-only markdown cell (instructions nbgrader restores if edited)."""
    return new_markdown_cell(
        text.strip("\n"), metadata=_meta(grade_id, grade=False, solution=False, locked=True)
    )


def code(source: str):
    """A plain code cell (setup, experiments, figures)."""
    return new_code_cell(source.strip("\n"))


def answer(grade_id: str, source: str):
    """An autograded answer cell; ``source`` holds ``### BEGIN SOLUTION`` / ``### END SOLUTION``."""
    return new_code_cell(
        source.strip("\n"), metadata=_meta(grade_id, grade=False, solution=True, locked=False)
    )


def test(grade_id: str, points: float, source: str):
    """A locked autograder test cell worth ``points``."""
    if points <= 0:
        raise ValueError(f"test cell {grade_id!r} has points={points!r}; it must be positive")
    return new_code_cell(
        source.strip("\n"),
        metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points),
    )


def manual_answer(grade_id: str, points: float, text: str):
    """A manually graded written answer (markdown); ``text`` holds the model answer."""
    return new_markdown_cell(
        text.strip("\n"),
        metadata=_meta(grade_id, grade=True, solution=True, locked=False, points=points),
    )


def notebook(cells: list) -> nbformat.NotebookNode:
    """A Python 3 notebook of ``cells``, with stable cell ids derived from their position."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = grade_id or f"cell-{i:03d}"
    return nb


def _answer_id(cell) -> str | None:
    """The grade_id of an answer (solution) code cell, else None."""
    meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
    return meta.get("grade_id") if cell["cell_type"] == "code" and meta.get("solution") else None


def _source(cell) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def solution_answers(solution) -> dict[str, str]:
    """Answer grade_id -> the solution's code without the solution markers (a notebook or its JSON dict)."""
    return {
        gid: SOLUTION_MARKER.sub("", _source(cell))
        for cell in solution["cells"]
        if (gid := _answer_id(cell)) is not None
    }


def fill_answers(release, answers: dict[str, str], *, blank=frozenset()):
    """A copy of ``release`` whose answer cells hold ``answers[grade_id]``, as a student would fill it in.

    Answer cells not in ``answers``, or named in ``blank``, keep the release's stub. Works on a notebook
    or its JSON dict alike.
    """
    filled = copy.deepcopy(release)
    for cell in filled["cells"]:
        gid = _answer_id(cell)
        if gid in answers and gid not in blank:
            cell["source"] = answers[gid]
    return filled
