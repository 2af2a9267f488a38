"""Incremental and resumable grading (autograder.ledger), with real nbgrader kernels in the sandbox."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from autograder_fixtures import (  # noqa: F401
    ASSIGNMENT,
    WRONG_DOUBLE,
    WRONG_TOTAL,
    release,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)

from autograder import engine
from autograder.ledger import JOURNAL, Ledger, grader_fingerprint, read_journal

pytestmark = [pytest.mark.nbgrader, pytest.mark.sandbox]

OPTIONS = dict(workers=2, cell_timeout=8, notebook_timeout=20)
REPO = Path(__file__).resolve().parent.parent
#: The grader's fingerprint in the in-process runs: the source tree may change while this module runs.
GRADER = "grader under test"


def _class(course: Path) -> dict[str, object]:
    """Five notebooks that run (each a different score) and one empty file refused before grading."""
    return {
        "alice": student_notebook(course),
        "bob": student_notebook(course, {"double": WRONG_DOUBLE}),
        "carol": student_notebook(course, {"total": WRONG_TOTAL}),
        "blank": release(course),
        "erin": student_notebook(course, {"double": WRONG_DOUBLE, "total": WRONG_TOTAL}),
        "empty": b"",
    }


GRADABLE = 5


def _grade(subs: Path, out: Path, course: Path, *, force: bool = False, **options) -> Ledger:
    book = Ledger(out, force=force, grader=GRADER)
    engine.grade(subs, out, engine.GradeOptions(course=course, **{**OPTIONS, **options}), ledger=book)
    return book


@pytest.fixture(scope="module")
def first(toy_course, tmp_path_factory):  # noqa: F811
    """The class graded once from scratch: (submissions, OUT, grades.csv bytes, the run's ledger)."""
    base = tmp_path_factory.mktemp("incremental")
    subs = write_nbgrader_layout(base / "submissions", _class(toy_course))
    book = _grade(subs, base / "out", toy_course)
    return subs, base / "out", (base / "out" / "grades.csv").read_bytes(), book


@pytest.fixture
def again(first, tmp_path):
    """A copy of the first run's submissions and OUT, for a test to re-grade."""
    subs, out = (shutil.copytree(p, tmp_path / p.name) for p in first[:2])
    return Path(subs), Path(out)


def test_the_first_run_grades_all_and_journals_each_result(first):
    """Does a run into an empty OUT grade every notebook and journal one line per graded submission?"""
    _, out, csv, book = first
    assert (book.graded, book.reused) == (GRADABLE, 0)
    lines = (out / JOURNAL).read_bytes().splitlines()
    assert len(lines) == GRADABLE and all(json.loads(line)["key"] for line in lines)
    scores = {row.split(",")[0]: row.split(",")[2] for row in csv.decode().splitlines()[1:]}
    assert scores == {"alice": "3", "bob": "1", "carol": "2", "blank": "0", "erin": "0", "empty": "0"}


def test_a_second_run_reuses_everything_and_writes_the_same_csv(first, again, toy_course):  # noqa: F811
    """Does re-grading unchanged submissions start no kernel and give a byte-identical grades.csv?"""
    subs, out = again
    start = time.perf_counter()
    book = _grade(subs, out, toy_course)
    assert (book.graded, book.reused) == (0, GRADABLE)
    assert (out / "grades.csv").read_bytes() == first[2]
    assert time.perf_counter() - start < 60  # no worker started: nbgrader's set-up only


def test_a_changed_submission_is_graded_again_alone(first, again, toy_course):  # noqa: F811
    """When bob fixes his answer, is bob alone re-graded, and his row alone changed?"""
    subs, out = again
    write_nbgrader_layout(subs, {"bob": student_notebook(toy_course)})
    book = _grade(subs, out, toy_course)
    assert (book.graded, book.reused) == (1, GRADABLE - 1)
    old, new = first[2].decode().splitlines(), (out / "grades.csv").read_text().splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert changed == [("bob,01-toy,1,3,graded,", "bob,01-toy,3,3,graded,")]


def test_force_from_the_command_line_regrades_everything(first, again, toy_course):  # noqa: F811
    """Does `autograder grade --force` re-grade all and say so, and a plain re-run then reuse all?"""
    subs, out = again
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--course",
        str(toy_course),
    ]
    cmd += ["--workers", "2", "--cell-timeout", "8", "--notebook-timeout", "20"]
    grader = grader_fingerprint()
    forced = subprocess.run([*cmd, "--force"], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert forced.returncode == 0, forced.stderr
    assert f"{GRADABLE} graded (--force), 0 reused" in forced.stdout, forced.stdout
    assert (out / "grades.csv").read_bytes() == first[2]
    plain = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert plain.returncode == 0, plain.stderr
    assert "1 refused before grading" in plain.stdout
    if grader_fingerprint() == grader:  # else this tree's grading code was edited meanwhile: all re-graded
        assert f"0 graded, {GRADABLE} reused" in plain.stdout, plain.stdout
    else:
        assert f"{GRADABLE} graded, 0 reused" in plain.stdout, plain.stdout
    assert (out / "grades.csv").read_bytes() == first[2]


#: A grading run in its own process, to be killed: SUBMISSIONS OUT COURSE GRADER.
KILLABLE = """
import sys
from pathlib import Path
from autograder import engine
from autograder.ledger import Ledger
subs, out, course = map(Path, sys.argv[1:4])
options = engine.GradeOptions(course=course, workers=1, cell_timeout=8, notebook_timeout=20)
engine.grade(subs, out, options, ledger=Ledger(out, grader=sys.argv[4]))
"""


def test_a_sigkilled_run_resumes_to_the_identical_csv(first, toy_course, tmp_path):  # noqa: F811
    """Killed (SIGKILL, whole process group) after some results, does a re-run grade only the rest?"""
    subs, out = first[0], tmp_path / "out"
    cmd = [sys.executable, "-c", KILLABLE, str(subs), str(out), str(toy_course), GRADER]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while len(read_journal(out / JOURNAL)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    finished = len(read_journal(out / JOURNAL))
    assert 2 <= finished < GRADABLE
    assert not (out / "grades.csv").exists()  # never a partial grades.csv
    book = _grade(subs, out, toy_course)
    assert (book.graded, book.reused) == (GRADABLE - finished, finished)
    assert (out / "grades.csv").read_bytes() == first[2]


def test_a_torn_journal_line_is_ignored(first, again, toy_course):  # noqa: F811
    """Is a half-written last line skipped, and are later results journaled readably after it?"""
    subs, out = again
    journal = out / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    alice = next(line for line in lines if b'"student_id": "alice"' in line)
    torn = alice.replace(b'"score": 3.0', b'"score": 0.0')[: len(alice) // 2]
    journal.write_bytes(b"".join(line for line in lines if line is not alice) + torn)
    write_nbgrader_layout(subs, {"carol": student_notebook(toy_course)})  # carol's result is appended
    book = _grade(subs, out, toy_course)
    assert (book.graded, book.reused) == (2, GRADABLE - 2)  # alice (her line was torn) and carol
    assert all(json.loads(line) for line in journal.read_bytes().splitlines())
    assert len(read_journal(journal)) == GRADABLE
    assert "alice,01-toy,3,3,graded," in (out / "grades.csv").read_text()
    assert _grade(subs, out, toy_course).reused == GRADABLE


def test_other_scoring_options_are_not_reused(first, again, toy_course):  # noqa: F811
    """Is a journal written with another cell timeout re-graded, while a worker count does not matter?"""
    subs, out = again
    book = _grade(subs, out, toy_course, workers=1)
    assert (book.graded, book.reused) == (0, GRADABLE)
    book = _grade(subs, out, toy_course, cell_timeout=9)
    assert (book.graded, book.reused) == (GRADABLE, 0)
    assert (out / "grades.csv").read_bytes() == first[2]


def test_another_release_is_not_reused(first, again, toy_course, tmp_path):  # noqa: F811
    """Does a change to a hidden test in solutions/ make every journaled result stale?"""
    subs, out = again
    other = shutil.copytree(toy_course, tmp_path / "other-course")
    solution = other / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    solution.write_text(solution.read_text().replace("[-4.0, 1.0]", "[-5.0, 2.0]"))
    db = "sqlite:///" + str(out / "gradebook.db")
    for course, reused in ((toy_course, GRADABLE), (other, 0)):
        prepared = engine.prepare_course(course, [ASSIGNMENT], tmp_path / course.name, [])
        book = Ledger(out, grader=GRADER)
        book.open(prepared.root, [ASSIGNMENT], engine.GradeOptions(course=course, **OPTIONS), db)
        subs_found = engine.discover(subs, prepared.notebooks, tmp_path)
        todo, kept = book.split([s for s in subs_found if not s.problem], engine._submitted)
        book.close()
        assert (len(kept), len(todo)) == (reused, GRADABLE - reused), course


def test_a_changed_autograded_notebook_is_not_trusted(first, again, toy_course):  # noqa: F811
    """If OUT/autograded lost a student's notebook, is that student graded again (the rest reused)?"""
    subs, out = again
    shutil.rmtree(out / "autograded" / "carol")
    book = _grade(subs, out, toy_course)
    assert (book.graded, book.reused) == (1, GRADABLE - 1)
    assert (out / "autograded" / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_the_grader_fingerprint_follows_its_source(tmp_path):
    """Does editing one grading module or one gradlib check change the grader's fingerprint?"""
    for package in ("autograder", "gradlib"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    before = grader_fingerprint(tmp_path)
    assert grader_fingerprint(tmp_path) == before
    for edited in ("autograder/integrity.py", "gradlib/checks/core.py"):
        path = tmp_path / edited
        text = path.read_text()
        path.write_text(text + "\n# edited\n")
        assert grader_fingerprint(tmp_path) != before, edited
        path.write_text(text)
    assert grader_fingerprint(tmp_path) == before
