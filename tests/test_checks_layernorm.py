"""gradlib.checks.layernorm: the reference passes; each known mistake fails with a message naming it."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import layernorm as ref
from gradlib.checks import CheckFailure
from gradlib.checks import layernorm as chk


def _fwd(axis=1, ddof=0, eps_out=False, default_eps=1e-5):
    def forward(x, gamma, beta, eps=default_eps):
        mu = x.mean(axis=axis, keepdims=True)
        var = x.var(axis=axis, ddof=ddof, keepdims=True)
        std = np.sqrt(var) + eps if eps_out else np.sqrt(var + eps)
        return gamma * (x - mu) / std + beta, None

    return forward


@pytest.mark.parametrize("eps", [None, 1e-3, 0.1])
def test_reference_passes(eps):
    """Do gradlib's forward and backward pass both checks, with the default and a given eps?"""
    assert chk.check_layernorm_forward(ref.layernorm_forward, eps=eps) < 1e-12
    assert chk.check_layernorm_backward(ref.layernorm_forward, ref.layernorm_backward, eps=eps) < 1e-12


@pytest.mark.parametrize(
    ("forward", "eps", "message"),
    [
        (_fwd(axis=0), None, "BatchNorm's statistics"),
        (_fwd(ddof=1), None, "unbiased variance"),
        (_fwd(eps_out=True), None, "add it to the variance"),
        (_fwd(default_eps=1e-3), None, "Keras"),
        (_fwd(default_eps=0.0), None, "no eps"),
    ],
)
def test_forward_mistakes_are_named(forward, eps, message):
    """Does each known forward mistake fail with a message naming it?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_layernorm_forward(forward, eps=eps)


def _bwd(kind):
    def backward(dout, cache):
        dx, dgamma, dbeta = ref.layernorm_backward(dout, cache)
        x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
        if kind == "constants":
            dx = gamma * dout * inv_std
        elif kind == "mean-only":
            g = gamma * dout
            dx = inv_std * (g - g.mean(axis=1, keepdims=True))
        elif kind == "swap":
            dgamma, dbeta = dbeta, dgamma
        elif kind == "per-example":
            dgamma = (dout * x_hat).sum(axis=1)
        return dx, dgamma, dbeta

    return backward


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("constants", "treated as constants"),
        ("mean-only", "only the path through the mean"),
        ("swap", "swapped"),
        ("per-example", "dgamma has shape"),
    ],
)
def test_backward_mistakes_are_named(kind, message):
    """Does each known backward mistake fail with a message naming it?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_layernorm_backward(ref.layernorm_forward, _bwd(kind))
