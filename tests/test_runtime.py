"""gradlib.runtime: what changes under nbgrader's autograder, checked in a real Jupyter kernel."""

from __future__ import annotations

import collections
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from gradlib import figures, runtime

# A pyplot figure imported before the call, a pyplot figure shown with plt.show(), a gradlib figure as
# the last expression, and a pyplot figure created after the call: the orders the lessons use.
CELLS = [
    "import matplotlib.pyplot as plt\nimport numpy as np\nfrom gradlib import figures, runtime\n"
    "runtime.skip_figures_under_grading()",
    "fig, ax = plt.subplots(layout='constrained')\nax.plot([1, 2, 3])\nplt.show()",
    "figures.gradient_norms_vs_depth({'a': np.array([1.0, 0.5])})",
    "fig2, ax2 = plt.subplots()\nax2.plot([3, 2, 1])\nplt.close(fig2)\nfig2",
    "print(runtime.grading(), runtime.scaled(100, 5))",
]


def _run(monkeypatch, grading: bool) -> tuple[collections.Counter, str]:
    if grading:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in CELLS])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    kinds = collections.Counter(k for c in nb.cells[:-1] for o in c.outputs for k in o.get("data", {}))
    return kinds, nb.cells[-1].outputs[0]["text"]


@pytest.mark.nbgrader
def test_figures_are_drawn_interactively(monkeypatch):
    """Without NBGRADER_EXECUTION, does every figure reach the notebook as a PNG?"""
    kinds, printed = _run(monkeypatch, grading=False)
    assert kinds["image/png"] == 3, kinds
    assert printed.split() == ["False", "100"]


@pytest.mark.nbgrader
def test_figures_are_not_drawn_under_grading(monkeypatch):
    """With NBGRADER_EXECUTION set, does no figure get rasterized, whatever the order of imports?"""
    kinds, printed = _run(monkeypatch, grading=True)
    assert kinds["image/png"] == 0, kinds
    assert printed.split() == ["True", "5"]


def test_course_figure_skips_png_only_under_grading(monkeypatch):
    """Does CourseFigure give PNG bytes interactively and None under grading?"""
    fig = figures.gradient_norms_vs_depth({"a": np.array([1.0, 0.5])})
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert fig._repr_png_().startswith(b"\x89PNG")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert fig._repr_png_() is None


def test_skip_figures_is_a_no_op_interactively(monkeypatch):
    """Outside grading, does the call leave the matplotlib backend alone?"""
    import matplotlib

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    before = matplotlib.get_backend()
    runtime.skip_figures_under_grading()
    assert matplotlib.get_backend() == before


def test_skip_figures_leaves_an_agg_pyplot_alone():
    """Under grading with MPLBACKEND=Agg (the clean room), is pyplot's module state left untouched?

    The clean room reports any change to a loaded module as tampering, so resolving pyplot's backend
    there would flag every honest submission whose setup cell imports pyplot.
    """
    script = (
        "import matplotlib.pyplot as plt\n"
        "from gradlib import runtime\n"
        "before = dict(vars(plt))\n"
        "runtime.skip_figures_under_grading()\n"
        "print([k for k, v in vars(plt).items() if before.get(k, object()) is not v])\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg", "NBGRADER_EXECUTION": "autograde"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
