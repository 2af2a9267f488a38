"""Loss functions returning the loss and its gradient with respect to the prediction.

Shapes: ``N`` examples, ``C`` classes. Both losses average like PyTorch's default
``reduction="mean"``: cross-entropy over the batch, mean squared error over every element.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlib import _validate

__all__ = ["mse", "softmax_cross_entropy"]


def _labels(y: Any, n: int, c: int) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise _validate.ArgumentTypeError(
            f"labels y must be integer class indices in [0, {c}), got dtype {y.dtype}"
            + (" (one-hot or probabilities are not accepted)" if y.ndim == 2 else "")
        )
    if y.shape != (n,):
        raise ValueError(f"labels y have shape {y.shape}, expected ({n},): one class index per row")
    bad = (y < 0) | (y >= c)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"label y[{first}] = {int(y[first])} is not a class index in [0, {c})")
    return y


def softmax_cross_entropy(logits: Any, y: Any) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient, like ``torch.nn.functional.cross_entropy``.

    ``loss = (1/N) sum_n [logsumexp(z_n) - z_n[y_n]]`` and
    ``dlogits = (softmax(z) - onehot(y)) / N``. The log-sum-exp subtracts each row's maximum first,
    so logits of ``±1e4`` neither overflow nor warn.

    Taught in lesson 01 (backpropagation): the gradient every backward pass starts from.

    Args:
        logits: unnormalized scores ``z``, shape ``(N, C)``.
        y: integer class labels, shape ``(N,)``, each in ``[0, C)``.

    Returns:
        ``(loss, dlogits)``: a Python float and an array of shape ``(N, C)``.

    Raises:
        TypeError: if the labels are not integers (e.g. one-hot floats).
        ValueError: if the shapes do not match or a label is out of range (the message names it).
    """
    z = _validate.float_array(logits, "logits")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"logits must be a non-empty (N, C) array, got shape {z.shape}")
    n, c = z.shape
    y = _labels(y, n, c)
    shifted = z - z.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
    dlogits = exp / total
    dlogits[rows, y] -= 1.0
    return loss, dlogits / n


def mse(pred: Any, target: Any) -> tuple[float, np.ndarray]:
    """Mean squared error and its gradient, like ``torch.nn.functional.mse_loss``.

    ``loss = (1/K) sum (pred - target)^2`` over all ``K`` elements, ``dpred = 2 (pred - target) / K``.

    Taught in lesson 01 (backpropagation): the gradient every backward pass starts from.

    Args:
        pred: predictions, any shape ``S``.
        target: targets, the same shape ``S`` (no broadcasting).

    Returns:
        ``(loss, dpred)``: a Python float and an array of shape ``S``.

    Raises:
        ValueError: if the shapes differ (the message names both) or the arrays are empty.
    """
    pred = _validate.float_array(pred, "pred")
    target = _validate.float_array(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target has shape {target.shape}; they must match")
    if pred.size == 0:
        raise ValueError(f"mse of empty arrays (shape {pred.shape}) is undefined")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size
