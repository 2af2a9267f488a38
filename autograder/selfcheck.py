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
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import authoring, build

__all__ = [
    "CATALOG",
    "CatalogEntry",
    "CatalogError",
    "ExerciseRow",
    "SelfcheckReport",
    "Violation",
    "judge",
    "load_catalog",
    "main",
    "notebook_cells",
    "parse_entry",
    "run",
    "table",
    "write_submissions",
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
    def code(self) -> str:
        """The answer cell's source: the file without its header comment lines."""
        lines = self.source.splitlines(keepends=True)
        while lines and (lines[0].startswith("#") or not lines[0].strip()):
            lines.pop(0)
        return "".join(lines)

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
        path,
        assignment,
        kind,
        exercise,
        text,
        fields.get("mistake", ""),
        caught_by,
        fields.get("message", ""),
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


# --------------------------------------------------------------------------------------------------
# Grading the catalog with the real pipeline


def _student_id(entry: CatalogEntry) -> str:
    return f"{entry.kind}--{re.sub(r'[^A-Za-z0-9_.-]+', '-', entry.name)}"


def write_submissions(
    assignment: str, entries: list[CatalogEntry], release_dir: Path, dest: Path, root: Path = build.REPO
) -> dict[str, CatalogEntry | str]:
    """Write one submission per entry plus ``solution`` and ``blank``; return student id -> entry/kind.

    Submissions are built from the release notebook, as a student's would be: the answer cells hold the
    solution's code (markers removed) except the entry's exercise, which holds the entry's file.
    """
    students: dict[str, CatalogEntry | str] = {"solution": "solution", "blank": "blank"}
    students.update({_student_id(e): e for e in entries})
    for name in build.notebooks(assignment, root):
        solution = json.loads((Path(root) / "solutions" / assignment / f"{name}.ipynb").read_text("utf-8"))
        answers = authoring.solution_answers(solution)
        release = json.loads((Path(release_dir) / assignment / f"{name}.ipynb").read_text("utf-8"))
        for student, what in students.items():
            given = (
                {}
                if what == "blank"
                else answers
                if what == "solution"
                else {**answers, what.exercise: what.code}
            )  # type: ignore[union-attr]
            folder = Path(dest) / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(authoring.fill_answers(release, given), indent=1)
            (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")
    return students


def _cells_text(result) -> str:
    return ", ".join(f"{c.grade_id} {c.points:g}/{c.max_points:g}" for c in result.cells)


def judge(result, what: CatalogEntry | str) -> list[Violation]:
    """The rules a graded catalog entry (or the solution / the blank release) must satisfy."""
    subject = what if isinstance(what, str) else str(what.path.relative_to(what.path.parents[2]))
    if result is None:
        return [Violation(subject, "was not graded")]
    if result.status != "graded":
        return [Violation(subject, f"is {result.status}, not graded", result.reason)]
    if what == "solution" or (isinstance(what, CatalogEntry) and what.kind == "right"):
        short = [c for c in result.cells if c.points < c.max_points]
        if short or result.score != result.max_score:
            detail = "; ".join(f"{c.grade_id} {c.points:g}/{c.max_points:g}: {c.message}" for c in short)
            return [Violation(subject, "right answer is not given full marks", detail)]
        return []
    if what == "blank":
        return (
            []
            if result.score == 0
            else [Violation(subject, "blank release scores above 0", _cells_text(result))]
        )
    cells = {c.grade_id: c for c in result.cells}
    problems = []
    for gid in what.caught_by:
        cell = cells.get(gid)
        if cell is None or cell.points >= cell.max_points:
            problems.append(Violation(subject, f"wrong answer keeps full points on {gid}", what.mistake))
    if what.message and not problems:
        messages = [cells[g].message for g in what.caught_by]
        if not any(what.message.lower() in m.lower() for m in messages):
            shown = " | ".join(m for m in messages if m) or "(no message)"
            problems.append(
                Violation(subject, f"failing message does not name the mistake {what.message!r}", shown)
            )
    return problems


@dataclass
class SelfcheckReport:
    """The outcome of :func:`run`."""

    rows: list[ExerciseRow]
    violations: list[Violation]
    seconds: float

    @property
    def ok(self) -> bool:
        """True when no rule was broken."""
        return not self.violations


def _rows(assignment: str, entries: list[CatalogEntry], results: dict, root: Path) -> list[ExerciseRow]:
    rows = {ex: ExerciseRow(assignment, ex) for ex in notebook_cells(assignment, root)[0]}
    for entry in entries:
        row = rows[entry.exercise]
        result = results.get((_student_id(entry), assignment))
        broken = judge(result, entry)
        row.violations += broken
        row.seconds += result.seconds if result is not None else 0.0
        if entry.kind == "wrong":
            row.wrong_total += 1
            row.wrong_caught += not broken
        else:
            row.right_total += 1
            row.right_accepted += not broken
    return list(rows.values())


def run(
    assignments: list[str] | None = None,
    *,
    root: Path = build.REPO,
    workers: int | None = None,
    out: Path | None = None,
    progress=None,
    isolate: bool = True,
) -> SelfcheckReport:
    """Grade every catalog entry (and the solution and blank release) of ``assignments`` and judge them.

    Args:
        assignments: which assignments (default: all in ``root/solutions``).
        root: the course root (``solutions/``, ``course/``, ``autograder/catalog``).
        workers: grading worker processes (default: the engine's, one per core).
        out: keep the grading output (grades.csv, results.json) here; default a temporary folder.
        progress: the engine's per-submission callback, e.g. a :class:`autograder.report.GradingProgress`.
        isolate: grade in the bubblewrap sandbox (False: rlimits only, as ``grade --no-sandbox``).

    Raises:
        CatalogError: when a catalog file is malformed (before anything is graded).
    """
    import tempfile

    from autograder import engine

    start = time.perf_counter()
    names = assignments or build.assignments(root)
    catalog = Path(root) / "autograder" / "catalog"
    entries = {a: load_catalog(a, root, catalog) for a in names}
    for a in names:
        if not (Path(root) / "course" / a).is_dir():
            raise ValueError(f"{a} has no release in {Path(root) / 'course'}; run `autograder build {a}`")
    with tempfile.TemporaryDirectory(prefix="autograder-selfcheck-") as tmp:
        subs = Path(tmp) / "submissions"
        for a in names:
            write_submissions(a, entries[a], Path(root) / "course", subs, root)
        options = engine.GradeOptions(course=Path(root), assignments=list(names), isolate=isolate)
        if workers:
            options.workers = workers
        graded = engine.grade(subs, Path(out or Path(tmp) / "out"), options, progress=progress)
    results = {(r.student_id, r.assignment): r for r in graded}
    rows, violations = [], []
    for a in names:
        for kind in ("solution", "blank"):
            found = judge(results.get((kind, a)), kind)
            violations += [Violation(f"{a} {v.subject}", v.rule, v.detail) for v in found]
        mine = _rows(a, entries[a], results, root)
        rows += mine
        violations += [v for row in mine for v in row.violations]
    return SelfcheckReport(rows, violations, time.perf_counter() - start)


def table(report: SelfcheckReport):
    """The exercise x (wrong caught, right accepted, seconds) table as a rich Table."""
    from rich.table import Table

    out = Table(title="Catalog self-check")
    for col in ("assignment", "exercise", "wrong caught", "right accepted", "seconds"):
        out.add_column(col, justify="left" if col in ("assignment", "exercise") else "right")
    for row in report.rows:
        wrong = f"{row.wrong_caught}/{row.wrong_total}"
        right = f"{row.right_accepted}/{row.right_total}"
        out.add_row(
            row.assignment,
            row.exercise,
            wrong if row.wrong_caught == row.wrong_total else f"[red]{wrong}[/]",
            right if row.right_accepted == row.right_total else f"[red]{right}[/]",
            f"{row.seconds:.1f}",
        )
    return out


def main(assignments: list[str] | None = None, *, workers: int | None = None, console=None) -> int:
    """Run the self-check, print the table and every violation; return 1 on any violation."""
    from rich.console import Console

    from autograder.report import GradingProgress

    console = console or Console()
    try:
        with GradingProgress(console=console, description="self-check") as progress:
            report = run(assignments, workers=workers, progress=progress)
    except CatalogError as exc:
        console.print(f"[red]catalog error:[/] {exc}", highlight=False)
        return 1
    console.print(table(report))
    for v in report.violations:
        detail = f" ({v.detail})" if v.detail else ""
        console.print(f"[red]VIOLATION[/] {v.subject}: {v.rule}{detail}", highlight=False)
    wrong = sum(r.wrong_total for r in report.rows)
    right = sum(r.right_total for r in report.rows)
    console.print(
        f"{wrong} wrong and {right} right answers in {len(report.rows)} exercises, "
        f"{len(report.violations)} violations, {report.seconds:.0f} s"
    )
    return 0 if report.ok else 1
