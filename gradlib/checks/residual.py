"""Checks for lesson 06 (residual connections): the residual block and the gradient-norm ratio.

The block is ``out = x + f(x @ W1 + b1) @ W2 + b2`` (:func:`gradlib.layers.residual_forward`). The
forward check compares with gradlib's reference and names the usual mistakes (no skip, the activation
applied after the addition as in the original ResNet, a missing bias); the backward checks compare with
gradlib's backward on the same inputs and with centered differences of the student's own forward.
The ratio check builds networks from :class:`gradlib.mlp.MLP` and compares with the reference
``||dLoss/dW_1|| / ||dLoss/dW_{L+1}||``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlib import activations as ref_act
from gradlib import layers as ref_layers
from gradlib.checks import core
from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_default, check_dtype

__all__ = [
    "block_inputs",
    "check_grad_norm_ratio",
    "check_residual_backward",
    "check_residual_backward_numerically",
    "check_residual_forward",
    "check_residual_identity",
    "reference_grad_norm_ratio",
]

_NAMES = ("x", "W1", "b1", "W2", "b2")


def block_inputs(n: int, d: int, h: int, *, seed: int) -> dict[str, np.ndarray]:
    """Inputs ``x`` (n, d), ``W1`` (d, h), ``b1`` (h,), ``W2`` (h, d), ``b2`` (d,) and ``dout`` (n, d).

    The pre-activations stay at least 1e-3 away from 0, so ReLU's kink never spoils a centered
    difference.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    W1 = rng.normal(size=(d, h)) / np.sqrt(d)
    b1 = rng.normal(0.0, 0.5, h)
    near = np.abs(x @ W1 + b1) < 1e-3
    while near.any():  # push the offending units' bias away; deterministic given the seed
        b1 = b1 + 0.0037 * near.any(axis=0)
        near = np.abs(x @ W1 + b1) < 1e-3
    return {
        "x": x,
        "W1": W1,
        "b1": b1,
        "W2": rng.normal(size=(h, d)) / np.sqrt(h),
        "b2": rng.normal(0.0, 0.5, d),
        "dout": rng.normal(size=(n, d)),
    }


def _unpack(result: Any, name: str, count: int, what: str) -> tuple:
    if not isinstance(result, tuple | list) or len(result) != count:
        kind = (
            f"a {type(result).__name__} of length {len(result)}" if isinstance(result, tuple | list) else None
        )
        raise CheckFailure(
            f"{name} must return {count} values {what}; it returned {kind or type(result).__name__}"
        )
    return tuple(result)


def _forward(fn: Callable, inp: dict, activation: str | None) -> tuple[np.ndarray, Any]:
    """Call the student's forward; ``activation=None`` exercises its default (the lesson's "relu")."""
    args = [inp[k] for k in _NAMES]
    kept = [a.copy() for a in args]
    if activation is None:
        check_default(fn, "activation", "relu", name="residual_forward")
    kwargs = {} if activation is None else {"activation": activation}
    with core.quiet():
        result = call(fn, *args, name="residual_forward", **kwargs)
    for before, after, label in zip(kept, args, _NAMES, strict=True):
        assert_unchanged(before, after, name=label)
    out, cache = _unpack(result, "residual_forward", 2, "(out, cache)")
    shape = inp["x"].shape
    arr = as_array(out, name="out", shape=shape, hint="a residual block keeps the input's shape (N, D)")
    check_dtype(out, name="out")
    return arr, cache


def _forward_mistakes(inp: dict, activation: str) -> dict:
    f = ref_act.get(activation).fn
    x, W1, b1, W2, b2 = (inp[k] for k in _NAMES)
    branch = f(x @ W1 + b1) @ W2 + b2
    return {
        "you forgot the skip connection: out must be x + F(x), not F(x)": branch,
        "you applied the activation after adding x (the original ResNet's post-activation); "
        "here out = x + f(x @ W1 + b1) @ W2 + b2, with nothing after the addition": f(x + branch),
        "you applied the activation to the second affine layer too": x + f(branch),
        "you forgot the activation between the two affine layers": x + (x @ W1 + b1) @ W2 + b2,
        "you forgot the bias b2": x + f(x @ W1 + b1) @ W2,
        "you forgot the bias b1": x + f(x @ W1) @ W2 + b2,
        "you added x twice": 2 * x + f(x @ W1 + b1) @ W2 + b2,
        f"you ignored the activation argument ({activation!r}) and always used ReLU": x
        + np.maximum(x @ W1 + b1, 0.0) @ W2
        + b2,
    }


def check_residual_forward(
    residual_forward: Callable,
    *,
    n: int = 4,
    d: int = 5,
    h: int = 3,
    activation: str | None = "relu",
    seed: int = 0,
) -> float:
    """Compare ``residual_forward(x, W1, b1, W2, b2, activation=...)`` with gradlib's reference.

    ``activation=None`` calls it without the argument: its default must be the lesson's "relu".

    Returns:
        The relative error of ``out``.
    """
    inp = block_inputs(n, d, h, seed=seed)
    out, _ = _forward(residual_forward, inp, activation)
    if activation is None:  # called without it: the default must behave like "relu"
        expected, _ = ref_layers.residual_forward(*(inp[k] for k in _NAMES), activation="relu")
        defaults = {
            f"residual_forward's activation defaults to {other!r}; the lesson's default is 'relu'": (
                ref_layers.residual_forward(*(inp[k] for k in _NAMES), activation=other)[0]
            )
            for other in ("tanh", "sigmoid", "linear", "leaky_relu", "elu", "selu")
        }
        mistake = match_mistake(out, defaults)
        return assert_close(
            out,
            expected,
            name="out (called without activation=)",
            rtol=1e-9,
            hint=mistake or "the default is relu",
        )
    expected, _ = ref_layers.residual_forward(*(inp[k] for k in _NAMES), activation=activation)
    mistake = match_mistake(out, _forward_mistakes(inp, activation))
    return assert_close(
        out,
        expected,
        name=f"out (activation={activation!r})",
        rtol=1e-9,
        hint=mistake or "out = x + f(x @ W1 + b1) @ W2 + b2",
    )


def check_residual_identity(
    residual_forward: Callable, *, n: int = 3, d: int = 4, h: int = 6, activation: str = "relu", seed: int = 1
) -> float:
    """With a zero second layer (W2 = 0, b2 = 0) the block must return exactly its input.

    Returns:
        The largest ``|out - x|`` (0.0 when correct).
    """
    inp = block_inputs(n, d, h, seed=seed)
    inp["W2"] = np.zeros_like(inp["W2"])
    inp["b2"] = np.zeros_like(inp["b2"])
    out, _ = _forward(residual_forward, inp, activation)
    x = inp["x"]
    if np.array_equal(out, np.zeros_like(x)):
        raise CheckFailure(
            "with W2 = 0 and b2 = 0 your block returns zeros: the skip connection x is missing, "
            "so a zero-initialized branch kills the signal instead of passing it on"
        )
    hint = match_mistake(out, {"you applied the activation after adding x": ref_act.get(activation).fn(x)})
    assert_close(
        out, x, name="out with W2 = 0, b2 = 0", rtol=0, atol=0, hint=hint or "it must equal x exactly"
    )
    return float(np.max(np.abs(out - x)))


def _backward_mistakes(inp: dict, activation: str) -> dict:
    act = ref_act.get(activation)
    x, W1, b1, W2, _ = (inp[k] for k in _NAMES)
    dout = inp["dout"]
    pre = x @ W1 + b1
    dh = (dout @ W2.T) * act.grad(pre)
    return {
        "dx": {
            "dx is missing the skip path: dx = dout + (branch gradient), you returned only the branch": dh
            @ W1.T,
            "dx is missing the branch: you returned only dout (the skip path)": dout,
            "the derivative was evaluated at the activation's output f(h) instead of its input h": dout
            + ((dout @ W2.T) * act.grad(act.fn(pre))) @ W1.T,
        },
        "dW1": {
            "the derivative was evaluated at the activation's output f(h) instead of its input h": x.T
            @ ((dout @ W2.T) * act.grad(act.fn(pre))),
            "dW1 skipped the activation's derivative": x.T @ (dout @ W2.T),
        },
        "dW2": {"dW2 used the pre-activation h instead of f(h)": pre.T @ dout},
        "db1": {"db1 is the mean over the batch instead of the sum": dh.mean(axis=0)},
        "db2": {"db2 is the mean over the batch instead of the sum": dout.mean(axis=0)},
    }


def _backward(forward: Callable, backward: Callable, inp: dict, activation: str) -> list[np.ndarray]:
    _, cache = _forward(forward, inp, activation)
    dout = inp["dout"]
    kept = dout.copy()
    with core.quiet():
        result = call(backward, dout, cache, name="residual_backward")
    assert_unchanged(kept, dout, name="dout")
    grads = _unpack(result, "residual_backward", 5, "(dx, dW1, db1, dW2, db2)")
    arrays = []
    for g, k in zip(grads, _NAMES, strict=True):
        arrays.append(as_array(g, name="d" + k, shape=inp[k].shape, hint=f"d{k} has the shape of {k}"))
        check_dtype(g, name="d" + k)
    return arrays


def check_residual_backward(
    residual_forward: Callable,
    residual_backward: Callable,
    *,
    n: int = 4,
    d: int = 5,
    h: int = 3,
    activation: str = "relu",
    seed: int = 2,
) -> float:
    """Compare the student's backward (on the student's forward cache) with gradlib's backward.

    The forward must be right first (the cache comes from it).

    Returns:
        The worst relative error over the five gradients.
    """
    inp = block_inputs(n, d, h, seed=seed)
    check_residual_forward(residual_forward, n=n, d=d, h=h, activation=activation, seed=seed)
    grads = _backward(residual_forward, residual_backward, inp, activation)
    _, cache = ref_layers.residual_forward(*(inp[k] for k in _NAMES), activation=activation)
    expected = ref_layers.residual_backward(inp["dout"], cache)
    mistakes = _backward_mistakes(inp, activation)
    worst = 0.0
    for k, got, want in zip(_NAMES, grads, expected, strict=True):
        hint = match_mistake(got, mistakes.get("d" + k, {}))
        worst = max(
            worst,
            assert_close(
                got, want, name=f"d{k} (activation={activation!r})", rtol=1e-9, atol=1e-12, hint=hint
            ),
        )
    return worst


def _numerical(f: Callable[[np.ndarray], np.ndarray], v: np.ndarray, dout: np.ndarray, h: float = 1e-6):
    grad = np.zeros_like(v)
    for idx in np.ndindex(v.shape):
        old = v[idx]
        v[idx] = old + h
        plus = float(np.sum(f(v) * dout))
        v[idx] = old - h
        minus = float(np.sum(f(v) * dout))
        v[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def check_residual_backward_numerically(
    residual_forward: Callable,
    residual_backward: Callable,
    *,
    n: int = 3,
    d: int = 4,
    h: int = 3,
    activation: str = "tanh",
    seed: int = 3,
    tol: float = 1e-7,
) -> float:
    """Gradient-check the student's backward against centered differences of the student's forward.

    Returns:
        The worst relative error ``max|a - n| / max(1e-8, |a| + |n|)``; must be below ``tol``.
    """
    inp = block_inputs(n, d, h, seed=seed)
    grads = _backward(residual_forward, residual_backward, inp, activation)
    args = [inp[k].copy() for k in _NAMES]
    worst = 0.0
    for i, k in enumerate(_NAMES):

        def f(v, i=i):
            vals = list(args)
            vals[i] = v
            with core.quiet():
                out = call(residual_forward, *vals, activation=activation, name="residual_forward")[0]
            return np.asarray(out, dtype=np.float64)

        num = _numerical(f, args[i], inp["dout"])
        err = float(np.max(np.abs(grads[i] - num) / np.maximum(1e-8, np.abs(grads[i]) + np.abs(num))))
        if not err < tol:
            raise CheckFailure(
                f"gradient check failed for d{k} (activation={activation!r}): relative error {err:.2e} "
                f"against centered differences of your residual_forward (must be below {tol:g})"
            )
        worst = max(worst, err)
    return worst


def _network(depth: int, activation: str, residual: bool, batchnorm: bool, initializer: Any, seed: int):
    from gradlib import data, mlp

    model = mlp.MLP(
        2, 3, depth=depth, width=16, activation=activation, initializer=initializer,
        residual=residual, batchnorm=batchnorm,
    )  # fmt: skip
    params = model.init_params(rng=np.random.default_rng(seed))
    x, y = data.spirals(20, 3, rng=np.random.default_rng(seed + 100))
    return model, params, x, y


def _grads(model, params, x, y) -> dict:
    from gradlib import losses

    out, cache, _ = model.forward(params, x, training=True)
    return model.backward(losses.softmax_cross_entropy(out, y)[1], cache)


def reference_grad_norm_ratio(model: Any, params: dict, x: np.ndarray, y: np.ndarray) -> float:
    """``||dLoss/dW_1|| / ||dLoss/dW_{L+1}||`` with softmax cross-entropy, training mode."""
    g = _grads(model, params, x, y)
    return float(np.linalg.norm(g["W1"]) / np.linalg.norm(g[f"W{model.n_layers}"]))


def check_grad_norm_ratio(
    grad_norm_ratio: Callable,
    *,
    depth: int = 8,
    activation: str = "sigmoid",
    residual: bool = False,
    batchnorm: bool = False,
    initializer: Any = "xavier_normal",
    seed: int = 0,
) -> float:
    """Compare ``grad_norm_ratio(model, params, x, y)`` with the reference on one network.

    Returns:
        The student's ratio.
    """
    model, params, x, y = _network(depth, activation, residual, batchnorm, initializer, seed)
    kept = {k: v.copy() for k, v in params.items()}
    with core.quiet():
        got = call(grad_norm_ratio, model, params, x, y, name="grad_norm_ratio")
    for k, v in kept.items():
        assert_unchanged(v, params[k], name=f"params[{k!r}]")
    raw, got = got, as_array(got, name="the ratio", shape=(), hint="return one float")
    check_dtype(raw, name="the ratio")
    g = _grads(model, params, x, y)
    L1 = model.n_layers
    norm = {k: float(np.linalg.norm(v)) for k, v in g.items()}
    expected = norm["W1"] / norm[f"W{L1}"]
    mistakes = {
        "you returned last / first; the ratio is ||dW_1|| / ||dW_last||": 1 / expected,
        "you divided squared norms (use the norm, not the sum of squares)": expected**2,
        f"you compared with the last hidden layer W{L1 - 1}; the last layer is the output layer W{L1}": norm[
            "W1"
        ]
        / norm[f"W{L1 - 1}"],
        "you used the bias gradients b instead of the weights W": lambda: norm["b1"] / norm[f"b{L1}"],
        "you used the largest absolute entry instead of the (Frobenius) norm": lambda: float(
            np.max(np.abs(g["W1"])) / np.max(np.abs(g[f"W{L1}"]))
        ),
    }
    what = f"ratio for depth={depth}, {activation}, residual={residual}, batchnorm={batchnorm}"
    assert_close(got, expected, name=what, rtol=1e-6, hint=match_mistake(got, mistakes))
    return float(got)
