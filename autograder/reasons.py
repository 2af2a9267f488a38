"""Why a submission failed or was flagged, by cause: a label for the report, a sentence for the student.

A ``reason`` (``grades.csv``, ``results.json``) is the engine's full account: a flagged submission's
reason joins every finding with ``"; "`` (``tampering: replaced gradlib.checks.core.call``, ``x passed in the
kernel but fails the clean-room re-check``, ...), a failed one is ``<notebook>: <what went wrong>``. It can be
thousands of characters long. :func:`causes` maps it to a few :class:`Cause` objects, so the report can
count submissions per cause and a feedback page can tell the student in one sentence what was detected,
while the full reason stays in ``results.json`` for the instructor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Cause", "causes", "student_sentence"]


@dataclass(frozen=True)
class Cause:
    """One cause of a failed or flagged submission.

    Attributes:
        key: a stable id, e.g. ``replaced-functions``.
        label: what the instructor reads in the report's grouped table.
        student: one sentence for the student's feedback page.
    """

    key: str
    label: str
    student: str


_FLAG_RULES: tuple[tuple[str, Cause], ...] = (
    (
        r"^tampering: (replaced|deleted|rewrote) ",
        Cause(
            "replaced-functions",
            "replaced or deleted functions the tests call (gradlib.checks, numpy, builtins)",
            "your notebook replaced functions that the tests call",
        ),
    ),
    (
        r"^tampering: installed an? ",
        Cause(
            "installed-hooks",
            "installed IPython or Python hooks that change how cells run or fail",
            "your notebook installed a hook that changes how cells run or how errors show",
        ),
    ),
    (
        r"^tampering: started \d+ (thread|background process)",
        Cause(
            "left-processes",
            "left threads or background processes running",
            "your notebook left threads or background processes running",
        ),
    ),
    (
        r"passed in the kernel but fails the clean-room re-check",
        Cause(
            "kernel-only-pass",
            "tests passed in the notebook's kernel but failed the clean-room re-check",
            "some tests passed in your notebook but failed when your functions were re-run in a clean "
            "process",
        ),
    ),
    (
        r"raised \S+ in the kernel but passes the clean-room re-check",
        Cause(
            "kernel-only-failure",
            "tests raised only in the notebook's kernel (code that behaves differently when graded)",
            "some tests failed in your notebook but passed when your functions were re-run in a clean "
            "process, which points to code that behaves differently when it is graded",
        ),
    ),
    (
        r"^(points of .* changed|nbgrader metadata of .* changed|duplicated cell ids|.*locked cell)",
        Cause(
            "edited-cells",
            "edited locked cells, points or nbgrader metadata",
            "your notebook changed locked test cells or their grading metadata",
        ),
    ),
)

_OTHER_FLAG = Cause("other-flag", "other tampering", "your notebook changed something the tests rely on")

_FAIL_RULES: tuple[tuple[str, Cause], ...] = (
    (r"json|not a notebook|notjson|unreadable", Cause("invalid-notebook", "not a readable notebook", "")),
    (r"nbformat", Cause("nbformat", "unsupported nbformat version", "")),
    (r"empty", Cause("empty-file", "empty file", "")),
    (r"missing|renamed|no notebook|not found", Cause("missing-notebook", "notebook missing or renamed", "")),
    (r"timeout|ran past|did not finish", Cause("timeout", "ran past a time limit", "")),
    (r"kernel died|dead ?kernel", Cause("dead-kernel", "the kernel died (os._exit, crash or memory)", "")),
    (r"output", Cause("huge-output", "output too large", "")),
)


def _notebook_prefix_out(reason: str) -> str:
    first = reason.strip().splitlines()[0] if reason.strip() else ""
    return re.sub(r"^[\w.@+-]+: (?=\S)", "", first, count=1)


def causes(status: str, reason: str) -> list[Cause]:
    """The distinct causes behind one submission's ``reason``, in the order they first appear.

    Args:
        status: ``failed`` or ``flagged`` (``graded`` has no cause).
        reason: the engine's reason text.

    Returns:
        One or more causes for failed/flagged submissions; an empty list for ``graded``.
    """
    if status == "graded":
        return []
    if status == "failed":
        text = _notebook_prefix_out(reason)
        for pattern, cause in _FAIL_RULES:
            if re.search(pattern, text, re.IGNORECASE):
                return [cause]
        gist = re.sub(r"\s*\([^()]*\)", "", text).split(":")[0].strip()[:80] or "unknown"
        return [Cause("other-failure:" + gist.lower(), gist, "")]
    found: list[Cause] = []
    for part in (p.strip() for p in reason.split("; ") if p.strip()):
        cause = next((c for pattern, c in _FLAG_RULES if re.search(pattern, part)), _OTHER_FLAG)
        if cause not in found:
            found.append(cause)
    return found or [_OTHER_FLAG]


def student_sentence(status: str, reason: str) -> str:
    """One sentence for a student's feedback page on why the submission was flagged or not graded."""
    if status == "flagged":
        what = " and ".join(c.student for c in causes(status, reason)[:2])
        return (
            f"This submission was flagged for review: {what}. Only the points your functions earned when "
            "they were re-run in a clean process count; your instructor has the details."
        )
    if status == "failed":
        label = causes(status, reason)[0].label
        return (
            f"This submission could not be graded ({label}): {_notebook_prefix_out(reason)[:200]}. "
            "No points were recorded; fix it and submit again, or ask your instructor."
        )
    return ""
