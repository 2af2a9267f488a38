"""gradlib.chain: the deep linear toy of lesson 01."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from gradlib.chain import (
    chain_backward,
    chain_forward,
    chain_norms,
    first_overflow_depth,
    output_scale,
    random_gaussian_weights,
    scaled_identity_weights,
)


def test_output_scale_reference_numbers():
    """Is 2**100 about 1.27e30 and 0.5**100 about 7.9e-31, exactly?"""
    assert output_scale(2.0, 100) == 1267650600228229401496703205376.0
    assert output_scale(0.5, 100) == pytest.approx(7.888609052210118e-31, rel=1e-15)
    assert output_scale(2.0, 2000) == float("inf")
    assert output_scale(-2.0, 2001) == float("-inf")
    assert output_scale(3.0, 0) == 1.0


@pytest.mark.parametrize("scale", [2.0, 0.5])
def test_forward_and_backward_scale_like_power(scale):
    """Does a 100-layer s*I chain scale both the output and the input gradient by s**100?"""
    x = np.array([[1.0, -2.0, 3.0]])
    acts, cache = chain_forward(x, scaled_identity_weights(100, 3, scale))
    assert len(acts) == 101 and acts[0] is not None
    np.testing.assert_allclose(acts[-1], x * scale**100, rtol=1e-12)
    dxs, dWs = chain_backward(np.ones_like(x), cache)
    assert len(dxs) == 101 and len(dWs) == 100
    np.testing.assert_allclose(dxs[0], np.ones_like(x) * scale**100, rtol=1e-12)


def _independent_overflow_depth(scale, dtype):
    # exact rational arithmetic: a value rounds to inf once it reaches max + half an ulp of max
    info = np.finfo(dtype)
    threshold = Fraction(float(info.max)) + Fraction(2) ** (info.maxexp - 1 - info.nmant) / 2
    s, power, L = Fraction(abs(scale)), Fraction(1), 0
    while power < threshold:
        power *= s
        L += 1
    return L


@pytest.mark.parametrize(
    ("scale", "dtype", "expected"),
    [(2.0, np.float32, 128), (2.0, np.float16, 16), (2.0, np.float64, 1024), (4.0, np.float32, 64)],
)
def test_first_overflow_depth_powers_of_two(scale, dtype, expected):
    """Does scale 2 overflow float32 at L = 128, float16 at 16, float64 at 1024?"""
    assert first_overflow_depth(scale, dtype) == expected
    assert _independent_overflow_depth(scale, dtype) == expected


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("scale", [3.0, 10.0, -10.0])
def test_first_overflow_depth_other_scales(scale, dtype):
    """Does first_overflow_depth agree with an independent log-based computation?"""
    assert first_overflow_depth(scale, dtype) == _independent_overflow_depth(scale, dtype)


@pytest.mark.parametrize("scale", [1.0, 0.5, -1.0, 0.0])
def test_first_overflow_depth_rejects_small_scales(scale):
    """Does |scale| <= 1 raise a ValueError naming the scale?"""
    with pytest.raises(ValueError, match=repr(scale)):
        first_overflow_depth(scale, np.float32)


def test_first_overflow_depth_rejects_scale_rounding_to_one_and_bad_dtype():
    """Does a scale that rounds to 1 in float16, or a non-float dtype, raise a clear ValueError?"""
    with pytest.raises(ValueError, match="float16"):
        first_overflow_depth(1.0001, np.float16)
    with pytest.raises(ValueError, match="int32"):
        first_overflow_depth(2.0, np.int32)


def test_backward_matches_torch_autograd():
    """Do dxs and dWs match torch autograd through a random 6-layer chain with ragged widths?"""
    rng = np.random.default_rng(0)
    dims = [5, 7, 3, 6, 6, 4, 2]
    Ws = [rng.normal(0, 0.5, (a, b)) for a, b in zip(dims[:-1], dims[1:], strict=True)]
    x = rng.normal(size=(3, 5))
    dout = rng.normal(size=(3, 2))
    acts, cache = chain_forward(x, Ws)
    dxs, dWs = chain_backward(dout, cache)
    xt = torch.from_numpy(x).requires_grad_(True)
    Wt = [torch.from_numpy(W).requires_grad_(True) for W in Ws]
    hs = [xt]
    for W in Wt:
        hs.append(hs[-1] @ W)
        hs[-1].retain_grad()
    hs[-1].backward(torch.from_numpy(dout))
    for a, h in zip(acts, hs, strict=True):
        np.testing.assert_allclose(a, h.detach().numpy(), rtol=1e-12)
    for k in range(len(Ws) + 1):
        np.testing.assert_allclose(dxs[k], hs[k].grad.numpy(), rtol=1e-10, atol=1e-14)
    for dW, W in zip(dWs, Wt, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(dxs[-1], dout)


def test_vector_input_and_float32_dtype_kept():
    """Does a (D,) float32 input stay float32, overflowing to inf at depth 128 for scale 2?"""
    x = np.ones(2, dtype=np.float32)
    Ws = [w.astype(np.float32) for w in scaled_identity_weights(128, 2, 2.0)]
    acts, cache = chain_forward(x, Ws)
    assert acts[-1].dtype == np.float32
    assert np.all(np.isfinite(acts[127])) and not np.all(np.isfinite(acts[128]))
    dxs, dWs = chain_backward(np.ones(2, dtype=np.float32), cache)
    assert dWs[0].shape == (2, 2)


def test_chain_norms():
    """Do chain_norms report ||a_k|| = 2**k ||x|| and gradient norms 2**(L-k) sqrt(D) for 2I?"""
    x = np.array([[3.0, 4.0]])
    out = chain_norms(x, scaled_identity_weights(10, 2, 2.0))
    np.testing.assert_array_equal(out["depth"], np.arange(11))
    np.testing.assert_allclose(out["activation_norms"], 5.0 * 2.0 ** np.arange(11))
    np.testing.assert_allclose(out["gradient_norms"], np.sqrt(2) * 2.0 ** np.arange(10, -1, -1))
    assert out["weight_gradient_norms"].shape == (10,)


def test_weights_helpers():
    """Are the weight lists separate arrays with the requested scale / std, drawn from rng?"""
    Ws = scaled_identity_weights(3, 4, 0.5)
    assert len(Ws) == 3 and Ws[0] is not Ws[1]
    np.testing.assert_array_equal(Ws[2], 0.5 * np.eye(4))
    G1 = random_gaussian_weights(50, 40, std=0.1, rng=np.random.default_rng(1))
    G2 = random_gaussian_weights(50, 40, std=0.1, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(G1[7], G2[7])
    s = np.std(np.concatenate([g.ravel() for g in G1]))
    assert abs(s - 0.1) < 0.1 * 6 / np.sqrt(2 * 80000)  # ~6 sigma of the sample std


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: scaled_identity_weights(0, 3, 2.0), ValueError, "0"),
        (lambda: scaled_identity_weights(3, 2.5, 2.0), TypeError, "2.5 (float)"),
        (lambda: scaled_identity_weights(3, 2, "2"), TypeError, "'2' (str)"),
        (
            lambda: chain_backward(np.ones((2, 3)), chain_forward(np.ones((3, 3)), [np.eye(3)])[1]),
            ValueError,
            "(2, 3)",
        ),
        (
            lambda: random_gaussian_weights(2, 3, std=-1.0, rng=np.random.default_rng()),
            ValueError,
            "-1.0",
        ),
        (lambda: random_gaussian_weights(2, 3, std=1.0, rng=7), TypeError, "int"),
        (lambda: chain_forward(np.ones((2, 3)), [np.eye(4)]), ValueError, "(4, 4)"),
        (lambda: chain_forward(np.ones((2, 3)), np.eye(3)), TypeError, "ndarray"),
        (lambda: output_scale(2.0, -1), ValueError, "-1"),
    ],
)
def test_bad_input(call, exc, text):
    """Do bad depths, dims, std, rng and mismatched shapes raise naming the bad value?"""
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
