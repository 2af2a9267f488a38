"""``autograder demo``: the instructor's whole workflow on a simulated class.

1. Build: nbgrader generates every assignment's release from ``solutions/`` in a scratch directory (the
   repository is never written to) and the demo says whether the committed ``course/`` matches it.
2. Release the assignments to nbgrader's exchange (a temporary exchange root, never ``/srv/nbgrader``).
3. Simulate a class: each student fetches its assignments from the exchange, fills them in the way a
   student would (correct answers, right alternatives and common mistakes from ``autograder/catalog``,
   blanks, tampering attempts and broken files) and submits them; the instructor collects them.
4. Grade what was collected with :func:`autograder.engine.grade` (parallel, sandboxed), write feedback and
   the class report, print the summary, and check every student got what their answers deserve:
   tampering never earns points, broken files fail with a reason, correct answers get full marks.
5. Return the feedback through the exchange (a student fetches theirs) and export the grades as a Canvas
   gradebook import, against a roster that also lists a student who never submitted.
"""

from __future__ import annotations

import copy
import csv
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import authoring, build

__all__ = [
    "CLASS_ID",
    "EXPECTATIONS",
    "Kit",
    "Student",
    "build_class",
    "canvas_roster",
    "check_expectations",
    "classroom",
    "load_kits",
    "run_demo",
    "return_and_export",
    "schedule",
    "submit_class",
    "write_class",
]

#: What a student's result must satisfy, by expectation name.
EXPECTATIONS = {
    "full": "graded with full marks",
    "lost points": "graded, below full marks",
    "zero": "graded with 0 points",
    "no gain": "no more points than the same answers without the tampering (any status)",
    "failed": "failed, with a reason",
}

_DEMO_STAMP = ".autograder-demo"
#: The demo class's course id on the exchange.
CLASS_ID = "demo101"
#: A student on the Canvas roster who submitted nothing: the export lists them, it never drops them.
DROPPED = ("Dana Dropped", "s99-dropped")


@dataclass
class Kit:
    """What the class builder needs about one assignment."""

    assignment: str
    release: dict[str, nbformat.NotebookNode]  # notebook name -> release notebook
    answers: dict[str, str]  # answer grade_id -> the solution's source without the markers
    right: dict[str, list[str]] = field(default_factory=dict)  # exercise -> right catalog sources
    wrong: list[tuple[str, str]] = field(default_factory=list)  # (exercise, source) of wrong entries
    max_score: float = 0.0


@dataclass
class Student:
    """A simulated student: how they fill in each assignment, and what their grade must look like."""

    student_id: str
    persona: str
    expect: str
    honest: str  # the grade the same answers earn without tampering: "full" or "zero"
    make: Callable[[Kit, int], dict[str, bytes]]  # (kit, student index) -> file name -> content


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def load_kits(release_root: Path, root: Path = build.REPO) -> list[Kit]:
    """One :class:`Kit` per assignment, from a fresh release and ``root``'s solutions and catalog."""
    from autograder import selfcheck

    kits = []
    for name in build.assignments(root):
        release = {
            p.stem: nbformat.read(p, as_version=4)
            for p in sorted((Path(release_root) / name).glob("*.ipynb"))
        }
        answers: dict[str, str] = {}
        for nb in build.notebooks(name, root):
            solution = nbformat.read(Path(root) / "solutions" / name / f"{nb}.ipynb", as_version=4)
            answers.update(authoring.solution_answers(solution))
        kit = Kit(name, release, answers)
        try:
            entries = selfcheck.load_catalog(name, root, Path(root) / "autograder" / "catalog")
        except selfcheck.CatalogError as exc:  # the demo goes on without that catalog
            print(f"warning: {exc}")
            entries = []
        for entry in entries:
            if entry.kind == "right":
                kit.right.setdefault(entry.exercise, []).append(entry.code)
            else:
                kit.wrong.append((entry.exercise, entry.code))
        kit.max_score = sum(
            float(_meta(c).get("points", 0))
            for nb in release.values()
            for c in nb.cells
            if _meta(c).get("grade") and c.cell_type == "code"
        )
        kits.append(kit)
    return kits


# --------------------------------------------------------------------------------------------------
# How students fill in a notebook


def filled(kit: Kit, replace: dict[str, str] | None = None, *, blank: set[str] = frozenset()) -> dict:
    """The release with every answer cell filled in from the solution, ``replace`` taking precedence.

    Answer cells named in ``blank`` keep the release's stub.
    """
    answers = {**kit.answers, **(replace or {})}
    return {
        name: authoring.fill_answers(release, answers, blank=blank) for name, release in kit.release.items()
    }


def _write(nbs: dict) -> dict[str, bytes]:
    return {f"{name}.ipynb": nbformat.writes(nb).encode("utf-8") for name, nb in nbs.items()}


def _first_answer_cell(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and _meta(c).get("solution"))


def _insert_code(nbs: dict, source: str) -> dict:
    """Add a student cell holding ``source`` right before the first answer cell."""
    for nb in nbs.values():
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.insert(_first_answer_cell(nb), cell)
    return nbs


def correct(kit: Kit, i: int) -> dict[str, bytes]:
    """Every answer as in the solution."""
    return _write(filled(kit))


def alternative(kit: Kit, i: int) -> dict[str, bytes]:
    """Every exercise that has catalog right answers uses one of them (a different one per student)."""
    return _write(filled(kit, {ex: srcs[i % len(srcs)] for ex, srcs in kit.right.items()}))


def mistakes(kit: Kit, i: int) -> dict[str, bytes]:
    """One or two common mistakes from the catalog (different ones per student), the rest correct."""
    if not kit.wrong:
        return _write(filled(kit, blank={next(iter(kit.answers))}))
    picks = {}
    for k in range(1 + i % 2):
        exercise, source = kit.wrong[(3 * i + 7 * k) % len(kit.wrong)]
        picks.setdefault(exercise, source)
    return _write(filled(kit, picks))


def blank(kit: Kit, i: int) -> dict[str, bytes]:
    """The untouched release."""
    return _write(kit.release)


def half_done(kit: Kit, i: int) -> dict[str, bytes]:
    """The first half of the exercises answered, the rest left as released."""
    ids = list(kit.answers)
    return _write(filled(kit, blank=set(ids[(len(ids) + 1) // 2 :])))


def noisy(kit: Kit, i: int) -> dict[str, bytes]:
    """Correct answers whose first function prints a warning on stderr every time it is called."""
    first = next(iter(kit.answers))
    wrapper = (
        f"\n\nimport functools as _ft, warnings as _warn\n_plain_{first} = {first}\n\n\n"
        f"@_ft.wraps(_plain_{first})\ndef {first}(*args, **kwargs):\n"
        f'    _warn.warn("debugging {first}", UserWarning, stacklevel=2)\n'
        f"    return _plain_{first}(*args, **kwargs)\n"
    )
    return _write(filled(kit, {first: kit.answers[first] + wrapper}))


_PATCH_CHECKS = """import importlib, pkgutil, sys
import gradlib.checks
for _m in pkgutil.iter_modules(gradlib.checks.__path__):
    importlib.import_module("gradlib.checks." + _m.name)
for _name, _mod in list(sys.modules.items()):
    if _name.startswith(("gradlib.checks", "numpy.testing")):
        for _attr in dir(_mod):
            _obj = getattr(_mod, _attr)
            if callable(_obj) and not isinstance(_obj, type) and not _attr.startswith("_"):
                setattr(_mod, _attr, lambda *a, **k: 0.0)
"""

_TRANSFORMER = """ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"])
"""

_SHOWTRACEBACK = """ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip._showtraceback = lambda *a, **k: None
"""


def patch_checks(kit: Kit, i: int) -> dict[str, bytes]:
    """Blank answers, and a cell that replaces every check function (and numpy.testing) with a no-op."""
    return _write(_insert_code(filled(kit, blank=set(kit.answers)), _PATCH_CHECKS))


def input_transformer(kit: Kit, i: int) -> dict[str, bytes]:
    """Blank answers, and an IPython input transformer that turns every later cell into ``pass``."""
    return _write(_insert_code(filled(kit, blank=set(kit.answers)), _TRANSFORMER))


def hide_tracebacks(kit: Kit, i: int) -> dict[str, bytes]:
    """Blank answers, and ``showtraceback`` replaced so failing tests show no error."""
    return _write(_insert_code(filled(kit, blank=set(kit.answers)), _SHOWTRACEBACK))


def edit_tests(kit: Kit, i: int) -> dict[str, bytes]:
    """Blank answers, and every locked test cell rewritten to ``print("ok")``."""
    nbs = filled(kit, blank=set(kit.answers))
    for nb in nbs.values():
        for cell in nb.cells:
            if _meta(cell).get("grade") and cell.cell_type == "code":
                cell.source = 'print("ok")'
    return _write(nbs)


def inflate_points(kit: Kit, i: int) -> dict[str, bytes]:
    """Correct answers, with every test cell's points set to 1000 in the metadata."""
    nbs = filled(kit)
    for nb in nbs.values():
        for cell in nb.cells:
            if _meta(cell).get("grade"):
                cell.metadata["nbgrader"]["points"] = 1000
    return _write(nbs)


def duplicate_ids(kit: Kit, i: int) -> dict[str, bytes]:
    """Correct answers, with every test cell duplicated (same cell id and grade id)."""
    nbs = filled(kit)
    for nb in nbs.values():
        tests = [i for i, c in enumerate(nb.cells) if _meta(c).get("grade") and c.cell_type == "code"]
        for k in reversed(tests):
            nb.cells.insert(k + 1, copy.deepcopy(nb.cells[k]))
    return {
        name: json.dumps(nbformat.from_dict(nb), indent=1).encode("utf-8") for name, nb in _named(nbs).items()
    }


def _named(nbs: dict) -> dict:
    return {f"{name}.ipynb": nb for name, nb in nbs.items()}


def kernel_exit(kit: Kit, i: int) -> dict[str, bytes]:
    """Correct answers, and a cell that kills the kernel with ``os._exit``."""
    return _write(_insert_code(filled(kit), "import os\nos._exit(3)"))


def invalid_json(kit: Kit, i: int) -> dict[str, bytes]:
    """A notebook file cut off half-way (invalid JSON)."""
    data = correct(kit, i)
    return {name: raw[: len(raw) // 2] for name, raw in data.items()}


def empty_file(kit: Kit, i: int) -> dict[str, bytes]:
    """An empty file with the right name."""
    return {name: b"" for name in correct(kit, i)}


def nbformat5(kit: Kit, i: int) -> dict[str, bytes]:
    """A notebook claiming nbformat 5."""
    out = {}
    for name, raw in correct(kit, i).items():
        data = json.loads(raw)
        data["nbformat"] = 5
        out[name] = json.dumps(data).encode("utf-8")
    return out


def renamed(kit: Kit, i: int) -> dict[str, bytes]:
    """A correct notebook saved under another name."""
    return {name.replace(".ipynb", "-Copy1.ipynb"): raw for name, raw in correct(kit, i).items()}


def pdf_instead(kit: Kit, i: int) -> dict[str, bytes]:
    """A PDF export uploaded under the notebook's name."""
    return {name: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" for name in correct(kit, i)}


def build_class() -> list[Student]:
    """The simulated class: 35 students, each with a persona, an expectation and a notebook maker."""
    plan = [
        (6, "correct", "full", "full", correct),
        (4, "right alternative", "full", "full", alternative),
        (10, "common mistake", "lost points", "full", mistakes),
        (1, "blank", "zero", "zero", blank),
        (1, "half done", "lost points", "full", half_done),
        (1, "warning on stderr", "full", "full", noisy),
        (1, "tamper: patch checks", "no gain", "zero", patch_checks),
        (1, "tamper: input transformer", "no gain", "zero", input_transformer),
        (1, "tamper: hide tracebacks", "no gain", "zero", hide_tracebacks),
        (1, "tamper: edit locked tests", "no gain", "zero", edit_tests),
        (1, "tamper: inflate points", "no gain", "full", inflate_points),
        (1, "tamper: duplicate cell ids", "no gain", "full", duplicate_ids),
        (1, "broken: kernel os._exit", "failed", "full", kernel_exit),
        (1, "broken: invalid JSON", "failed", "full", invalid_json),
        (1, "broken: empty file", "failed", "full", empty_file),
        (1, "broken: nbformat 5", "failed", "full", nbformat5),
        (1, "broken: renamed notebook", "failed", "full", renamed),
        (1, "broken: PDF upload", "failed", "full", pdf_instead),
    ]
    students = []
    for count, persona, expect, honest, make in plan:
        for _ in range(count):
            n = len(students) + 1
            slug = re.sub(r"[^a-z0-9]+", "-", persona.split(":")[-1].strip().lower()).strip("-")
            students.append(Student(f"s{n:02d}-{slug}", persona, expect, honest, make))
    return students


#: Personas whose files fail the intake checks: they cost no kernel, so they submit every assignment.
_INTAKE_FAILURES = ("invalid_json", "empty_file", "nbformat5", "renamed", "pdf_instead")


def schedule(
    students: list[Student], assignments: list[str], per_student: int | None
) -> dict[str, list[str]]:
    """Which assignments each student submits.

    With ``per_student`` None (or at least the number of assignments) everyone submits everything.
    Otherwise each student whose notebook runs submits ``per_student`` assignments, taken round-robin so
    every assignment gets a mix of personas; broken-file students (no kernel needed) submit everything.
    """
    if per_student is None or per_student >= len(assignments):
        return {s.student_id: list(assignments) for s in students}
    plan, turn = {}, 0
    for s in students:
        if s.make.__name__ in _INTAKE_FAILURES:
            plan[s.student_id] = list(assignments)
            continue
        plan[s.student_id] = sorted(assignments[(turn + k) % len(assignments)] for k in range(per_student))
        turn += per_student
    return plan


def write_class(
    kits: list[Kit], students: list[Student], dest: Path, plan: dict[str, list[str]] | None = None
) -> int:
    """Write every student's submissions in nbgrader's ``<student>/<assignment>/`` layout; return files."""
    files = 0
    for i, student in enumerate(students):
        for kit in kits:
            if plan is not None and kit.assignment not in plan[student.student_id]:
                continue
            folder = Path(dest) / student.student_id / kit.assignment
            folder.mkdir(parents=True, exist_ok=True)
            for name, raw in student.make(kit, i).items():
                (folder / name).write_bytes(raw)
                files += 1
    return files


def check_expectations(
    results, students: list[Student], kits: list[Kit], plan: dict[str, list[str]] | None = None
) -> list[str]:
    """Every scheduled result that does not match its student's expectation, as readable lines."""
    by_key = {(r.student_id, r.assignment): r for r in results}
    full = {k.assignment: k.max_score for k in kits}
    problems = []
    for student in students:
        for kit in kits:
            if plan is not None and kit.assignment not in plan[student.student_id]:
                continue
            r = by_key.get((student.student_id, kit.assignment))
            if r is None:
                problems.append(f"{student.student_id} {kit.assignment}: no result")
                continue
            honest = full[kit.assignment] if student.honest == "full" else 0.0
            ok = {
                "full": r.status == "graded" and r.score == full[kit.assignment] == r.max_score,
                "lost points": r.status == "graded" and r.score < full[kit.assignment],
                "zero": r.status == "graded" and r.score == 0,
                "no gain": r.score <= honest and r.max_score == full[kit.assignment],
                "failed": r.status == "failed" and bool(r.reason) and r.score == 0,
            }[student.expect]
            if not ok:
                problems.append(
                    f"{student.student_id} {kit.assignment}: expected {student.expect} "
                    f"({EXPECTATIONS[student.expect]}), got {r.status} {r.score:g}/{r.max_score:g} {r.reason}"
                )
    return problems


# --------------------------------------------------------------------------------------------------
# The classroom loop through nbgrader's exchange: release, submit, collect, return, export


def classroom(root: Path, release: Path, exchange_root: Path):
    """An nbgrader course at ``root`` (its ``course/`` copied from ``release``) on ``exchange_root``."""
    from autograder import exchange

    shutil.copytree(release, Path(root) / "course", dirs_exist_ok=True)
    Path(exchange_root).mkdir(parents=True, exist_ok=True)
    return exchange.course(Path(root), exchange=Path(exchange_root), course_id=CLASS_ID, config_files=[])


def _as_student(c, student_id: str, assignment: str, home: Path):
    """The course directory and authenticator of nbgrader as ``student_id`` sees them, in ``home``."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    cfg = copy.deepcopy(c.config)
    cfg.CourseDirectory.student_id = student_id
    cfg.CourseDirectory.assignment_id = assignment
    cfg.Exchange.assignment_dir = str(home)
    cfg.Exchange.cache = str(home / ".nbgrader-cache")  # each student's own, as on a hub
    return {
        "coursedir": CourseDirectory(config=cfg),
        "authenticator": Authenticator(config=cfg),
        "config": cfg,
    }


def submit_class(c, kits: list[Kit], students: list[Student], plan: dict[str, list[str]], homes: Path) -> int:
    """Each student fetches its scheduled assignments from the exchange, fills them in and submits them.

    nbgrader's own fetch and submit (``ExchangeFetchAssignment``, ``ExchangeSubmit``) run as the student
    id, in the student's home under ``homes``. Returns the number of submissions.
    """
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    count = 0
    for i, student in enumerate(students):
        home = Path(homes) / student.student_id
        home.mkdir(parents=True, exist_ok=True)
        for kit in kits:
            if kit.assignment not in plan[student.student_id]:
                continue
            ExchangeFetchAssignment(**_as_student(c, student.student_id, kit.assignment, home)).start()
            folder = home / kit.assignment
            for fetched in folder.glob("*.ipynb"):
                fetched.unlink()  # the student's own files replace the release
            for name, raw in student.make(kit, i).items():
                (folder / name).write_bytes(raw)
            ExchangeSubmit(**_as_student(c, student.student_id, kit.assignment, home)).start()
            count += 1
    return count


def canvas_roster(students: list[Student], path: Path) -> Path:
    """A Canvas gradebook export for the class, plus :data:`DROPPED`, who never submitted."""
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]]
    rows.append(["Points Possible", "", "", "", ""])
    people = [(s.persona.title(), s.student_id) for s in students] + [DROPPED]
    for n, (name, login) in enumerate(people, 1):
        rows.append([name, str(1000 + n), f"U{n:04d}", login, "Demo 101"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return Path(path)


def return_and_export(c, names: list[str], out: Path, students: list[Student], homes: Path, console):
    """Release feedback through the exchange, let one student fetch theirs, write the Canvas import.

    Returns the :class:`autograder.export.ExportReport`.
    """
    from nbgrader.exchange.default import ExchangeFetchFeedback

    from autograder import exchange, export

    released, skipped = exchange.return_feedback(c, names, out)
    console.print(f"released feedback to {len(released)} submissions; {len(skipped)} without a page")
    for line in skipped[:3]:
        console.print(f"  no feedback: {line}", highlight=False)
    first = students[0].student_id
    for name in names:
        if (c.submitted_dir / first / name).is_dir():
            home = Path(homes) / first
            ExchangeFetchFeedback(**_as_student(c, first, name, home)).start()
            pages = sorted((home / name / "feedback").rglob("*.html"))
            console.print(
                f"{first} fetched their feedback for {name}: {len(pages)} page(s) under {home / name}"
            )
    roster = canvas_roster(students, Path(out) / "canvas-roster.csv")
    report = export.export(
        export.read_grades(Path(out) / "grades.csv"),
        "canvas",
        Path(out) / "canvas-import.csv",
        export.read_roster(roster, "canvas"),
        late=export.read_late(c.root / exchange.COLLECTED_FILE),
    )
    for line in report.lines():
        console.print(line, highlight=False)
    return report


# --------------------------------------------------------------------------------------------------
# The whole demo


def _stale(fresh: Path, root: Path) -> list[str]:
    """Committed release notebooks whose cells differ from the fresh build."""
    stale = []
    for path in sorted(Path(fresh).glob("*/*.ipynb")):
        committed = Path(root) / "course" / path.parent.name / path.name
        if not committed.exists():
            stale.append(f"{committed.relative_to(root)} is missing")
            continue
        new, old = (json.loads(p.read_text(encoding="utf-8"))["cells"] for p in (path, committed))
        strip = [
            [(c["cell_type"], "".join(c["source"]), c.get("metadata")) for c in cells] for cells in (new, old)
        ]
        if strip[0] != strip[1]:
            stale.append(f"{committed.relative_to(root)} differs from a fresh build")
    return stale


def _prepare_out(out: Path) -> None:
    if out.exists():
        if not (out / _DEMO_STAMP).exists():
            raise ValueError(f"{out} exists and was not made by `autograder demo`; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / _DEMO_STAMP).write_text("made by autograder demo; deleted by the next run\n", encoding="utf-8")


def _grade(submissions: Path, out: Path, plan: dict[str, list[str]], options, console) -> list:
    """Grade with the engine in one run; keep the rows of the assignments each student was scheduled for.

    The engine adds a "nothing submitted" row for every assignment a student did not hand in; a simulated
    student submits only the assignments of its plan, so the other rows are dropped (the gradebook holds
    no submission for them either).
    """
    from dataclasses import replace

    from autograder import engine, report
    from autograder.results import save_results, write_csv

    names = sorted({a for picks in plan.values() for a in picks})
    total = sum(len(p) for p in plan.values())
    options = replace(
        options, db_url=options.db_url or "sqlite:///" + str(out / "gradebook.db"), assignments=names
    )
    with report.GradingProgress(total=total, console=console) as progress:
        scheduled = 0

        def step(result, _done, _total):
            nonlocal scheduled
            if result.assignment in plan.get(result.student_id, names):
                scheduled += 1
                progress(result, scheduled, total)

        results = engine.grade(submissions, out, options, progress=step)
    results = [r for r in results if r.assignment in plan.get(r.student_id, names)]
    results.sort(key=lambda r: (r.student_id, r.assignment))
    write_csv(results, out / "grades.csv")
    save_results(results, out / "results.json")
    return results


def run_demo(
    out: Path,
    *,
    workers: int | None = None,
    per_student: int | None = 1,
    root: Path = build.REPO,
    console=None,
) -> int:
    """Build, simulate the class, grade, report; return 0 when every expectation holds, else 1.

    Args:
        out: output folder (replaced if an earlier demo made it).
        workers: grading workers (default: one per core).
        per_student: assignments each student whose notebook runs submits (None: all of them).
        root: the course root.
        console: a rich Console for the output.
    """
    from rich.console import Console

    from autograder import engine, report

    console = console or Console()
    out = Path(out).resolve()
    _prepare_out(out)
    start = time.perf_counter()
    names = build.assignments(root)
    if not names:
        raise ValueError(f"no assignments in {Path(root) / 'solutions'}")
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as tmp:
        console.rule("[bold]1. Build the release with nbgrader")
        prepared = engine.prepare_course(root, names, Path(tmp), [])
        release = prepared.root / "course"
        for problem in _stale(release, root):
            console.print(f"[yellow]course/ is stale:[/] {problem} (run `autograder build`)")
        took = time.perf_counter() - start
        console.print(f"built {len(names)} assignments: {', '.join(names)} ({took:.0f} s)")

        console.rule("[bold]2. Release to nbgrader's exchange")
        from autograder import exchange

        c = classroom(out / "classroom", release, Path(tmp) / "exchange")
        exchange.release(c, names)
        console.print(f"released {len(names)} assignments to {c.exchange / CLASS_ID / 'outbound'}")

        console.rule("[bold]3. Students fetch, fill in and submit; the instructor collects")
        kits, students = load_kits(release, root), build_class()
        plan = schedule(students, names, per_student)
        homes = out / "students"
        submitted = submit_class(c, kits, students, plan, homes)
        personas: dict[str, int] = {}
        for s in students:
            personas[s.persona] = personas.get(s.persona, 0) + 1
        console.print(", ".join(f"{n} x {p}" for p, n in personas.items()), highlight=False)
        console.print(f"{len(students)} students submitted {submitted} assignments (their folders: {homes})")
        rows, warnings = exchange.collect(c, names)
        console.print(f"collected {len(rows)} submissions with their timestamps into {c.submitted_dir}")
        if warnings:
            console.print(
                f"(nbgrader notes {len(warnings)} submissions not owned by their student: in this demo one "
                "system user submits for the whole class)"
            )

        console.rule("[bold]4. Grade (parallel, sandboxed)")
        options = engine.GradeOptions(course=Path(root))
        if workers:
            options.workers = workers
        graded_at = time.perf_counter()
        results = _grade(c.submitted_dir, out, plan, options, console)
        seconds = time.perf_counter() - graded_at
        console.print(f"graded {len(results)} submissions in {seconds:.0f} s ({options.workers} workers)")

        console.rule("[bold]5. Feedback, report, summary")
        report.publish(results, out, release_dir=release, console=console, title="Demo class")

        console.rule("[bold]6. Return feedback through the exchange; export grades for Canvas")
        return_and_export(c, names, out, students, homes, console)

    problems = check_expectations(results, students, kits, plan)
    console.rule("[bold]7. Did every student get what their answers deserve?")
    for problem in problems:
        console.print(f"[red]MISMATCH[/] {problem}", highlight=False)
    total = sum(len(p) for p in plan.values())
    verdict = "[green]yes[/]" if not problems else f"[red]no: {len(problems)} of {total} results[/]"
    console.print(f"{total - len(problems)}/{total} results as expected: {verdict}")
    console.print(f"grades: {out / 'grades.csv'}   report: {out / 'report.html'}")
    console.print(f"Canvas import: {out / 'canvas-import.csv'}")
    console.print(f"demo finished in {time.perf_counter() - start:.0f} s")
    return 1 if problems else 0
