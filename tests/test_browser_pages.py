"""The class report and a student's feedback page in a real browser: they render, with no console errors.

The pages are written by the real :mod:`autograder.report` and :mod:`autograder.feedback` from lesson 03's
real release and solution notebooks and a class of results with every kind of outcome (full marks, a
failed test, a warning the clean room forgave, a flagged submission with a 158-entry reason, broken files).
With ``UPDATE_SCREENSHOTS=1`` the tests also write the README's screenshots, ``docs/report.png`` and
``docs/feedback.png``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from autograder.feedback import notebook_feedback
from autograder.report import write_report
from autograder.results import CellResult, SubmissionResult

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-pages")]

REPO = Path(__file__).resolve().parents[1]
LESSON = "03-initialization"
RELEASE = REPO / "course" / LESSON / f"{LESSON}.ipynb"
SOLUTION = REPO / "solutions" / LESSON / f"{LESSON}.ipynb"
DOCS = REPO / "docs"

_WRONG = "std is 1.41× the Xavier value for fan_in=300, fan_out=100: did you use He's 2/fan_in?"
_WARNED = "CheckFailure: compute_fans raised UserWarning: shape (3, 4, 5) read as a conv kernel"


def _tests() -> list[tuple[str, float]]:
    nb = json.loads(RELEASE.read_text(encoding="utf-8"))
    return [
        (m["grade_id"], float(m["points"]))
        for c in nb["cells"]
        if (m := c["metadata"].get("nbgrader", {})).get("grade") and not m.get("solution")
    ]


def _student(student: str, wrong: set[str], warned: set[str] = frozenset(), **kw: str) -> SubmissionResult:
    cells = []
    for gid, pts in _tests():
        ok = gid not in wrong
        message = _WRONG if not ok else (_WARNED if gid in warned else "")
        cells.append(CellResult(LESSON, gid, pts if ok else 0.0, pts, ok and gid not in warned, ok, message))
    score = sum(c.points for c in cells)
    return SubmissionResult(
        student, LESSON, score, sum(c.max_points for c in cells), kw.get("status", "graded"),
        kw.get("reason", ""), cells, 1.2, "bwrap (namespaces)",
    )  # fmt: skip


def _class() -> list[SubmissionResult]:
    ids = [gid for gid, _ in _tests()]
    tamper = "; ".join(f"tampering: replaced gradlib.checks.init.check_{i}" for i in range(158))
    results = [_student(f"student{i:02d}", set(ids[i % 4 :: 5][:2])) for i in range(12)]
    results.append(_student("ada", set(), {"compute_fans_values"}))
    results.append(_student("mallory", {ids[1]}, status="flagged", reason=tamper))
    results.append(
        SubmissionResult(
            "bob", LESSON, 0.0, 20.0, "failed", f"{LESSON}: {LESSON}.ipynb is not valid JSON", []
        )
    )
    results.append(
        SubmissionResult(
            "eve", LESSON, 0.0, 20.0, "failed", f"{LESSON}: the kernel died while running it", []
        )
    )
    return results


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report and two feedback pages (one with a failed test and a forgiven warning, one flagged)."""
    out = tmp_path_factory.mktemp("pages")
    results = {r.student_id: r for r in _class()}
    written = {"report": write_report(list(results.values()), out, title="Lesson 03: grading report")}
    for student in ("student01", "ada", "mallory"):
        path = out / f"feedback-{student}.html"
        page = notebook_feedback(results[student], LESSON, submitted=SOLUTION, release=RELEASE)
        path.write_text(page, encoding="utf-8")
        written[student] = path
    return written


def _load(tab, path: Path) -> None:
    tab.page.goto(path.as_uri())
    tab.page.wait_for_load_state("load")


def _broken_images(page) -> list[str]:
    return page.evaluate(
        "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)"
    )


def _screenshot(page, name: str, height: int = 900) -> None:
    """The top of the page, 1100 pixels wide, into docs/ (only with UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": height})
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS / name))


def test_report_renders_without_console_errors(pages, tab):
    """Does the report load in chromium with its figures, grouped causes and folded details, error-free?"""
    _load(tab, pages["report"])
    page = tab.page
    assert page.title() == "Lesson 03: grading report"
    assert _broken_images(page) == []
    assert page.locator("img").count() == 3
    details = page.locator("details pre", has_text="check_157")
    assert details.count() == 1 and not details.is_visible()  # folded: the row stays one line
    row = page.locator("tr", has=page.locator("td", has_text=re.compile("^mallory$")))
    assert row.count() == 1 and row.bounding_box()["height"] < 40
    row.locator("summary").click()
    assert details.is_visible()
    row.locator("summary").click()
    assert "graded submissions only (flagged excluded)" in page.inner_text("body")
    tab.console.assert_clean()
    page.evaluate("() => window.scrollTo(0, 0)")
    _screenshot(page, "report.png")


def test_feedback_page_renders_prose_formulas_and_labels_without_console_errors(pages, tab):
    """Does a feedback page show rendered prose and formulas, the hand-graded answer and no raw LaTeX?"""
    _load(tab, pages["student01"])
    page = tab.page
    assert _broken_images(page) == []
    assert page.locator(".math").count() >= 10  # the lesson's formulas, drawn
    assert page.locator("img.math").count() >= 1
    text = page.inner_text("body")
    assert "$" not in text and "`" not in text
    assert "graded by hand" in text and "3 more points are graded by hand" in text
    assert page.locator(".prose h1").count() >= 1
    failing = page.locator("section.cell.fail")
    assert failing.count() >= 1 and _WRONG in failing.first.inner_text()
    tab.console.assert_clean()
    _screenshot(page, "feedback.png", height=1300)


def test_forgiven_warning_and_flag_read_clearly(pages, tab):
    """Is a forgiven warning shown as full points without red, and a flag as one short sentence?"""
    _load(tab, pages["ada"])
    warned = tab.page.locator("section.cell.warned")
    assert warned.count() == 1 and "Full points" in warned.inner_text()
    assert tab.page.locator("section.cell.fail").count() == 0
    _load(tab, pages["mallory"])
    banner = tab.page.locator(".banner.flagged").inner_text()
    assert "replaced functions that the tests call" in banner and "check_157" not in banner
    assert len(banner) < 400
    tab.console.assert_clean()
