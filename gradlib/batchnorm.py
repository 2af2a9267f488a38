"""Batch normalization for fully connected layers, with exactly ``torch.nn.BatchNorm1d`` semantics.

Shapes: ``N`` is the batch size and ``D`` the number of features; ``x`` is ``(N, D)`` and ``gamma``,
``beta``, ``running_mean``, ``running_var`` are ``(D,)``.

Training mode normalizes each feature with the batch mean and the *biased* batch variance::

    mu = mean(x, axis=0)                   var = mean((x - mu)**2, axis=0)     (divide by N)
    x_hat = (x - mu) / sqrt(var + eps)     out = gamma * x_hat + beta

and returns new running statistics updated with the *unbiased* variance (divide by N - 1), with
PyTorch's momentum convention (``momentum`` weighs the *new* batch value)::

    new_running_mean = (1 - momentum) * running_mean + momentum * mu
    new_running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)

Eval mode normalizes with the running statistics instead and returns them unchanged, so a batch of
one example works. Nothing here modifies its inputs: new running statistics are returned, never
written back. Floating arrays keep their dtype (float32 in, float32 out, like PyTorch; mixed dtypes
promote as in NumPy) and integer arrays become float64.
"""

from __future__ import annotations

import numpy as np

from gradlib import _validate

__all__ = [
    "batchnorm_backward",
    "batchnorm_forward",
    "keras_momentum",
    "torch_momentum",
]


def _check_hyperparameters(training: object, momentum: float, eps: float) -> None:
    """Raise if ``training`` is not a bool, ``momentum`` is outside [0, 1] or ``eps`` is not > 0."""
    if not isinstance(training, (bool, np.bool_)):
        raise _validate.ArgumentTypeError(f"training must be True or False, got {training!r}")
    _validate.number(momentum, "momentum (PyTorch convention)", at_least=0, at_most=1)
    _validate.number(eps, "eps", above=0)


def _check_inputs(x, gamma, beta, running_mean, running_var):
    """Convert the array arguments to floating arrays and check that every per-feature vector is (D,)."""
    x = _validate.float_array(x, "x", ndim=2)
    D = x.shape[1]
    vectors = []
    for name, value in (
        ("gamma", gamma),
        ("beta", beta),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        arr = _validate.float_array(value, name, ndim=1)
        if arr.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},) to match x of shape {x.shape}, got {arr.shape}")
        vectors.append(arr)
    return (x, *vectors)


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, dict, np.ndarray, np.ndarray]:
    """Batch-normalize ``x`` like ``torch.nn.BatchNorm1d``: ``out = gamma * x_hat + beta``.

    In training mode ``x_hat = (x - mu) / sqrt(var + eps)`` with the batch mean ``mu`` and the
    biased batch variance ``var = mean((x - mu)**2)``; the running statistics are updated with the
    unbiased variance ``var * N / (N - 1)``: ``new = (1 - momentum) * old + momentum * batch``.
    In eval mode ``x_hat = (x - running_mean) / sqrt(running_var + eps)`` and the running statistics
    come back unchanged (as copies).

    Taught in lesson 04 (batch normalization).

    Args:
        x: inputs, shape (N, D).
        gamma: scale, shape (D,).
        beta: shift, shape (D,).
        running_mean: running mean, shape (D,) (PyTorch starts it at 0).
        running_var: running variance, shape (D,) (PyTorch starts it at 1).
        training: True for batch statistics (and updated running stats), False for eval mode.
        momentum: weight of the new batch statistic, in [0, 1] (PyTorch convention; Keras's
            ``momentum=0.99`` is ``momentum=0.01`` here, see :func:`torch_momentum`).
        eps: added to the variance before the square root, > 0.

    Returns:
        ``(out, cache, new_running_mean, new_running_var)``: ``out`` is (N, D), ``cache`` is what
        :func:`batchnorm_backward` needs, the running statistics are new (D,) arrays.

    Raises:
        ValueError: on wrong shapes, momentum outside [0, 1], eps <= 0, or N < 2 in training mode
            (the unbiased variance of one example is undefined; PyTorch raises too).
        TypeError: if ``training`` is not a bool, an array is not real-valued or ``momentum`` or
            ``eps`` is not a number.
    """
    _check_hyperparameters(training, momentum, eps)
    x, gamma, beta, running_mean, running_var = _check_inputs(x, gamma, beta, running_mean, running_var)
    if not training:
        inv_std = 1.0 / np.sqrt(running_var + eps)
        x_hat = (x - running_mean) * inv_std
        cache = {"x_hat": x_hat, "gamma": gamma, "inv_std": inv_std, "training": False}
        return gamma * x_hat + beta, cache, running_mean.copy(), running_var.copy()
    N = x.shape[0]
    if N < 2:
        raise ValueError(
            f"BatchNorm in training mode needs a batch of at least 2 examples, got N={N} "
            "(use training=False to normalize a single example with the running statistics)"
        )
    avg = np.full(N, 1.0 / N, dtype=x.dtype)
    mu = avg @ x  # the batch mean as a matrix-vector product: BLAS is faster than x.mean(axis=0)
    x_hat = x - mu
    var = np.einsum("ij,ij->j", x_hat, x_hat) / N
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_std  # x_hat is a fresh array: scaling it in place saves a copy
    out = x_hat * gamma
    out += beta
    new_mean = (1.0 - momentum) * running_mean + momentum * mu
    new_var = (1.0 - momentum) * running_var + momentum * var * (N / (N - 1))
    cache = {"x_hat": x_hat, "gamma": gamma, "inv_std": inv_std, "training": True}
    return out, cache, new_mean, new_var


def batchnorm_backward(dout: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`batchnorm_forward`, through the batch mean and variance.

    With ``dgamma = sum(dout * x_hat)`` and ``dbeta = sum(dout)`` (sums over the batch), training
    mode gives the compact formula::

        dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)

    which already contains the paths through ``mu`` and ``var``; per feature it satisfies
    ``sum(dx) = 0`` and, for ``gamma = 1`` (and eps -> 0), ``sum(dx * x_hat) = 0``. In eval mode the
    running statistics are constants and ``dx = dout * gamma * inv_std``.

    Taught in lesson 04 (batch normalization).

    Args:
        dout: upstream gradient, shape (N, D).
        cache: the cache returned by :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with shapes (N, D), (D,), (D,).

    Raises:
        ValueError: if ``dout`` does not have the forward output's shape.
    """
    x_hat = cache["x_hat"]
    dout = _validate.shaped_like(dout, x_hat.shape)
    dbeta = np.ones(dout.shape[0], dtype=dout.dtype) @ dout  # sum over the batch (BLAS matrix-vector product)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    scale = cache["gamma"] * cache["inv_std"]
    if not cache["training"]:
        return dout * scale, dgamma, dbeta
    N = dout.shape[0]
    dx = x_hat * (-dgamma / N)
    dx += dout
    dx -= dbeta / N
    dx *= scale
    return dx, dgamma, dbeta


def keras_momentum(momentum: float) -> float:
    """Return the Keras ``BatchNormalization(momentum=...)`` equal to PyTorch's ``momentum``.

    PyTorch weighs the new batch value, ``new = (1 - m) * old + m * batch``; Keras weighs the old
    one, ``new = m_k * old + (1 - m_k) * batch``; so ``m_k = 1 - m`` (PyTorch 0.1 is Keras 0.9;
    Keras's default 0.99 is PyTorch 0.01). Keras's default eps is 1e-3, PyTorch's 1e-5.

    Taught in lesson 04 (batch normalization).

    Args:
        momentum: PyTorch-convention momentum in [0, 1].

    Returns:
        The Keras-convention momentum ``1 - momentum``.

    Raises:
        ValueError: if ``momentum`` is not in [0, 1].
    """
    return 1.0 - _validate.number(momentum, "momentum", at_least=0, at_most=1)


def torch_momentum(keras_momentum_value: float) -> float:
    """Return the PyTorch momentum equal to a Keras momentum, ``1 - keras_momentum_value``.

    Taught in lesson 04 (batch normalization).

    Args:
        keras_momentum_value: Keras-convention momentum in [0, 1] (weight of the *old* value).

    Returns:
        The PyTorch-convention momentum (weight of the *new* batch value).

    Raises:
        ValueError: if the value is not in [0, 1].
    """
    return keras_momentum(keras_momentum_value)
