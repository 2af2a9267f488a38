"""The PostgreSQL gradebook: ``autograder grade --db postgresql+psycopg://…`` against a real server.

The suite starts its own PostgreSQL (``tests/servers.py``: a temporary cluster run as the ``postgres``
user, Unix socket only, fsync off). Two ``autograder grade`` processes write one gradebook at the same
time, then one of them grades again; the gradebook must hold exactly what the CSVs say.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from autograder_fixtures import (  # noqa: F401
    WRONG_DOUBLE,
    WRONG_TOTAL,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)
from servers import postgres_server

from autograder import build

# One xdist worker runs the whole module (with `--dist loadgroup`), so its server starts once.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.nbgrader,
    pytest.mark.sandbox,
    pytest.mark.xdist_group("postgres"),
]

#: Each run grades its own students; together they cover a full, a partial and a zero score.
CLASSES = {
    "first": {"ann": None, "ben": {"total": WRONG_TOTAL}},
    "second": {"cat": {"double": WRONG_DOUBLE, "total": WRONG_TOTAL}, "dan": None},
}


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _grade(subs: Path, out: Path, url: str, course: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--db", url]
    command += ["--course", str(course), "--workers", "1", "--cell-timeout", "10", "--notebook-timeout", "40"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen) -> str:
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    assert process.returncode == 0, output[-3000:]
    return output


def _gradebook(postgres, database: str) -> dict[str, tuple[float, float]]:
    """Map each student to (auto score, max score) of the toy assignment, read back with SQL."""
    text = postgres.psql(
        "SELECT sa.student_id, COALESCE(SUM(g.auto_score), 0), SUM(gc.max_score) "
        "FROM submitted_assignment sa JOIN submitted_notebook sn ON sn.assignment_id = sa.id "
        "JOIN grade g ON g.notebook_id = sn.id JOIN grade_cells gc ON gc.id = g.cell_id "
        "WHERE gc.cell_type = 'code' GROUP BY sa.student_id",
        database,
    )
    return {s: (float(a), float(m)) for s, a, m in (line.split("|") for line in text.split())}


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for this module, stopped (and its files removed) at the end."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def concurrent(postgres, toy_course, tmp_path_factory):  # noqa: F811
    """Two ``autograder grade`` runs into one PostgreSQL gradebook at once: (database, outs, subs)."""
    base = tmp_path_factory.mktemp("postgres")
    database = "gradebook"
    url = postgres.create_database(database)
    subs, outs = {}, {}
    for run, students in CLASSES.items():
        notebooks = {name: student_notebook(toy_course, answers) for name, answers in students.items()}
        subs[run] = write_nbgrader_layout(base / f"submitted-{run}", notebooks)
        outs[run] = base / f"out-{run}"
    running = [_grade(subs[run], outs[run], url, toy_course) for run in CLASSES]
    for process in running:
        _finish(process)
    return database, url, outs, subs


def test_concurrent_runs_lose_nothing(postgres, concurrent):
    """Do two grading runs writing one PostgreSQL gradebook at once both land every row?"""
    database, _, outs, _ = concurrent
    expected = {}
    for out in outs.values():
        for student, row in _rows(out / "grades.csv").items():
            assert row["status"] == "graded", row
            expected[student] = (float(row["score"]), float(row["max_score"]))
    assert set(expected) == {s for students in CLASSES.values() for s in students}
    assert _gradebook(postgres, database) == expected
    assert len({score for score, _ in expected.values()}) == 3  # full, partial and zero all occur


def test_one_course_id_everywhere(postgres, concurrent):
    """Do the assignment and its submissions belong to the configured course, not nbgrader's ''?"""
    database = concurrent[0]
    configured = build.load_config(build.REPO).CourseDirectory.course_id
    assert configured
    owners = postgres.psql("SELECT DISTINCT course_id FROM assignment", database).split()
    assert owners == [configured]


def test_regrade_replaces_rows(postgres, concurrent, toy_course):  # noqa: F811
    """Does grading the same class again leave one submission per student, with the same scores?"""
    database, url, outs, subs = concurrent
    before = _gradebook(postgres, database)
    again = outs["first"].parent / "out-first-again"
    _finish(_grade(subs["first"], again, url, toy_course))
    assert _rows(again / "grades.csv") == _rows(outs["first"] / "grades.csv")
    counts = postgres.psql(
        "SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id ORDER BY 1", database
    )
    assert {line.split("|")[1] for line in counts.split()} == {"1"}
    assert _gradebook(postgres, database) == before
    assert (again / "feedback" / "ann").is_dir()  # feedback pages are written as with SQLite
