"""PReLU: a leaky ReLU whose negative slope is learned, one slope per feature.

He et al. 2015 ("Delving Deep into Rectifiers"), ``torch.nn.PReLU``. Shapes: ``N`` examples, ``D``
features; ``x`` is ``(N, D)`` and the slopes ``alpha`` are ``(D,)`` (one per feature, PyTorch's
``num_parameters=D``) or ``(1,)`` (one shared slope, PyTorch's default)::

    out[n, j] = x[n, j]             if x[n, j] > 0
              = alpha[j] * x[n, j]  otherwise

    dx[n, j]   = dout[n, j] * (1 if x[n, j] > 0 else alpha[j])      (alpha at x = 0, like autograd)
    dalpha[j]  = sum over n with x[n, j] <= 0 of dout[n, j] * x[n, j]

``dalpha`` sums over the batch (every example uses the same slope), and over the features too when the
slope is shared. No function modifies its inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlib import _validate

__all__ = ["prelu_backward", "prelu_forward"]


def _check(x: Any, alpha: Any) -> tuple[np.ndarray, np.ndarray]:
    x, alpha = _validate.float_array(x, "x"), _validate.float_array(alpha, "alpha")
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (N, D), got shape {x.shape}")
    if alpha.shape not in ((1,), (x.shape[1],)):
        raise ValueError(
            f"alpha has shape {alpha.shape}; expected ({x.shape[1]},) (one slope per feature) or (1,)"
        )
    return x, alpha


def prelu_forward(x: Any, alpha: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """PReLU forward: ``x`` where ``x > 0``, else ``alpha * x`` (``alpha`` broadcast over rows).

    Taught in lesson 02 (activations).

    Args:
        x: inputs, shape ``(N, D)``.
        alpha: slopes, shape ``(D,)`` or ``(1,)``.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D)``; ``cache = {"x": x, "alpha": alpha}``.

    Raises:
        ValueError: if ``x`` is not 2-D or ``alpha`` has neither shape ``(D,)`` nor ``(1,)``.
        TypeError: if an argument is not a real numeric array.
    """
    x, alpha = _check(x, alpha)
    out = np.where(x > 0, x, alpha * x)
    return out, {"x": x, "alpha": alpha}


def prelu_backward(dout: Any, cache: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """PReLU backward: ``dx`` and ``dalpha`` summed over the batch (and features, if shared).

    Taught in lesson 02 (activations).

    Args:
        dout: upstream gradient, shape ``(N, D)``.
        cache: from :func:`prelu_forward`.

    Returns:
        ``(dx, dalpha)``: shapes ``(N, D)`` and ``alpha``'s shape.

    Raises:
        ValueError: if ``dout`` does not have ``x``'s shape.
    """
    x, alpha = cache["x"], cache["alpha"]
    dout = _validate.shaped_like(dout, x.shape)
    positive = x > 0
    dx = dout * np.where(positive, 1.0, alpha)
    per_feature = np.sum(np.where(positive, 0.0, dout * x), axis=0)
    dalpha = per_feature.sum(keepdims=True) if alpha.shape == (1,) else per_feature
    return dx, dalpha
