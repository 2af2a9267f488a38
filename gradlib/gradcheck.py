"""Numerical gradients by centered differences, and a gradient checker.

For a scalar function ``f`` the centered difference

    ``df/dx[i] ~= (f(x + h e_i) - f(x - h e_i)) / (2 h)``

has error ``O(h^2)``; with ``h = 1e-5`` in float64 a correct analytic gradient agrees to a relative
error below about ``1e-7`` (cs231n's rule of thumb: above ``1e-2`` it is wrong). The functions
perturb ``x`` *in place* (so ``f`` may be a closure over ``x``, such as a loss of the weights) and
always restore it exactly, even when ``f`` raises. A gradient check only shows that a backward pass
agrees with its own forward pass; compare the forward with a reference too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlib import _validate

__all__ = ["check_gradient", "numerical_gradient", "numerical_gradient_array", "rel_error"]


def _check_x(x: Any) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise _validate.ArgumentTypeError(
            f"x must be a float64 numpy array (it is perturbed in place by h), got {got}; "
            "use x.astype(np.float64)"
        )
    if not x.flags.writeable:
        raise ValueError("x is read-only; numerical gradients perturb x in place")
    return x


def _scalar(value: Any) -> float:
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(
            f"f must return a scalar, got an array of shape {arr.shape}; "
            "use numerical_gradient_array for array-valued functions"
        )
    return float(arr.reshape(()))


def _centered(g: Callable[[np.ndarray], float], x: np.ndarray, h: float) -> np.ndarray:
    """Centered differences of the scalar function ``g`` of ``x``, restoring ``x``."""
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            plus = g(x)
            x[ix] = old - h
            minus = g(x)
        finally:
            x[ix] = old
        grad[ix] = (plus - minus) / (2.0 * h)
    return grad


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, *, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function by centered differences: ``(f(x+h e_i) - f(x-h e_i)) / 2h``.

    Taught in lesson 01 (backpropagation).

    Args:
        f: function of ``x`` returning a scalar (it may ignore its argument and close over ``x``).
        x: float64 array of any shape ``S``; perturbed in place and restored exactly.
        h: the step.

    Returns:
        ``df/dx``, a float64 array of shape ``S``.

    Raises:
        TypeError: if ``x`` is not a float64 ndarray.
        ValueError: if ``h <= 0`` or ``f`` does not return a scalar.
    """
    x = _check_x(x)
    h = _validate.number(h, "step h", above=0)
    return _centered(lambda v: _scalar(f(v)), x, h)


def numerical_gradient_array(
    f: Callable[[np.ndarray], Any], x: np.ndarray, dout: Any, *, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` for an array-valued ``f``: what a backward pass returns.

    ``dx[i] = sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2 h)``.

    Taught in lesson 01 (backpropagation).

    Args:
        f: function of ``x`` returning an array of ``dout``'s shape ``T``.
        x: float64 array of any shape ``S``; perturbed in place and restored exactly.
        dout: upstream gradient, shape ``T``.
        h: the step.

    Returns:
        ``dx``, a float64 array of shape ``S``.

    Raises:
        TypeError: if ``x`` is not a float64 ndarray.
        ValueError: if ``h <= 0`` or ``f(x)`` does not have ``dout``'s shape.
    """
    x = _check_x(x)
    h = _validate.number(h, "step h", above=0)
    dout = np.asarray(dout, dtype=np.float64)

    def weighted(v: np.ndarray) -> float:
        out = np.asarray(f(v), dtype=np.float64)
        if out.shape != dout.shape:
            raise ValueError(f"f(x) has shape {out.shape} but dout has shape {dout.shape}")
        return float(np.sum(out * dout))

    return _centered(weighted, x, h)


def rel_error(a: Any, b: Any) -> float:
    """Relative error ``max|a - b| / max(1e-8, max(|a| + |b|))``.

    Taught in lesson 01 (backpropagation).

    Args:
        a: array of shape ``S``.
        b: array of the same shape ``S``.

    Returns:
        The relative error (0 for empty arrays).

    Raises:
        ValueError: if the shapes differ (no broadcasting).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    num = float(np.max(np.abs(a - b)))
    return num / max(1e-8, float(np.max(np.abs(a) + np.abs(b))))


def check_gradient(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    analytic: Any,
    *,
    name: str,
    tol: float = 1e-7,
    dout: Any = None,
    h: float = 1e-5,
) -> float:
    """Compare an analytic gradient with :func:`numerical_gradient`; raise if they disagree.

    Taught in lesson 01 (backpropagation).

    Args:
        f: scalar function of ``x`` (or array-valued when ``dout`` is given).
        x: float64 array, shape ``S``, perturbed in place and restored.
        analytic: the gradient to check, shape ``S``.
        name: the argument's name for the message, e.g. ``"dW"``.
        tol: the largest accepted :func:`rel_error`.
        dout: upstream gradient for an array-valued ``f`` (uses :func:`numerical_gradient_array`).
        h: the finite-difference step.

    Returns:
        The relative error.

    Raises:
        ValueError: naming the argument, the worst index, the expected (numerical) and the received
            (analytic) value, when the relative error exceeds ``tol``; or if ``analytic`` has the
            wrong shape.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != np.shape(x):
        raise ValueError(f"{name} has shape {analytic.shape}, expected x's shape {np.shape(x)}")
    if dout is None:
        numeric = numerical_gradient(f, x, h=h)
    else:
        numeric = numerical_gradient_array(f, x, dout, h=h)
    err = rel_error(analytic, numeric)
    if not err <= tol:
        diff = np.abs(analytic - numeric)
        diff = np.where(np.isnan(diff), np.inf, diff)
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
        raise ValueError(
            f"gradient {name} is wrong at index {idx}: expected {numeric[idx]:.10g} (numerical), "
            f"received {analytic[idx]:.10g}; relative error {err:.3g} > tol {tol:g}"
        )
    return err
