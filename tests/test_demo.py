"""autograder demo: the simulated class is what it claims to be, and expectations are judged correctly."""

from __future__ import annotations

import json

import pytest

from autograder import build, demo
from autograder.results import SubmissionResult
from autograder.submissions import check_notebook

BROKEN = {"invalid JSON", "empty file", "nbformat 5", "PDF upload"}


@pytest.fixture(scope="module")
def kits():
    return [k for k in demo.load_kits(build.REPO / "course") if k.release]  # built assignments


@pytest.fixture(scope="module")
def written(kits, tmp_path_factory):
    dest = tmp_path_factory.mktemp("class")
    students = demo.build_class()
    demo.write_class(kits, students, dest)
    return dest, students


def _answers(path) -> dict[str, str]:
    nb = json.loads(path.read_text())
    return {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in nb["cells"]
        if c["metadata"].get("nbgrader", {}).get("solution") and c["cell_type"] == "code"
    }


def test_class_is_large_and_covers_every_case():
    """Are there >= 30 students with unique ids, covering correct, mistakes, blanks, tampering, broken?"""
    students = demo.build_class()
    assert len(students) >= 30
    assert len({s.student_id for s in students}) == len(students)
    personas = {s.persona for s in students}
    for needed in ("correct", "right alternative", "common mistake", "blank"):
        assert needed in personas
    tampering = {p.split(": ")[1] for p in personas if p.startswith("tamper")}
    assert {"patch checks", "input transformer", "edit locked tests", "inflate points"} <= tampering
    assert "duplicate cell ids" in tampering
    broken = {p.split(": ")[1] for p in personas if p.startswith("broken")}
    assert BROKEN | {"renamed notebook"} <= broken


def test_every_student_submits_every_assignment(written, kits):
    """Does each student have a folder per assignment holding one file per notebook?"""
    dest, students = written
    for s in students:
        for kit in kits:
            files = list((dest / s.student_id / kit.assignment).iterdir())
            assert len(files) == len(kit.release)


def test_broken_files_are_broken_and_the_others_are_valid(written, kits):
    """Do the broken personas produce unreadable files and every other persona a valid notebook?"""
    dest, students = written
    for s in students:
        kind = s.persona.split(": ")[-1]
        for kit in kits:
            for path in (dest / s.student_id / kit.assignment).iterdir():
                problem = check_notebook(path)
                if kind in BROKEN:
                    assert problem, f"{s.student_id} {path.name} should be broken"
                elif kind == "renamed notebook":
                    assert path.stem not in kit.release
                elif kind != "duplicate cell ids":
                    assert problem == "", f"{s.student_id}: {problem}"


def test_correct_students_submit_the_solution_code(written, kits):
    """Do correct students' answer cells hold the solution code, without stubs or solution markers?"""
    dest, students = written
    s = next(s for s in students if s.persona == "correct")
    for kit in kits:
        for name in kit.release:
            answers = _answers(dest / s.student_id / kit.assignment / f"{name}.ipynb")
            text = "\n".join(answers.values())
            assert "NotImplementedError()" not in text and "BEGIN SOLUTION" not in text
            assert answers == {k: v for k, v in kit.answers.items() if k in answers}


def test_mistakes_are_catalog_wrong_answers_and_vary(written, kits):
    """Do mistake students differ from the solution only by catalog wrong answers, not all the same?"""
    dest, students = written
    seen = set()
    for s in (s for s in students if s.persona == "common mistake"):
        for kit in kits:
            name = next(iter(kit.release))
            answers = _answers(dest / s.student_id / kit.assignment / f"{name}.ipynb")
            changed = {k: v for k, v in answers.items() if v != kit.answers[k]}
            assert 1 <= len(changed) <= 2
            assert all((k, v) in kit.wrong for k, v in changed.items())
            seen |= set(changed.items())
    assert len(seen) >= 10


def _r(student, assignment, score, max_score, status="graded", reason=""):
    return SubmissionResult(student, assignment, score, max_score, status, reason)


def test_expectations_catch_tampering_gains_and_false_zeros(kits):
    """Does the demo's judge flag a tamperer who gained points and a correct student scored 0?"""
    kit = kits[0]
    top = kit.max_score
    students = [s for s in demo.build_class() if s.persona in ("correct", "tamper: patch checks")][-2:]
    good = [
        _r(students[0].student_id, kit.assignment, top, top),
        _r(students[1].student_id, kit.assignment, 0, top, "flagged", "x"),
    ]
    assert demo.check_expectations(good, students, [kit]) == []
    bad = [
        _r(students[0].student_id, kit.assignment, 0, top),
        _r(students[1].student_id, kit.assignment, top, top, "flagged", "x"),
    ]
    problems = demo.check_expectations(bad, students, [kit])
    assert len(problems) == 2 and "expected full" in problems[0] and "expected no gain" in problems[1]


def test_schedule_mixes_personas_over_every_assignment():
    """Does every assignment get correct, mistaken and tampering students, and broken files everywhere?"""
    students = demo.build_class()
    names = [f"0{i}-a" for i in range(1, 8)]
    plan = demo.schedule(students, names, 2)
    for name in names:
        personas = {s.persona.split(":")[0] for s in students if name in plan[s.student_id]}
        assert {"correct", "common mistake", "tamper", "broken"} <= personas, name
    broken = [s for s in students if s.persona.startswith("broken") and "os._exit" not in s.persona]
    assert all(plan[s.student_id] == names for s in broken)
    assert demo.schedule(students, names, None) == {s.student_id: names for s in students}


@pytest.mark.nbgrader
def test_one_grading_run_keeps_only_the_scheduled_rows(kits, tmp_path):
    """Graded in one engine run, does the demo keep each student's scheduled assignments and no other?"""
    import io

    from rich.console import Console

    from autograder import engine

    by_name = {k.assignment: k for k in kits}
    plan = {"a": ["01-backprop"], "b": ["06-residual"]}
    for student, names in plan.items():
        for name in names:
            folder = tmp_path / "submissions" / student / name
            folder.mkdir(parents=True)
            for filename, raw in demo.correct(by_name[name], 0).items():
                (folder / filename).write_bytes(raw)
    out = tmp_path / "out"
    out.mkdir()
    options = engine.GradeOptions(workers=1)
    results = demo._grade(tmp_path / "submissions", out, plan, options, Console(file=io.StringIO()))
    assert [(r.student_id, r.assignment, r.status) for r in results] == [
        ("a", "01-backprop", "graded"),
        ("b", "06-residual", "graded"),
    ]
    assert [r.score == r.max_score for r in results] == [True, True]
    assert (out / "grades.csv").read_text().count("\n") == 3


@pytest.mark.nbgrader
@pytest.mark.parametrize("isolate", [True, False], ids=["sandbox", "no-sandbox"])
def test_every_student_gets_what_their_answers_deserve_with_and_without_the_sandbox(kits, tmp_path, isolate):
    """With the sandbox and without, are right, wrong, blank and tampering students judged as expected?"""
    import io

    from rich.console import Console

    from autograder import engine

    kit = next(k for k in kits if k.assignment == "05-clipping")
    personas = ("correct", "common mistake", "blank", "tamper: patch checks", "tamper: input transformer")
    everyone = demo.build_class()
    students = [next(s for s in everyone if s.persona == p) for p in personas]
    plan = {s.student_id: [kit.assignment] for s in students}
    demo.write_class([kit], students, tmp_path / "submissions", plan)
    out = tmp_path / "out"
    out.mkdir()
    options = engine.GradeOptions(workers=2, isolate=isolate)
    results = demo._grade(tmp_path / "submissions", out, plan, options, Console(file=io.StringIO()))
    assert demo.check_expectations(results, students, [kit], plan) == []
    tampering = {s.student_id for s in students if s.persona.startswith("tamper")}
    honest = [r for r in results if r.student_id not in tampering]
    assert all(r.status == "graded" and r.reason == "" for r in honest), honest


@pytest.mark.nbgrader
def test_every_lesson_judged_as_deserved_without_the_sandbox(kits, tmp_path):
    """Without the sandbox, are right and wrong answers to every lesson graded, none flagged, as deserved?

    Each lesson sets up its kernel differently (matplotlib, ipywidgets, torch, the digits data); a probe
    that mistakes one lesson's own set-up for tampering, as happened without namespaces, flags every honest
    student of that lesson. The sandboxed mode is covered lesson by lesson by ``make demo`` and selfcheck.
    """
    import io

    from rich.console import Console

    from autograder import engine

    everyone = demo.build_class()
    students = [next(s for s in everyone if s.persona == p) for p in ("correct", "common mistake")]
    plan = {s.student_id: [k.assignment for k in kits] for s in students}
    demo.write_class(kits, students, tmp_path / "submissions", plan)
    out = tmp_path / "out"
    out.mkdir()
    options = engine.GradeOptions(workers=2, isolate=False)
    results = demo._grade(tmp_path / "submissions", out, plan, options, Console(file=io.StringIO()))
    assert len(results) == 2 * len(kits) >= 16
    assert demo.check_expectations(results, students, kits, plan) == []
    assert all(r.status == "graded" and r.reason == "" for r in results), [
        (r.student_id, r.assignment, r.status, r.reason) for r in results if r.status != "graded" or r.reason
    ]
    assert all(r.sandbox.startswith("NO SANDBOX (--no-sandbox)") for r in results)


@pytest.mark.nbgrader
def test_the_classroom_loop_through_the_exchange(kits, tmp_path):
    """Released, submitted, collected, graded, returned and exported: does every step reach every student?"""
    import csv
    import io

    from rich.console import Console

    from autograder import engine, exchange, report

    kit = next(k for k in kits if k.assignment == "05-clipping")
    everyone = demo.build_class()
    students = [next(s for s in everyone if s.persona == p) for p in ("correct", "common mistake")]
    students.append(next(s for s in everyone if s.persona == "broken: PDF upload"))
    plan = {s.student_id: [kit.assignment] for s in students}
    console = Console(file=io.StringIO(), width=200)
    c = demo.classroom(tmp_path / "classroom", build.REPO / "course", tmp_path / "exchange")
    exchange.release(c, [kit.assignment])
    assert demo.submit_class(c, [kit], students, plan, tmp_path / "homes") == 3
    rows, _ = exchange.collect(c, [kit.assignment])
    assert sorted(r.student_id for r in rows) == sorted(plan) and all(r.timestamp for r in rows)

    out = tmp_path / "out"
    out.mkdir()
    results = demo._grade(c.submitted_dir, out, plan, engine.GradeOptions(workers=2), console)
    assert demo.check_expectations(results, students, [kit], plan) == []
    release = build.REPO / "course"
    report.publish(results, out, release_dir=release, console=console)
    export_report = demo.return_and_export(c, [kit.assignment], out, students, tmp_path / "homes", console)

    first = students[0].student_id
    fetched = list((tmp_path / "homes" / first / kit.assignment / "feedback").rglob("*.html"))
    mine = sorted((out / "feedback" / first / kit.assignment).glob("*.html"))
    assert mine and sorted(p.read_bytes() for p in fetched) == [p.read_bytes() for p in mine]
    released = list((c.exchange / demo.CLASS_ID / "feedback").glob("*.html"))  # named by nbgrader's hash
    assert len(released) == 3  # the PDF upload's page says why it could not be graded
    with open(out / "canvas-import.csv", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert table[1][0] == "Points Possible" and float(table[1][5]) == kit.max_score
    scores = {r.student_id: r.score for r in results}
    exported = {row[3]: row[5] for row in table[2:]}
    assert exported == {**{s: f"{scores[s]:g}" for s in scores}, demo.DROPPED[1]: ""}
    assert any(demo.DROPPED[0] in line for line in export_report.no_submission)
