"""gradlib.checks.prelu: the reference passes; each known mistake fails with a message naming it."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import prelu as ref
from gradlib.checks import CheckFailure
from gradlib.checks import prelu as chk


def _fwd(x, alpha):
    return ref.prelu_forward(x, alpha)


@pytest.mark.parametrize("shared", [False, True])
def test_reference_passes(shared):
    """Do gradlib's forward and backward pass both checks, per-feature and shared slopes?"""
    assert chk.check_prelu_forward(ref.prelu_forward, shared=shared) < 1e-12
    assert chk.check_prelu_backward(ref.prelu_forward, ref.prelu_backward, shared=shared) < 1e-12


def _backward_with(dalpha_fn=None, dx_fn=None):
    def backward(dout, cache):
        dx, dalpha = ref.prelu_backward(dout, cache)
        x, alpha = cache["x"], cache["alpha"]
        if dalpha_fn is not None:
            dalpha = dalpha_fn(dout, x, alpha)
        if dx_fn is not None:
            dx = dx_fn(dout, x, alpha)
        return dx, dalpha

    return backward


@pytest.mark.parametrize(
    ("backward", "message"),
    [
        (_backward_with(lambda d, x, a: np.where(x > 0, 0, d * x)), "did not sum over the batch"),
        (_backward_with(lambda d, x, a: np.where(x > 0, 0, d * x).mean(0)), "SUM over the batch"),
        (_backward_with(lambda d, x, a: np.where(x > 0, d * x, 0).sum(0)), "positive side"),
        (_backward_with(lambda d, x, a: np.where(x > 0, 0, d).sum(0)), "without the factor x"),
        (
            _backward_with(lambda d, x, a: np.where(x > 0, 0, d * x).sum(keepdims=True).ravel()),
            "features too",
        ),
        (_backward_with(dx_fn=lambda d, x, a: d * (x > 0)), "ReLU's derivative"),
        (_backward_with(dx_fn=lambda d, x, a: d * np.where(x >= 0, 1, a)), "at the kink"),
        (_backward_with(lambda d, x, a: np.where(x > 0, 0, d * x).sum(0).astype(np.float32)), "float32"),
    ],
)
def test_backward_mistakes_are_named(backward, message):
    """Does each known backward mistake fail with a message that names it?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_prelu_backward(ref.prelu_forward, backward)


@pytest.mark.parametrize(
    ("forward", "message"),
    [
        (lambda x, a: (np.where(x > 0, a * x, x), None), "positive side"),
        (lambda x, a: (np.maximum(x, 0), None), "plain ReLU"),
        (lambda x, a: (np.where(x > 0, x, 0.25 * x), None), "0.25"),
        (lambda x, a: (a * x, None), "only the negative side"),
        (lambda x, a: np.where(x > 0, x, a * x), "tuple"),
    ],
)
def test_forward_mistakes_are_named(forward, message):
    """Does each known forward mistake fail with a message that names it?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_prelu_forward(forward)


def test_a_shared_slope_must_be_summed_over_features():
    """With alpha of shape (1,), is a per-feature dalpha rejected?"""
    backward = _backward_with(lambda d, x, a: np.where(x > 0, 0, d * x).sum(0))
    with pytest.raises(CheckFailure, match=r"dalpha has shape \(3,\), expected \(1,\)"):
        chk.check_prelu_backward(ref.prelu_forward, backward, N=5, D=3, shared=True)
