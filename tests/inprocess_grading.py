"""Grade a lesson in-process: its setup, answer and test cells in one namespace (hidden tests included).

A fast stand-in for nbgrader used by the check-module tests to run catalog entries; ``autograder
selfcheck`` does the same through the real pipeline.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


def header(path: Path) -> dict[str, str]:
    """The ``# key: value`` header of a catalog file."""
    meta = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].partition(":")
        if sep and key.strip() in {"kind", "exercise", "mistake", "caught_by", "message"}:
            meta[key.strip()] = value.strip()
    return meta


def grade(lesson: str, replace: dict[str, str] | None = None) -> dict[str, str | None]:
    """Run setup, answer and test cells in one namespace; return test grade_id -> failure or None."""
    nb = nbformat.read(REPO / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    ns: dict = {"__name__": "__main__"}
    exec(code[0].source, ns)  # the setup cell
    results = {}
    for cell in code[1:]:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution"):
            exec((replace or {}).get(gid, cell.source), ns)
        elif meta.get("grade"):
            out, err = io.StringIO(), io.StringIO()
            with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
                warnings.simplefilter("always")
                with contextlib.redirect_stderr(err):
                    try:
                        exec(cell.source, ns)
                        results[gid] = None
                    except Exception as exc:  # noqa: BLE001 - a failing test cell
                        results[gid] = f"{type(exc).__name__}: {exc}"
            if results[gid] is None and (caught or err.getvalue()):
                results[gid] = f"stderr/warnings: {err.getvalue()} {[str(w.message) for w in caught]}"
    return results


def entries(lesson: str, kind: str) -> list[Path]:
    """Catalog files of ``lesson`` whose header says ``kind: <kind>``."""
    return sorted(
        p for p in (REPO / "autograder" / "catalog" / lesson).glob("*.py") if header(p).get("kind") == kind
    )
