"""gradlib.checks.clip: the reference passes, known mistakes fail with a message naming them.

The catalog-driven tests run the lesson's own test cells in-process (the setup cell, the answer cells
with one replaced by a catalog entry, then every test cell including the hidden tests): a fast
stand-in for grading with nbgrader, which ``autograder selfcheck`` does for real.
"""

from __future__ import annotations

from pathlib import Path

import inprocess_grading
import matplotlib
import numpy as np
import pytest

from gradlib import clip as ref
from gradlib.checks import CheckFailure
from gradlib.checks import clip as chk

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
LESSON = "05-clipping"
NOTEBOOK = REPO / "solutions" / LESSON / f"{LESSON}.ipynb"
CATALOG = REPO / "autograder" / "catalog" / LESSON


def _header(path: Path) -> dict[str, str]:
    return inprocess_grading.header(path)


def _grade(replace: dict[str, str] | None = None) -> dict[str, str | None]:
    return inprocess_grading.grade(LESSON, replace)


def _entries(kind: str) -> list[Path]:
    return inprocess_grading.entries(LESSON, kind)


def test_solution_passes_every_test_cell():
    """Does the solution notebook pass every test cell (hidden ones too) without stderr?"""
    results = _grade()
    assert len(results) == 9
    assert results == dict.fromkeys(results)


@pytest.mark.parametrize("path", _entries("wrong"), ids=lambda p: p.stem)
def test_wrong_catalog_entry_is_caught_and_named(path):
    """Does each wrong catalog answer fail the test cells it names, with its mistake in the message?"""
    meta = _header(path)
    results = _grade({meta["exercise"]: path.read_text()})
    for gid in (g.strip() for g in meta["caught_by"].split(",")):
        assert results[gid] is not None, f"{gid} passed"
        if "message" in meta:
            assert meta["message"].lower() in results[gid].lower(), results[gid]


@pytest.mark.parametrize("path", _entries("right"), ids=lambda p: p.stem)
def test_right_catalog_entry_gets_full_marks(path):
    """Does each right catalog answer pass every test cell?"""
    meta = _header(path)
    results = _grade({meta["exercise"]: path.read_text()})
    assert results == dict.fromkeys(results)


def test_catalog_covers_every_exercise():
    """Does each exercise have at least 2 right and 4 wrong catalog entries?"""
    for exercise in ("clip_by_value", "clip_by_norm", "clip_by_global_norm", "sgd_step"):
        kinds = [_header(p)["kind"] for p in CATALOG.glob("*.py") if _header(p)["exercise"] == exercise]
        assert kinds.count("right") >= 2 and kinds.count("wrong") >= 4


def _reference_sgd_step(params, grads, *, lr, clip=None, threshold=None):
    if clip not in (None, "value", "norm", "global_norm"):
        raise ValueError(f"clip={clip!r} is not one of None, 'value', 'norm', 'global_norm'")
    if clip == "value":
        grads = ref.clip_by_value(grads, threshold)
    elif clip == "norm":
        grads = ref.clip_by_norm(grads, threshold)
    elif clip == "global_norm":
        grads = ref.clip_by_global_norm(grads, threshold)[0]
    if isinstance(params, dict):
        return {k: p - lr * grads[k] for k, p in params.items()}
    return type(params)(p - lr * g for p, g in zip(params, grads, strict=True))


@pytest.mark.parametrize("container", ["list", "tuple", "dict"])
def test_reference_passes_every_check(container):
    """Does gradlib.clip pass every check for list, tuple and dict gradients?"""
    for seed, scale in ((0, 1.0), (1, 0.1), (2, 5.0)):
        assert (
            chk.by_value(ref.clip_by_value, container=container, clip_value=0.5, scale=scale, seed=seed)
            < 1e-12
        )
        assert (
            chk.by_norm(ref.clip_by_norm, container=container, max_norm=1.0, scale=scale, seed=seed) < 1e-12
        )
        fn = ref.clip_by_global_norm
        assert chk.global_clipped(fn, container=container, max_norm=1.0, scale=scale, seed=seed) < 1e-12
        assert chk.global_total(fn, container=container, max_norm=1.0, scale=scale, seed=seed) < 1e-12
        assert chk.global_small(fn, container=container, seed=seed) < 1e-12
        for clip, threshold in ((None, None), ("value", 0.3), ("norm", 1.0), ("global_norm", 2.0)):
            error = chk.sgd_step(
                _reference_sgd_step,
                clip=clip,
                threshold=threshold,
                container=container,
                scale=scale,
                seed=seed,
            )
            assert error < 1e-12
        chk.sgd_step_contract(_reference_sgd_step, container=container, seed=seed)


def test_value_example_from_the_lesson():
    """Does the reference give [0.9, 1.0] by value and about [0.00899, 0.99996] by norm for [0.9, 100]?"""
    g = [np.array([0.9, 100.0])]
    assert np.allclose(ref.clip_by_value(g, 1.0)[0], [0.9, 1.0])
    assert np.allclose(ref.clip_by_norm(g, 1.0)[0], [0.0089996, 0.99996], atol=1e-6)


def test_norm_after_clipping_is_named():
    """Is returning the norm after clipping caught and named?"""

    def after(grads, max_norm):
        clipped, _ = ref.clip_by_global_norm(grads, max_norm)
        return clipped, ref.global_norm(clipped)

    with pytest.raises(CheckFailure, match="AFTER clipping"):
        chk.global_total(after, container="list", max_norm=1.0, seed=0)


def test_missing_eps_is_named():
    """Is the missing 1e-6 of clip_grad_norm_ caught and named, even though it changes values by ~1e-7?"""

    def no_eps(grads, max_norm):
        total = ref.global_norm(grads)
        return [g * min(1.0, max_norm / total) for g in grads], total

    with pytest.raises(CheckFailure, match="1e-6"):
        chk.global_clipped(no_eps, container="list", max_norm=1.0, seed=0)


def test_blank_answers_fail():
    """Do all checks fail with 'not implemented' on a blank answer?"""

    def blank(*args, **kwargs):
        raise NotImplementedError()

    calls = [
        lambda: chk.by_value(blank, container="list", clip_value=1.0),
        lambda: chk.by_norm(blank, container="dict", max_norm=1.0),
        lambda: chk.global_clipped(blank, container="list", max_norm=1.0),
        lambda: chk.global_total(blank, container="list", max_norm=1.0),
        lambda: chk.global_small(blank, container="tuple"),
        lambda: chk.sgd_step(blank, clip=None, threshold=None),
        lambda: chk.sgd_step_contract(blank, container="list"),
    ]
    for run in calls:
        with pytest.raises(CheckFailure, match="not implemented"):
            run()


def test_make_grads_rejects_unknown_container():
    """Does make_grads raise ValueError naming a bad container and the options?"""
    with pytest.raises(ValueError, match="'set'.*list, tuple, dict"):
        chk.make_grads("set", scale=1.0, seed=0)
