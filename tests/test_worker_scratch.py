"""A grading worker whose scratch folder cannot be a sized tmpfs says so in every result's sandbox line.

The tmpfs is mounted in a mount namespace private to the worker process, which only its main thread can
make (a Dask worker grades in a task thread; a grader that is not root has no CAP_SYS_ADMIN). The folder
then stays on disk with only the per-file cap, and the instructor must be able to see that in
``results.json`` and the report, not only in the README.

Each case runs in a child Python: a mount namespace, once made, belongs to the process for good.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from autograder_fixtures import toy_course  # noqa: F401

pytestmark = [pytest.mark.nbgrader, pytest.mark.sandbox]

#: Prepare the toy course, make a worker (kernel zygote only) in the main thread or in another thread,
#: and print the sandbox line its results carry.
CHILD = """
import sys, tempfile, threading
from pathlib import Path
from autograder import build, engine
from autograder.options import GradeOptions

course, where = Path(sys.argv[1]), sys.argv[2]
work = Path(tempfile.mkdtemp())
prepared = engine.prepare_course(course, build.assignments(course), work / "prep", [])
options = GradeOptions(course=course, clean_room=False, workers=1)
lines = []

def make():
    worker = engine.Worker(prepared, options, work)
    try:
        worker.start_zygotes()
        lines.append(worker.sandbox_text())
    finally:
        worker.close()

if where == "thread":
    t = threading.Thread(target=make)
    t.start()
    t.join()
else:
    make()
print(lines[0])
"""


def _sandbox_line(course, where: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(course), where], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_scratch_folder_left_on_disk_is_named_in_the_sandbox_line(toy_course):  # noqa: F811
    """A worker grading in a thread cannot mount its tmpfs: its results' sandbox line must say so, and why."""
    line = _sandbox_line(toy_course, "thread")
    assert line.startswith("bwrap: "), line
    assert "scratch folder on disk, not a sized tmpfs (called outside the main thread)" in line, line


def test_a_mounted_scratch_folder_adds_nothing(toy_course):  # noqa: F811
    """In the worker's main thread (root, as here) the tmpfs mounts and the sandbox line is the run's own."""
    line = _sandbox_line(toy_course, "main")
    assert line.startswith("bwrap: ") and "scratch folder on disk" not in line, line
