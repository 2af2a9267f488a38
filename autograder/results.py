"""The records a grading run produces, shared by the engine, the reports and the demo.

One :class:`SubmissionResult` per student x assignment; one :class:`CellResult` per graded test cell.
``status`` is ``graded`` (scored normally), ``failed`` (could not be graded; ``reason`` says why) or
``flagged`` (tampering detected; ``reason`` says what, and the score excludes every point the tampering
could have earned).

Both are frozen: a result is made once, by the worker or the parent, and a later step that changes one
(the clean room's points, the parent's ``max_score``) makes a new one with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "CSV_COLUMNS",
    "STATUSES",
    "CellResult",
    "SubmissionResult",
    "failed_result",
    "load_results",
    "save_results",
    "write_csv",
]

STATUSES = ("graded", "failed", "flagged")
CSV_COLUMNS = ("student_id", "assignment", "score", "max_score", "status", "reason")


@dataclass(frozen=True)
class CellResult:
    """One graded test cell of one submission.

    Attributes:
        notebook: notebook name without ``.ipynb``.
        grade_id: the test cell's nbgrader grade id, e.g. ``xavier_uniform_std``.
        points: points awarded (after the clean-room re-check).
        max_points: the cell's worth.
        passed_in_kernel: whether nbgrader's in-kernel run passed the cell.
        passed_clean: whether the clean-room re-check passed it (None when it was not re-checked).
        message: the failing check's message (last line of the error), empty when passed; never the
            source of a hidden test.
    """

    notebook: str
    grade_id: str
    points: float
    max_points: float
    passed_in_kernel: bool
    passed_clean: bool | None = None
    message: str = ""


@dataclass(frozen=True)
class SubmissionResult:
    """The outcome for one student x assignment; ``cells`` (any sequence) is kept as a tuple."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: str
    reason: str = ""
    cells: tuple[CellResult, ...] = ()
    seconds: float = 0.0
    sandbox: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        object.__setattr__(self, "cells", tuple(self.cells))  # frozen: the one write, while it is made

    def csv_row(self) -> list[str]:
        """The row for ``grades.csv`` in :data:`CSV_COLUMNS` order."""
        return [
            self.student_id,
            self.assignment,
            f"{self.score:g}",
            f"{self.max_score:g}",
            self.status,
            self.reason,
        ]


def failed_result(
    student_id: str, assignment: str, max_score: float, reason: str, sandbox: str = ""
) -> SubmissionResult:
    """A submission that could not be graded: score 0, no cells, ``reason`` says why."""
    return SubmissionResult(student_id, assignment, 0.0, max_score, "failed", reason, sandbox=sandbox)


def write_csv(results: list[SubmissionResult], path: Path) -> None:
    """``grades.csv``: one row per student x assignment, sorted, in :data:`CSV_COLUMNS` order.

    No cell starts a spreadsheet formula (OWASP CSV injection): ``=1+2`` is written ``'=1+2``, which
    :func:`autograder.export.read_grades` reads back as ``=1+2``.
    """
    from autograder.export import neutralise

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in sorted(results, key=lambda r: (r.student_id, r.assignment)):
            writer.writerow([neutralise(cell) for cell in r.csv_row()])


def save_results(results: list[SubmissionResult], path: Path) -> None:
    """Write results as JSON (the machine-readable companion of ``grades.csv``)."""
    Path(path).write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")


def load_results(path: Path) -> list[SubmissionResult]:
    """Read results written by :func:`save_results`."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [SubmissionResult(**{**r, "cells": [CellResult(**c) for c in r.get("cells", [])]}) for r in raw]
