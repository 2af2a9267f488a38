"""gradlib.prelu against torch.nn.PReLU."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib.checks.prelu import make_inputs, torch_prelu
from gradlib.prelu import prelu_backward, prelu_forward


@pytest.mark.parametrize(("N", "D", "shared"), [(6, 4, False), (5, 3, True), (1, 1, False), (7, 1, True)])
def test_forward_and_backward_equal_torch(N, D, shared):
    """Do out, dx and dalpha equal torch.nn.PReLU's, zeros in x included?"""
    inp = make_inputs(N, D, shared=shared, seed=N + D)
    out, cache = prelu_forward(inp["x"], inp["alpha"])
    dx, dalpha = prelu_backward(inp["dout"], cache)
    t_out, t_dx, t_dalpha = torch_prelu(inp["x"], inp["alpha"], inp["dout"])
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=0)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12, atol=0)
    np.testing.assert_allclose(dalpha, t_dalpha, rtol=1e-12, atol=1e-15)
    assert dalpha.shape == inp["alpha"].shape


def test_dalpha_sums_over_the_batch():
    """Does stacking a batch twice double dalpha (a sum, not a mean)?"""
    inp = make_inputs(5, 3, seed=1)
    _, c1 = prelu_forward(inp["x"], inp["alpha"])
    _, c2 = prelu_forward(np.vstack([inp["x"]] * 2), inp["alpha"])
    _, d1 = prelu_backward(inp["dout"], c1)
    _, d2 = prelu_backward(np.vstack([inp["dout"]] * 2), c2)
    np.testing.assert_allclose(d2, 2 * d1, rtol=1e-12)


def test_inputs_are_not_modified():
    """Are x, alpha and dout left unchanged?"""
    inp = make_inputs(4, 3, seed=2)
    kept = {k: v.copy() for k, v in inp.items()}
    _, cache = prelu_forward(inp["x"], inp["alpha"])
    prelu_backward(inp["dout"], cache)
    for key, value in kept.items():
        np.testing.assert_array_equal(inp[key], value)


@pytest.mark.parametrize(
    ("x", "alpha", "match"),
    [
        (np.zeros(3), np.zeros(3), r"2-D \(N, D\), got shape \(3,\)"),
        (np.zeros((2, 3)), np.zeros(2), r"alpha has shape \(2,\); expected \(3,\)"),
        (np.zeros((2, 3)), np.array(["a"] * 3), "alpha must be a real numeric array"),
    ],
)
def test_bad_inputs_are_rejected_naming_them(x, alpha, match):
    """Is a wrong shape or dtype an error that names the bad value?"""
    with pytest.raises((ValueError, TypeError), match=match):
        prelu_forward(x, alpha)


def test_dout_of_the_wrong_shape_is_rejected():
    """Does the backward pass reject a dout that does not match the forward output?"""
    _, cache = prelu_forward(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\)"):
        prelu_backward(np.ones((3, 2)), cache)
