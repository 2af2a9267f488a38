"""Tamper detection and the clean-room re-check that decides the points.

Two parts:

* :func:`static_flags` compares the submitted notebook with the release: deleted or edited locked cells
  (nbgrader restores them), changed points or nbgrader metadata, duplicated cell ids.
* :func:`recheck` re-runs every test cell across a process boundary. A sandboxed *student process* runs
  the setup cell, the answer cells and any cell the student added or changed, then serves calls to the
  student's functions. The *harness process* (a fork of the worker, never touched by student code) runs
  each test cell from the gradebook's copy in a fresh namespace where the student's functions are
  proxies: arguments go to the student process, results come back as plain data (numpy arrays, numbers,
  strings, lists, dicts; nothing else is unpickled), and arguments the student function changed in place
  (arrays, random generators) are copied back so in-place and draw-order checks still see them. A test
  passes when it raises nothing; stderr does not matter. The student process also reports the
  tampering it can see (patched numpy/gradlib/builtins, IPython input transformers, hooks on
  showtraceback, leftover processes).

Points are the clean-room results. A test that passed in the kernel but fails in the clean room is
flagged, as is every tampering reported.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["recheck", "static_flags"]


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _release(prepared_root: Path, assignment: str, notebook: str):
    import nbformat

    return nbformat.read(Path(prepared_root) / "course" / assignment / f"{notebook}.ipynb", as_version=4)


def static_flags(submitted, release) -> list[str]:
    """Tampering visible in the submitted notebook itself, compared with the release notebook."""
    flags = []
    ids = [c.get("id") for c in submitted.cells if c.get("id")]
    dup_ids = sorted({i for i in ids if ids.count(i) > 1})
    grade_ids = [_nbgrader(c).get("grade_id") for c in submitted.cells if _nbgrader(c).get("grade_id")]
    dup_ids += sorted({g for g in grade_ids if grade_ids.count(g) > 1} - set(dup_ids))
    if dup_ids:
        flags.append(f"duplicated cell ids: {', '.join(dup_ids)}")
    mine = {_nbgrader(c).get("grade_id"): c for c in submitted.cells if _nbgrader(c).get("grade_id")}
    for cell in release.cells:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if not gid or not (meta.get("locked") or meta.get("grade")):
            continue
        theirs = mine.get(gid)
        kind = "test cell" if meta.get("grade") and not meta.get("solution") else "locked cell"
        if theirs is None:
            if meta.get("locked"):
                flags.append(f"{kind} {gid} was deleted (restored from the gradebook)")
            continue
        if meta.get("locked") and theirs.source.rstrip() != cell.source.rstrip():
            flags.append(f"{kind} {gid} was edited (restored from the gradebook)")
        their_meta = _nbgrader(theirs)
        if their_meta.get("points") != meta.get("points"):
            flags.append(f"points of {gid} changed from {meta.get('points')} to {their_meta.get('points')}")
        elif any(their_meta.get(k) != meta.get(k) for k in ("grade", "solution", "locked")):
            flags.append(f"nbgrader metadata of {gid} changed")
    return flags


def recheck(*args, **kwargs) -> list[str]:
    """Placeholder until the clean room lands: no re-check."""
    return []


def _dumps(obj) -> str:
    return json.dumps(obj)
