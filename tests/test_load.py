"""Grading on a busy machine: late kernel output, and two `autograder grade` runs at once.

Honest notebooks must come out ``graded`` with full marks however slow the machine is; what cannot be
graded must say why (an IOPub timeout is not "ignored the interrupt").
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from autograder_fixtures import (  # noqa: F401
    MAX_SCORE,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)

from autograder import engine, sandbox

pytestmark = [pytest.mark.nbgrader]

#: Seconds a cell may run in the tests below; the late output arrives after LATE seconds.
CELL_TIMEOUT = 15
LATE = 6  # more than nbclient's default IOPub wait (4 s), well under CELL_TIMEOUT

#: Stand-in for a machine too busy to pass on the kernel's messages: each cell's final "idle" status is
#: published LATE seconds after its reply (or never, with LATE = None). Only the notebook's kernel has
#: ``get_ipython().kernel``; in the clean room the cell does nothing.
SLOW_IOPUB = """
import threading
_kernel = getattr(get_ipython(), "kernel", None)
if _kernel is not None:
    _publish = _kernel._publish_status
    def _late_idle(status, channel, parent=None):
        parent = parent or _kernel.get_parent(channel)
        if status != "idle":
            _publish(status, channel, parent)
        elif {late} is not None:
            threading.Timer({late}, _publish, (status, channel, parent)).start()
    _kernel._publish_status = _late_idle
"""


def _after_setup(source: str):
    def edit(nb):
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(source))

    return edit


def test_late_kernel_output_is_waited_for_or_reported_as_such(toy_course, tmp_path):  # noqa: F811
    """Is an honest notebook whose output lags graded in full, and output that never comes named as such?"""
    subs = write_nbgrader_layout(
        tmp_path / "subs",
        {
            "late": student_notebook(toy_course, edit=_after_setup(SLOW_IOPUB.format(late=LATE))),
            "never": student_notebook(toy_course, edit=_after_setup(SLOW_IOPUB.format(late=None))),
        },
    )
    options = engine.GradeOptions(
        course=toy_course, workers=1, cell_timeout=CELL_TIMEOUT, notebook_timeout=240
    )
    got = {r.student_id: r for r in engine.grade(subs, tmp_path / "out", options)}
    late, never = got["late"], got["never"]
    assert (late.status, late.score) == ("graded", MAX_SCORE), late.reason
    assert never.status == "failed" and "IOPub timeout" in never.reason, never.reason
    assert "ignored the interrupt" not in never.reason


def _rows(out: Path) -> dict[str, tuple[str, float, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        return {r["student_id"]: (r["status"], float(r["score"]), r["reason"]) for r in csv.DictReader(fh)}


@pytest.mark.sandbox
@pytest.mark.skipif(not sandbox.bwrap_available()[0], reason="bubblewrap cannot isolate here")
def test_two_runs_at_once_grade_honest_notebooks_in_full(toy_course, tmp_path):  # noqa: F811
    """Do two `autograder grade` runs at once, at the default limits, give every honest student full marks?"""
    honest = student_notebook(toy_course)
    runs = []
    for name in ("first", "second"):
        subs = write_nbgrader_layout(tmp_path / f"subs-{name}", {f"{name}-{i}": honest for i in range(5)})
        out = tmp_path / f"out-{name}"
        cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out)]
        cmd += ["--course", str(toy_course)]  # every limit at its default
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        runs.append((out, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)))
    for out, proc in runs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err.decode()[-3000:]
        rows = _rows(out)
        assert len(rows) == 5
        assert {s: r for s, r in rows.items() if r[:2] != ("graded", MAX_SCORE)} == {}
