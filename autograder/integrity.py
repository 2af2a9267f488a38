"""Tamper detection in the worker: static flags on the submitted file, and merging the clean room's verdict.

* :func:`static_flags` compares the submitted notebook with the release: deleted or edited locked cells
  (nbgrader restores them), changed points or nbgrader metadata, duplicated cell ids.
* :func:`apply_verdict` turns the in-kernel cell results and the clean room's
  :class:`~autograder.cleanroom.harness.Verdict` into the final cell results and flags: points and the
  message a student sees are the clean room's alone. A test the two runs disagree on is flagged when the
  disagreement points to code that behaves differently when graded: it passed in the kernel but fails in
  the clean room, or it *raised* in the kernel but passes in the clean room (an exception only the
  notebook run sees, e.g. one built from ``In[-1]`` or the caller's frame). A test that failed in the
  kernel only because it wrote to stderr (a warning), or because its own assertion saw a wrong value (a
  function that changes its inputs in place fails there and not on the clean room's copies), is not
  flagged; a check reporting that the student's code raised is. Every tampering the student
  process's probes reported is flagged too.
* :func:`raised_in_kernel` lists the test cells whose kernel run ended in an exception.

The clean room itself (the sandboxed student process, the harness, their protocol) is
:mod:`autograder.cleanroom`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from nbgrader.utils import is_grade, is_locked, is_solution

from autograder.cleanroom.harness import Verdict
from autograder.results import CellResult

__all__ = ["apply_verdict", "feedback_message", "raised_in_kernel", "static_flags"]


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _grade_id(cell) -> str | None:
    return _nbgrader(cell).get("grade_id")


def _duplicates(values: list) -> list[str]:
    return sorted({v for v in values if v and values.count(v) > 1})


def static_flags(submitted, release, raw_ids: list | None = None) -> list[str]:
    """Tampering visible in the submitted notebook itself, compared with the release notebook.

    ``raw_ids`` are the cell ids as written in the file (nbformat silently renames duplicates on read).
    """
    flags = []
    dup_ids = _duplicates(raw_ids if raw_ids is not None else [c.get("id") for c in submitted.cells])
    dup_ids += sorted(set(_duplicates([_grade_id(c) for c in submitted.cells])) - set(dup_ids))
    if dup_ids:
        flags.append(f"duplicated cell ids: {', '.join(dup_ids)}")
    mine = {_grade_id(c): c for c in submitted.cells if _grade_id(c)}
    for cell in release.cells:
        gid = _grade_id(cell)
        if not gid or not (is_locked(cell) or is_grade(cell)):
            continue
        theirs = mine.get(gid)
        kind = "test cell" if is_grade(cell) and not is_solution(cell) else "locked cell"
        if theirs is None:
            if is_locked(cell):
                flags.append(f"{kind} {gid} was deleted (restored from the gradebook)")
            continue
        if is_locked(cell) and theirs.source.rstrip() != cell.source.rstrip():
            flags.append(f"{kind} {gid} was edited (restored from the gradebook)")
        meta, their_meta = _nbgrader(cell), _nbgrader(theirs)
        if their_meta.get("points") != meta.get("points"):
            flags.append(f"points of {gid} changed from {meta.get('points')} to {their_meta.get('points')}")
        elif any(their_meta.get(k) != meta.get(k) for k in ("grade", "solution", "locked")):
            flags.append(f"nbgrader metadata of {gid} changed")
    return flags


#: The exceptions a test raises when its own assertion judges a value wrong.
_JUDGED = ("CheckFailure", "AssertionError")
#: How gradlib's checks report an exception from the student's code: ``double(x) raised ValueError: ...``.
_CODE_RAISED = re.compile(r"\braised ([A-Za-z_][\w.]*): ")


def raised_in_kernel(nb) -> dict[str, str]:
    """grade_id -> exception name, for each test cell of an executed notebook where the student's code raised.

    A test whose own assertion judged a value wrong is left out: a function that changes its inputs in place
    fails a test in the kernel, where the arrays are the test's own, and passes on the clean room's copies.
    That is a wrong answer (named by the test of that function), not code that behaves differently when
    graded. A check that reports an exception from the student's code counts, under that exception's name.
    """
    raised = {}
    for cell in nb.cells:
        gid = _grade_id(cell)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not (gid and errors):
            continue
        name = str(errors[-1].get("ename") or "an exception")
        if name in _JUDGED:
            inner = _CODE_RAISED.search(str(errors[-1].get("evalue") or ""))
            if inner is None:
                continue
            name = inner.group(1)
        raised[gid] = name
    return raised


def apply_verdict(
    cells: list[CellResult], verdict: Verdict, raised: dict[str, str] | None = None
) -> tuple[list[CellResult], list[str]]:
    """The cells with the clean room's results and points, and the flags; ``cells`` are not changed.

    ``raised`` is :func:`raised_in_kernel` of the executed notebook (grade_id -> exception name).
    """
    raised = raised or {}
    flags = [f"tampering: {t}" for t in verdict.tamper]
    final = []
    for cell in cells:
        passed, message = verdict.tests.get(cell.grade_id, (False, "test cell missing from the gradebook"))
        final.append(
            replace(
                cell,
                passed_clean=passed,
                points=cell.max_points if passed else 0.0,
                # only the clean room's words: text the kernel run produced can carry hidden-test source
                message="" if passed else (feedback_message(message) or _FAILED),
            )
        )
        if cell.passed_in_kernel and not passed:
            flags.append(f"{cell.grade_id} passed in the kernel but fails the clean-room re-check")
        elif passed and not cell.passed_in_kernel and cell.grade_id in raised:
            flags.append(
                f"{cell.grade_id} raised {raised[cell.grade_id]} in the kernel but passes the clean-room "
                "re-check (code that behaves differently when graded in the notebook)"
            )
    return final, flags


_FAILED = "this test failed the clean re-check"
#: A feedback message keeps at most this many whole lines (a check's message is a few complete lines).
MESSAGE_LINES = 8


def feedback_message(message: str) -> str:
    """The message a student sees: its first :data:`MESSAGE_LINES` lines, each whole, never cut mid-line."""
    lines = [line.rstrip() for line in message.strip().splitlines()]
    if len(lines) > MESSAGE_LINES:
        lines = lines[:MESSAGE_LINES] + [f"... ({len(lines) - MESSAGE_LINES} more lines)"]
    return "\n".join(lines)
