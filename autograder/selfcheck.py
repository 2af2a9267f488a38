"""Test the tests: grade every catalog answer with the real pipeline and enforce what it must score.

The catalog (``autograder/catalog/<assignment>/<function>__<slug>.py``) holds, per graded exercise, wrong
answers the tests must catch and right answers they must accept. Each file is the full source of one
answer cell, preceded by a header::

    # kind: wrong                  (or: right)
    # exercise: xavier_uniform     (grade_id of the answer cell = the function's name)
    # mistake: variance from fan_in only      (wrong only)
    # caught_by: xavier_uniform_std           (wrong only: test cell grade_ids, comma-separated)
    # message: He                             (wrong only, optional)

:func:`run` builds one submission per entry (the release notebook with every answer cell filled in from
the solution and the entry's exercise replaced by the entry), plus the untouched release ("blank") and the
filled-in release ("solution"), grades them all with :func:`autograder.engine.grade` exactly as students
are graded, and checks the rules:

* a wrong answer is graded (not failed or flagged) and loses points on every ``caught_by`` cell; when
  ``message`` is given, the failing message of at least one ``caught_by`` cell contains it
  (case-insensitive), i.e. the feedback names the mistake;
* a right answer gets full marks on every test cell, hidden cases included;
* the blank release scores 0 and the solution full marks.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder import build

__all__ = [
    "CATALOG",
    "CatalogEntry",
    "CatalogError",
    "load_catalog",
    "notebook_cells",
    "parse_entry",
]

CATALOG = Path(__file__).with_name("catalog")

_KEYS = ("kind", "exercise", "mistake", "caught_by", "message")
_HEADER_LINE = re.compile(r"^#\s*([a-z_]+)\s*:\s*(.*?)\s*$")


class CatalogError(ValueError):
    """A catalog file is malformed or names an exercise or test cell that does not exist."""


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog answer.

    Attributes:
        path: the catalog file.
        assignment: the assignment folder it belongs to.
        kind: ``"wrong"`` or ``"right"``.
        exercise: grade_id of the answer cell it replaces (the function's name).
        source: the full file text, used as the answer cell's source.
        mistake: what is wrong (wrong entries).
        caught_by: test cells that must lose points (wrong entries).
        message: case-insensitive text the failing message must contain, or "" for none.
    """

    path: Path
    assignment: str
    kind: str
    exercise: str
    source: str
    mistake: str = ""
    caught_by: tuple[str, ...] = ()
    message: str = ""

    @property
    def name(self) -> str:
        """The entry's file stem, e.g. ``xavier_uniform__he-variance``."""
        return self.path.stem


def _header(path: Path, text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER_LINE.match(line)
        if match is None:
            continue
        key, value = match.groups()
        if key not in _KEYS:
            raise CatalogError(f"{path}: unknown header key {key!r} (known: {', '.join(_KEYS)})")
        if key in fields:
            raise CatalogError(f"{path}: header key {key!r} appears twice")
        fields[key] = value
    return fields


def parse_entry(path: Path, assignment: str) -> CatalogEntry:
    """Read one catalog file and check its header and code (not yet against the notebook).

    Raises:
        CatalogError: naming the file and what is wrong with it.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    fields = _header(path, text)
    kind = fields.get("kind", "")
    if kind not in ("wrong", "right"):
        raise CatalogError(f"{path}: kind {kind!r} is not one of wrong, right")
    exercise = fields.get("exercise", "")
    if not exercise:
        raise CatalogError(f"{path}: header has no 'exercise:' line")
    caught_by = tuple(c.strip() for c in fields.get("caught_by", "").split(",") if c.strip())
    if kind == "wrong" and not (fields.get("mistake") and caught_by):
        raise CatalogError(f"{path}: a wrong entry needs 'mistake:' and 'caught_by:' lines")
    if kind == "right" and ({"mistake", "caught_by", "message"} & fields.keys()):
        raise CatalogError(f"{path}: a right entry has no mistake, caught_by or message")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise CatalogError(f"{path}: not valid Python: {exc}") from None
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    if exercise not in defined:
        raise CatalogError(f"{path}: does not define the function {exercise!r} (defines: {sorted(defined)})")
    return CatalogEntry(
        path, assignment, kind, exercise, text, fields.get("mistake", ""), caught_by, fields.get("message", "")
    )


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def notebook_cells(assignment: str, root: Path = build.REPO) -> tuple[list[str], list[str]]:
    """(answer cell grade_ids, test cell grade_ids) of an assignment's solution notebooks, in order."""
    answers, tests = [], []
    for name in build.notebooks(assignment, root):
        nb = json.loads((Path(root) / "solutions" / assignment / f"{name}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            meta = _meta(cell)
            if cell["cell_type"] == "code" and meta.get("solution"):
                answers.append(meta["grade_id"])
            elif meta.get("grade") and not meta.get("solution"):
                tests.append(meta["grade_id"])
    return answers, tests


def load_catalog(assignment: str, root: Path = build.REPO, catalog: Path | None = None) -> list[CatalogEntry]:
    """Every catalog entry of ``assignment``, validated against its solution notebook.

    Raises:
        CatalogError: for a malformed file, an unknown exercise or an unknown ``caught_by`` test cell,
            naming the file and the cells that do exist.
    """
    folder = Path(catalog or CATALOG) / assignment
    answers, tests = notebook_cells(assignment, root)
    entries = []
    for path in sorted(folder.glob("*.py")):
        entry = parse_entry(path, assignment)
        if entry.exercise not in answers:
            raise CatalogError(
                f"{path}: exercise {entry.exercise!r} is not an answer cell of {assignment} "
                f"(answer cells: {', '.join(answers)})"
            )
        unknown = [c for c in entry.caught_by if c not in tests]
        if unknown:
            raise CatalogError(
                f"{path}: caught_by names {', '.join(repr(c) for c in unknown)}, not test cells of "
                f"{assignment} (test cells: {', '.join(tests)})"
            )
        entries.append(entry)
    return entries


@dataclass
class Violation:
    """One broken rule."""

    subject: str  # catalog file or "solution"/"blank"
    rule: str
    detail: str = ""


@dataclass
class ExerciseRow:
    """One line of the selfcheck table."""

    assignment: str
    exercise: str
    wrong_caught: int = 0
    wrong_total: int = 0
    right_accepted: int = 0
    right_total: int = 0
    seconds: float = 0.0
    violations: list[Violation] = field(default_factory=list)
