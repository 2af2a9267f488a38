"""Gradebook import files for Canvas, Moodle, or a plain CSV, from ``grades.csv`` and the LMS's own roster.

The roster is the file the LMS exports: Canvas's gradebook export (``Student, ID, SIS User ID, SIS Login
ID, Section, ...`` and a "Points Possible" row) or Moodle's grade export (``First name, Last name, ID
number, ..., Email address``) or its grading worksheet (``Identifier, Full name, Email address``). A graded
student is found in the roster by any of its identifiers (Canvas: ID, SIS User ID, SIS Login ID or its part
before ``@``; Moodle: ID number, email or its part before ``@``, username, participant number), compared
without case.

Nobody is dropped silently: roster students without a submission get an empty cell (the LMS then keeps
what it has) and are listed; graded students missing from the roster go to ``<out>-unmatched.csv`` and are
listed; submissions that failed or were flagged are listed for review. Every cell that a spreadsheet
would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with
``'``. With ``late`` (the ``collected.csv`` that ``autograder collect`` writes) nbgrader's
:class:`~nbgrader.plugins.LateSubmissionPlugin` applies its penalty to late submissions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FORMATS",
    "ExportReport",
    "Roster",
    "export",
    "neutralise",
    "read_grades",
    "read_late",
    "read_roster",
]

FORMATS = ("canvas", "moodle", "csv")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_FIXED = ("First name", "Last name", "ID number", "Email address")
_KEYS = {
    "canvas": ("id", "sis user id", "sis login id"),
    "moodle": ("id number", "email address", "username", "identifier"),
    "csv": ("student_id", "id", "username", "login", "email", "email address", "id number", "sis login id"),
}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """``value`` as a CSV cell that no spreadsheet evaluates: a leading ``= + - @`` tab or CR gets a ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_DANGEROUS) else text


@dataclass
class Roster:
    """The LMS's students: one dict per row (the roster's own columns), and a lookup by identifier."""

    rows: list[dict[str, str]]
    columns: list[str]
    index: dict[str, int] = field(default_factory=dict)

    def find(self, student_id: str) -> int | None:
        """The row number of ``student_id`` (any identifier, any case), or None."""
        return self.index.get(student_id.strip().lower())


def _identifiers(row: dict[str, str], keys: Iterable[str]) -> set[str]:
    lowered = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
    found = set()
    for key in keys:
        value = lowered.get(key, "")
        if key == "identifier":
            value = re.sub(r"^participant\s*", "", value, flags=re.IGNORECASE)
        if value:
            found.add(value.lower())
            if "@" in value:
                found.add(value.split("@", 1)[0].lower())
    return found


def _is_student_row(row: dict[str, str], fmt: str) -> bool:
    first = (row.get("Student") or "").strip()
    if fmt == "canvas":
        return bool((row.get("ID") or "").strip()) and first not in ("Points Possible", "")
    return any((v or "").strip() for v in row.values())


def read_roster(path: Path, fmt: str) -> Roster:
    """Read an LMS roster export; ValueError naming the file when it lacks the columns ``fmt`` needs."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c for c in (reader.fieldnames or []) if c is not None]
    lowered = {c.strip().lower() for c in columns}
    keys = _KEYS[fmt]
    if not lowered & set(keys):
        want = ", ".join(k for k in keys)
        raise ValueError(
            f"roster {path} has none of the columns {want} (found: {', '.join(columns) or 'none'})"
        )
    rows = [
        {k: (v or "") for k, v in row.items() if k is not None} for row in reader if _is_student_row(row, fmt)
    ]
    roster = Roster(rows, columns)
    seen: dict[str, int | None] = {}
    for i, row in enumerate(rows):
        for ident in _identifiers(row, keys):
            seen[ident] = i if ident not in seen or seen[ident] == i else None  # ambiguous -> None
    roster.index = {k: v for k, v in seen.items() if v is not None}
    return roster


def read_grades(path: Path) -> list[dict[str, str]]:
    """The rows of an ``autograder grade`` ``grades.csv``; ValueError when it is not one."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = {"student_id", "assignment", "score", "max_score", "status"}
        if not need <= set(reader.fieldnames or []):
            raise ValueError(f"{path} is not a grades.csv (columns {', '.join(sorted(need))} needed)")
        return [{key: _restore(value) for key, value in row.items()} for row in reader]


def _restore(value: str | None) -> str | None:
    """The text :func:`neutralise` protected: grades.csv holds ``'=1+2`` for the student id ``=1+2``."""
    if value and value.startswith("'") and value[1:].startswith(_DANGEROUS):
        return value[1:]
    return value


def read_late(path: Path) -> dict[tuple[str, str], float]:
    """(student, assignment) -> seconds late, from the ``collected.csv`` of ``autograder collect``."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {(r["student_id"], r["assignment"]): float(r["seconds_late"] or 0) for r in csv.DictReader(fh)}


@dataclass
class ExportReport:
    """What an export wrote and whom it could not place."""

    path: Path
    exported: int = 0
    not_in_roster: list[str] = field(default_factory=list)
    no_submission: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    unmatched_path: Path | None = None

    def lines(self) -> list[str]:
        """A human summary, one line per list that is not empty."""
        out = [f"wrote {self.path} ({self.exported} grades)"]
        if self.not_in_roster:
            out.append(
                f"NOT IN ROSTER ({len(self.not_in_roster)}), written to {self.unmatched_path}: "
                + ", ".join(self.not_in_roster)
            )
        if self.no_submission:
            out.append(
                f"no submission, cell left empty ({len(self.no_submission)}): "
                + ", ".join(self.no_submission)
            )
        if self.review:
            out.append(
                f"failed or flagged, check before importing ({len(self.review)}): " + ", ".join(self.review)
            )
        if self.late:
            out.append(f"late ({len(self.late)}): " + ", ".join(self.late))
        return out


def _penalised(row: dict[str, str], late: dict[tuple[str, str], float], method: str) -> tuple[float, float]:
    from nbgrader.plugins import LateSubmissionPlugin

    score = float(row["score"])
    seconds = late.get((row["student_id"], row["assignment"]), 0.0)
    if seconds <= 0:
        return score, 0.0
    plugin = LateSubmissionPlugin(penalty_method=method)
    penalty = plugin.late_submission_penalty(row["student_id"], score, seconds) or 0.0
    return max(0.0, score - penalty), seconds


def _column(assignment: str, roster: Roster | None) -> str:
    """The roster's own header for ``assignment`` (Canvas ``Name (12345)``, Moodle ``Assignment: Name``)."""
    if roster is not None:
        pattern = re.compile(
            r"^(?:assignment:\s*)?" + re.escape(assignment) + r"(?:\s*\(\d+\)|\s*\(real\))?$", re.IGNORECASE
        )
        for column in roster.columns:
            if pattern.match(column.strip()):
                return column
    return assignment


def _write(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerows([[neutralise(c) for c in row] for row in rows])


def _fmt(x: float) -> str:
    return f"{x:g}"


def export(
    grades: list[dict[str, str]],
    fmt: str,
    out: Path,
    roster: Roster | None = None,
    *,
    late: dict[tuple[str, str], float] | None = None,
    penalty: str = "none",
) -> ExportReport:
    """Write the import file ``out`` in ``fmt`` (canvas, moodle, csv); return whom it could not place.

    Canvas and Moodle need a roster. One column per assignment; the header is the roster's own column for
    that assignment when it has one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt != "csv" and roster is None:
        raise ValueError(f"format {fmt!r} needs --roster (the {fmt} gradebook export)")
    out = Path(out)
    late = late or {}
    report = ExportReport(out)
    assignments = sorted({g["assignment"] for g in grades})
    points = {g["assignment"]: float(g["max_score"]) for g in grades}
    scores: dict[tuple[int | str, str], str] = {}
    unmatched: list[list[str]] = []
    for g in sorted(grades, key=lambda g: (g["student_id"], g["assignment"])):
        score, seconds = _penalised(g, late, penalty)
        who = f"{g['student_id']} ({g['assignment']})"
        if g["status"] != "graded":
            report.review.append(f"{who}: {g['status']}")
        if seconds > 0:
            report.late.append(f"{who}: {seconds / 3600:.1f} h")
        row = roster.find(g["student_id"]) if roster is not None else None
        if roster is not None and row is None:
            unmatched.append([g["student_id"], g["assignment"], _fmt(score), g["max_score"], g["status"]])
            if g["student_id"] not in report.not_in_roster:
                report.not_in_roster.append(g["student_id"])
            continue
        scores[(row if row is not None else g["student_id"], g["assignment"])] = _fmt(score)
        report.exported += 1
    if roster is not None:
        for i, r in enumerate(roster.rows):
            missing = [a for a in assignments if (i, a) not in scores]
            if missing:
                name = _display(r, fmt)
                report.no_submission.append(f"{name} ({', '.join(missing)})")
    if fmt == "csv":
        _write(out, _csv_rows(grades, roster, late, penalty))
    else:
        header, fixed = (CANVAS_FIXED, "canvas") if fmt == "canvas" else (MOODLE_FIXED, "moodle")
        rows = [[*header, *(_column(a, roster) for a in assignments)]]
        if fixed == "canvas":
            rows.append(["Points Possible", "", "", "", "", *(_fmt(points[a]) for a in assignments)])
        for i, r in enumerate(roster.rows):
            rows.append([_cell(r, c) for c in header] + [scores.get((i, a), "") for a in assignments])
        _write(out, rows)
    if unmatched:
        report.unmatched_path = out.with_name(out.stem + "-unmatched.csv")
        _write(
            report.unmatched_path, [["student_id", "assignment", "score", "max_score", "status"], *unmatched]
        )
    return report


def _cell(row: dict[str, str], column: str) -> str:
    lowered = {k.strip().lower(): v for k, v in row.items()}
    return lowered.get(column.lower(), "")


def _display(row: dict[str, str], fmt: str) -> str:
    if fmt == "canvas":
        return f"{_cell(row, 'Student')} [{_cell(row, 'ID')}]"
    name = _cell(row, "Full name") or f"{_cell(row, 'First name')} {_cell(row, 'Last name')}".strip()
    ident = _cell(row, "ID number") or _cell(row, "Email address") or _cell(row, "student_id")
    return f"{name} [{ident}]" if name else ident


def _csv_rows(
    grades: list[dict[str, str]], roster: Roster | None, late: dict[tuple[str, str], float], penalty: str
) -> list[list[str]]:
    header = [
        "student_id",
        "assignment",
        "score",
        "max_score",
        "status",
        "seconds_late",
        "in_roster",
        "reason",
    ]
    rows = [header]
    for g in sorted(grades, key=lambda g: (g["student_id"], g["assignment"])):
        score, seconds = _penalised(g, late, penalty)
        known = "" if roster is None else ("yes" if roster.find(g["student_id"]) is not None else "no")
        rows.append(
            [g["student_id"], g["assignment"], _fmt(score), g["max_score"], g["status"], _fmt(seconds), known]
            + [g.get("reason", "")]
        )
    if roster is not None:
        graded = {roster.find(g["student_id"]) for g in grades}
        for i, r in enumerate(roster.rows):
            if i not in graded:
                rows.append([_display(r, "csv"), "", "", "", "no submission", "", "yes", ""])
    return rows
