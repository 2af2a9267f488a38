"""nbgrader's formgrader on the PostgreSQL gradebook written by ``autograder grade --db postgresql+psycopg://…``.

The suite starts its own PostgreSQL (``tests/servers.py``, Unix socket only) and grades a small class of the
toy course into a fresh database. Then it starts a real JupyterLab server in the instructor's mode
(``lab/instructor``: the formgrader extension and this course's ``nbgrader_config.py``) with only the
gradebook URL and the course folders changed, and reads the class back through the formgrader's own HTTP
API: the assignment, every student, every submission's score and every cell's points must be those of
``grades.csv`` and ``results.json``. Both servers stop (whole process group) at the end of the module.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from autograder_fixtures import (  # noqa: F401
    ASSIGNMENT,
    WRONG_DOUBLE,
    WRONG_TOTAL,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)
from browser import JupyterLab
from servers import postgres_server

from autograder import build

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.nbgrader,
    pytest.mark.sandbox,
    pytest.mark.xdist_group("postgres-formgrader"),
]

REPO = Path(__file__).resolve().parents[1]
#: Full marks, a partial score, zero, and a file that is no notebook (a failed row, not in the gradebook).
CLASS = {
    "ann": None,
    "ben": {"total": WRONG_TOTAL},
    "cat": {"double": WRONG_DOUBLE, "total": WRONG_TOTAL},
    "erin_json": "{not json",
}
#: Where the grading run writes, relative to the course root (the formgrader's autograded folder is in it).
OUT = "graded-out"

#: The formgrader's config: the instructor's JupyterLab, with the gradebook and course folders of the test.
SERVER_CONFIG = "load_subconfig({instructor!r})\n"
NBGRADER_CONFIG = """\
load_subconfig({instructor!r})
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
c.CourseDirectory.autograded_directory = {autograded!r}
"""


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _page(server: JupyterLab, path: str) -> tuple[int, str]:
    """GET one of the formgrader's HTML pages: (status, text)."""
    request = urllib.request.Request(server.url.rstrip("/") + path)
    request.add_header("Authorization", f"token {server.token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read().decode("utf-8")


def _grade(subs: Path, out: Path, url: str, course: Path) -> str:
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out), "--db", url]
    command += ["--course", str(course), "--workers", "1", "--cell-timeout", "10", "--notebook-timeout", "40"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    return run.stdout


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for this module, stopped (and its files removed) at the end."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def graded(postgres, toy_course, tmp_path_factory):  # noqa: F811
    """The toy course with the class graded into a fresh PostgreSQL database: (course root, database, url)."""
    course = tmp_path_factory.mktemp("formgrader-pg") / "course-root"
    shutil.copytree(toy_course, course)
    notebooks = {
        name: answers if isinstance(answers, str) else student_notebook(toy_course, answers)
        for name, answers in CLASS.items()
    }
    subs = write_nbgrader_layout(course / "submitted", notebooks)  # nbgrader's submitted_directory
    database = "formgrader"
    url = postgres.create_database(database)
    _grade(subs, course / OUT, url, course)
    return course, database, url


def _formgrader(root: Path, db_url: str, config_dir: Path) -> JupyterLab:
    """The instructor's JupyterLab on ``root``, its formgrader reading the gradebook at ``db_url``."""
    instructor = REPO / "lab" / "instructor"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.py").write_text(
        SERVER_CONFIG.format(instructor=str(instructor / "jupyter_server_config.py"))
    )
    (config_dir / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG.format(
            instructor=str(instructor / "nbgrader_config.py"),
            root=str(root),
            db_url=db_url,
            autograded=f"{OUT}/autograded",
        )
    )
    env = {"COURSE_GRADING_OUT": str(root / OUT), "COURSE_EXCHANGE": str(config_dir.parent / "exchange")}
    return JupyterLab(root, config_dir=config_dir, env=env)


@pytest.fixture(scope="module")
def formgrader(graded, tmp_path_factory):
    """A real JupyterLab with nbgrader's formgrader on 127.0.0.1, reading the PostgreSQL gradebook."""
    course, _, url = graded
    with _formgrader(course, url, tmp_path_factory.mktemp("formgrader-config") / "config") as server:
        yield server


@pytest.fixture(scope="module")
def expected(graded) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, float]]]:
    """What the grading run wrote: grades.csv's rows and, per student, each test cell's points."""
    out = graded[0] / OUT
    rows = _csv_rows(out / "grades.csv")
    cells = {
        r["student_id"]: {c["grade_id"]: c["points"] for c in r["cells"]}
        for r in json.loads((out / "results.json").read_text(encoding="utf-8"))
    }
    return rows, cells


def test_the_class_covers_every_kind_of_row(expected):
    """Does the graded class hold a full, a partial and a zero score and one failed submission?"""
    rows, _ = expected
    assert set(rows) == set(CLASS)
    graded = [float(r["score"]) for r in rows.values() if r["status"] == "graded"]
    assert len(set(graded)) == 3 and min(graded) == 0.0, rows
    assert rows["erin_json"]["status"] == "failed", rows["erin_json"]


def test_formgrader_lists_the_assignment(formgrader, expected):
    """Does the formgrader list the assignment with the gradebook's max score and the CSV's average?"""
    rows, _ = expected
    assignments = formgrader.api("GET", "/formgrader/api/assignments")
    assert [a["name"] for a in assignments] == [ASSIGNMENT], assignments
    (assignment,) = assignments
    graded = [float(r["score"]) for r in rows.values() if r["status"] != "failed"]
    assert assignment["max_score"] == float(rows["ann"]["max_score"]), assignment
    assert assignment["average_score"] == pytest.approx(sum(graded) / len(graded)), assignment
    assert assignment["num_submissions"] == len(rows), assignment  # submitted/ holds every student


def test_formgrader_submissions_equal_grades_csv(formgrader, expected):
    """Does every submission the formgrader shows carry grades.csv's score (failed ones: not autograded)?"""
    rows, _ = expected
    shown = {s["student"]: s for s in formgrader.api("GET", f"/formgrader/api/submissions/{ASSIGNMENT}")}
    assert set(shown) == set(rows)
    for student, row in rows.items():
        submission = shown[student]
        assert submission["autograded"] == (row["status"] != "failed"), (student, submission, row)
        assert submission["score"] == float(row["score"]), (student, submission, row)
        if row["status"] != "failed":
            assert submission["max_score"] == float(row["max_score"]), (student, submission, row)


def test_formgrader_students_equal_grades_csv(formgrader, expected):
    """Does the formgrader's student list hold every student with the score grades.csv gives them?"""
    rows, _ = expected
    students = {s["id"]: s for s in formgrader.api("GET", "/formgrader/api/students")}
    assert set(students) == set(rows)
    for student, row in rows.items():
        assert students[student]["score"] == float(row["score"]), (student, students[student], row)
        one = formgrader.api("GET", f"/formgrader/api/student_submissions/{student}")
        assert [(s["name"], s["score"]) for s in one] == [(ASSIGNMENT, float(row["score"]))], one


def test_formgrader_cell_grades_equal_results(formgrader, expected):
    """Does each test cell's grade in the formgrader equal the points results.json records for it?"""
    rows, cells = expected
    notebooks = formgrader.api("GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    by_student = {nb["student"]: nb for nb in notebooks}
    assert set(by_student) == {s for s, r in rows.items() if r["status"] != "failed"}
    for student, nb in by_student.items():
        assert nb["score"] == float(rows[student]["score"]) and not nb["flagged"], nb
        grades = formgrader.api("GET", f"/formgrader/api/grades?submission_id={nb['id']}")
        code = {g["name"]: g["auto_score"] for g in grades if g["cell_type"] == "code"}
        assert code == cells[student], (student, grades)
        assert not any(g["needs_manual_grade"] for g in grades if g["cell_type"] == "code"), grades


def test_formgrader_grading_pages_open(formgrader, expected):
    """Does the formgrader's grading page of each submission open, with a score box for every test cell?"""
    _, cells = expected
    notebooks = formgrader.api("GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    assert notebooks
    for nb in notebooks:
        status, html = _page(formgrader, f"/formgrader/submissions/{nb['id']}/")
        assert status == 200 and nb["student"] in html, (nb, html[:500])
        boxes = {
            grade_id for grade_id in cells[nb["student"]] if f'class="score tabbable" id="{grade_id}"' in html
        }
        assert boxes == set(cells[nb["student"]]), (nb["student"], boxes)


@pytest.mark.browser
def test_manage_submissions_page_shows_the_scores(formgrader, expected, chromium):
    """In a real browser, does the formgrader's submissions table show each student's grades.csv score?"""
    rows, _ = expected
    page = chromium.new_page()
    # the page's own API calls (XHR) carry no token from the URL: send it with every request
    page.set_extra_http_headers({"Authorization": f"token {formgrader.token}"})
    try:
        page.goto(f"{formgrader.url}formgrader/manage_submissions/{ASSIGNMENT}")
        graded = sum(row["status"] != "failed" for row in rows.values())
        page.wait_for_function(
            f"() => document.querySelectorAll('#main-table tr td.score').length >= {graded}",
            timeout=60_000,
        )
        shown = dict(
            page.evaluate(
                "() => Array.from(document.querySelectorAll('#main-table tr')).map(r => ["
                " r.querySelector('.student-id').innerText.trim(),"
                " r.querySelector('.score').innerText.trim()])"
            )
        )
    finally:
        page.close()
    for student, row in rows.items():
        if row["status"] == "failed":
            # a file that is no notebook never reached the gradebook: no row, or a row with no score
            assert shown.get(student, "") == "", (student, shown, row)
        else:
            want = f"{float(row['score']):g} / {float(row['max_score']):g}"
            assert shown.get(student) == want, (student, shown, row)


def test_gradebook_has_only_the_configured_course(postgres, graded):
    """Does the PostgreSQL gradebook hold one course row, the configured id (no stray 'default_course')?"""
    _, database, _ = graded
    configured = build.load_config(build.REPO).CourseDirectory.course_id
    assert configured
    assert postgres.psql("SELECT id FROM course ORDER BY id", database).split() == [configured]
    owners = postgres.psql("SELECT DISTINCT course_id FROM assignment", database).split()
    assert owners == [configured]


def test_formgrader_manual_grade_reaches_postgres(postgres, graded, formgrader, expected):
    """Does a score the instructor types into the formgrader land in PostgreSQL (and clear again)?"""
    rows, _ = expected
    _, database, _ = graded
    nb = next(
        n
        for n in formgrader.api("GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
        if n["student"] == "ben"
    )
    grade = next(g for g in formgrader.api("GET", f"/formgrader/api/grades?submission_id={nb['id']}"))
    query = f"SELECT manual_score FROM grade WHERE id = '{grade['id']}'"
    try:
        formgrader.api("PUT", f"/formgrader/api/grade/{grade['id']}", {"manual_score": 0.5})
        assert postgres.psql(query, database).strip() == "0.5"
    finally:
        formgrader.api("PUT", f"/formgrader/api/grade/{grade['id']}", {"manual_score": None})
    assert postgres.psql(query, database).strip() == ""
    shown = {s["student"]: s for s in formgrader.api("GET", f"/formgrader/api/submissions/{ASSIGNMENT}")}
    assert shown["ben"]["score"] == float(rows["ben"]["score"])
