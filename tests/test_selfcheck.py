"""autograder selfcheck: the rules it enforces, and the whole catalog graded by the real pipeline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from autograder import build, selfcheck
from autograder.results import CellResult, SubmissionResult
from autograder.selfcheck import CatalogEntry, judge

ASSIGNMENTS = build.assignments()


def _entry(kind="wrong", caught_by=("f_values",), message=""):
    path = Path("/x/autograder/catalog/01-a/f__slug.py")
    return CatalogEntry(path, "01-a", kind, "f", "def f(): ...", "a mistake", caught_by, message)


def _result(points=(2.0, 1.0), status="graded", message="f[0] is 3.0: did you use He's 2/fan_in?"):
    cells = [
        CellResult("01-a", "f_values", points[0], 2.0, True, True, "" if points[0] == 2 else message),
        CellResult("01-a", "f_shape", points[1], 1.0, True, True, "" if points[1] == 1 else "shape"),
    ]
    return SubmissionResult("s", "01-a", sum(points), 3.0, status, "" if status == "graded" else "why", cells)


def test_wrong_answer_caught_and_named_passes():
    """Is a wrong answer that loses points on its caught_by cell, with the named mistake, accepted?"""
    assert judge(_result((0.0, 1.0)), _entry(message="HE'S")) == []


def test_wrong_answer_keeping_points_is_a_violation():
    """Is a wrong answer with full points on a caught_by cell reported?"""
    (v,) = judge(_result((2.0, 0.0)), _entry())
    assert "keeps full points on f_values" in v.rule


def test_wrong_answer_not_named_is_a_violation():
    """Is a caught wrong answer whose message misses the named mistake reported, showing the message?"""
    (v,) = judge(_result((0.0, 1.0)), _entry(message="Xavier"))
    assert "'Xavier'" in v.rule and "He's 2/fan_in" in v.detail


def test_right_answer_short_of_full_marks_is_a_violation():
    """Is a right answer losing a point anywhere (hidden cases included) reported with the message?"""
    (v,) = judge(_result((2.0, 0.0)), _entry(kind="right", caught_by=()))
    assert "not given full marks" in v.rule and "f_shape 0/1: shape" in v.detail
    assert judge(_result((2.0, 1.0)), _entry(kind="right", caught_by=())) == []


@pytest.mark.parametrize("status", ["flagged", "failed"])
def test_catalog_answers_must_be_graded_not_flagged_or_failed(status):
    """Is a catalog answer that gets flagged (a false accusation) or fails reported?"""
    (v,) = judge(_result((0.0, 1.0), status=status), _entry())
    assert status in v.rule


def test_blank_and_solution_rules():
    """Must the blank release score 0 and the solution full marks?"""
    assert judge(_result((0.0, 0.0)), "blank") == []
    assert judge(_result((0.0, 1.0)), "blank")[0].rule == "blank release scores above 0"
    assert judge(_result((2.0, 1.0)), "solution") == []
    assert judge(_result((2.0, 0.0)), "solution") != []
    assert judge(None, "solution")[0].rule == "was not graded"


def test_submissions_are_the_release_filled_in(tmp_path):
    """Is each catalog submission the release with solution answers and the entry in its exercise cell?"""
    name = ASSIGNMENTS[0]
    entries = selfcheck.load_catalog(name)[:2]
    who = selfcheck.write_submissions(name, entries, build.REPO / "course", tmp_path)
    assert set(who) == {"solution", "blank"} | {selfcheck._student_id(e) for e in entries}
    release = json.loads((build.REPO / "course" / name / f"{name}.ipynb").read_text())
    for student, what in who.items():
        nb = json.loads((tmp_path / student / name / f"{name}.ipynb").read_text())
        assert len(nb["cells"]) == len(release["cells"])
        answers = {
            c["metadata"]["nbgrader"]["grade_id"]: c["source"]
            for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")
        }
        text = "".join("".join(s) if isinstance(s, list) else s for s in answers.values())
        assert "BEGIN SOLUTION" not in text
        assert ("NotImplementedError" in text) == (what == "blank")
        if isinstance(what, CatalogEntry):
            assert answers[what.exercise] == what.code and not what.code.startswith("# kind")
        tests = [c["source"] for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
        assert tests == [
            c["source"] for c in release["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
        ]


@pytest.mark.nbgrader
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_catalog_is_graded_as_it_must_be(name):
    """Are all wrong answers caught and named, all right answers accepted, blank 0 and solution full?"""
    report = selfcheck.run([name])
    buf = io.StringIO()
    Console(file=buf, width=160).print(selfcheck.table(report))
    lines = [f"{v.subject}: {v.rule} ({v.detail})" for v in report.violations]
    assert report.ok, buf.getvalue() + "\n" + "\n".join(lines)


#: A representative subset of one lesson's catalog: in-place, wrong-axis and right alternative answers.
SUBSET = ("clip_by_global_norm__in-place", "clip_by_norm__global", "clip_by_value__right-where")


@pytest.mark.nbgrader
@pytest.mark.parametrize("isolate", [True, False], ids=["sandbox", "no-sandbox"])
def test_catalog_subset_is_graded_as_it_must_be_with_and_without_the_sandbox(tmp_path, isolate):
    """With the sandbox and without it, are wrong answers caught, right ones accepted, nothing flagged?"""
    root = tmp_path / "course"
    folder = root / "autograder" / "catalog" / "05-clipping"
    folder.mkdir(parents=True)
    for name in ("solutions", "course"):
        (root / name).symlink_to(build.REPO / name)
    for name in SUBSET:
        (folder / f"{name}.py").write_bytes((selfcheck.CATALOG / "05-clipping" / f"{name}.py").read_bytes())
    report = selfcheck.run(["05-clipping"], root=root, workers=2, isolate=isolate)
    assert report.ok, [f"{v.subject}: {v.rule} ({v.detail})" for v in report.violations]
    assert sum(r.wrong_caught for r in report.rows) == 2 and sum(r.right_accepted for r in report.rows) == 1
