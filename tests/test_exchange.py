"""Release, collect (with due dates in other time zones) and return through nbgrader's exchange; doctor.

Students here are nbgrader processes with their own ``HOME`` and nbgrader's explicit student id (all run
as the same system user); ``tests/test_hub.py`` runs the same loop with real system users on a hub.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from autograder_fixtures import ASSIGNMENT, WRONG_TOTAL, student_notebook, toy_course  # noqa: F401

from autograder import cli, doctor, exchange
from autograder.classroom import STUDENT_CONFIG

CID = "toy101"


@pytest.fixture
def course(tmp_path, toy_course):  # noqa: F811
    """A copy of the toy course and an empty exchange root (mode 777) in a folder everyone can traverse."""
    root = tmp_path / "course-root"
    shutil.copytree(toy_course, root)
    shared = Path(tempfile.mkdtemp(prefix="autograder-exchange-test-"))
    shared.chmod(0o755)
    ex = shared / "exchange"
    ex.mkdir()
    ex.chmod(0o777)
    yield exchange.course(root, exchange=ex, course_id=CID, config_files=[])
    shutil.rmtree(shared)


def _student(tmp_path: Path, course: exchange.Course, user: str, *args: str) -> subprocess.CompletedProcess:
    home = tmp_path / "home" / user
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "USER": user, "LOGNAME": user, "HOME": str(home), "JUPYTER_CONFIG_PATH": ""}
    argv = [sys.executable, "-m", "nbgrader", *args, "--course", CID, f"--Exchange.root={course.exchange}"]
    argv.append(f"--CourseDirectory.student_id={user}")
    return subprocess.run(argv, cwd=home, env=env, capture_output=True, text=True, timeout=120)


def _fetch_fill_submit(tmp_path, course, user, nb) -> None:
    assert _student(tmp_path, course, user, "fetch_assignment", ASSIGNMENT).returncode == 0
    nbformat.write(nb, tmp_path / "home" / user / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    done = _student(tmp_path, course, user, "submit", ASSIGNMENT)
    assert done.returncode == 0, done.stderr


def test_release_collect_return(tmp_path, course, toy_course):  # noqa: F811
    """Does each student fetch their own feedback only, after release, submit, collect and return?"""
    released = exchange.release(course, [ASSIGNMENT])
    assert (released[0] / f"{ASSIGNMENT}.ipynb").is_file()
    assert oct((course.exchange / CID / "inbound").stat().st_mode & 0o7777) == "0o2733"
    with pytest.raises(RuntimeError, match="add --force to overwrite"):
        exchange.release(course, [ASSIGNMENT])
    exchange.release(course, [ASSIGNMENT], force=True)

    _fetch_fill_submit(tmp_path, course, "ada", student_notebook(toy_course))
    _fetch_fill_submit(tmp_path, course, "bob", student_notebook(toy_course, {"total": WRONG_TOTAL}))
    rows, warnings = exchange.collect(course, [ASSIGNMENT])
    assert sorted(r.student_id for r in rows) == ["ada", "bob"]
    assert all((course.submitted_dir / s / ASSIGNMENT / "timestamp.txt").is_file() for s in ("ada", "bob"))
    assert any("owned by" in w for w in warnings)  # submitted by root on behalf of "ada": nbgrader warns

    out = tmp_path / "out"
    for student in ("ada", "bob"):  # stand-ins for autograder grade's pages
        page = out / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<p>feedback for {student}</p>")
    released, skipped = exchange.return_feedback(course, [ASSIGNMENT], out)
    assert released == ["ada (01-toy)", "bob (01-toy)"] and skipped == []
    assert oct((course.exchange / CID / "feedback").stat().st_mode & 0o777) == "0o711"
    for student in ("ada", "bob"):
        assert _student(tmp_path, course, student, "fetch_feedback", ASSIGNMENT).returncode == 0
        pages = list((tmp_path / "home" / student / ASSIGNMENT / "feedback").rglob("*.html"))
        assert [p.read_text() for p in pages] == [f"<p>feedback for {student}</p>"]


def test_due_dates_in_other_time_zones(tmp_path, course, toy_course):  # noqa: F811
    """Is lateness measured in UTC from a due date given in another zone, and recorded in collected.csv?"""
    exchange.release(course, [ASSIGNMENT])
    _fetch_fill_submit(tmp_path, course, "ada", student_notebook(toy_course))
    submitted = datetime.now(timezone.utc)
    kolkata = timezone(timedelta(hours=5, minutes=30))
    due = (submitted - timedelta(hours=2)).astimezone(kolkata).strftime("%Y-%m-%d %H:%M:%S") + " Asia/Kolkata"
    rows, _ = exchange.collect(course, [ASSIGNMENT], due=due)
    assert abs(rows[0].seconds_late - 7200) < 120  # 2 h late, whatever the zone the due date was given in
    with open(course.root / exchange.COLLECTED_FILE) as fh:
        (record,) = list(csv.DictReader(fh))
    assert record["student_id"] == "ada" and abs(float(record["seconds_late"]) - 7200) < 120
    future = (submitted + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S") + " America/New_York"
    rows, _ = exchange.collect(course, [ASSIGNMENT], due=future)
    assert rows[0].seconds_late == 0
    with pytest.raises(ValueError, match="time zone 'Mars/Olympus' is unknown"):
        exchange.set_due(course, ASSIGNMENT, "2026-12-01 17:00:00 Mars/Olympus")


def _fixes(findings) -> str:
    return "\n".join(f"{f.what} -> {f.fix}" for f in findings if not f.ok)


def test_doctor_names_what_to_fix(tmp_path, course, monkeypatch):
    """Does doctor pass a correct exchange, and name the fix for each broken permission or setting?"""
    monkeypatch.setenv("COURSE_ID", CID)
    monkeypatch.setenv("EXCHANGE_ROOT", str(course.exchange))
    exchange.release(course, [ASSIGNMENT])
    good = doctor.diagnose(course, [ASSIGNMENT], [STUDENT_CONFIG])
    assert _fixes(good) == ""

    inbound = course.exchange / CID / "inbound"
    inbound.chmod(0o2777)
    (course.exchange / CID / "feedback").mkdir(mode=0o755)
    (course.exchange / CID / "feedback").chmod(0o755)
    monkeypatch.setenv("COURSE_ID", "other-course")
    bad = _fixes(doctor.diagnose(course, [ASSIGNMENT, "09-missing"], [STUDENT_CONFIG]))
    assert f"students can list each other's submissions, or cannot submit -> chmod 2733 {inbound}" in bad
    assert "students can list everyone's feedback -> chmod 711" in bad
    assert "students' config says course id 'other-course'" in bad
    assert "no release notebooks in" in bad and "autograder build 09-missing" in bad

    missing = exchange.course(course.root, exchange=course.exchange / "nope", course_id=CID, config_files=[])
    text = _fixes(doctor.diagnose(missing, [], []))
    assert "does not exist (students see 'exchange directory does not exist')" in text
    assert f"sudo mkdir -p {course.exchange / 'nope'}" in text and "no system-wide nbgrader_config.py" in text


def test_cli_doctor_and_release_exit_codes(tmp_path, course, capsys):
    """Does `autograder doctor` exit 1 on a missing exchange and `release` 0 on a good one?"""
    argv = ["--course", str(course.root), "--course-id", CID]
    assert cli.main(["doctor", ASSIGNMENT, *argv, "--exchange", str(tmp_path / "none")]) == 1
    assert "FIX  exchange root" in capsys.readouterr().out
    assert cli.main(["release", ASSIGNMENT, *argv, "--exchange", str(course.exchange)]) == 0
    assert "released 01-toy" in capsys.readouterr().out
