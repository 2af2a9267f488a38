"""Feedback for students: one self-contained HTML page per student, assignment and notebook.

A page reads like the notebook: the lesson's prose with its formulas (markdown rendered, LaTeX drawn by
matplotlib's mathtext into inline images, so the page needs no script and no network), the student's own
answer cells (from the notebook they submitted), every graded test cell with the visible code the student
was given (from the release, never the hidden tests), the points it earned and the check's message.
Written answers are labelled as graded by hand, and the total says how many points await a human. A cell
never shows full points beside a failure. A failed or flagged submission gets one sentence on why
(:mod:`autograder.reasons`); the full reason is in ``results.json`` for the instructor.

Student code is untrusted: every piece of text is HTML-escaped, the page carries no script, and a
Content-Security-Policy forbids scripts and remote resources even if escaping were ever bypassed.
Pages are written to ``OUT/feedback/<student_id>/<assignment>/<notebook>.html``.

Everything a page shows comes from what grading recorded in ``OUT``: the results, the autograded
notebooks (``OUT/autograded/<student_id>/<assignment>/``: the student's cells, with the locked cells
nbgrader restored) and the release the run graded against, which :func:`save_release` copies to
``OUT/release/<assignment>/`` while grading. The submissions are not read again, and a later change to
``course/`` does not change the test code a page shows.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.reasons import student_sentence
from autograder.results import CellResult, SubmissionResult

__all__ = [
    "FEEDBACK_DIR",
    "RELEASE_DIR",
    "autograded_path",
    "feedback_path",
    "manual_points",
    "notebook_feedback",
    "release_path",
    "render_markdown",
    "save_release",
    "strip_hidden_tests",
    "tex_to_html",
    "write_all_feedback",
    "write_feedback",
]

FEEDBACK_DIR = "feedback"
#: ``OUT/release/<assignment>/<notebook>.ipynb``: the release notebooks a grading run graded against.
RELEASE_DIR = "release"

_HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?(### END HIDDEN TESTS[^\n]*\n?|\Z)", re.DOTALL)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$")

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:960px;margin:2em auto;
padding:0 1em;color:#1d1d1f;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin:1.6em 0 .4em}
.meta{color:#555}.score{font-size:1.3em;font-weight:600}
.banner{padding:.8em 1em;border-radius:6px;margin:1em 0;border:1px solid}
.banner.failed{background:#fdecea;border-color:#e0a39c}.banner.flagged{background:#fff4e0;border-color:#e6b866}
.banner.graded{background:#eef7ee;border-color:#9cc89c}
.cell{border:1px solid #ddd;border-radius:6px;margin:1em 0;overflow:hidden}
.cell header{display:flex;justify-content:space-between;padding:.35em .8em;background:#f5f5f7;
font-size:.9em}
.cell.pass header{background:#e6f4e6}.cell.partial header{background:#fff4d6}
.cell.fail header{background:#fbe3e1}
pre{margin:0;padding:.7em .9em;overflow-x:auto;font-size:.85em;white-space:pre-wrap;
word-break:break-word;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.code{background:#fafafa}pre.msg{background:#fff;border-top:1px dashed #ccc;color:#8a1c12}
.note{font-size:.85em;color:#555;padding:.3em .9em}
.prose{margin:1em 0}.prose h1{font-size:1.35em}.prose h2{font-size:1.15em}.prose h3{font-size:1.02em}
.prose code{background:#f3f3f5;padding:0 .25em;border-radius:3px;font-size:.9em}
.prose pre code{background:none;padding:0}
img.math{vertical-align:middle}code.tex{color:#444}.display-math{text-align:center;margin:.6em 0}
span.math{font-family:"Latin Modern Math","STIX Two Math","Cambria Math",serif;font-size:1.08em;
white-space:nowrap}
span.math .up{font-style:normal}span.math sup,span.math sub{font-size:.75em}
.cell.manual header{background:#e8eefb}.cell.warned header{background:#eef7ee}
pre.notice{background:#fff;border-top:1px dashed #ccc;color:#555}
.basis{font-size:.9em;color:#444}
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #eee}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def strip_hidden_tests(source: str) -> str:
    """Remove every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block from a cell's source.

    An unterminated block is removed up to the end of the cell, so hidden code never leaks.
    """
    return _HIDDEN.sub("", source)


_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\d)")
_PLACEHOLDER = re.compile(r"MATHPLACEHOLDER(\d+)X")


@functools.lru_cache(maxsize=4096)
def _math_png(tex: str) -> str | None:
    """``tex`` (without dollars) drawn by matplotlib's mathtext as a base64 PNG, or None if unsupported."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    try:
        mathtext.math_to_image(f"${tex}$", buf, dpi=110, format="png", prop=FontProperties(size=12))
    except Exception:  # noqa: BLE001 - mathtext covers most, not all, of TeX: show the source instead
        return None
    return base64.b64encode(buf.getvalue()).decode("ascii")


_SYMBOLS = {
    "times": "×", "cdot": "·", "in": "∈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "approx": "≈",
    "ne": "≠", "neq": "≠", "to": "→", "infty": "∞", "pm": "±", "ldots": "…", "dots": "…", "cdots": "⋯",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "phi": "φ", "rho": "ρ", "Sigma": "Σ",
    "partial": "∂", "nabla": "∇", "sim": "∼", "prime": "′", ",": "\u2009", ";": "\u2002", "quad": "\u2003",
    "%": "%", "_": "_", "{": "{", "}": "}", "ell": "ℓ", "odot": "⊙", "top": "⊤", "mid": "∣", "|": "‖",
}  # fmt: skip
_RELATIONS = {
    "in",
    "le",
    "leq",
    "ge",
    "geq",
    "approx",
    "ne",
    "neq",
    "to",
    "sim",
    "times",
    "cdot",
    "pm",
    "mid",
}
_FONTS = {"mathbb": dict(zip("RNZEC", "ℝℕℤ𝔼ℂ", strict=True)), "mathcal": {"L": "ℒ", "N": "𝒩", "O": "𝒪"}}
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([\^_])|(\{)|(\})|([A-Za-z])|(\s+)|([^\\^_{}A-Za-z\s])")


class _Unsupported(Exception):
    """TeX the quick HTML path does not know; mathtext draws it instead."""


def _group(tokens: list[re.Match], i: int) -> tuple[str, int]:
    """Convert one argument (a ``{...}`` group or a single token) starting at ``tokens[i]``."""
    if i >= len(tokens):
        raise _Unsupported("missing argument")
    if tokens[i].group(3):
        depth, j = 1, i + 1
        while j < len(tokens) and depth:
            depth += 1 if tokens[j].group(3) else -1 if tokens[j].group(4) else 0
            j += 1
        if depth:
            raise _Unsupported("unbalanced braces")
        return _tex_tokens(tokens[i + 1 : j - 1]), j
    return _tex_tokens(tokens[i : i + 1]), i + 1


def _raw_group(tokens: list[re.Match], i: int) -> tuple[str, int]:
    if i < len(tokens) and tokens[i].group(3) and i + 2 < len(tokens) and tokens[i + 2].group(4):
        return tokens[i + 1].group(0), i + 3
    raise _Unsupported("font argument")


def _tex_tokens(tokens: list[re.Match]) -> str:
    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        cmd, script, letter, space, other = (
            tok.group(1),
            tok.group(2),
            tok.group(5),
            tok.group(6),
            tok.group(7),
        )
        if cmd in ("text", "mathrm", "operatorname", "textrm"):
            body, i = _group(tokens, i + 1)
            out.append(f'<span class="up">{re.sub(r"</?i>", "", body)}</span>')
            continue
        if cmd in _FONTS:
            char, i = _raw_group(tokens, i + 1)
            if char not in _FONTS[cmd]:
                raise _Unsupported(cmd)
            out.append(_FONTS[cmd][char])
            continue
        if cmd is not None:
            if cmd not in _SYMBOLS:
                raise _Unsupported(cmd)
            symbol = _e(_SYMBOLS[cmd])
            out.append(f" {symbol} " if cmd in _RELATIONS else symbol)
        elif script:
            body, i = _group(tokens, i + 1)
            out.append(f"<sup>{body}</sup>" if script == "^" else f"<sub>{body}</sub>")
            continue
        elif letter:
            out.append(f"<i>{letter}</i>")
        elif space:
            out.append("")
        elif other:
            out.append(
                {"=": " = ", "<": " &lt; ", ">": " &gt; ", "+": " + ", ",": ", ", "-": "−"}.get(
                    other, _e(other)
                )
            )
        else:  # a stray brace
            raise _Unsupported("brace")
        i += 1
    return "".join(out)


def tex_to_html(tex: str) -> str | None:
    """Simple inline TeX (letters, digits, sub/superscripts, common symbols) as HTML; None if not simple."""
    tokens = list(_TOKEN.finditer(tex))
    if "".join(t.group(0) for t in tokens) != tex:
        return None
    try:
        return _tex_tokens(tokens)
    except _Unsupported:
        return None


def _math_html(tex: str, display: bool) -> str:
    tex = " ".join(tex.split())
    quick = None if display else tex_to_html(tex)
    if quick is not None:
        return f'<span class="math" title="{_e(tex)}">{quick}</span>'
    png = _math_png(tex)
    inner = (
        f'<img class="math" src="data:image/png;base64,{png}" alt="{_e(tex)}">'
        if png
        else f'<code class="tex">{_e(tex)}</code>'
    )
    return f'<div class="display-math">{inner}</div>' if display else inner


@functools.lru_cache(maxsize=1)
def _markdown_renderer():
    import mistune

    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


def render_markdown(source: str) -> str:
    """A markdown cell as HTML: raw HTML in it is escaped, formulas become images (or TeX source)."""
    maths: list[str] = []

    def keep(match: re.Match, display: bool) -> str:
        maths.append(_math_html(match.group(1), display))
        return f"MATHPLACEHOLDER{len(maths) - 1}X"

    text = _DISPLAY_MATH.sub(lambda m: "\n\n" + keep(m, True) + "\n\n", source)
    text = _INLINE_MATH.sub(lambda m: keep(m, False), text)
    rendered = _markdown_renderer()(text)
    return _PLACEHOLDER.sub(lambda m: maths[int(m.group(1))], rendered)


def _safe_component(name: str) -> str:
    """``name`` if it is a safe file name; otherwise a readable stand-in that cannot escape ``out``.

    A stand-in starts with ``_`` (no safe name does) and ends with a hash of the whole name, so two names
    never share a folder (``zoë`` and ``zoé`` both read ``_zo_`` but differ in their hash).
    """
    if _SAFE_NAME.match(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]", "_", name)[:160].lstrip(".-")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"_{cleaned}-{digest}"


def feedback_path(out: Path, student_id: str, assignment: str, notebook: str) -> Path:
    """Where the feedback page of one notebook goes: ``OUT/feedback/<student>/<assignment>/<nb>.html``.

    Names that are not plain file names (``..``, slashes, spaces) are replaced by a ``_``-prefixed stand-in.
    """
    return (
        Path(out)
        / FEEDBACK_DIR
        / _safe_component(student_id)
        / _safe_component(assignment)
        / f"{_safe_component(notebook)}.html"
    )


def release_path(out: Path, assignment: str, notebook: str) -> Path:
    """Where a grading run keeps a release notebook it graded against (:func:`save_release`)."""
    return Path(out) / RELEASE_DIR / assignment / f"{notebook}.ipynb"


def autograded_path(out: Path, student_id: str, assignment: str, notebook: str) -> Path | None:
    """The autograded notebook the engine wrote for one submission, or None when there is none."""
    root = Path(out) / "autograded"
    path = root / student_id / assignment / f"{notebook}.ipynb"
    inside = path.resolve().is_relative_to(root.resolve())
    return path if inside and path.is_file() and not path.is_symlink() else None


def save_release(release_root: Path, assignments: list[str], out: Path) -> None:
    """Copy the release notebooks a run grades against (``<release_root>/<assignment>/*.ipynb``) into ``out``.

    Called by the engine while grading, so feedback shows the test code of the release that was graded,
    whatever happens to ``course/`` later. An assignment's earlier copy is replaced whole.
    """
    for assignment in assignments:
        dest = release_path(out, assignment, "x").parent
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for notebook in sorted((Path(release_root) / assignment).glob("*.ipynb")):
            shutil.copyfile(notebook, dest / notebook.name)


def _meta(cell: dict) -> dict:
    meta = cell.get("metadata", {})
    return meta.get("nbgrader", {}) if isinstance(meta, dict) else {}


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _read_notebook(path: Path | None) -> dict | None:
    """A notebook as plain JSON, or None when it is missing or not a readable notebook."""
    if path is None:
        return None
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None
    return nb


@dataclass
class _Cell:
    kind: str  # "prose", "answer", "manual" (graded by hand) or "test"
    grade_id: str
    source: str
    edited: bool = False
    points: float = 0.0


def _is_manual(cell: dict) -> bool:
    """A written answer or task graded by a person: a grade cell that is also an answer, or a task."""
    meta = _meta(cell)
    return bool(meta.get("task") or (meta.get("grade") and meta.get("solution")))


def manual_points(release: dict | None) -> float:
    """Points of the cells a person grades (written answers, tasks) in a release notebook."""
    if release is None:
        return 0.0
    return sum(
        float(_meta(c).get("points") or 0) for c in release["cells"] if isinstance(c, dict) and _is_manual(c)
    )


def _release_tests(release: dict | None) -> dict[str, str]:
    if release is None:
        return {}
    return {
        _meta(c).get("grade_id", ""): strip_hidden_tests(_source(c))
        for c in release["cells"]
        if isinstance(c, dict) and _meta(c).get("grade") and not _meta(c).get("solution")
    }


def _cells_to_show(
    submitted: dict | None, release: dict | None, graded: list[str], restored: frozenset[str] = frozenset()
) -> list[_Cell]:
    """Headings, answer cells and test cells in notebook order; deleted test cells come back at the end.

    ``restored`` names the test cells grading found edited or deleted (and nbgrader restored, so an
    autograded notebook shows them as given).
    """
    given = _release_tests(release)
    order = submitted if submitted is not None else release
    shown: list[_Cell] = []
    seen: set[str] = set()
    for cell in (order or {}).get("cells", []):
        if not isinstance(cell, dict):
            continue
        meta, src = _meta(cell), _source(cell)
        gid = str(meta.get("grade_id", ""))
        if _is_manual(cell):
            shown.append(_Cell("manual", gid, src, points=float(meta.get("points") or 0)))
        elif cell.get("cell_type") == "markdown" and not meta.get("grade"):
            shown.append(_Cell("prose", "", src))
        elif cell.get("cell_type") == "code" and meta.get("solution"):
            shown.append(_Cell("answer", gid, src))
        elif meta.get("grade") and gid and gid not in seen:
            seen.add(gid)
            visible = given.get(gid, strip_hidden_tests(src))
            edited = gid in restored or (gid in given and strip_hidden_tests(src).strip() != visible.strip())
            shown.append(_Cell("test", gid, visible, edited=edited))
    for gid in graded:
        if gid not in seen:
            shown.append(_Cell("test", gid, given.get(gid, ""), edited=submitted is not None))
    return shown


_BASIS = (
    "Points come from the test cells below, run on your functions in a fresh, clean process. Graded tests "
    "also use other shapes and values than the visible ones; for those you see the message, not the code."
)


def _status_banner(result: SubmissionResult) -> str:
    if result.status in ("failed", "flagged"):
        sentence = student_sentence(result.status, result.reason or "unknown")
        head, _, rest = sentence.partition(": ") if result.status == "flagged" else sentence.partition(" (")
        joint = ": " if result.status == "flagged" else " ("
        text = f"<strong>{_e(head)}</strong>{_e(joint + rest) if rest else ''}"
    else:
        text = "Graded automatically. Each test cell below shows its points and, if it failed, why."
    return f'<div class="banner {_e(result.status)}">{text}</div>'


def _cell_class(cell: CellResult) -> str:
    if cell.points >= cell.max_points:
        return "pass"
    return "partial" if cell.points > 0 else "fail"


def _render_test(cell: _Cell, graded: CellResult | None) -> str:
    notes = []
    if graded is None:
        head = f"<span>test <code>{_e(cell.grade_id)}</code></span><span>no result</span>"
        css, msg = "", ""
    else:
        css = _cell_class(graded)
        head = (
            f"<span>test <code>{_e(cell.grade_id)}</code></span>"
            f"<span>{graded.points:g} / {graded.max_points:g} points</span>"
        )
        if graded.points >= graded.max_points and graded.passed_in_kernel is False:
            # full points: never show the kernel's failure as if it were the grade (nor its text, which
            # the kernel run produced and could carry a hidden test's source)
            css = "warned"
            msg = (
                '<div class="note">Full points: your functions passed this test when re-run in a clean '
                "process. In your notebook the test cell failed, often because your code printed a "
                "warning; worth a look, but it cost nothing.</div>"
            )
        elif graded.points < graded.max_points:
            msg = f'<pre class="msg">{_e(graded.message or "this test failed")}</pre>'
        else:
            msg = ""
        if graded.passed_in_kernel and graded.passed_clean is False:
            msg += (
                '<div class="note">Passed in your notebook but failed when your functions were re-run '
                "in a clean process.</div>"
            )
    if cell.edited:
        notes.append("This locked cell was changed or deleted in your notebook; the original was used.")
    code = f'<pre class="code">{_e(cell.source.rstrip())}</pre>' if cell.source.strip() else ""
    note_html = "".join(f'<div class="note">{_e(n)}</div>' for n in notes)
    return f'<section class="cell {css}"><header>{head}</header>{code}{msg}{note_html}</section>'


def _render_cells(cells: list[_Cell], by_id: dict[str, CellResult]) -> str:
    parts = []
    for cell in cells:
        if cell.kind == "prose":
            parts.append(f'<div class="prose">{render_markdown(cell.source)}</div>')
        elif cell.kind == "manual":
            parts.append(
                f'<section class="cell manual"><header><span>written answer <code>{_e(cell.grade_id)}'
                f"</code></span><span>{cell.points:g} points, graded by hand</span></header>"
                f'<div class="prose" style="padding:0 .9em">{render_markdown(cell.source)}</div></section>'
            )
        elif cell.kind == "answer":
            parts.append(
                f'<section class="cell"><header><span>your answer <code>{_e(cell.grade_id)}</code>'
                f'</span></header><pre class="code">{_e(cell.source.rstrip())}</pre></section>'
            )
        else:
            parts.append(_render_test(cell, by_id.get(cell.grade_id)))
    return "\n".join(parts)


def _restored_tests(result: SubmissionResult, notebook: str) -> frozenset[str]:
    """Test cells of ``notebook`` that grading flagged as edited or deleted (in the result's reason)."""
    if result.status != "flagged":
        return frozenset()
    pattern = re.compile(rf"(?:^|; ){re.escape(notebook)}: test cell (\S+) was (?:edited|deleted)\b")
    return frozenset(pattern.findall(result.reason))


def _summary_table(cells: list[CellResult], by_hand: float = 0.0) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(c.grade_id)}</code></td><td>{c.points:g} / {c.max_points:g}</td></tr>"
        for c in cells
    )
    if rows and by_hand:
        rows += f"<tr><td>written answers</td><td>{by_hand:g} points, graded by hand</td></tr>"
    return f"<table><tr><th>test</th><th>points</th></tr>{rows}</table>" if rows else ""


def notebook_feedback(
    result: SubmissionResult,
    notebook: str,
    *,
    submitted: Path | None = None,
    release: Path | None = None,
) -> str:
    """The HTML feedback page for one notebook of one submission.

    Args:
        result: the graded submission.
        notebook: notebook name without ``.ipynb``.
        submitted: the notebook the student submitted, or its autograded copy (its answer cells are
            shown); None if there is none.
        release: the release notebook the student was given (visible test code comes from it).

    Returns:
        A complete, self-contained HTML document (inline CSS, no scripts).
    """
    cells = [c for c in result.cells if c.notebook == notebook]
    score = sum(c.points for c in cells) if cells else 0.0
    worth = sum(c.max_points for c in cells) if cells else result.max_score
    if result.status == "failed":
        score = 0.0
    sub_nb, rel_nb = _read_notebook(submitted), _read_notebook(release)
    by_hand = manual_points(rel_nb if rel_nb is not None else sub_nb)
    total = f"{score:g} / {worth:g} points"
    if by_hand:
        total += (
            f' <span class="basis">from automatic tests; {by_hand:g} more points are graded by hand '
            f"(lesson total {worth + by_hand:g})</span>"
        )
    shown = _cells_to_show(sub_nb, rel_nb, [c.grade_id for c in cells], _restored_tests(result, notebook))
    body = _render_cells(shown, {c.grade_id: c for c in cells}) if result.status != "failed" else ""
    if result.status == "failed" and sub_nb is not None:
        body = _render_cells([c for c in shown if c.kind != "test"], {})
    title = f"{result.assignment} / {notebook}: feedback for {result.student_id}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(result.assignment)} / {_e(notebook)}</h1>"
        f'<div class="meta">Student: {_e(result.student_id)}</div>'
        f'<div class="score">{total}</div>'
        f'{_status_banner(result)}<p class="basis">{_e(_BASIS)}</p>{_summary_table(cells, by_hand)}'
        f"<h2>Your notebook</h2>{body or '<p>No cells to show.</p>'}"
        "</body></html>\n"
    )


def _notebooks_of(result: SubmissionResult, release_dir: Path | None) -> list[str]:
    names = {c.notebook for c in result.cells}
    if release_dir is not None:
        names |= {p.stem for p in (Path(release_dir) / result.assignment).glob("*.ipynb")}
    return sorted(names)


def write_feedback(
    results: list[SubmissionResult],
    out: Path,
    *,
    submitted: Callable[[str, str, str], Path | None],
    release_dir: Path | None = None,
) -> list[Path]:
    """Write one feedback page per student, assignment and notebook under ``out/feedback``.

    Args:
        results: every graded submission.
        out: the grading output directory.
        submitted: ``submitted(student_id, assignment, notebook)`` -> the submitted notebook's path, or
            None when there is none (the page then explains the failure only).
        release_dir: the release root (``course/``) holding ``<assignment>/<notebook>.ipynb``; the visible
            test code shown to students comes from there.

    Returns:
        The written paths.
    """
    written = []
    for result in results:
        for nb in _notebooks_of(result, release_dir):
            path = feedback_path(out, result.student_id, result.assignment, nb)
            rel = Path(release_dir) / result.assignment / f"{nb}.ipynb" if release_dir else None
            theirs = submitted(result.student_id, result.assignment, nb)
            stamp = _page_stamp(result, nb, theirs, rel)
            if not _has_stamp(path, stamp):  # a re-run that reused this result leaves its page alone
                page = notebook_feedback(result, nb, submitted=theirs, release=rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(stamp + "\n" + page, encoding="utf-8")
            written.append(path)
    return written


def _page_stamp(result: SubmissionResult, notebook: str, submitted: Path | None, release: Path | None) -> str:
    """An HTML comment naming everything a page is made from: the result, both notebooks and this renderer."""
    digest = hashlib.sha256(json.dumps(asdict(result), sort_keys=True, default=str).encode())
    digest.update(notebook.encode())
    for path in (submitted, release, Path(__file__)):
        digest.update(path.read_bytes() if path is not None and path.is_file() else b"-")
    return f"<!-- autograder feedback {digest.hexdigest()} -->"


def _has_stamp(path: Path, stamp: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().rstrip("\n") == stamp
    except (OSError, UnicodeDecodeError):
        return False


def write_all_feedback(
    results: list[SubmissionResult], out: Path, *, release_dir: Path | None = None
) -> list[Path]:
    """:func:`write_feedback` for a whole grading run, from what it recorded in ``out``.

    Each student's cells come from their autograded notebooks and the test code from the release the run
    graded against (``OUT/release``, :func:`save_release`); ``release_dir`` (``course/``) is read only for
    an ``OUT`` graded before releases were kept there. A submission that failed has no autograded notebook:
    its page explains the failure.
    """
    saved = Path(out) / RELEASE_DIR
    return write_feedback(
        results,
        out,
        submitted=lambda student, assignment, nb: autograded_path(out, student, assignment, nb),
        release_dir=saved if saved.is_dir() else release_dir,
    )
