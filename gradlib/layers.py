"""Layers as forward/backward pairs: affine, activation, and a residual block.

Shapes: ``N`` examples, ``D`` input features, ``M`` output features, ``H`` hidden features.
``x`` is ``(N, D)``; a weight ``W`` is ``(fan_in, fan_out)`` and is used as ``x @ W + b``.

Each layer has ``<name>_forward(...) -> (out, cache)`` and ``<name>_backward(dout, cache)``
returning the gradient of the loss with respect to every array argument of the forward, in the
forward's order (``dx, dW, db``). ``dout`` is the upstream gradient ``dLoss/dout`` and has ``out``'s
shape. The cache holds references to the forward's inputs (not copies): do not modify them between
the forward and the backward pass. No function modifies its inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlib import _validate, activations

__all__ = [
    "activation_backward",
    "activation_forward",
    "affine_backward",
    "affine_forward",
    "residual_backward",
    "residual_forward",
]


def affine_forward(x: Any, W: Any, b: Any) -> tuple[np.ndarray, tuple]:
    """Fully connected layer ``out = x @ W + b``.

    Taught in lesson 01 (backpropagation).

    Args:
        x: inputs, shape ``(N, D)``.
        W: weights, shape ``(D, M)``.
        b: biases, shape ``(M,)``.

    Returns:
        ``(out, cache)`` with ``out`` of shape ``(N, M)`` and ``cache = (x, W, b)``.

    Raises:
        ValueError: if the shapes do not fit together (the message names them).
    """
    x = _validate.float_array(x, "x", ndim=2)
    W = _validate.float_array(W, "W", ndim=2)
    b = _validate.float_array(b, "b", ndim=1)
    rule = "x.shape[1] must equal W.shape[0] (W is (fan_in, fan_out), used as x @ W)"
    _validate.compatible(x.shape[1] == W.shape[0], "x", x.shape, "W", W.shape, rule)
    _validate.compatible(b.shape[0] == W.shape[1], "b", b.shape, "W", W.shape, "b needs W.shape[1] items")
    return x @ W + b, (x, W, b)


def affine_backward(dout: Any, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`affine_forward`.

    ``dx = dout @ W^T``, ``dW = x^T @ dout``, ``db = sum_n dout[n]``.

    Taught in lesson 01 (backpropagation).

    Args:
        dout: upstream gradient, shape ``(N, M)``.
        cache: the cache from :func:`affine_forward`.

    Returns:
        ``(dx, dW, db)`` of shapes ``(N, D)``, ``(D, M)``, ``(M,)``.

    Raises:
        ValueError: if ``dout`` does not have the forward output's shape.
    """
    x, W, _ = cache
    dout = _validate.shaped_like(dout, (x.shape[0], W.shape[1]))
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def activation_forward(x: Any, name: str | activations.Activation) -> tuple[np.ndarray, tuple]:
    """Elementwise activation layer ``out = f(x)``.

    Taught in lesson 02 (activations).

    Args:
        x: inputs of any shape ``S``.
        name: an activation name (see :data:`gradlib.activations.NAMES`) or an
            :class:`gradlib.activations.Activation` from :func:`gradlib.activations.get` (to use
            a non-default ``negative_slope`` or ``alpha``).

    Returns:
        ``(out, cache)`` with ``out`` of shape ``S``.

    Raises:
        ValueError: if the activation name is unknown (the message lists the options).
    """
    act = activations.get(name)
    x = np.asarray(x)
    return act.fn(x), (x, act)


def activation_backward(dout: Any, cache: tuple) -> np.ndarray:
    """Backward pass of :func:`activation_forward`: ``dx = dout * f'(x)``.

    Taught in lesson 02 (activations).

    Args:
        dout: upstream gradient, shape ``S``.
        cache: the cache from :func:`activation_forward`.

    Returns:
        ``dx`` of shape ``S``.

    Raises:
        ValueError: if ``dout`` does not have the forward output's shape.
    """
    x, act = cache
    dout = _validate.shaped_like(dout, x.shape)
    return dout * act.grad(x)


def residual_forward(
    x: Any, W1: Any, b1: Any, W2: Any, b2: Any, *, activation: Any = "relu"
) -> tuple[np.ndarray, tuple]:
    """Residual block ``out = x + f(x @ W1 + b1) @ W2 + b2``.

    He, Zhang, Ren & Sun (2016), "Deep Residual Learning for Image Recognition".

    The identity path adds ``dout`` straight into ``dx``, so the gradient reaching early layers
    never has to pass through the weights: the cure for vanishing gradients taught with it.

    Taught in lesson 06 (residual connections).

    Args:
        x: inputs, shape ``(N, D)``.
        W1: first weights, shape ``(D, H)``.
        b1: first biases, shape ``(H,)``.
        W2: second weights, shape ``(H, D)`` (back to the input width).
        b2: second biases, shape ``(D,)``.
        activation: an activation name or :class:`gradlib.activations.Activation`.

    Returns:
        ``(out, cache)`` with ``out`` of shape ``(N, D)``.

    Raises:
        ValueError: if the shapes do not fit (the message names them) or the activation is unknown.
    """
    x = _validate.float_array(x, "x", ndim=2)
    W2 = _validate.float_array(W2, "W2", ndim=2)
    rule = f"a residual block must map back to the input width, so W2 must be (H, {x.shape[1]})"
    _validate.compatible(W2.shape[1] == x.shape[1], "W2", W2.shape, "x", x.shape, rule)
    h, cache1 = affine_forward(x, W1, b1)
    a, cache_act = activation_forward(h, activation)
    rule = "W2.shape[0] must equal W1.shape[1] (the hidden width H)"
    _validate.compatible(a.shape[1] == W2.shape[0], "W1", np.shape(W1), "W2", W2.shape, rule)
    y, cache2 = affine_forward(a, W2, b2)
    return x + y, (cache1, cache_act, cache2)


def residual_backward(dout: Any, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of :func:`residual_forward`.

    With ``h = x @ W1 + b1`` and ``a = f(h)``: ``da = dout @ W2^T``, ``dh = da * f'(h)``,
    ``dx = dout + dh @ W1^T``, ``dW1 = x^T dh``, ``db1 = sum_n dh``, ``dW2 = a^T dout``,
    ``db2 = sum_n dout``.

    Taught in lesson 06 (residual connections).

    Args:
        dout: upstream gradient, shape ``(N, D)``.
        cache: the cache from :func:`residual_forward`.

    Returns:
        ``(dx, dW1, db1, dW2, db2)`` with the shapes of ``x, W1, b1, W2, b2``.

    Raises:
        ValueError: if ``dout`` does not have the forward output's shape.
    """
    cache1, cache_act, cache2 = cache
    x = cache1[0]
    dout = _validate.shaped_like(dout, x.shape)
    da, dW2, db2 = affine_backward(dout, cache2)
    dh = activation_backward(da, cache_act)
    dx, dW1, db1 = affine_backward(dh, cache1)
    return dout + dx, dW1, db1, dW2, db2
