"""gradlib.layers: forward against torch, backward against numerical gradients and torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import away_from_kinks, to_numpy, to_torch

from gradlib import activations, layers
from gradlib.gradcheck import numerical_gradient_array, rel_error

TOL = 1e-7  # relative error of a correct float64 backward against centered differences
ACTIVATIONS = list(activations.NAMES)


def _affine_params(rng, n=5, d=4, m=3):
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def _residual_params(rng, n=5, d=4, h=6):
    x = rng.normal(size=(n, d))
    w1, b1 = rng.normal(size=(d, h)) / 2, rng.normal(size=h)
    w2, b2 = rng.normal(size=(h, d)) / 2, rng.normal(size=d)
    return x, w1, b1, w2, b2


def _torch_activation(name):
    record = activations.get(name)
    if name == "linear":
        return lambda t: t
    return getattr(torch.nn.functional, record.torch_name, None) or getattr(torch, record.torch_name)


def _autograd(fn, arrays, dout):
    """Gradients of sum(fn(*tensors) * dout) with respect to each array, by torch autograd."""
    tensors = [to_torch(a, grad=True) for a in arrays]
    out = fn(*tensors)
    (out * to_torch(dout)).sum().backward()
    return to_numpy(out), [to_numpy(t.grad) for t in tensors]


def _numeric_grads(forward, arrays, dout):
    """Centered-difference gradients of sum(forward(*arrays)[0] * dout) w.r.t. each array."""
    return [numerical_gradient_array(lambda _v: forward(*arrays)[0], a, dout) for a in arrays]


# ----------------------------------------------------------------------------- affine
def test_affine_forward_matches_torch(rng):
    """Is affine_forward x @ W + b, i.e. torch's linear with the transposed weight?"""
    x, w, b = _affine_params(rng)
    out, _ = layers.affine_forward(x, w, b)
    expected = torch.nn.functional.linear(to_torch(x), to_torch(w.T), to_torch(b))
    np.testing.assert_allclose(out, to_numpy(expected), rtol=1e-13, atol=1e-13)


def test_affine_backward_matches_numerical_gradient(rng):
    """Do dx, dW, db agree with centered differences (rel. error < 1e-7)?"""
    x, w, b = _affine_params(rng)
    out, cache = layers.affine_forward(x, w, b)
    dout = rng.normal(size=out.shape)
    grads = layers.affine_backward(dout, cache)
    for name, got, numeric in zip(
        ("dx", "dW", "db"), grads, _numeric_grads(layers.affine_forward, [x, w, b], dout), strict=True
    ):
        assert rel_error(got, numeric) < TOL, name


def test_affine_backward_matches_autograd(rng):
    """Do dx, dW, db equal torch autograd's gradients of x @ W + b?"""
    x, w, b = _affine_params(rng, n=7, d=6, m=2)
    out, cache = layers.affine_forward(x, w, b)
    dout = rng.normal(size=out.shape)
    _, expected = _autograd(lambda x_, w_, b_: x_ @ w_ + b_, [x, w, b], dout)
    for got, exp in zip(layers.affine_backward(dout, cache), expected, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-13)


def test_affine_leaves_inputs_unchanged(rng):
    """Are x, W, b and dout left untouched by the forward and backward pass?"""
    arrays = list(_affine_params(rng))
    copies = [a.copy() for a in arrays]
    out, cache = layers.affine_forward(*arrays)
    dout = rng.normal(size=out.shape)
    dout_copy = dout.copy()
    layers.affine_backward(dout, cache)
    for a, c in zip(arrays + [dout], copies + [dout_copy], strict=True):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize(
    ("shapes", "text"),
    [
        (((5, 4), (3, 2), (2,)), r"x has shape \(5, 4\) but W has shape \(3, 2\)"),
        (((5, 4), (4, 3), (2,)), r"b has shape \(2,\) but W has shape \(4, 3\)"),
        (((5, 4), (4, 3), (1, 3)), r"b must be 1-D, got shape \(1, 3\)"),
        (((4,), (4, 3), (3,)), r"x must be 2-D, got shape \(4,\)"),
        (((5, 4), (4, 3, 1), (3,)), r"W must be 2-D, got shape \(4, 3, 1\)"),
    ],
)
def test_affine_shape_mismatch_names_shapes(shapes, text):
    """Does a shape mismatch raise ValueError naming the shapes involved?"""
    arrays = [np.ones(s) for s in shapes]
    with pytest.raises(ValueError, match=text):
        layers.affine_forward(*arrays)


def test_backward_rejects_dout_of_wrong_shape(rng):
    """Does a dout that is not the forward output's shape raise ValueError naming both shapes?"""
    _, cache = layers.affine_forward(*_affine_params(rng))
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(5, 3\)"):
        layers.affine_backward(np.ones((3, 5)), cache)
    _, cache = layers.activation_forward(np.ones((2, 3)), "relu")
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        layers.activation_backward(np.ones((3, 2)), cache)


# ----------------------------------------------------------------------------- activation layer
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_layer_matches_numerical_gradient_and_autograd(name, rng):
    """Is activation_backward dout * f'(x), agreeing with centered differences and autograd?"""
    x = away_from_kinks(rng.normal(0, 2, size=(4, 6)))
    out, cache = layers.activation_forward(x, name)
    dout = rng.normal(size=out.shape)
    dx = layers.activation_backward(dout, cache)
    numeric = numerical_gradient_array(lambda v: layers.activation_forward(v, name)[0], x, dout)
    assert rel_error(dx, numeric) < TOL
    expected_out, (expected_dx,) = _autograd(_torch_activation(name), [x], dout)
    np.testing.assert_allclose(out, expected_out, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-13, atol=1e-15)


def test_activation_layer_accepts_a_parametrized_record(rng):
    """Does activation_forward take a get(...) record, e.g. leaky ReLU with slope 0.2?"""
    x = rng.normal(size=(3, 4))
    out, cache = layers.activation_forward(x, activations.get("leaky_relu", negative_slope=0.2))
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_array_equal(layers.activation_backward(np.ones_like(x), cache), np.where(x > 0, 1, 0.2))


def test_activation_layer_unknown_name_raises():
    """Does an unknown activation name raise ValueError naming it?"""
    with pytest.raises(ValueError, match="'sigmod'"):
        layers.activation_forward(np.ones(3), "sigmod")


# ----------------------------------------------------------------------------- residual block
def _torch_residual(name):
    f = _torch_activation(name)
    return lambda x, w1, b1, w2, b2: x + f(x @ w1 + b1) @ w2 + b2


@pytest.mark.parametrize("name", ["relu", "tanh", "leaky_relu", "selu"])
def test_residual_block_matches_autograd(name, rng):
    """Is out = x + f(x W1 + b1) W2 + b2, with all five gradients equal to torch autograd's?"""
    params = _residual_params(rng)
    out, cache = layers.residual_forward(*params, activation=name)
    dout = rng.normal(size=out.shape)
    expected_out, expected = _autograd(_torch_residual(name), list(params), dout)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-13)
    for got, exp in zip(layers.residual_backward(dout, cache), expected, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "elu"])
def test_residual_block_matches_numerical_gradient(name, rng):
    """Do dx, dW1, db1, dW2, db2 agree with centered differences (rel. error < 1e-7)?"""
    params = list(_residual_params(rng))
    out, cache = layers.residual_forward(*params, activation=name)
    h = params[0] @ params[1] + params[2]
    assert np.abs(h).min() > 1e-3, "test data sits on a kink; pick another seed"
    dout = rng.normal(size=out.shape)
    grads = layers.residual_backward(dout, cache)
    forward = lambda *a: layers.residual_forward(*a, activation=name)  # noqa: E731
    for label, got, numeric in zip(
        ("dx", "dW1", "db1", "dW2", "db2"), grads, _numeric_grads(forward, params, dout), strict=True
    ):
        assert rel_error(got, numeric) < TOL, label


def test_residual_identity_path_passes_gradient_unchanged(rng):
    """With W2 = 0, is dx exactly dout (the skip connection carries the gradient)?"""
    x, w1, b1, w2, b2 = _residual_params(rng)
    out, cache = layers.residual_forward(x, w1, b1, np.zeros_like(w2), b2)
    np.testing.assert_array_equal(out, x + b2)
    dout = rng.normal(size=out.shape)
    np.testing.assert_array_equal(layers.residual_backward(dout, cache)[0], dout)


@pytest.mark.parametrize(
    ("shapes", "text"),
    [
        (((5, 4), (4, 6), (6,), (6, 3), (3,)), r"W2 has shape \(6, 3\) but x has shape \(5, 4\)"),
        (((5, 4), (4, 6), (6,), (5, 4), (4,)), r"W1 has shape \(4, 6\) but W2 has shape \(5, 4\)"),
        (((5, 4), (3, 6), (6,), (6, 4), (4,)), r"x has shape \(5, 4\) but W has shape \(3, 6\)"),
    ],
)
def test_residual_shape_mismatch_names_shapes(shapes, text):
    """Does a residual block with mismatched shapes raise ValueError naming them?"""
    with pytest.raises(ValueError, match=text):
        layers.residual_forward(*[np.ones(s) for s in shapes])
