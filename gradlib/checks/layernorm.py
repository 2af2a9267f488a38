"""Checks for lesson 04's LayerNorm: a student's forward and backward pass against ``torch.nn.LayerNorm``.

The oracle is ``torch.nn.LayerNorm(D, eps=eps)`` in float64, forward and autograd. Inputs give every
example its own mean and scale and one example a variance far below ``eps``, and use ``N != D``, so that
BatchNorm's axis, the unbiased variance, a missing or misplaced ``eps`` and mean and variance treated as
constants in the backward pass each give a different, named failure. Calls without ``eps`` exercise the
default (PyTorch's 1e-5).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype

__all__ = ["check_layernorm_backward", "check_layernorm_forward", "make_inputs", "torch_layernorm"]

_RTOL = 1e-7
_ATOL = 1e-10


def make_inputs(N: int, D: int, *, seed: int) -> dict[str, np.ndarray]:
    """Return ``x`` (N, D), ``gamma``, ``beta`` (D,) and ``dout`` (N, D); example 0 is almost constant."""
    rng = np.random.default_rng(seed)
    loc = rng.uniform(-3.0, 3.0, (N, 1))
    scale = rng.uniform(0.5, 3.0, (N, 1))
    scale[0] = 1e-3  # a variance of about 1e-6, below eps: a missing eps shows
    return {
        "x": loc + scale * rng.standard_normal((N, D)),
        "gamma": rng.uniform(0.5, 2.0, D) * rng.choice([-1.0, 1.0], D),
        "beta": rng.normal(size=D),
        "dout": rng.normal(size=(N, D)),
    }


def torch_layernorm(inp: dict, eps: float) -> tuple[np.ndarray, ...]:
    """``torch.nn.LayerNorm`` (float64) on ``inp``: returns ``(out, dx, dgamma, dbeta)``."""
    import torch

    D = inp["x"].shape[1]
    layer = torch.nn.LayerNorm(D, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(inp["gamma"]))
        layer.bias.copy_(torch.from_numpy(inp["beta"]))
    x = torch.from_numpy(inp["x"].copy()).requires_grad_(True)
    out = layer(x)
    out.backward(torch.from_numpy(inp["dout"]))
    return (
        out.detach().numpy().copy(),
        x.grad.numpy().copy(),
        layer.weight.grad.numpy().copy(),
        layer.bias.grad.numpy().copy(),
    )


def _norm(x, axis, eps, g, b, *, ddof=0, eps_outside=False):
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return g * (x - mu) / std + b


def _forward_mistakes(inp: dict, eps: float) -> dict:
    x, g, b = inp["x"], inp["gamma"], inp["beta"]
    return {
        "BatchNorm's statistics (over the batch, axis=0); LayerNorm normalizes each example over its "
        "features (axis=1)": lambda: _norm(x, 0, eps, g, b),
        "the unbiased variance (divide by D - 1); LayerNorm uses the biased one (divide by D)": lambda: _norm(
            x, 1, eps, g, b, ddof=1
        ),
        "no eps: use sqrt(var + eps)": lambda: _norm(x, 1, 0.0, g, b),
        "eps added to the standard deviation; add it to the variance: sqrt(var + eps)": lambda: _norm(
            x, 1, eps, g, b, eps_outside=True
        ),
        "gamma and beta swapped": lambda: _norm(x, 1, eps, b, g),
        "no gamma and beta (out = gamma * x_hat + beta)": lambda: _norm(x, 1, eps, 1.0, 0.0),
        "eps = 1e-3 (Keras's default) instead of the eps passed in (default 1e-5, PyTorch's)": lambda: _norm(
            x, 1, 1e-3, g, b
        ),
    }


def _compare(name: str, got, expected, mistakes: dict, context: str, n: int | None = None) -> float:
    try:
        return assert_close(got, expected, name=name, rtol=_RTOL, atol=_ATOL, n=n)
    except CheckFailure as exc:
        with np.errstate(all="ignore"):
            mistake = match_mistake(got, mistakes, rtol=1e-7, atol=1e-10)
        hint = f": you computed {mistake}" if mistake else ""
        raise CheckFailure(f"{exc} ({context}){hint}") from None


def _forward(fn: Callable, inp: dict, eps: float | None) -> tuple[np.ndarray, object]:
    args = [inp[k].copy() for k in ("x", "gamma", "beta")]
    kwargs = {} if eps is None else {"eps": eps}
    result = call(fn, *args, name="layernorm_forward", **kwargs)
    for name, arg in zip(("x", "gamma", "beta"), args, strict=True):
        assert_unchanged(inp[name], arg, name=name)
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"layernorm_forward must return a tuple (out, cache), got {type(result).__name__}")
    out, cache = result
    check_dtype(out, name="out")
    return as_array(out, name="out", shape=inp["x"].shape), cache


def check_layernorm_forward(
    fn: Callable, *, N: int = 4, D: int = 5, eps: float | None = None, seed: int = 0
) -> float:
    """Compare ``layernorm_forward(x, gamma, beta, eps=...) -> (out, cache)`` with ``torch.nn.LayerNorm``.

    Args:
        fn: the student's forward.
        N: batch size.
        D: number of features.
        eps: passed as ``eps=``; None calls without it (the default must be 1e-5).
        seed: seed of the inputs.

    Returns:
        The relative error of ``out``.
    """
    inp = make_inputs(N, D, seed=seed)
    used = 1e-5 if eps is None else eps
    out, _ = _forward(fn, inp, eps)
    expected = torch_layernorm(inp, used)[0]
    shown = "default eps" if eps is None else f"eps={eps:g}"
    return _compare(
        "layernorm_forward's out", out, expected, _forward_mistakes(inp, used), f"x {inp['x'].shape}, {shown}"
    )


def _backward_mistakes(inp: dict, eps: float) -> dict:
    x, g, dout = inp["x"], inp["gamma"], inp["dout"]
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    bn_inv = 1.0 / np.sqrt(x.var(axis=0) + eps)
    bn_hat = (x - x.mean(axis=0)) * bn_inv
    N = x.shape[0]
    gd = g * dout
    return {
        "dx with the mean and the variance treated as constants (gamma * dout / std); they depend on x": (
            lambda: gd * inv_std
        ),
        "dx with only the path through the mean (the variance treated as a constant)": lambda: (
            inv_std * (gd - gd.mean(axis=1, keepdims=True))
        ),
        "dx with BatchNorm's sums over the batch (axis=0); LayerNorm's run over each example's features": (
            lambda: g * bn_inv / N * (N * dout - dout.sum(0) - bn_hat * (dout * bn_hat).sum(0))
        ),
        "dx without gamma (the gradient reaching x_hat is gamma * dout)": lambda: (
            inv_std
            / x.shape[1]
            * (
                x.shape[1] * dout
                - dout.sum(axis=1, keepdims=True)
                - x_hat * (dout * x_hat).sum(axis=1, keepdims=True)
            )
        ),
    }


def check_layernorm_backward(
    forward: Callable, backward: Callable, *, N: int = 4, D: int = 5, eps: float | None = None, seed: int = 0
) -> float:
    """Compare ``layernorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` with torch's LayerNorm autograd.

    The cache comes from the student's ``layernorm_forward`` on the same inputs.

    Returns:
        The largest relative error of the three gradients.
    """
    inp = make_inputs(N, D, seed=seed)
    used = 1e-5 if eps is None else eps
    _, cache = _forward(forward, inp, eps)
    _, dx_ref, dgamma_ref, dbeta_ref = torch_layernorm(inp, used)
    dout = inp["dout"].copy()
    result = call(backward, dout, cache, name="layernorm_backward")
    assert_unchanged(inp["dout"], dout, name="dout")
    if not isinstance(result, tuple) or len(result) != 3:
        raise CheckFailure(
            f"layernorm_backward must return a tuple (dx, dgamma, dbeta), got {type(result).__name__}"
        )
    for value, name in zip(result, ("dx", "dgamma", "dbeta"), strict=True):
        check_dtype(value, name=name)
    dx, dgamma, dbeta = result
    context = f"x {inp['x'].shape}"
    x_hat = (inp["x"] - inp["x"].mean(1, keepdims=True)) / np.sqrt(inp["x"].var(1, keepdims=True) + used)
    swapped = {"dgamma and dbeta swapped": lambda: dbeta_ref}
    errs = [
        _compare(
            "dx",
            as_array(dx, name="dx", shape=inp["x"].shape),
            dx_ref,
            _backward_mistakes(inp, used),
            context,
        ),
        _compare(
            "dgamma",
            as_array(dgamma, name="dgamma", shape=dgamma_ref.shape, hint="sum over the batch (axis=0)"),
            dgamma_ref,
            {
                **swapped,
                "dgamma summed over the features (axis=1); sum over the batch (axis=0)": lambda: (
                    inp["dout"] * x_hat
                ).sum(),
            },
            context,
            N,
        ),
        _compare(
            "dbeta",
            as_array(dbeta, name="dbeta", shape=dbeta_ref.shape, hint="sum over the batch (axis=0)"),
            dbeta_ref,
            {"dgamma and dbeta swapped": lambda: dgamma_ref},
            context,
            N,
        ),
    ]
    return max(errs)
