"""Layer normalization (Ba, Kiros & Hinton 2016), with the semantics of ``torch.nn.LayerNorm(D)``.

Shapes: ``N`` examples, ``D`` features; ``x`` is ``(N, D)``, ``gamma`` and ``beta`` are ``(D,)``.
LayerNorm normalizes each *example* over its features, where BatchNorm normalizes each feature over the
batch::

    mu_n = mean_j x[n, j]          var_n = mean_j (x[n, j] - mu_n)^2     (biased: divide by D)
    x_hat[n, j] = (x[n, j] - mu_n) / sqrt(var_n + eps)
    out[n, j] = gamma[j] * x_hat[n, j] + beta[j]

No running statistics: training and evaluation compute the same thing, and one example's output never
depends on the other examples of its batch. The backward pass, per example, with ``s = 1/sqrt(var + eps)``
and ``g = gamma * dout``::

    dx[n] = s_n / D * (D * g[n] - sum_j g[n, j] - x_hat[n] * sum_j g[n, j] x_hat[n, j])
    dgamma = sum_n dout[n] * x_hat[n]        dbeta = sum_n dout[n]

No function modifies its inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["layernorm_backward", "layernorm_forward"]


def _float(value: Any, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


def layernorm_forward(
    x: Any, gamma: Any, beta: Any, *, eps: float = 1e-5
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """LayerNorm forward: normalize each row of ``x`` over its features, then scale and shift.

    Taught in lesson 04 (batch normalization).

    Args:
        x: inputs, shape ``(N, D)``.
        gamma: scale, shape ``(D,)``.
        beta: shift, shape ``(D,)``.
        eps: added to each example's (biased) variance before the square root; must be >= 0.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D)``; the cache holds ``x_hat`` (N, D), ``inv_std`` (N, 1)
        and ``gamma``.

    Raises:
        ValueError: on wrong shapes or a negative or non-finite ``eps``.
        TypeError: if an argument is not a real numeric array.
    """
    x = _float(x, "x", 2)
    gamma, beta = _float(gamma, "gamma", 1), _float(beta, "beta", 1)
    D = x.shape[1]
    if gamma.shape != (D,) or beta.shape != (D,):
        raise ValueError(f"gamma and beta must have shape ({D},), got {gamma.shape} and {beta.shape}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps < np.inf:
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, {"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma}


def layernorm_backward(dout: Any, cache: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LayerNorm backward: gradients through each example's mean and variance.

    Taught in lesson 04 (batch normalization).

    Args:
        dout: upstream gradient, shape ``(N, D)``.
        cache: from :func:`layernorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with shapes ``(N, D)``, ``(D,)``, ``(D,)``.

    Raises:
        ValueError: if ``dout`` does not have the forward output's shape.
    """
    x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    dout = _float(dout, "dout", 2)
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout has shape {dout.shape}, expected the forward output shape {x_hat.shape}")
    D = x_hat.shape[1]
    g = gamma * dout
    dx = inv_std / D * (D * g - g.sum(axis=1, keepdims=True) - x_hat * (g * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
