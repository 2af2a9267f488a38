"""autograder.feedback: student pages show their answers and check messages, never hidden tests or scripts."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from dataclasses import replace

import nbformat
import pytest
from autograder_fixtures import (  # noqa: F401
    ASSIGNMENT,
    TEST_DOUBLE,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)
from rich.console import Console

from autograder import authoring
from autograder.feedback import (
    feedback_path,
    notebook_feedback,
    render_markdown,
    strip_hidden_tests,
    write_feedback,
)
from autograder.results import CellResult, SubmissionResult

_TEST_SRC = """# double_values: doubles a vector elementwise
from gradlib.checks import assert_close
assert_close(double([1.0, 2.0]), [2.0, 4.0], name="double")
### BEGIN HIDDEN TESTS
assert_close(double([-3.0]), [-6.0], name="SECRET_HIDDEN_CASE")
### END HIDDEN TESTS
print("double: ok")"""

_VISIBLE_SRC = strip_hidden_tests(_TEST_SRC)


def _nb(answer: str, test_src: str = _TEST_SRC, extra_md: str = "# Part 1"):
    return authoring.notebook(
        [
            authoring.markdown(extra_md),
            authoring.code("import numpy as np"),
            authoring.answer("double", answer),
            authoring.test("double_values", 2, test_src),
            authoring.test("double_dtype", 1, "# double_dtype: float64\nprint('ok')"),
        ]
    )


def _result(status="graded", reason="", points=(0.0, 1.0), message="double[0] is 3.0, expected 2.0"):
    cells = [
        CellResult("00-demo", "double_values", points[0], 2.0, False, False, message),
        CellResult("00-demo", "double_dtype", points[1], 1.0, True, True, ""),
    ]
    if status == "failed":
        cells = []
    return SubmissionResult("alice", "00-demo", sum(points), 3.0, status, reason, cells)


def _write(tmp_path, name, nb):
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_strip_hidden_tests_removes_blocks_and_unterminated_tails():
    """Does stripping remove hidden blocks, including one that never ends?"""
    assert "SECRET" not in strip_hidden_tests(_TEST_SRC)
    assert 'print("double: ok")' in strip_hidden_tests(_TEST_SRC)
    assert strip_hidden_tests("a\n### BEGIN HIDDEN TESTS\nsecret()\n") == "a\n"


def test_page_shows_answer_points_and_message_but_not_hidden_tests(tmp_path):
    """Does the page show the student's code, each cell's points and message, and no hidden test?"""
    sub = _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return x + 1  # MY_ANSWER"))
    release = _write(tmp_path, "rel.ipynb", _nb("raise NotImplementedError()", _VISIBLE_SRC))
    page = notebook_feedback(_result(), "00-demo", submitted=sub, release=release)
    assert "MY_ANSWER" in page
    assert "0 / 2 points" in page and "1 / 1 points" in page
    assert "double[0] is 3.0, expected 2.0" in page
    assert "SECRET" not in page and "HIDDEN" not in page
    assert "Part 1" in page


def test_hidden_tests_never_leak_even_from_a_submitted_solution(tmp_path):
    """If a submission carries hidden tests (no release given), are they still stripped?"""
    sub = _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return 2 * x"))
    page = notebook_feedback(_result(points=(2.0, 1.0), message=""), "00-demo", submitted=sub)
    assert "SECRET" not in page


def test_student_code_is_escaped_and_page_has_no_script(tmp_path):
    """Is HTML in student code and in messages escaped, so no script can run in the page?"""
    evil = "def double(x):\n    '</pre><script>alert(1)</script><img src=x onerror=alert(2)>'\n    return x"
    sub = _write(tmp_path, "sub.ipynb", _nb(evil, extra_md="# <script>alert(3)</script>"))
    result = _result(message="<script>alert(4)</script>")
    result = replace(result, student_id="<b>mallory</b>")
    page = notebook_feedback(result, "00-demo", submitted=sub)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower() and "<b>mallory" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page


def test_edited_locked_cell_is_shown_as_given_with_a_note(tmp_path):
    """Does the page show the released test code, not the student's edit, and say it was restored?"""
    sub = _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return 2 * x", "print('EDITED_BY_STUDENT')"))
    release = _write(tmp_path, "rel.ipynb", _nb("raise NotImplementedError()", _VISIBLE_SRC))
    page = notebook_feedback(_result(), "00-demo", submitted=sub, release=release)
    assert "EDITED_BY_STUDENT" not in page
    assert "assert_close(double([1.0, 2.0])" in page
    assert "changed or deleted" in page


def test_failed_submission_explains_why(tmp_path):
    """Does a failed submission's page give the reason and no points?"""
    result = _result(status="failed", reason="invalid JSON: Expecting value at line 1")
    page = notebook_feedback(result, "00-demo", submitted=None)
    assert "could not be graded" in page
    assert "invalid JSON: Expecting value at line 1" in page
    assert "0 / 3 points" in page


def _banner(page: str) -> str:
    return re.search(r'<div class="banner [a-z]+">(.*?)</div>', page, re.DOTALL).group(1)


def test_flagged_submission_gets_one_sentence_not_the_list(tmp_path):
    """Does a flagged page say in one sentence what was detected, without the instructor's long list?"""
    reason = "; ".join(f"tampering: replaced gradlib.checks.core.f{i}" for i in range(158))
    result = _result(status="flagged", reason=reason)
    page = notebook_feedback(result, "00-demo", submitted=None)
    banner = html.unescape(re.sub(r"<[^>]+>", "", _banner(page)))
    assert "flagged" in banner and "replaced functions that the tests call" in banner
    assert "f157" not in page and "gradlib.checks.core" not in page
    assert len(banner) < 400 and banner.count(". ") <= 2, banner


def test_prose_and_latex_render_like_the_notebook(tmp_path):
    """Are markdown prose, backticks and $LaTeX$ rendered (no raw dollars or backticks on the page)?"""
    md = "## The toy: $2^{100}$ and `W = 2I`\n\nWe compute $$\\frac{a}{b}$$ and **more** prose."
    sub = _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return 2 * x", extra_md=md))
    page = notebook_feedback(_result(), "00-demo", submitted=sub)
    assert "<h2>The toy: " in page and "<code>W = 2I</code>" in page and "<strong>more</strong>" in page
    assert page.count('class="math"') == 2, page  # inline: HTML; display: drawn by mathtext
    assert '<span class="math" title="2^{100}">2<sup>100</sup></span>' in page
    assert '<img class="math"' in page and 'alt="\\frac{a}{b}"' in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "$" not in text and "`" not in text


def test_unsupported_tex_shows_its_source(tmp_path):
    """Does TeX that mathtext cannot draw fall back to its source, escaped, instead of vanishing?"""
    html_out = render_markdown("see $\\begin{unknownenv}<b>x</b>$ here")
    assert '<code class="tex">' in html_out and "&lt;b&gt;" in html_out


def test_written_answer_is_labelled_graded_by_hand(tmp_path):
    """Is a written answer shown as graded by hand, with the hand-graded points named in the total?"""
    cells = [
        authoring.markdown("# Part 1"),
        authoring.answer("double", "def double(x):\n    return 2 * x"),
        authoring.test("double_values", 2, _VISIBLE_SRC),
        authoring.test("double_dtype", 1, "# double_dtype: float64\nprint('ok')"),
        authoring.manual_answer("why_double", 3, "MY_WRITTEN_ANSWER because *reasons*"),
    ]
    sub = _write(tmp_path, "sub.ipynb", authoring.notebook(cells))
    page = notebook_feedback(_result(), "00-demo", submitted=sub, release=sub)
    assert "MY_WRITTEN_ANSWER because <em>reasons</em>" in page
    assert "3 points, graded by hand" in page
    assert "3 more points are graded by hand" in page and "lesson total 6" in page
    assert "not graded" not in page and "Hidden test cases" not in page


def test_full_points_never_sit_beside_a_failure(tmp_path):
    """When the clean re-check passed but the kernel showed an error, is the cell not red and explained?"""
    result = _result(points=(2.0, 1.0), message="CheckFailure: double raised UserWarning: careful")
    first = replace(result.cells[0], passed_in_kernel=False, passed_clean=True)
    result = replace(result, cells=(first, *result.cells[1:]))
    page = notebook_feedback(result, "00-demo", submitted=None)
    section = re.search(
        r'<section class="cell [a-z]*"><header><span>test <code>double_values.*?</section>', page
    )
    assert section is not None and "2 / 2 points" in section.group(0)
    assert 'class="msg"' not in section.group(0) and "Full points" in section.group(0)
    # the kernel run's text is never shown: it can carry a hidden test's source
    assert "raised UserWarning" not in section.group(0)


def test_write_feedback_layout_and_unsafe_ids(tmp_path):
    """Are pages written to feedback/<student>/<assignment>/<nb>.html, never outside OUT?"""
    sub = _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return 2 * x"))
    good = _result()
    evil = _result()
    evil = replace(evil, student_id="../../escape")
    paths = write_feedback([good, evil], tmp_path / "out", submitted=lambda s, a, n: sub)
    assert paths[0] == tmp_path / "out" / "feedback" / "alice" / "00-demo" / "00-demo.html"
    assert all((tmp_path / "out" / "feedback") in p.parents for p in paths)
    assert paths[1] == feedback_path(tmp_path / "out", "../../escape", "00-demo", "00-demo")
    assert all(p.is_file() for p in paths)


def test_a_page_is_rendered_again_only_when_what_it_shows_changed(tmp_path):
    """Does a re-run leave an unchanged page alone, and re-render it when the result or notebook changes?"""
    sub = _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return 2 * x"))
    out = tmp_path / "out"
    (page,) = write_feedback([_result()], out, submitted=lambda s, a, n: sub)
    page.write_text(page.read_text().replace("expected 2.0", "MARKER"))  # only a re-render removes it
    write_feedback([_result()], out, submitted=lambda s, a, n: sub)
    assert "MARKER" in page.read_text() and page.read_text().startswith("<!-- autograder feedback ")
    write_feedback([_result(points=(2.0, 1.0), message="")], out, submitted=lambda s, a, n: sub)
    assert "MARKER" not in page.read_text() and "3 / 3" in html.unescape(page.read_text())
    page.write_text(page.read_text().replace("double", "MARKER", 1))
    _write(tmp_path, "sub.ipynb", _nb("def double(x):\n    return x + x"))
    write_feedback([_result(points=(2.0, 1.0), message="")], out, submitted=lambda s, a, n: sub)
    assert "return x + x" in html.unescape(page.read_text())


@pytest.mark.nbgrader
@pytest.mark.sandbox
def test_published_feedback_shows_the_graded_release_not_a_later_course(toy_course, tmp_path):  # noqa: F811
    """After grading, with course/ changed and the submissions gone, do pages show the graded release?"""
    from autograder import engine, report

    course = tmp_path / "course-copy"
    shutil.copytree(toy_course, course)
    subs = write_nbgrader_layout(
        tmp_path / "submissions",
        {
            "alice": student_notebook(course),
            "eve": student_notebook(course, edit=lambda nb: _edit_cell(nb, "total_value", "print('ok')")),
        },
    )
    out = tmp_path / "out"
    options = engine.GradeOptions(course=course, workers=1, cell_timeout=8, notebook_timeout=20)
    results = engine.grade(subs, out, options)
    assert {r.student_id: r.status for r in results} == {"alice": "graded", "eve": "flagged"}
    released = course / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    graded_line = next(line for line in TEST_DOUBLE.splitlines() if line.startswith("core.assert_close"))
    released.write_text(released.read_text().replace(json.dumps(graded_line)[1:-1], "CHANGED_AFTER_GRADING"))
    assert "CHANGED_AFTER_GRADING" in released.read_text()
    shutil.rmtree(subs)
    report.publish(results, out, release_dir=course / "course", console=Console(file=io.StringIO()))
    page = {
        r.student_id: feedback_path(out, r.student_id, ASSIGNMENT, ASSIGNMENT).read_text() for r in results
    }
    for student in ("alice", "eve"):
        assert html.escape(graded_line) in page[student] and "CHANGED_AFTER_GRADING" not in page[student]
        assert "[-1.5, 7.0]" not in page[student]  # the hidden test stays hidden
        assert "2.0 * np.asarray(x, dtype=float)" in page[student]  # their own answer, from OUT
    assert "changed or deleted" in page["eve"] and "changed or deleted" not in page["alice"]


def _edit_cell(nb, grade_id: str, source: str) -> None:
    next(
        c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
    ).source = source
