"""gradlib.checks.gradcheck: a right checker passes; each known mistake fails with a message naming it."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import gradcheck as ref
from gradlib.checks import CheckFailure
from gradlib.checks import gradcheck as chk


def _centered(f, x, h=1e-5):
    return ref.numerical_gradient(f, x, h=h)


def _one_sided(f, x, h=1e-5):
    grad, fx = np.zeros(x.shape), f(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        grad[ix] = (f(x) - fx) / h
        x[ix] = old
    return grad


def _with(h_default=1e-5, *, restore=True, copy=False, step=None, arithmetic_restore=False):
    def numerical_gradient(f, x, h=h_default):
        s = h if step is None else step
        grad = np.zeros(x.shape)
        for ix in np.ndindex(x.shape):
            v = x.copy() if copy else x
            old = v[ix]
            v[ix] = old + s
            plus = f(v)
            v[ix] = old - s if not arithmetic_restore else v[ix] - 2 * s
            minus = f(v)
            if restore:
                v[ix] = old if not arithmetic_restore else v[ix] + s
            grad[ix] = (plus - minus) / (2 * s)
        return grad

    return numerical_gradient


@pytest.mark.parametrize("h", [None, 1e-6, 1e-5, 1e-4, 3e-4])
def test_gradlib_checker_passes_for_any_reasonable_step(h):
    """Does the reference pass with its default and with any step from 1e-6 to 3e-4?"""
    assert chk.check_numerical_gradient(_centered, shape=(3, 4), h=h) < 1e-7


def test_a_checker_that_perturbs_copies_passes():
    """Is perturbing copies of x (f gets the perturbed copy) accepted, x being left as it was?"""
    assert chk.check_numerical_gradient(_with(copy=True), shape=(2, 3), h=1e-5) < 1e-7


def test_a_checker_that_never_perturbs_is_caught():
    """Is a 'gradient' computed without moving x (all evaluations at x) caught?"""
    with pytest.raises(CheckFailure, match="never saw x perturbed"):
        chk.check_numerical_gradient(lambda f, x, h=1e-5: np.zeros(x.shape) + 0 * f(x), shape=(2, 2), h=1e-5)


@pytest.mark.parametrize(
    ("fn", "h", "message"),
    [
        (_one_sided, 1e-5, "one-sided"),
        (_with(restore=False), 1e-5, "left x changed"),
        (_with(step=1e-5), 1e-4, "not by the step h"),
        (_with(h_default=1e-2), None, "h is too large"),
        (_with(h_default=1e-3), None, "h is too large"),
        (_with(h_default=1e-8), None, "h is too small"),
        (_with(h_default=1e-10), None, "h is too small"),
    ],
)
def test_numerical_gradient_mistakes_are_named(fn, h, message):
    """Does each known checker mistake fail with a message naming it?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_numerical_gradient(fn, shape=(3, 4), h=h)


@pytest.mark.parametrize(("default", "message"), [(1e-2, "h is too large"), (1e-10, "h is too small")])
def test_a_bad_default_step_is_named_without_a_signature(default, message):
    """Across the clean room's process boundary there is no signature: is the step read from the calls?"""
    fn = _with(h_default=default)
    with pytest.raises(CheckFailure, match=message):
        chk.check_numerical_gradient(lambda *args, **kwargs: fn(*args, **kwargs), shape=(3, 4))


def test_a_checker_that_skips_entries_is_caught():
    """Is a checker that perturbs only the first row caught?"""

    def first_row_only(f, x, h=1e-5):
        grad = ref.numerical_gradient(f, x, h=h)
        return np.where(np.arange(x.shape[0])[:, None] == 0, grad, 0.0)

    with pytest.raises(CheckFailure, match="relative error"):
        chk.check_numerical_gradient(first_row_only, shape=(3, 4), h=1e-5)


def test_rel_error_reference_passes():
    """Does gradlib's rel_error pass the rel_error check?"""
    assert chk.check_rel_error(ref.rel_error) <= 1e-15


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda a, b: float(np.max(np.abs(a - b)) / np.max(np.abs(a) + np.abs(b))), "floor"),
        (lambda a, b: float(np.mean(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))), "mean"),
        (
            lambda a, b: float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b))),
            "norms",
        ),
        (lambda a, b: np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)), "one number"),
        (lambda a, b: float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a)))), "relative to a alone"),
        (lambda a, b: float(np.max(np.abs(a - b)) / max(1e-8, np.max(a + b))), "without the abs"),
        (lambda a, b: 0.0, "expected"),
    ],
)
def test_rel_error_mistakes_are_named(fn, message):
    """Does each known rel_error mistake (and return 0) fail with a message naming it?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_rel_error(fn)
