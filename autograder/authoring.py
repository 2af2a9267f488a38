"""Build nbgrader notebooks from Python: one constructor per kind of cell.

Lessons are edited as notebooks in JupyterLab (with nbgrader's "Create Assignment" toolbar); these
constructors are for writing or rewriting a notebook from a script, and for the tests' small fixture
courses. The metadata is nbgrader's schema version 3.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["answer", "code", "locked_markdown", "manual_answer", "markdown", "notebook", "test"]

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
