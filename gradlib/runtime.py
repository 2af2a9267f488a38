"""Where the code is running: interactively in JupyterLab, or under nbgrader's autograder.

nbgrader sets the environment variable ``NBGRADER_EXECUTION`` while it executes a notebook. Lessons use
:func:`grading` to shrink long experiments and skip long training runs; what is *checked* never depends
on it.
"""

from __future__ import annotations

import os

__all__ = ["grading", "scaled"]


def grading() -> bool:
    """Return True when nbgrader is executing the notebook (``NBGRADER_EXECUTION`` is set)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def scaled(interactive: int, graded: int) -> int:
    """Return ``graded`` under the autograder and ``interactive`` otherwise (e.g. training steps)."""
    return graded if grading() else interactive
