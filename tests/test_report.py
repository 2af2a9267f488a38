"""autograder.report: the class report, pass rates per test cell, sandbox alarm, progress and summary."""

from __future__ import annotations

import html
import io
import re
import statistics

from rich.console import Console

from autograder.report import GradingProgress, cell_stats, print_summary, sandbox_warning, write_report
from autograder.results import CellResult, SubmissionResult


def _sub(student, assignment, points, status="graded", reason="", sandbox="bwrap"):
    cells = [
        CellResult(assignment, gid, p, 2.0, p == 2.0, p == 2.0, "" if p == 2.0 else "wrong")
        for gid, p in zip(("f_values", "f_std", "g_values"), points, strict=True)
    ]
    if status == "failed":
        cells = []
    score = sum(c.points for c in cells)
    return SubmissionResult(student, assignment, score, 6.0, status, reason, cells, 1.0, sandbox)


def _class(sandbox="bwrap"):
    return [
        _sub("s1", "01-a", (2, 2, 2), sandbox=sandbox),
        _sub("s2", "01-a", (2, 0, 2), sandbox=sandbox),
        _sub("s3", "01-a", (2, 0, 0), sandbox=sandbox),
        _sub("s4", "01-a", (0, 0, 0), "failed", "invalid JSON: Expecting value", sandbox=sandbox),
        _sub("s5", "01-a", (2, 0, 2), "flagged", "numpy.testing was replaced", sandbox=sandbox),
        _sub("s1", "02-b", (2, 2, 2), sandbox=sandbox),
    ]


def test_cell_stats_count_graded_submissions_unless_told_to_include_flagged():
    """Is a cell's pass rate the share of graded submissions (flagged only on request) with full points?"""
    stats = {(s.assignment, s.grade_id): s for s in cell_stats(_class())}
    assert stats[("01-a", "f_values")].pass_rate == 1.0
    assert (stats[("01-a", "f_std")].passed, stats[("01-a", "f_std")].attempted) == (1, 3)
    assert stats[("01-a", "g_values")].pass_rate == 2 / 3
    with_flagged = {(s.assignment, s.grade_id): s for s in cell_stats(_class(), include_flagged=True)}
    assert (with_flagged[("01-a", "f_std")].passed, with_flagged[("01-a", "f_std")].attempted) == (1, 4)
    assert with_flagged[("01-a", "g_values")].pass_rate == 0.75
    assert [s.grade_id for s in cell_stats(_class()) if s.assignment == "01-a"] == [
        "f_values",
        "f_std",
        "g_values",
    ]


def test_report_has_figures_counts_reasons_and_struggles(tmp_path):
    """Does report.html embed the PNG figures and list counts, reasons and the hardest cell first?"""
    page = write_report(_class(), tmp_path).read_text()
    for name in ("status.png", "scores.png", "pass_rate.png"):
        assert (tmp_path / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("data:image/png;base64,") == 3
    assert "6 submissions: 4 graded, 1 flagged, 1 failed" in page
    assert "invalid JSON: Expecting value" in page and "numpy.testing was replaced" in page
    hardest = page.split("<ol>")[1].split("</ol>")[0]
    assert hardest.index("f_std") < hardest.index("g_values")
    assert "SANDBOX FALLBACK" not in page


def test_sandbox_fallback_is_loud(tmp_path):
    """Does a run in the rlimit fallback put an alarm in the report and in the terminal summary?"""
    results = _class(sandbox="rlimits (fallback: bwrap not found)")
    assert "SANDBOX FALLBACK" in write_report(results, tmp_path).read_text()
    buf = io.StringIO()
    print_summary(results, Console(file=buf, width=200))
    assert "SANDBOX FALLBACK" in buf.getvalue()
    assert sandbox_warning(_class()) is None
    assert sandbox_warning(_class(), mode="none") is not None


def test_report_escapes_reasons_and_ids(tmp_path):
    """Are student ids and reasons escaped in the report?"""
    results = [_sub("<script>x</script>", "01-a", (0, 0, 0), "failed", "<img src=x onerror=alert(1)>")]
    page = write_report(results, tmp_path).read_text()
    assert "<script>x" not in page and "<img src=x" not in page


def test_summary_and_progress_count_statuses():
    """Do the summary table and the progress callback count graded, flagged and failed?"""
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=False)
    results = _class()
    with GradingProgress(total=len(results), console=console) as progress:
        for r in results:
            progress(r)
    assert progress.counts == {"graded": 4, "flagged": 1, "failed": 1}
    print_summary(results, console)
    text = buf.getvalue()
    assert "01-a" in text and "02-b" in text
    assert "invalid JSON: Expecting value" in text


def test_reason_kind_groups_like_reasons():
    """Do reasons differing only in assignment, details in parentheses or extra clauses group together?"""
    from autograder.report import reason_kind

    a = reason_kind("01-a.ipynb is not valid JSON (line 3 (char 9)); is it a notebook?", ["01-a"])
    b = reason_kind("02-b.ipynb is not valid JSON (line 7 (char 1)); is it a notebook?", ["02-b"])
    assert a == b == "<assignment>.ipynb is not valid JSON; ..."
    assert reason_kind("x" * 300).endswith("...") and len(reason_kind("x" * 300)) == 120


def _flagged_class():
    many = "; ".join(f"tampering: replaced gradlib.checks.core.f{i}" for i in range(158))
    return [
        *_class(),
        _sub("s6", "01-a", (2, 2, 2), "flagged", many),
        _sub("s7", "01-a", (2, 2, 0), "flagged", "tampering: replaced numpy.testing.assert_allclose"),
        _sub(
            "s8",
            "02-b",
            (2, 2, 2),
            "flagged",
            "f_values passed in the kernel but fails the clean-room re-check",
        ),
        _sub("s9", "02-b", (0, 0, 0), "failed", "02-b: 02-b.ipynb is not valid JSON (line 3 (char 9))"),
    ]


def test_report_groups_reasons_by_cause_with_counts(tmp_path):
    """Are failed and flagged reasons grouped by cause with counts, not by their first words?"""
    page = write_report(_flagged_class(), tmp_path).read_text()
    groups = re.findall(r"<tr><td>(failed|flagged)</td><td>([^<]+)</td><td class='num'>(\d+)</td>", page)
    by_label = {html.unescape(label): int(n) for _, label, n in groups}
    assert by_label["replaced or deleted functions the tests call (gradlib.checks, numpy, builtins)"] == 2
    assert by_label["not a readable notebook"] == 2  # two differently worded invalid-JSON reasons
    assert by_label["tests passed in the notebook's kernel but failed the clean-room re-check"] == 1
    assert sum(by_label.values()) == 6  # s5's "numpy.testing was replaced" is other tampering


def test_each_problem_row_is_one_line_with_the_full_reason_on_demand(tmp_path):
    """Is a 158-entry reason folded into <details>, so its row stays one line?"""
    page = write_report(_flagged_class(), tmp_path).read_text()
    row = re.search(r"<tr><td>flagged</td><td>s6</td>.*?</tr>", page, re.DOTALL).group(0)
    visible = re.sub(r"<pre>.*?</pre>", "", row, flags=re.DOTALL)
    assert "f157" not in visible and len(re.sub(r"<[^>]+>", "", visible)) < 300, visible
    assert "<details><summary>" in row and "f157" in row  # the full reason, on demand


def test_every_statistic_says_whether_flagged_submissions_count(tmp_path):
    """Does the report say its statistics exclude flagged submissions, and include them when asked?"""
    results = _flagged_class()
    page = write_report(results, tmp_path / "a").read_text()
    assert page.count("graded submissions only (flagged excluded)") == 2
    with_flagged = write_report(results, tmp_path / "b", include_flagged=True).read_text()
    assert "graded and flagged submissions" in with_flagged and "flagged excluded" not in with_flagged
    mean = re.search(
        r"<tr><td>01-a</td>(?:<td class=\"num\">[^<]*</td>){5}<td class=\"num\">([^<]+)</td>", page
    )
    graded_only = statistics.mean(
        100 * r.score / r.max_score for r in results if r.assignment == "01-a" and r.status == "graded"
    )
    assert mean is not None and float(mean.group(1)) == round(graded_only, 1)
