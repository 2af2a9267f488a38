"""The classroom loop on a real JupyterHub: release, fetch, validate, submit, collect, grade, return.

Students work through their own single-user servers (behind configurable-http-proxy) with nbgrader's
Assignment List API, exactly what JupyterLab's Assignment List calls; the instructor runs ``autograder``
as their own system user. The exchange's permissions are checked as the students themselves.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
from hub import ASSIGNMENT, HubSession, classroom  # noqa: F401

from autograder.build import REPO
from autograder.classroom import run_as

pytestmark = [pytest.mark.hub, pytest.mark.xdist_group("hub")]

NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"


def _solutions() -> dict[str, str]:
    """grade_id -> the solution's answer, as a student would type it (without the solution markers)."""
    nb = nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade") and cell.cell_type == "code":
            lines = [
                ln
                for ln in cell.source.splitlines()
                if "### BEGIN SOLUTION" not in ln and "### END SOLUTION" not in ln
            ]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def _hidden_lines() -> list[str]:
    """Lines of the hidden tests (which no student may ever see) that the release does not show anyway."""
    nb = nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = (REPO / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    found = []
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.DOTALL):
            found += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 25]
    return [ln for ln in found if json.dumps(ln)[1:-1] not in release]


def _fill(content: dict, answers: dict[str, str]) -> dict:
    nb = copy.deepcopy(content)
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def _ok(room, method, path, data=None):
    status, body = room.api(method, path, data, timeout=300)
    assert status == 200, f"{method} {path}: HTTP {status} {str(body)[:2000]}"
    return body


def _student_round(room, user: str, answers: dict[str, str]) -> dict:
    """Log in, fetch, fill in, validate and submit through the user's server; the validation result."""
    listed = _ok(room, "GET", f"/user/{user}/assignments?course_id={room.course_id}")
    assert listed["success"] and [a["assignment_id"] for a in listed["value"]] == [ASSIGNMENT]
    assert listed["value"][0]["status"] == "released"
    body = {"course_id": room.course_id, "assignment_id": ASSIGNMENT}
    fetched = _ok(room, "POST", f"/user/{user}/assignments/fetch", body)
    assert fetched["value"][0]["status"] == "fetched", fetched
    nb = _ok(room, "GET", f"/user/{user}/api/contents/{NOTEBOOK}?content=1")
    filled = _fill(nb["content"], answers)
    _ok(room, "PUT", f"/user/{user}/api/contents/{NOTEBOOK}", {"type": "notebook", "content": filled})
    validated = _ok(room, "POST", f"/user/{user}/assignments/validate", {"path": NOTEBOOK})
    submitted = _ok(room, "POST", f"/user/{user}/assignments/submit", body)
    assert [a.get("student_id") for a in submitted["value"] if a["status"] == "submitted"] == [user], (
        submitted
    )
    return validated


def _instructor(room, *args: str) -> str:
    done = room.run(room.instructor, "-m", "autograder", *args, timeout=600)
    assert done.returncode == 0, f"autograder {' '.join(args)}:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def _denied(room, folder: str) -> None:
    for user in room.students:
        denied = run_as(user, ["ls", str(room.exchange / room.course_id / folder)])
        assert denied.returncode != 0 and "Permission denied" in denied.stderr, (user, folder, denied)


def test_classroom_round_trip(classroom):  # noqa: F811
    """Does each student get their own score back, and nobody else's, through a real hub and exchange?"""
    room = classroom
    right, wrong = room.students
    session = HubSession(room.url)
    assert session.login(right, "not-the-password")[0] == 403
    assert session.login(right, room.passwords[wrong])[0] == 403  # another student's password
    status, where = session.login(right, room.passwords[right])
    assert status == 302 and "/hub/" in where

    root = str(room.course_root)
    student_config = str(room.config_dir / "nbgrader_config.py")
    _instructor(room, "release", ASSIGNMENT, "--course", root)
    print(_instructor(room, "doctor", ASSIGNMENT, "--course", root, "--student-config", student_config))

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(room.spawn, room.students))
    solutions = _solutions()
    first = next(iter(solutions))
    with ThreadPoolExecutor(2) as pool:
        checks = dict(
            zip(
                room.students,
                pool.map(_student_round, [room, room], room.students, [solutions, {first: solutions[first]}]),
                strict=True,
            )
        )
    assert checks[right]["success"] and "failed" not in checks[right]["value"], checks[right]
    assert checks[wrong]["success"] and checks[wrong]["value"].get("failed"), checks[wrong]

    # The exchange, as the students see it: nobody lists the submissions.
    _denied(room, "inbound")
    peek = run_as(wrong, ["cat", str(room.home(right) / NOTEBOOK)])
    assert peek.returncode != 0 and "Permission denied" in peek.stderr

    out = str(room.course_root.parent / "graded")
    _instructor(
        room, "collect", ASSIGNMENT, "--course", root, "--due", "2099-01-01 17:00:00 Pacific/Auckland"
    )
    submitted = str(room.course_root / "submitted")
    argv = ["grade", submitted, "--out", out, "--course", root, "--assignment", ASSIGNMENT, "--workers", "1"]
    if room.python != Path(sys.executable):
        # This environment's Python is private (e.g. under /root), so users run a stand-in whose packages
        # live outside the folders the sandbox lets a kernel read: grade without the sandbox here.
        argv.append("--no-sandbox")
    graded = _instructor(room, *argv)
    _instructor(room, "return", ASSIGNMENT, "--out", out, "--course", root)
    grades = {
        r["student_id"]: r for r in csv.DictReader(open(room.course_root.parent / "graded" / "grades.csv"))
    }
    assert grades[right]["score"] == grades[right]["max_score"], (grades, graded)
    assert grades[right]["status"] == "graded"
    assert 0 < float(grades[wrong]["score"]) < float(grades[wrong]["max_score"])

    _denied(room, "feedback")
    hidden = _hidden_lines()
    assert hidden, "the assignment has hidden tests to keep secret"
    for user in room.students:
        body = {"course_id": room.course_id, "assignment_id": ASSIGNMENT}
        _ok(room, "POST", f"/user/{user}/assignments/fetch_feedback", body)
        listing = _ok(room, "GET", f"/user/{user}/api/contents/{ASSIGNMENT}/feedback")
        (stamp,) = [d["path"] for d in listing["content"]]
        pages = _ok(room, "GET", f"/user/{user}/api/contents/{quote(stamp)}")["content"]
        assert [p["name"] for p in pages] == [f"{ASSIGNMENT}.html"]
        page = _ok(room, "GET", f"/user/{user}/api/contents/{quote(pages[0]['path'])}?format=text")["content"]
        other = wrong if user == right else right
        assert f"Student: {user}<" in page and other not in page
        assert f"{float(grades[user]['score']):g} / {float(grades[user]['max_score']):g} points" in page
        assert "HIDDEN TESTS" not in page
        leaked = [ln for ln in hidden if html.escape(ln) in page or ln in page]
        assert leaked == [], f"hidden test source in {user}'s feedback: {leaked[:3]}"


@pytest.mark.browser
def test_student_jupyterlab_lists_the_course(classroom, tab):  # noqa: F811
    """Does a student who logs in through the hub see the course's assignment in JupyterLab, not an error?"""
    room, page = classroom, tab.page
    user = room.students[1]
    if not (room.exchange / room.course_id / "outbound" / ASSIGNMENT).exists():
        # this test may run alone (another pytest-xdist worker ran the round trip): release first
        _instructor(room, "release", ASSIGNMENT, "--course", str(room.course_root))
    page.goto(f"{room.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", room.passwords[user])
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=180_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click(timeout=120_000)
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    listed = page.locator(
        "#submitted_assignments_list, #fetched_assignments_list, #released_assignments_list"
    )
    listed.filter(has_text=ASSIGNMENT).first.wait_for(timeout=60_000)
    errors = page.locator("[id$=_assignments_list_error]:visible")
    assert errors.count() == 0, errors.all_inner_texts()
    assert "exchange directory does not exist" not in page.content()
