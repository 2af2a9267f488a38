"""gradlib.checks.residual: the reference passes, blanks and known mistakes fail with named messages."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import activations, layers
from gradlib.checks import CheckFailure
from gradlib.checks import residual as chk


def _blank(*args, **kwargs):
    raise NotImplementedError()


def _ratio(model, params, x, y):
    return chk.reference_grad_norm_ratio(model, params, x, y)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_reference_block_passes(activation):
    """Does gradlib's own residual block pass every block check?"""
    assert chk.check_residual_forward(layers.residual_forward, activation=activation, n=6, d=3, h=7) < 1e-12
    assert chk.check_residual_identity(layers.residual_forward, activation=activation) == 0.0
    assert (
        chk.check_residual_backward(layers.residual_forward, layers.residual_backward, activation=activation)
        < 1e-12
    )
    assert (
        chk.check_residual_backward_numerically(
            layers.residual_forward, layers.residual_backward, activation=activation
        )
        < 1e-7
    )


def test_reference_ratio_passes():
    """Does the reference ratio pass on plain, residual and BatchNorm networks?"""
    assert chk.check_grad_norm_ratio(_ratio) < 1e-3
    assert chk.check_grad_norm_ratio(_ratio, residual=True) > 1e-3
    chk.check_grad_norm_ratio(
        _ratio, activation="relu", batchnorm=True, residual=True, initializer="he_normal"
    )


def test_blanks_fail():
    """Does an unimplemented answer fail every check with 'not implemented'?"""
    for call in (
        lambda: chk.check_residual_forward(_blank),
        lambda: chk.check_residual_identity(_blank),
        lambda: chk.check_residual_backward(layers.residual_forward, _blank),
        lambda: chk.check_residual_backward_numerically(layers.residual_forward, _blank),
        lambda: chk.check_grad_norm_ratio(_blank),
    ):
        with pytest.raises(CheckFailure, match="not implemented"):
            call()


def _post_activation(x, W1, b1, W2, b2, *, activation="relu"):
    out, cache = layers.residual_forward(x, W1, b1, W2, b2, activation=activation)
    return activations.get(activation).fn(out), cache


def _no_skip(x, W1, b1, W2, b2, *, activation="relu"):
    out, cache = layers.residual_forward(x, W1, b1, W2, b2, activation=activation)
    return out - x, cache


def _dx_without_skip(dout, cache):
    dx, *rest = layers.residual_backward(dout, cache)
    return (dx - dout, *rest)


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: chk.check_residual_forward(_post_activation), "after adding x"),
        (lambda: chk.check_residual_forward(_no_skip), "skip connection"),
        (lambda: chk.check_residual_identity(_no_skip), "skip connection x is missing"),
        (
            lambda: chk.check_residual_backward(layers.residual_forward, _dx_without_skip),
            "missing the skip path",
        ),
        (lambda: chk.check_residual_backward_numerically(layers.residual_forward, _dx_without_skip), "dx"),
        (lambda: chk.check_grad_norm_ratio(lambda *a: 1 / _ratio(*a)), "last / first"),
        (lambda: chk.check_grad_norm_ratio(lambda *a: _ratio(*a) ** 2), "squared"),
        (lambda: chk.check_grad_norm_ratio(lambda *a: [1.0, 2.0]), "shape"),
    ],
)
def test_known_mistakes_are_named(call, text):
    """Does each known mistake fail with a message naming it?"""
    with pytest.raises(CheckFailure) as info:
        call()
    assert text in str(info.value)


def test_inputs_are_never_near_the_relu_kink():
    """Do the block inputs keep every pre-activation at least 1e-3 away from 0 (safe finite differences)?"""
    for seed in range(300):
        inp = chk.block_inputs(5, 4, 6, seed=seed)
        assert np.min(np.abs(inp["x"] @ inp["W1"] + inp["b1"])) >= 1e-3


def test_checks_are_silent(capsys):
    """Do the checks write nothing to stdout or stderr, even for an answer that overflows?"""

    def loud(x, W1, b1, W2, b2, *, activation="relu"):
        out, cache = layers.residual_forward(x, W1, b1, W2, b2, activation=activation)
        return out * np.exp(np.full(out.shape, 1e4)), cache

    with pytest.raises(CheckFailure):
        chk.check_residual_forward(loud)
    assert capsys.readouterr() == ("", "")
