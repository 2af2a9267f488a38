"""End-to-end grading with real nbgrader, real kernels and the bubblewrap sandbox, on a toy course."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from autograder_fixtures import (  # noqa: F401
    ASSIGNMENT,
    DOUBLE,
    MAX_SCORE,
    WRONG_DOUBLE,
    student_notebook,
    toy_course,
    write_class,
    write_nbgrader_layout,
)

from autograder import engine
from autograder.results import CSV_COLUMNS, load_results

pytestmark = [pytest.mark.nbgrader, pytest.mark.sandbox]

OPTIONS = dict(workers=2, cell_timeout=8, notebook_timeout=20)
#: Students whose CSV rows the second (single-worker, zipped, command-line) run must reproduce.
SAMPLE = ("alice", "bob", "blank", "exiter", "np_patcher", "warner")


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="session")
def graded(toy_course, tmp_path_factory):  # noqa: F811
    """The class graded once with two workers: (submissions, out dir, CSV rows, digest before, course)."""
    base = tmp_path_factory.mktemp("graded")
    out = base / "out"
    secrets = [str(toy_course / "solutions"), str(out / "gradebook.db"), str(base / "submissions" / "bob")]
    subs = write_class(base / "submissions", toy_course, secrets)
    before = _digest(subs)
    engine.grade(subs, out, engine.GradeOptions(course=toy_course, **OPTIONS))
    return subs, out, _rows(out / "grades.csv"), before, toy_course


def row(graded, student):
    return graded[2][student]


def test_csv_columns_and_order(graded):
    """Does grades.csv have exactly the agreed columns and one sorted row per student x assignment?"""
    lines = (graded[1] / "grades.csv").read_text().splitlines()
    assert lines[0].split(",") == list(CSV_COLUMNS)
    students = [line.split(",")[0] for line in lines[1:]]
    assert students == sorted(students) and len(students) == 24
    assert all(r["assignment"] == ASSIGNMENT and r["max_score"] == "3" for r in graded[2].values())


@pytest.mark.parametrize(
    ("student", "score"), [("alice", "3"), ("bob", "1"), ("blank", "0"), ("warner", "3"), ("spy", "1")]
)
def test_honest_scores(graded, student, score):
    """Do honest submissions (right, wrong, blank, warning on stderr) get their exact score, unflagged?"""
    r = row(graded, student)
    assert (r["status"], r["score"], r["reason"]) == ("graded", score, "")


def test_warning_is_not_a_false_zero(graded):
    """Does a warning on stderr, which nbgrader scores 0 in the kernel, still earn the points?"""
    result = next(r for r in load_results(graded[1] / "results.json") if r.student_id == "warner")
    cell = next(c for c in result.cells if c.grade_id == "double_values")
    assert cell.passed_in_kernel is False and cell.passed_clean is True and cell.points == 2


def test_failure_message_is_the_checks(graded):
    """Does a failed cell carry the check's message (and no hidden test source)?"""
    result = next(r for r in load_results(graded[1] / "results.json") if r.student_id == "bob")
    cell = next(c for c in result.cells if c.grade_id == "double_values")
    assert "double is wrong" in cell.message and "HIDDEN" not in cell.message


@pytest.mark.parametrize(
    ("student", "score", "reason"),
    [
        ("np_patcher", "2", "total_value passed in the kernel but fails the clean-room re-check"),
        ("gl_patcher", "1", "replaced gradlib.checks.core.assert_close"),
        ("bi_patcher", "2", "replaced builtins.__import__"),
        ("transformer", "2", "installed an input transformer"),
        ("tb_hider", "2", "installed a showtraceback hook"),
        ("test_editor", "2", "test cell total_value was edited (restored from the gradebook)"),
        ("test_deleter", "2", "test cell total_value was deleted (restored from the gradebook)"),
        ("points_changer", "3", "points of double_values changed from 2 to 100"),
        ("duplicator", None, "duplicated cell ids: double"),
        ("detacher", "3", "process(es) running after its cells finished"),
    ],
)
def test_tampering_is_flagged_and_earns_nothing(graded, student, score, reason):
    """Is each kind of tampering flagged with a reason, scored without what it could have earned?"""
    r = row(graded, student)
    assert r["status"] == "flagged" and reason in r["reason"], r
    if score is not None:
        assert r["score"] == score


def test_kernel_cannot_read_course_gradebook_or_others(graded):
    """Does a kernel that looks for solutions/, the gradebook or another submission find none of them?"""
    assert row(graded, "spy")["score"] == "1"  # 3 if any of them were visible


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("dave_empty", "is an empty file"),
        ("erin_json", "is not valid JSON"),
        ("nb5", "has nbformat 5"),
        ("pdf", "is not a notebook"),
        ("missing", "missing notebook 01-toy.ipynb"),
        ("renamed", "renamed notebook: expected 01-toy.ipynb, found Copy of 01-toy.ipynb"),
        ("huge", "printed more than 8 MB of output"),
        ("exiter", "the kernel died"),
        ("swallower", "ignored the interrupt|whole-notebook limit"),
    ],
)
def test_bad_input_fails_with_reason(graded, student, reason):
    """Does each broken submission fail with a clear reason and a zero, while the rest are graded?"""
    r = row(graded, student)
    assert (r["status"], r["score"]) == ("failed", "0") and re.search(reason, r["reason"]), r


def test_submissions_unchanged(graded):
    """Are the submitted files byte-for-byte the same after grading?"""
    assert _digest(graded[0]) == graded[3]


def test_gradebook_matches_csv(graded):
    """Does the gradebook hold the clean-room scores, flags, and no submission for failed rows?"""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook("sqlite:///" + str(graded[1] / "gradebook.db")) as gb:
        for student, r in graded[2].items():
            if r["status"] == "failed":
                with pytest.raises(MissingEntry):
                    gb.find_submission(ASSIGNMENT, student)
                continue
            sub = gb.find_submission(ASSIGNMENT, student)
            assert sub.score == float(r["score"]), student
            assert all(nb.flagged == (r["status"] == "flagged") for nb in sub.notebooks)


def test_failed_regrade_leaves_no_stale_scores(graded, tmp_path):
    """Does re-grading alice with a broken file remove her old scores from the gradebook and CSV?"""
    from nbgrader.api import Gradebook, MissingEntry

    out = graded[1]
    again = tmp_path / "again" / "alice" / ASSIGNMENT
    again.mkdir(parents=True)
    (again / f"{ASSIGNMENT}.ipynb").write_text("{broken")
    copy_out = tmp_path / "out"
    shutil.copytree(out, copy_out)
    engine.grade(tmp_path / "again", copy_out, engine.GradeOptions(course=graded[4], **OPTIONS))
    assert _rows(copy_out / "grades.csv")["alice"]["status"] == "failed"
    with Gradebook("sqlite:///" + str(copy_out / "gradebook.db")) as gb:
        with pytest.raises(MissingEntry):
            gb.find_submission(ASSIGNMENT, "alice")
        assert gb.find_submission(ASSIGNMENT, "bob").score == 1
    assert not (copy_out / "autograded" / "alice" / ASSIGNMENT).exists()


def test_single_worker_zip_cli_gives_same_rows(graded, toy_course, tmp_path):  # noqa: F811
    """Does `autograder grade` on an LMS zip with one worker reproduce the two-worker rows exactly?"""
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in SAMPLE:
            nb = graded[0] / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            zf.write(nb, f"download/{student}_{ASSIGNMENT}.ipynb")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "grade", str(archive), "--out", str(out), "--workers", "1"]
    cmd += ["--course", str(toy_course), "--cell-timeout", "8", "--notebook-timeout", "20"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _rows(out / "grades.csv") == {s: graded[2][s] for s in SAMPLE}
    noise = done.stderr.lower()
    assert "checksum" not in noise and "tamper" not in noise and "warning" not in noise, done.stderr


KILL_PARENT = "import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(3)\n"


def test_a_student_who_kills_the_zygotes_costs_only_their_own_grade(toy_course, tmp_path):  # noqa: F811
    """With one worker, is a notebook that kills its kernel's parent (a zygote) the only one affected?"""
    from autograder import sandbox

    students = {
        "a_first": student_notebook(toy_course),
        "b_killer": student_notebook(toy_course, {"double": KILL_PARENT + DOUBLE}),
        "c_after": student_notebook(toy_course),
        "d_wrong": student_notebook(toy_course, {"double": WRONG_DOUBLE}),
    }
    subs = write_nbgrader_layout(tmp_path / "submissions", students)
    options = engine.GradeOptions(course=toy_course, **{**OPTIONS, "workers": 1})
    got = {r.student_id: (r.status, r.score) for r in engine.grade(subs, tmp_path / "out", options)}
    assert got["a_first"] == got["c_after"] == ("graded", MAX_SCORE) and got["d_wrong"] == ("graded", 1)
    if sandbox.bwrap_available()[0]:  # the kernel's parent is its zygote: killing it kills the kernel
        assert got["b_killer"][0] == "failed"


# ----------------------------------------------------------------------------------------------
# Without namespaces (--no-sandbox, or no bubblewrap): rlimits only, no false flags.

#: student -> (status, score, text the reason must contain) when graded without the sandbox.
WITHOUT_SANDBOX = {
    "alice": ("graded", "3", ""),
    "bob": ("graded", "1", ""),
    "blank": ("graded", "0", ""),
    "warner": ("graded", "3", ""),
    "np_patcher": ("flagged", "2", "total_value passed in the kernel but fails the clean-room re-check"),
    "gl_patcher": ("flagged", "1", "replaced gradlib.checks.core.assert_close"),
    "transformer": ("flagged", "2", "installed an input transformer"),
    "detacher": ("flagged", "3", "process(es) running after its cells finished"),
}


@pytest.fixture(scope="session")
def graded_without_sandbox(toy_course, tmp_path_factory):  # noqa: F811
    """Honest, wrong and tampering students graded with ``isolate=False``: (CSV rows, results)."""
    base = tmp_path_factory.mktemp("no-sandbox")
    subs = write_class(base / "submissions", toy_course, [])
    for folder in list(subs.iterdir()):
        if folder.name not in WITHOUT_SANDBOX:
            shutil.rmtree(folder)
    options = engine.GradeOptions(course=toy_course, isolate=False, **OPTIONS)
    results = engine.grade(subs, base / "out", options)
    return _rows(base / "out" / "grades.csv"), results


@pytest.mark.parametrize("student", sorted(WITHOUT_SANDBOX))
def test_without_sandbox_honest_is_graded_and_tampering_flagged(graded_without_sandbox, student):
    """Without namespaces, is an honest student graded with no flag and a tampering one still flagged?"""
    status, score, reason = WITHOUT_SANDBOX[student]
    r = graded_without_sandbox[0][student]
    assert (r["status"], r["score"]) == (status, score), r
    assert reason in r["reason"] if reason else r["reason"] == "", r


def test_without_sandbox_the_limits_are_stated_once_per_run_not_as_flags(graded_without_sandbox):
    """Does each result name the missing sandbox in its sandbox field, and no reason mention it?"""
    results = graded_without_sandbox[1]
    assert {r.sandbox for r in results} == {
        engine.sandbox.describe(engine.sandbox.SandboxPolicy(isolate=False))
    }
    assert all(r.sandbox.startswith("NO SANDBOX") and "read every file" in r.sandbox for r in results)
    assert not any("sandbox" in r.reason.lower() for r in results)


def _path_without_bwrap(folder: Path) -> str:
    """A PATH holding every program of the system's PATH but ``bwrap`` (symlinks in ``folder``)."""
    folder.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin"):
        for program in Path(directory).iterdir() if Path(directory).is_dir() else []:
            link = folder / program.name
            if program.name != "bwrap" and not link.exists():
                link.symlink_to(program)
    return f"{Path(sys.executable).parent}{':'}{folder}"


def test_without_bwrap_on_path_grading_falls_back_and_says_so_once(toy_course, tmp_path):  # noqa: F811
    """With bwrap hidden from PATH, does `autograder grade` grade honestly, flag tampering, warn once?"""
    subs = write_class(tmp_path / "all", toy_course, [])
    keep = ("alice", "bob", "np_patcher")
    for student in keep:
        shutil.copytree(subs / student, tmp_path / "submissions" / student)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "grade", str(tmp_path / "submissions"), "--out", str(out)]
    cmd += ["--course", str(toy_course), "--cell-timeout", "8", "--notebook-timeout", "20", "--workers", "2"]
    env = {**os.environ, "PATH": _path_without_bwrap(tmp_path / "bin")}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    rows = _rows(out / "grades.csv")
    got = {s: (rows[s]["status"], rows[s]["score"], rows[s]["reason"]) for s in keep}
    assert got["alice"] == ("graded", "3", "") and got["bob"] == ("graded", "1", "")
    assert got["np_patcher"][:2] == ("flagged", "2")
    assert done.stderr.count("NO SANDBOX (bubblewrap (bwrap) is not installed)") == 1, done.stderr
    assert {r.sandbox.split(":")[0] for r in load_results(out / "results.json")} == {
        "NO SANDBOX (bubblewrap (bwrap) is not installed)"
    }
    assert "SANDBOX FALLBACK" in (out / "report.html").read_text()
