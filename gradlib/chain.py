"""The deep linear chain: the smallest network that shows vanishing and exploding gradients.

A chain of ``L`` linear layers without biases or nonlinearities::

    a[0] = x,    a[k] = a[k-1] @ W[k-1]    (k = 1..L),    output a[L]

Shapes: ``N`` examples of dimension ``D``; ``x`` is ``(N, D)`` (or a single ``(D,)`` vector) and
every weight ``W[k]`` is ``(D_k, D_{k+1})``, usually ``(D, D)``. With ``W = s * I`` the output is
``s**L * x``, and the backward pass multiplies the gradient by the same ``s**L``:
``2**100 ≈ 1.27e30``, ``0.5**100 ≈ 7.9e-31``. In float32 ``2**L`` overflows to inf from ``L = 128``.

Arrays keep their floating dtype (so the chain can be run in float32 or float16 to watch the
overflow); overflow is expected here and raises no warning.
"""

from __future__ import annotations

import numpy as np

from gradlib import _validate

__all__ = [
    "chain_backward",
    "chain_forward",
    "chain_norms",
    "first_overflow_depth",
    "output_scale",
    "random_gaussian_weights",
    "scaled_identity_weights",
]

_MAX_MULTIPLICATIONS = 200_000
_DTYPES = "float16, float32, float64, longdouble"


def chain_forward(x: np.ndarray, weights: list[np.ndarray]) -> tuple[list[np.ndarray], dict]:
    """Run ``x`` through the chain: ``a[0] = x``, ``a[k] = a[k-1] @ W[k-1]``.

    Taught in lesson 01 (the depth toy).

    Args:
        x: input, shape (N, D) or (D,).
        weights: list of L weight matrices; ``weights[k]`` has shape (D_k, D_{k+1}) with D_0 = D.

    Returns:
        ``(activations, cache)``: a list of L + 1 arrays (``activations[0]`` is ``x`` itself as an
        array, ``activations[L]`` is the output), and the cache for :func:`chain_backward`.

    Raises:
        ValueError: if ``x`` is not 1-D or 2-D, a weight is not 2-D, or dimensions do not match
            (the message names the layer).
        TypeError: if ``weights`` is not a list or tuple, or arrays are not numeric.
    """
    if not isinstance(weights, (list, tuple)):
        raise _validate.ArgumentTypeError(
            f"weights must be a list of 2-D arrays, got {type(weights).__name__}"
        )
    a = _validate.float_array(x, "x")
    if a.ndim not in (1, 2):
        raise ValueError(f"x must have shape (N, D) or (D,), got shape {a.shape}")
    activations = [a]
    Ws = []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k, W in enumerate(weights):
            W = _validate.float_array(W, f"weights[{k}]")
            if W.ndim != 2 or W.shape[0] != a.shape[-1]:
                raise ValueError(
                    f"weights[{k}] must have shape ({a.shape[-1]}, D_out) to follow an activation "
                    f"of shape {a.shape}, got {W.shape}"
                )
            a = a @ W
            activations.append(a)
            Ws.append(W)
    return activations, {"activations": activations, "weights": Ws}


def chain_backward(dout: np.ndarray, cache: dict) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Backpropagate ``dout = dLoss/d a[L]`` through the chain.

    ``da[k-1] = da[k] @ W[k-1].T`` and ``dW[k-1] = a[k-1].T @ da[k]``: with ``W = s * I`` every step
    multiplies the gradient by ``s``, so ``da[0] = s**L * dout``.

    Taught in lesson 01 (the depth toy).

    Args:
        dout: upstream gradient, the shape of the output ``activations[L]``.
        cache: the cache from :func:`chain_forward`.

    Returns:
        ``(dxs, dWs)``: ``dxs`` has L + 1 arrays with ``dxs[k] = dLoss/d activations[k]``
        (``dxs[L]`` is ``dout``); ``dWs`` has L arrays shaped like the weights.

    Raises:
        ValueError: if ``dout`` does not have the output's shape.
    """
    activations, Ws = cache["activations"], cache["weights"]
    d = _validate.shaped_like(dout, activations[-1].shape)
    dxs = [d]
    dWs = []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k in range(len(Ws) - 1, -1, -1):
            a_prev = activations[k]
            dW = np.outer(a_prev, d) if a_prev.ndim == 1 else a_prev.T @ d
            d = d @ Ws[k].T
            dWs.append(dW)
            dxs.append(d)
    return dxs[::-1], dWs[::-1]


def scaled_identity_weights(depth: int, dim: int, scale: float) -> list[np.ndarray]:
    """Return ``depth`` separate (dim, dim) float64 matrices, each ``scale * I``.

    Taught in lesson 01 (the depth toy).

    Args:
        depth: number of layers L >= 1.
        dim: dimension D >= 1.
        scale: the factor s on the diagonal.

    Returns:
        A list of L arrays of shape (D, D).

    Raises:
        ValueError: if ``depth`` or ``dim`` is < 1.
        TypeError: if ``depth`` or ``dim`` is not an integer or ``scale`` not a real number.
    """
    depth = _validate.integer(depth, "depth", at_least=1)
    dim = _validate.integer(dim, "dim", at_least=1)
    s = _validate.number(scale, "scale", finite=False)
    return [s * np.eye(dim) for _ in range(depth)]


def random_gaussian_weights(
    depth: int, dim: int, *, std: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Return ``depth`` (dim, dim) matrices with i.i.d. entries from N(0, std**2).

    Each layer multiplies the norm of a vector by about ``std * sqrt(dim)`` on average, so the chain
    is stable only near ``std = 1 / sqrt(dim)`` (LeCun/Xavier for a square linear layer).

    Taught in lesson 01 (the depth toy).

    Args:
        depth: number of layers L >= 1.
        dim: dimension D >= 1.
        std: standard deviation of every entry, >= 0.
        rng: the random generator to draw from.

    Returns:
        A list of L float64 arrays of shape (D, D), drawn layer by layer in order.

    Raises:
        ValueError: if ``depth`` or ``dim`` is < 1 or ``std`` < 0.
        TypeError: if ``depth`` or ``dim`` is not an integer, ``std`` not a real number or ``rng`` not
            a ``numpy.random.Generator``.
    """
    depth = _validate.integer(depth, "depth", at_least=1)
    dim = _validate.integer(dim, "dim", at_least=1)
    std = _validate.number(std, "std", at_least=0)
    rng = _validate.generator(rng)
    return [rng.normal(0.0, std, size=(dim, dim)) for _ in range(depth)]


def output_scale(scale: float, depth: int) -> float:
    """Return ``scale**depth``, the factor by which a chain of ``scale * I`` layers multiplies x.

    Computed exactly in Python floats; a result beyond float64's range (about 1.8e308) is ``inf``.

    Taught in lesson 01 (the depth toy).

    Args:
        scale: the factor s of every layer.
        depth: number of layers L >= 0.

    Returns:
        ``s**L`` as a float (``2**100 ≈ 1.27e30``, ``0.5**100 ≈ 7.9e-31``).

    Raises:
        ValueError: if ``depth`` < 0.
        TypeError: if ``depth`` is not an integer or ``scale`` not a real number.
    """
    s = _validate.number(scale, "scale", finite=False)
    depth = _validate.integer(depth, "depth", at_least=0)
    try:
        return s**depth
    except OverflowError:
        return float("-inf") if (s < 0 and depth % 2) else float("inf")


def first_overflow_depth(scale: float, dtype=np.float32) -> int:
    """Return the smallest L for which ``scale**L``, multiplied step by step in ``dtype``, is inf.

    Starting from ``p = 1`` in ``dtype``, repeat ``p = p * scale`` (rounded to ``dtype`` each time)
    until ``|p|`` is inf. Scale 2 gives 128 in float32 (max ≈ 2**128), 16 in float16 (max 65504) and
    1024 in float64.

    Taught in lesson 01 (the depth toy).

    Args:
        scale: the factor s of every layer, with ``|s| > 1`` after rounding to ``dtype``.
        dtype: a numpy floating dtype: float16, float32, float64 or longdouble.

    Returns:
        The first depth L whose product is infinite.

    Raises:
        ValueError: if ``dtype`` is not a floating dtype, ``|scale| <= 1`` (nothing ever overflows)
            or ``scale`` is so close to 1 that no overflow happens within 200000 layers.
    """
    s = _validate.number(scale, "scale", finite=False)
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype {dtype!r} is not a numpy floating dtype ({_DTYPES})") from exc
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"dtype {dtype!r} is not a numpy floating dtype ({_DTYPES})")
    factor = dt.type(s)
    if not abs(s) > 1 or not abs(factor) > 1:
        raise ValueError(
            f"scale {scale!r} (as {dt.name}: {factor!r}) must have |scale| > 1: "
            "a product of factors with |scale| <= 1 never overflows"
        )
    p = dt.type(1)
    with np.errstate(over="ignore"):
        for depth in range(1, _MAX_MULTIPLICATIONS + 1):
            p = dt.type(p * factor)
            if np.isinf(p):
                return depth
    raise ValueError(f"scale {scale!r} does not overflow {dt.name} within {_MAX_MULTIPLICATIONS} layers")


def chain_norms(
    x: np.ndarray, weights: list[np.ndarray], dout: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Run the chain forward and backward and return the L2 norm of every layer's values.

    With ``dout`` omitted the loss is ``sum(a[L])``, i.e. ``dout = ones``.

    Taught in lesson 01 (the depth toy).

    Args:
        x: input, shape (N, D) or (D,).
        weights: list of L weight matrices (see :func:`chain_forward`).
        dout: upstream gradient, shaped like the output; default all ones.

    Returns:
        A dict of float64 arrays: ``"depth"`` (0..L), ``"activation_norms"`` (L + 1 values,
        ``||a[k]||``), ``"gradient_norms"`` (L + 1 values, ``||dLoss/d a[k]||``) and
        ``"weight_gradient_norms"`` (L values, ``||dLoss/dW[k]||``). Overflowed values show as inf
        or nan.

    Raises:
        ValueError: as :func:`chain_forward` and :func:`chain_backward`.
    """
    activations, cache = chain_forward(x, weights)
    if dout is None:
        dout = np.ones_like(activations[-1])
    dxs, dWs = chain_backward(dout, cache)
    with np.errstate(over="ignore", invalid="ignore"):
        return {
            "depth": np.arange(len(activations)),
            "activation_norms": np.array([_norm(a) for a in activations]),
            "gradient_norms": np.array([_norm(d) for d in dxs]),
            "weight_gradient_norms": np.array([_norm(d) for d in dWs]),
        }


def _norm(a: np.ndarray) -> float:
    """Return the L2 (Frobenius) norm of ``a`` in float64."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64)))
