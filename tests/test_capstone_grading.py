"""Lesson 08 (capstone) graded through the real engine: real kernels, bubblewrap, control groups, clean room.

The capstone trains a torch MLP in a test cell, in the kernel and again in the clean room; two
submissions are graded at once by two workers, so the run shares the cores the way a class does.
"""

from __future__ import annotations

import json

import pytest

from autograder import build, demo, engine, limits, sandbox
from autograder.options import GradeOptions

pytestmark = [pytest.mark.nbgrader, pytest.mark.sandbox]

ASSIGNMENT = "08-capstone"
#: Two honest students (demo maker, student index): the solution, and the benchmark's student02, whose
#: catalog mistakes are in initial_loss and diagnose (its fix() is the solution's).
MAKERS = {"solution": (demo.correct, 0), "mistake": (demo.mistakes, 1)}


@pytest.fixture(scope="module")
def capstone(tmp_path_factory):
    """(results by student, the assignment's maximum score) of lesson 08 graded once by two workers."""
    base = tmp_path_factory.mktemp("capstone")
    prepared = engine.prepare_course(build.REPO, [ASSIGNMENT], base / "prep", [])
    (kit,) = [k for k in demo.load_kits(prepared.root / "course") if k.assignment == ASSIGNMENT]
    for student, (make, index) in MAKERS.items():
        folder = base / "submissions" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, raw in make(kit, index).items():
            (folder / name).write_bytes(raw)
    options = GradeOptions(workers=2, assignments=[ASSIGNMENT])
    with pytest.MonkeyPatch.context() as mp:  # graded from a plain shell: no thread count set
        for name in limits.THREAD_VARIABLES:
            mp.delenv(name, raising=False)
        engine.grade(base / "submissions", base / "out", options)
    results = json.loads((base / "out" / "results.json").read_text())
    return {r["student_id"]: r for r in results}, kit.max_score


@pytest.mark.skipif(not sandbox.bwrap_available()[0], reason="bubblewrap unavailable")
@pytest.mark.parametrize("student", list(MAKERS))
def test_honest_capstone_is_graded_not_flagged(capstone, student):
    """Is an honest lesson-08 submission graded, with the kernel and the clean room agreeing on every test?"""
    result = capstone[0][student]
    assert result["status"] == "graded", result
    disagree = [c["grade_id"] for c in result["cells"] if c["passed_in_kernel"] != c["passed_clean"]]
    assert not disagree, result
    fix = next(c for c in result["cells"] if c["grade_id"] == "fix_accuracy")
    assert fix["passed_clean"], fix  # both hand in the solution's fix(): the training check must pass


@pytest.mark.skipif(not sandbox.bwrap_available()[0], reason="bubblewrap unavailable")
def test_capstone_solution_earns_full_marks(capstone):
    """Does the lesson-08 solution earn every point under grading (the training check within its timeout)?"""
    results, max_score = capstone
    assert results["solution"]["score"] == max_score > 0, results["solution"]
