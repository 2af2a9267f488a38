"""gradlib.checks.clip: the reference passes every check, known mistakes fail with a message naming them.

The lesson's catalog is graded in-process by test_catalog_inprocess.py and with nbgrader by test_selfcheck.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import clip as ref
from gradlib.checks import CheckFailure
from gradlib.checks import clip as chk


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


def _keys_reversed(grads, clip_value):
    if isinstance(grads, dict):
        return {k: np.clip(grads[k], -clip_value, clip_value) for k in reversed(list(grads))}
    out = [np.clip(g, -clip_value, clip_value) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out


def test_dict_keys_in_another_order_are_accepted():
    """Is a dict with the same keys in another order accepted (the lesson asks for the same keys)?"""
    chk.by_value(_keys_reversed, container="dict", clip_value=0.5, seed=3)


def test_float32_results_are_named():
    """Is a float32 result rejected with its dtype named, though its values round to the right ones?"""

    def f32(grads, clip_value):
        return [np.clip(g, -clip_value, clip_value).astype(np.float32) for g in grads]

    with pytest.raises(CheckFailure, match="dtype float32"):
        chk.by_value(f32, container="list", clip_value=1.0, seed=0)


def test_zero_gradients_are_generated_and_must_stay_finite():
    """Do the zero edge cases exist, and fail a 0/0 answer (nan) and a plain-Python division?"""
    assert all(np.all(g == 0) for g in chk.make_grads("list", scale=1.0, seed=0, zero="all"))
    assert np.all(chk.make_grads("dict", scale=1.0, seed=0, zero="one")["b1"] == 0)

    def normalize_first(grads, max_norm):
        with np.errstate(all="ignore"):
            return [g / np.linalg.norm(g) * min(np.linalg.norm(g), max_norm) for g in grads]

    with pytest.raises(CheckFailure, match="nan"):
        chk.by_norm(normalize_first, container="list", max_norm=0.7, zero="one", seed=20)

    def python_division(grads, max_norm):
        total = float(np.sqrt(sum(float(np.sum(g**2)) for g in grads)))
        return [g * min(1.0, max_norm / total) for g in grads], total

    with pytest.raises(CheckFailure, match="ZeroDivisionError.*all-zero"):
        chk.global_small(python_division, container="list", zero="all", seed=60)
    chk.global_small(lambda g, m: ref.clip_by_global_norm(g, m), container="list", zero="all", seed=60)
