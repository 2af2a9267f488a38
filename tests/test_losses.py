"""gradlib.losses against torch.nn.functional.cross_entropy and mse_loss (float64)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import to_numpy, to_torch

from gradlib.gradcheck import numerical_gradient, rel_error
from gradlib.losses import mse, softmax_cross_entropy


def _torch_ce(logits, y):
    t = to_torch(logits, grad=True)
    loss = torch.nn.functional.cross_entropy(t, torch.as_tensor(y, dtype=torch.long))
    loss.backward()
    return loss.item(), to_numpy(t.grad)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
@pytest.mark.parametrize(("n", "c"), [(1, 2), (6, 4), (32, 10)])
def test_cross_entropy_matches_torch(n, c, scale, rng):
    """Do the mean cross-entropy and dlogits equal torch's, for logits up to +-1e4?"""
    logits = rng.normal(size=(n, c)) * scale
    y = rng.integers(0, c, size=n)
    loss, dlogits = softmax_cross_entropy(logits, y)
    expected_loss, expected_grad = _torch_ce(logits, y)
    assert loss == pytest.approx(expected_loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-10, atol=1e-15)


def test_cross_entropy_is_silent_and_finite_at_extremes():
    """Do logits of +-1e4 give a finite loss and gradient with no warning, even with errors raising?"""
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    y = np.array([1, 2, 0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss, dlogits = softmax_cross_entropy(logits, y)
    expected_loss, expected_grad = _torch_ce(logits, y)
    assert np.isfinite(loss) and loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-12, atol=1e-15)


def test_cross_entropy_gradient_matches_numerical_gradient(rng):
    """Does dlogits agree with centered differences of the loss (rel. error < 1e-7)?"""
    logits = rng.normal(size=(5, 7))
    y = rng.integers(0, 7, size=5)
    _, dlogits = softmax_cross_entropy(logits, y)
    numeric = numerical_gradient(lambda z: softmax_cross_entropy(z, y)[0], logits)
    assert rel_error(dlogits, numeric) < 1e-7


def test_cross_entropy_of_uniform_logits_is_log_c():
    """Is the loss of all-equal logits log(C), and the loss a Python float?"""
    loss, _ = softmax_cross_entropy(np.zeros((4, 10)), np.arange(4))
    assert isinstance(loss, float) and loss == pytest.approx(np.log(10), rel=1e-15)


@pytest.mark.parametrize(
    ("logits_shape", "y", "exc", "text"),
    [
        ((3, 4), np.array([0, 4, 1]), ValueError, r"y\[1\] = 4.*\[0, 4\)"),
        ((3, 4), np.array([0, -1, 1]), ValueError, r"y\[1\] = -1"),
        ((3, 4), np.array([0, 1]), ValueError, r"\(2,\).*\(3,\)"),
        ((3, 4), np.array([0.0, 1.0, 2.0]), TypeError, "float64"),
        ((3, 4), np.eye(4)[[0, 1, 2]], TypeError, "one-hot"),
        ((4,), np.array([0]), ValueError, r"\(4,\)"),
    ],
)
def test_cross_entropy_bad_labels_and_shapes_raise(logits_shape, y, exc, text):
    """Do out-of-range, float, one-hot and mis-shaped labels raise, naming the bad value?"""
    with pytest.raises(exc, match=text):
        softmax_cross_entropy(np.zeros(logits_shape), y)


def test_cross_entropy_leaves_inputs_unchanged(rng):
    """Are logits and labels left untouched?"""
    logits, y = rng.normal(size=(4, 3)), np.array([0, 2, 1, 1])
    logits_copy, y_copy = logits.copy(), y.copy()
    softmax_cross_entropy(logits, y)
    np.testing.assert_array_equal(logits, logits_copy)
    np.testing.assert_array_equal(y, y_copy)


@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 5)])
def test_mse_matches_torch(shape, rng):
    """Are the loss and dpred those of torch's mse_loss (mean over every element)?"""
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    loss, dpred = mse(pred, target)
    t = to_torch(pred, grad=True)
    expected = torch.nn.functional.mse_loss(t, to_torch(target))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-13)
    np.testing.assert_allclose(dpred, to_numpy(t.grad), rtol=1e-13, atol=1e-15)
    numeric = numerical_gradient(lambda p: mse(p, target)[0], pred)
    assert rel_error(dpred, numeric) < 1e-7


def test_mse_shape_mismatch_and_empty_raise():
    """Do mismatched shapes (no silent broadcasting) and empty arrays raise ValueError naming them?"""
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        mse(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match=r"\(0,\)"):
        mse(np.ones(0), np.ones(0))
