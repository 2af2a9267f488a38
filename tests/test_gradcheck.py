"""gradlib.gradcheck: centered differences, x restored, rel_error, and the checker's messages."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import to_numpy, to_torch

from gradlib.gradcheck import check_gradient, numerical_gradient, numerical_gradient_array, rel_error


def test_numerical_gradient_matches_autograd(rng):
    """Does the numerical gradient of sum(sin(x) * x^2) agree with torch autograd to ~1e-9?"""
    x = rng.normal(size=(4, 3))
    t = to_torch(x, grad=True)
    (t.sin() * t**2).sum().backward()
    numeric = numerical_gradient(lambda v: np.sum(np.sin(v) * v**2), x)
    assert numeric.dtype == np.float64 and numeric.shape == x.shape
    assert rel_error(numeric, to_numpy(t.grad)) < 1e-9


def test_differences_are_centered():
    """Is the difference centered: for x^2 at 1 with h = 0.01, exactly 2 (one-sided would give 2.01)?"""
    numeric = numerical_gradient(lambda v: float(v[0] ** 2), np.array([1.0]), h=1e-2)
    assert numeric[0] == pytest.approx(2.0, abs=1e-12)


def test_each_index_perturbs_its_own_entry():
    """Is entry i of the gradient of sum(w * x) exactly w[i] (the right variable is perturbed)?"""
    w = np.arange(1.0, 13.0).reshape(3, 4)
    x = np.zeros((3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(w * v), x), w, rtol=1e-9)


def test_closure_over_x_works_and_x_is_restored_bitwise(rng):
    """May f ignore its argument and close over x, and is x bit-for-bit restored afterwards?"""
    x = rng.normal(size=(5,))
    before = x.copy()
    numeric = numerical_gradient(lambda _: np.sum(x**3), x)
    np.testing.assert_allclose(numeric, 3 * before**2, rtol=1e-8)
    assert x.tobytes() == before.tobytes()


def test_x_is_restored_even_when_f_raises(rng):
    """When f raises midway (on a perturbed x), is x restored and the error propagated?"""
    x = rng.normal(size=(3, 3))
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("boom")
        return float(np.sum(v))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert x.tobytes() == before.tobytes()


def test_numerical_gradient_array_is_the_backward_of_a_matrix_product(rng):
    """For f(x) = x @ W, is the gradient of sum(f(x) * dout) equal to dout @ W^T?"""
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    dout = rng.normal(size=(4, 2))
    numeric = numerical_gradient_array(lambda v: v @ w, x, dout)
    assert rel_error(numeric, dout @ w.T) < 1e-9


def test_rel_error_formula():
    """Is rel_error max|a-b| / max(1e-8, max(|a|+|b|)), with the 1e-8 floor near zero?"""
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.5])) == pytest.approx(0.5 / 4.5)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1e-10]), np.array([0.0])) == pytest.approx(1e-2)
    assert rel_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_rel_error_refuses_to_broadcast():
    """Does rel_error of arrays with different shapes raise ValueError naming both shapes?"""
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        rel_error(np.ones(3), np.ones((3, 1)))


def test_check_gradient_accepts_a_correct_gradient(rng):
    """Does check_gradient return a small relative error for a correct gradient (scalar and array f)?"""
    x = rng.normal(size=(3, 4))
    assert check_gradient(lambda v: np.sum(v**2), x, 2 * x, name="dx") < 1e-9
    w = rng.normal(size=(4, 2))
    dout = rng.normal(size=(3, 2))
    assert check_gradient(lambda v: v @ w, x, dout @ w.T, name="dx", dout=dout) < 1e-9


def test_check_gradient_names_argument_index_expected_and_received(rng):
    """Does a wrong gradient raise ValueError naming the argument, index, expected and received values?"""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    wrong = 2 * x
    wrong[1, 0] = 7.5
    with pytest.raises(ValueError, match=r"dW.*\(1, 0\).*expected 6\b.*received 7\.5") as info:
        check_gradient(lambda v: np.sum(v**2), x, wrong, name="dW")
    assert "relative error" in str(info.value)


def test_check_gradient_rejects_a_tiny_error():
    """Is a 1e-5 relative error (above tol 1e-7) rejected: the checker is not fooled by near misses?"""
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="dx"):
        check_gradient(lambda v: np.sum(v**2), x, 2 * x * (1 + 1e-5), name="dx")


def test_check_gradient_shape_mismatch_raises():
    """Does an analytic gradient of the wrong shape raise ValueError naming the shapes?"""
    with pytest.raises(ValueError, match=r"db has shape \(3, 1\).*\(3,\)"):
        check_gradient(lambda v: np.sum(v), np.ones(3), np.ones((3, 1)), name="db")


@pytest.mark.parametrize(
    ("x", "exc", "text"),
    [
        (np.ones(3, dtype=np.float32), TypeError, "float32"),
        (np.ones(3, dtype=np.int64), TypeError, "int64"),
        ([1.0, 2.0], TypeError, "list"),
    ],
)
def test_x_must_be_a_float64_array(x, exc, text):
    """Does a float32, integer or list x raise TypeError naming what it got?"""
    with pytest.raises(exc, match=text):
        numerical_gradient(lambda v: 0.0, x)


def test_bad_step_and_non_scalar_f_raise():
    """Do h <= 0 and an array-valued f (without dout) raise ValueError naming the value or shape?"""
    with pytest.raises(ValueError, match="0"):
        numerical_gradient(lambda v: 0.0, np.ones(2), h=0)
    with pytest.raises(ValueError, match=r"\(2,\).*numerical_gradient_array"):
        numerical_gradient(lambda v: v * 2, np.ones(2))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        numerical_gradient_array(lambda v: v * 2, np.ones(2), np.ones(3))
