"""Where the code is running: interactively in JupyterLab, or under nbgrader's autograder.

nbgrader sets the environment variable ``NBGRADER_EXECUTION`` while it executes a notebook. Lessons use
:func:`grading` to shrink long experiments and skip long training runs, and :func:`skip_figures_under_grading`
to stop drawing figures nobody will look at; what is *checked* never depends on either.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["grading", "scaled", "skip_figures_under_grading"]


def grading() -> bool:
    """Return True when nbgrader is executing the notebook (``NBGRADER_EXECUTION`` is set)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def scaled(interactive: int, graded: int) -> int:
    """Return ``graded`` under the autograder and ``interactive`` otherwise (e.g. training steps)."""
    return graded if grading() else interactive


def skip_figures_under_grading() -> None:
    """Under the autograder, build figures but do not rasterize them; set up how failed checks show.

    Rendering a figure to PNG costs 0.1-0.5 s, a third of a lesson's graded run, and the images only
    bloat the feedback. Under grading this switches matplotlib to the non-displaying Agg backend, which
    also stops IPython's inline backend from drawing pyplot figures: a cell that ends with ``fig`` or
    calls ``plt.show()`` shows ``<Figure size ... with N Axes>`` instead of an image.
    :class:`gradlib.figures.CourseFigure` checks :func:`grading` itself.
    Every lesson calls it in its setup cell, so it also installs :mod:`gradlib.checks.display`: in
    JupyterLab a failed check shows its message in a few lines and Run All goes on past it; under
    Validate the failure stays a failure but shows short; under autograde nothing changes.
    """
    from gradlib.checks import display

    display.install()
    if not grading():
        return
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":  # already Agg (a script, the clean room): leave pyplot be
        matplotlib.use("agg")
    matplotlib.rcParams["figure.max_open_warning"] = 0
    warnings.filterwarnings("ignore", message=".*non-interactive, and thus cannot be shown")
