"""What the instructor sees: the class report (``OUT/report.html``), a progress bar and a summary table.

The report answers the questions an instructor has after grading: how did the class score on each
assignment, which exercise did the class struggle with (pass rate per test cell), which submissions could
not be graded or were flagged and why (grouped by cause with counts, one line per row, the full reason
on demand), and whether grading ran in the real sandbox. Statistics count graded submissions only unless
``include_flagged`` is set, and every table says which it does. Figures are PNGs
drawn with matplotlib's Agg backend, written to ``OUT/figures/`` and embedded in the page, so the page is
one self-contained file that can be mailed around.
"""

from __future__ import annotations

import base64
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.ticker import MaxNLocator  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from autograder.reasons import causes  # noqa: E402
from autograder.results import STATUSES, SubmissionResult  # noqa: E402

__all__ = [
    "CellStats",
    "GradingProgress",
    "cause_groups",
    "cell_stats",
    "print_summary",
    "publish",
    "reason_kind",
    "sandbox_warning",
    "status_counts",
    "summary_table",
    "write_report",
]

#: Sandbox modes that are full isolation; anything else is a fallback and is reported loudly.
STRONG_SANDBOXES = ("bwrap", "bubblewrap", "unshare", "namespaces")

_COLORS = {"graded": "#3a7d44", "failed": "#b23a2f", "flagged": "#d9962b"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.25em .8em;text-align:left;
border-bottom:1px solid #eee;font-size:.92em}th{background:#f5f5f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.alarm{background:#b23a2f;color:#fff;padding:1em 1.2em;border-radius:6px;font-weight:600;font-size:1.1em}
.ok{background:#eef7ee;border:1px solid #9cc89c;padding:.6em 1em;border-radius:6px}
.low{color:#b23a2f;font-weight:600}img{max-width:100%;border:1px solid #eee}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.scope{color:#555;font-size:.9em;margin:.2em 0}
table.rows td{white-space:nowrap}td.line{max-width:24em;overflow:hidden;text-overflow:ellipsis}
table.rows summary{max-width:26em;overflow:hidden;text-overflow:ellipsis}
details{display:inline}details[open]{display:block}summary{cursor:pointer;color:#35557a}
details pre{white-space:pre-wrap;word-break:break-word;max-height:16em;overflow:auto;background:#fafafa;
padding:.5em;font-size:.85em;max-width:60em}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self'"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class CellStats:
    """How the class did on one test cell."""

    assignment: str
    notebook: str
    grade_id: str
    max_points: float
    passed: int  # submissions with full points on the cell
    attempted: int  # graded or flagged submissions that have the cell
    mean_points: float

    @property
    def pass_rate(self) -> float:
        """Fraction of the submissions that earned the cell's full points."""
        return self.passed / self.attempted if self.attempted else 0.0


def status_counts(results: Iterable[SubmissionResult]) -> dict[str, Counter]:
    """Per assignment, how many submissions were graded, failed and flagged."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in results:
        counts[r.assignment][r.status] += 1
    return dict(sorted(counts.items()))


def _counted(r: SubmissionResult, include_flagged: bool) -> bool:
    return r.status == "graded" or (include_flagged and r.status == "flagged")


def _scope(include_flagged: bool) -> str:
    return (
        "graded and flagged submissions" if include_flagged else "graded submissions only (flagged excluded)"
    )


def cell_stats(results: Iterable[SubmissionResult], *, include_flagged: bool = False) -> list[CellStats]:
    """Pass rate of every test cell, in assignment then notebook order.

    Failed submissions never count; flagged ones only with ``include_flagged``.
    """
    points: dict[tuple[str, str, str], list[float]] = {}
    worth: dict[tuple[str, str, str], float] = {}
    for r in results:
        if not _counted(r, include_flagged):
            continue
        for c in r.cells:
            key = (r.assignment, c.notebook, c.grade_id)
            points.setdefault(key, []).append(c.points)
            worth[key] = max(worth.get(key, 0.0), c.max_points)
    stats = []
    for key, pts in points.items():
        full = worth[key]
        passed = sum(p >= full for p in pts)
        stats.append(CellStats(*key, full, passed, len(pts), sum(pts) / len(pts)))
    order = {key: i for i, key in enumerate(points)}
    return sorted(stats, key=lambda s: (s.assignment, order[(s.assignment, s.notebook, s.grade_id)]))


def _is_strong(mode: str) -> bool:
    return any(mode.lower().startswith(s) for s in STRONG_SANDBOXES) and "fallback" not in mode.lower()


def sandbox_warning(results: Iterable[SubmissionResult], mode: str | None = None) -> str | None:
    """A loud warning when any submission ran without namespace isolation, else None.

    Args:
        results: the graded submissions (their ``sandbox`` field names the mode each one ran in).
        mode: the run's sandbox mode if known, checked as well.
    """
    modes = Counter(r.sandbox for r in results if r.sandbox)
    if mode:
        modes[mode] += 0
    weak = sorted(m for m in modes if not _is_strong(m))
    if not weak:
        return None
    return (
        f"SANDBOX FALLBACK: grading ran in mode {', '.join(repr(m) for m in weak)}, not in Linux namespaces. "
        "Student code could read files the grader can read (hidden tests, solutions, other submissions) "
        "and reach the network; only resource limits applied. Install bubblewrap (`bwrap`) and re-grade "
        "before publishing these grades."
    )


def _percent(r: SubmissionResult) -> float:
    return 100.0 * r.score / r.max_score if r.max_score else 0.0


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def score_figure(results: list[SubmissionResult]) -> bytes:
    """PNG: a histogram of scores (percent of the maximum) per assignment; failed submissions excluded."""
    names = sorted({r.assignment for r in results}) or ["(none)"]
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    bins = [i * 10 for i in range(11)]
    for ax, name in zip(axes.flat, names, strict=False):
        mine = [r for r in results if r.assignment == name]
        groups = [(s, [_percent(r) for r in mine if r.status == s]) for s in ("graded", "flagged")]
        groups = [(s, v) for s, v in groups if v]
        if groups:
            ax.hist(
                [v for _, v in groups],
                bins=bins,
                stacked=True,
                color=[_COLORS[s] for s, _ in groups],
                label=[f"{s} ({len(v)})" for s, v in groups],
            )
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        failed = sum(r.status == "failed" for r in mine)
        ax.set_title(f"{name}" + (f"  ({failed} failed)" if failed else ""), fontsize=9)
        ax.set_xlim(0, 100)
        ax.set_xlabel("score (% of max)", fontsize=8)
        ax.set_ylabel("students", fontsize=8)
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle("Score distribution per assignment", fontsize=11)
    fig.tight_layout()
    return _figure_png(fig)


def pass_rate_figure(stats: list[CellStats]) -> bytes:
    """PNG: the pass rate of every test cell as horizontal bars, red below 50 %, amber below 80 %."""
    labels = [f"{s.assignment}: {s.grade_id}" for s in stats] or ["(no test cells)"]
    rates = [100 * s.pass_rate for s in stats] or [0.0]
    colors = ["#b23a2f" if r < 50 else "#d9962b" if r < 80 else "#3a7d44" for r in rates]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.6 + 0.22 * len(labels))))
    y = list(range(len(labels)))
    ax.barh(y, rates, color=colors)
    for yi, rate in zip(y, rates, strict=True):
        ax.text(min(rate, 88) + 1, yi, f"{rate:.0f} %", va="center", fontsize=6)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions with full points on the cell (%)", fontsize=8)
    ax.set_title("Pass rate per test cell", fontsize=11)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _figure_png(fig)


def status_figure(counts: dict[str, Counter]) -> bytes:
    """PNG: stacked bars of graded / flagged / failed submissions per assignment."""
    names = list(counts) or ["(none)"]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(names) + 2), 3))
    bottom = [0] * len(names)
    for status in ("graded", "flagged", "failed"):
        vals = [counts.get(n, Counter())[status] for n in names]
        ax.bar(names, vals, bottom=bottom, color=_COLORS[status], label=status)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("submissions", fontsize=8)
    ax.set_title("Grading outcome per assignment", fontsize=11)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _figure_png(fig)


def _img(out: Path, name: str, png: bytes, alt: str) -> str:
    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(png)
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _overview_rows(results: list[SubmissionResult], counts: dict[str, Counter], include_flagged: bool) -> str:
    rows = []
    for name, cnt in counts.items():
        scores = [_percent(r) for r in results if r.assignment == name and _counted(r, include_flagged)]
        mean = f"{statistics.mean(scores):.1f}" if scores else "-"
        median = f"{statistics.median(scores):.1f}" if scores else "-"
        cells = "".join(f'<td class="num">{cnt[s]}</td>' for s in STATUSES)
        rows.append(
            f'<tr><td>{_e(name)}</td><td class="num">{sum(cnt.values())}</td>{cells}'
            f'<td class="num">{mean}</td><td class="num">{median}</td></tr>'
        )
    head = "".join(f"<th>{s}</th>" for s in STATUSES)
    return (
        f"<table><tr><th>assignment</th><th>submissions</th>{head}<th>mean %</th><th>median %</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _cell_rows(stats: list[CellStats]) -> str:
    rows = "".join(
        f"<tr><td>{_e(s.assignment)}</td><td><code>{_e(s.grade_id)}</code></td>"
        f'<td class="num">{s.max_points:g}</td><td class="num">{s.mean_points:.2f}</td>'
        f'<td class="num{" low" if s.pass_rate < 0.5 else ""}">{100 * s.pass_rate:.0f} %</td>'
        f'<td class="num">{s.passed}/{s.attempted}</td></tr>'
        for s in stats
    )
    return (
        "<table><tr><th>assignment</th><th>test cell</th><th>points</th><th>mean points</th>"
        f"<th>pass rate</th><th>passed</th></tr>{rows}</table>"
    )


def cause_groups(results: Iterable[SubmissionResult]) -> list[tuple[str, str, list[SubmissionResult]]]:
    """Failed and flagged submissions grouped by cause: ``(status, cause label, submissions)``, most first.

    A flagged submission with several causes counts once under each.
    """
    groups: dict[tuple[str, str], list[SubmissionResult]] = defaultdict(list)
    for r in results:
        for cause in causes(r.status, r.reason):
            groups[(r.status, cause.label)].append(r)
    return [(s, label, rs) for (s, label), rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _who(rs: list[SubmissionResult]) -> str:
    return ", ".join(f"{r.student_id} ({r.assignment})" for r in rs)


def _full_reason(r: SubmissionResult) -> str:
    first = r.reason.strip().splitlines()[0] if r.reason.strip() else "(no reason recorded)"
    gist = first if len(first) <= 90 else first[:87] + "..."
    return f"<details><summary>{_e(gist)}</summary><pre>{_e(r.reason)}</pre></details>"


def _problem_rows(results: list[SubmissionResult]) -> str:
    bad = sorted((r for r in results if r.status != "graded"), key=lambda r: (r.status, r.assignment))
    if not bad:
        return "<p>Every submission was graded normally.</p>"
    summary = "".join(
        f"<tr><td>{_e(s)}</td><td>{_e(label)}</td><td class='num'>{len(rs)}</td>"
        f"<td><details><summary>{len(rs)} submission{'s' * (len(rs) != 1)}</summary>{_e(_who(rs))}"
        "</details></td></tr>"
        for s, label, rs in cause_groups(bad)
    )
    detail = "".join(
        f"<tr><td>{_e(r.status)}</td><td>{_e(r.student_id)}</td><td>{_e(r.assignment)}</td>"
        f"<td class='num'>{r.score:g}/{r.max_score:g}</td>"
        f"<td class='line'>{_e('; '.join(c.label for c in causes(r.status, r.reason)))}</td>"
        f"<td>{_full_reason(r)}</td></tr>"
        for r in bad
    )
    return (
        "<table><tr><th>status</th><th>cause</th><th>submissions</th><th>who</th></tr>"
        f"{summary}</table><h3>Every failed or flagged submission</h3>"
        '<table class="rows"><tr><th>status</th><th>student</th><th>assignment</th><th>score</th>'
        f"<th>cause</th><th>full reason</th></tr>{detail}</table>"
    )


def write_report(
    results: list[SubmissionResult],
    out: Path,
    *,
    title: str = "Grading report",
    sandbox: str | None = None,
    include_flagged: bool = False,
) -> Path:
    """Write ``out/report.html`` (and its PNGs under ``out/figures``); return the page's path.

    Args:
        results: every graded submission of the run.
        out: the grading output directory.
        title: the page title.
        sandbox: the run's sandbox mode, if the caller knows it (a fallback is shown as an alarm).
        include_flagged: count flagged submissions in the mean, median, pass rates and struggles
            (default: graded submissions only); each statistic says which.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts, stats = status_counts(results), cell_stats(results, include_flagged=include_flagged)
    scope = f'<p class="scope">Statistics below: {_e(_scope(include_flagged))}.</p>'
    warning = sandbox_warning(results, sandbox)
    modes = sorted({r.sandbox for r in results if r.sandbox} | ({sandbox} if sandbox else set()))
    banner = (
        f'<p class="alarm">{_e(warning)}</p>'
        if warning
        else f'<p class="ok">Sandbox: {_e(", ".join(modes) or "not recorded")}.</p>'
    )
    hardest = sorted((s for s in stats if s.attempted), key=lambda s: s.pass_rate)[:5]
    hard_list = "".join(
        f"<li><code>{_e(s.grade_id)}</code> ({_e(s.assignment)}): {100 * s.pass_rate:.0f} % passed</li>"
        for s in hardest
    )
    total = Counter(r.status for r in results)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>{banner}"
        f"<p>{len(results)} submissions: {total['graded']} graded, {total['flagged']} flagged, "
        f"{total['failed']} failed.</p>"
        f"<h2>Overview</h2>{scope}{_overview_rows(results, counts, include_flagged)}"
        f"{_img(out, 'status.png', status_figure(counts), 'grading outcome per assignment')}"
        f'<h2>Scores</h2><p class="scope">Histogram: graded and flagged submissions, stacked by status.</p>'
        f"{_img(out, 'scores.png', score_figure(results), 'score distribution')}"
        f"<h2>Which exercises the class struggled with</h2>{scope}"
        f"<ol>{hard_list}</ol>"
        f"{_img(out, 'pass_rate.png', pass_rate_figure(stats), 'pass rate per test cell')}"
        f"{_cell_rows(stats)}"
        f"<h2>Failed and flagged submissions</h2>"
        '<p class="scope">Grouped by cause; the full reasons are also in <code>results.json</code>.</p>'
        f"{_problem_rows(results)}"
        "</body></html>\n"
    )
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def reason_kind(reason: str, assignments: Iterable[str] = (), limit: int = 120) -> str:
    """A reason's gist for grouping: assignment names and parenthesised details out, first clause only."""
    text = reason
    for name in sorted(assignments, key=len, reverse=True):
        text = text.replace(name, "<assignment>")
    while (shorter := re.sub(r"\s*\([^()]*\)", "", text)) != text:
        text = shorter
    parts = text.split("; ")
    text = parts[0] + ("; ..." if len(parts) > 1 else "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def summary_table(results: list[SubmissionResult]) -> Table:
    """A rich table: per assignment, submissions graded / flagged / failed and the mean and median score.

    The mean and median count graded submissions only (the caption says so).
    """
    table = Table(title="Grading summary", caption="mean and median %: graded submissions only")
    for col in ("assignment", "submissions", "graded", "flagged", "failed", "mean %", "median %"):
        table.add_column(col, justify="left" if col == "assignment" else "right", no_wrap=col == "assignment")
    for name, cnt in status_counts(results).items():
        scores = [_percent(r) for r in results if r.assignment == name and r.status == "graded"]
        table.add_row(
            name,
            str(sum(cnt.values())),
            str(cnt["graded"]),
            f"[yellow]{cnt['flagged']}[/]" if cnt["flagged"] else "0",
            f"[red]{cnt['failed']}[/]" if cnt["failed"] else "0",
            f"{statistics.mean(scores):.1f}" if scores else "-",
            f"{statistics.median(scores):.1f}" if scores else "-",
        )
    return table


def print_summary(
    results: list[SubmissionResult], console: Console | None = None, *, sandbox: str | None = None
) -> None:
    """Print the summary table, the reasons for failed/flagged submissions and any sandbox fallback."""
    console = console or Console()
    console.print(summary_table(results))
    names = {r.assignment for r in results}
    for status, label, rs in cause_groups(results):
        style = "red" if status == "failed" else "yellow"
        example = reason_kind(rs[0].reason, names, limit=80)
        console.print(
            f"[{style}]{status}[/] x{len(rs)}: {escape(label)} (e.g. {escape(example)})", highlight=False
        )
    warning = sandbox_warning(results, sandbox)
    if warning:
        console.print(f"[bold white on red]{warning}[/]")


class GradingProgress:
    """A rich progress bar advanced by a callback once per finished submission.

    Use as a context manager and pass the instance as the engine's progress callback::

        with GradingProgress() as progress:
            results = engine.grade(submissions, out, options, progress=progress)
        publish(results, out)
    """

    def __init__(
        self, total: int | None = None, console: Console | None = None, description: str = "grading"
    ) -> None:
        self.counts: Counter = Counter()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(description, total=total, tally="")

    def __enter__(self) -> GradingProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def __call__(self, result: SubmissionResult, done: int | None = None, total: int | None = None) -> None:
        """Record one finished submission (the engine also passes how many are done out of how many)."""
        if total is not None:
            self._progress.update(self._task, total=total)
        self.counts[result.status] += 1
        tally = " ".join(
            f"[{c}]{self.counts[s]} {s}[/]"
            for s, c in (("graded", "green"), ("flagged", "yellow"), ("failed", "red"))
            if self.counts[s]
        )
        self._progress.update(self._task, advance=1, tally=tally)


def publish(
    results: list[SubmissionResult],
    out: Path,
    *,
    release_dir: Path | None = None,
    console: Console | None = None,
    title: str = "Grading report",
) -> Path:
    """After grading: write every feedback page and the class report, print the summary; return the report.

    Args:
        results: what :func:`autograder.engine.grade` returned.
        out: the grading output directory.
        release_dir: the release root (``course/``), read only when ``out`` holds no copy of the release
            it was graded against (an ``OUT`` written before grading kept one).
        console: where the summary goes (default: the terminal).
        title: the report's title.
    """
    from autograder.feedback import write_all_feedback

    pages = write_all_feedback(results, out, release_dir=release_dir)
    path = write_report(results, out, title=title)
    console = console or Console()
    print_summary(results, console)
    console.print(f"feedback: {len(pages)} pages under {Path(out) / 'feedback'}")
    console.print(f"report:   {path}")
    return path
