"""The catalogs of lessons 04 and 05, graded in-process (fast; ``test_selfcheck.py`` uses real nbgrader).

Each lesson's own test cells run in one namespace (the setup cell, the answer cells with one replaced by a
catalog entry, then every test cell including the hidden tests): every wrong entry fails the cells it
names, with its mistake in the message, and every right entry passes them all.
"""

from __future__ import annotations

import inprocess_grading
import matplotlib
import pytest

matplotlib.use("Agg")

#: lesson -> (number of test cells, exercises, fewest wrong entries per exercise)
LESSONS = {
    "04-batchnorm": (
        8,
        ("batchnorm_forward", "batchnorm_backward", "layernorm_forward", "layernorm_backward"),
        5,
    ),
    "05-clipping": (9, ("clip_by_value", "clip_by_norm", "clip_by_global_norm", "sgd_step"), 4),
}


def _cases(kind: str) -> list:
    return [
        pytest.param(lesson, path, id=f"{lesson}/{path.stem}")
        for lesson in LESSONS
        for path in inprocess_grading.entries(lesson, kind)
    ]


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_passes_every_test_cell(lesson):
    """Does the solution notebook pass every test cell (hidden ones too) without stderr?"""
    results = inprocess_grading.grade(lesson)
    assert len(results) == LESSONS[lesson][0]
    assert results == dict.fromkeys(results)


@pytest.mark.parametrize(("lesson", "path"), _cases("wrong"))
def test_wrong_catalog_entry_is_caught_and_named(lesson, path):
    """Does each wrong catalog answer fail the test cells it names, with its mistake in the message?"""
    meta = inprocess_grading.header(path)
    results = inprocess_grading.grade(lesson, {meta["exercise"]: path.read_text()})
    for gid in (g.strip() for g in meta["caught_by"].split(",")):
        assert results[gid] is not None, f"{gid} passed"
        if "message" in meta:
            assert meta["message"].lower() in results[gid].lower(), results[gid]


@pytest.mark.parametrize(("lesson", "path"), _cases("right"))
def test_right_catalog_entry_gets_full_marks(lesson, path):
    """Does each right catalog answer pass every test cell?"""
    meta = inprocess_grading.header(path)
    results = inprocess_grading.grade(lesson, {meta["exercise"]: path.read_text()})
    assert results == dict.fromkeys(results)


@pytest.mark.parametrize("lesson", LESSONS)
def test_catalog_covers_every_exercise(lesson):
    """Does each exercise have at least 2 right and the lesson's minimum of wrong catalog entries?"""
    _, exercises, fewest_wrong = LESSONS[lesson]
    for exercise in exercises:
        kinds = [
            meta["kind"]
            for meta in map(
                inprocess_grading.header,
                (inprocess_grading.REPO / "autograder/catalog" / lesson).glob("*.py"),
            )
            if meta["exercise"] == exercise
        ]
        assert kinds.count("right") >= 2 and kinds.count("wrong") >= fewest_wrong, exercise
