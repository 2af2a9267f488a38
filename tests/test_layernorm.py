"""gradlib.layernorm against torch.nn.LayerNorm."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib.checks.layernorm import make_inputs, torch_layernorm
from gradlib.layernorm import layernorm_backward, layernorm_forward


@pytest.mark.parametrize(("N", "D", "eps"), [(4, 5, 1e-5), (1, 8, 1e-5), (7, 2, 0.1), (3, 6, 0.0)])
def test_forward_and_backward_equal_torch(N, D, eps):
    """Do out, dx, dgamma and dbeta equal torch.nn.LayerNorm's (an almost constant row included)?"""
    inp = make_inputs(N, D, seed=N * D)
    out, cache = layernorm_forward(inp["x"], inp["gamma"], inp["beta"], eps=eps)
    dx, dgamma, dbeta = layernorm_backward(inp["dout"], cache)
    expected = torch_layernorm(inp, eps)
    for got, ref in zip((out, dx, dgamma, dbeta), expected, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_an_example_does_not_depend_on_its_batch():
    """Is one example's output the same alone and inside a batch (no batch statistics)?"""
    inp = make_inputs(6, 4, seed=1)
    batch, _ = layernorm_forward(inp["x"], inp["gamma"], inp["beta"])
    alone, _ = layernorm_forward(inp["x"][2:3], inp["gamma"], inp["beta"])
    np.testing.assert_allclose(batch[2:3], alone, rtol=1e-14, atol=1e-14)


def test_inputs_are_not_modified():
    """Are x, gamma, beta and dout left unchanged?"""
    inp = make_inputs(3, 4, seed=2)
    kept = {k: v.copy() for k, v in inp.items()}
    _, cache = layernorm_forward(inp["x"], inp["gamma"], inp["beta"])
    layernorm_backward(inp["dout"], cache)
    for key, value in kept.items():
        np.testing.assert_array_equal(inp[key], value)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros(3), np.ones(3), np.zeros(3)), {}, r"x must be 2-D, got shape \(3,\)"),
        ((np.zeros((2, 3)), np.ones(2), np.zeros(3)), {}, r"shape \(3,\), got \(2,\) and \(3,\)"),
        (
            (np.zeros((2, 3)), np.ones(3), np.zeros(3)),
            {"eps": -1.0},
            "eps must be a finite number >= 0, got -1.0",
        ),
    ],
)
def test_bad_inputs_are_rejected_naming_them(args, kwargs, match):
    """Is a wrong shape or eps an error naming the bad value?"""
    with pytest.raises(ValueError, match=match):
        layernorm_forward(*args, **kwargs)
