"""Checks for lesson 02's PReLU: a student's forward and backward pass against ``torch.nn.PReLU``.

The oracle is ``torch.nn.PReLU(num_parameters)`` in float64: one slope per feature (``alpha`` of shape
``(D,)``) or one shared slope (``(1,)``). Inputs hold an exact 0 (the kink, where autograd's ``dx`` is
``alpha``), negative and positive values, and a batch size different from the number of features, so
that a slope indexed by row or a gradient summed over the wrong axis cannot pass by accident. A failure
names the mistake when a known one explains it (slope on the positive side, ``dalpha`` not summed over the
batch or averaged, summed over the positive side, ...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype

__all__ = ["check_prelu_backward", "check_prelu_forward", "make_inputs", "torch_prelu"]

_RTOL = 1e-9
_ATOL = 1e-12


def make_inputs(N: int, D: int, *, shared: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    """Return ``x`` (N, D) with exact zeros, slopes ``alpha`` ((1,) if shared else (D,)) and ``dout``.

    Args:
        N: batch size.
        D: number of features.
        shared: one slope for every feature (PyTorch's default ``num_parameters=1``).
        seed: seed of the values.

    Returns:
        A dict of fresh float64 arrays ``x``, ``alpha``, ``dout``.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=2.0, size=(N, D))
    x.flat[:: max(1, D + 1)] = 0.0  # the kink, on several features
    alpha = rng.uniform(0.05, 0.6, size=1 if shared else D)
    return {"x": x, "alpha": alpha, "dout": rng.normal(size=(N, D))}


def torch_prelu(x: np.ndarray, alpha: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, ...]:
    """``torch.nn.PReLU`` (float64) on ``x`` with slopes ``alpha``: returns ``(out, dx, dalpha)``."""
    import torch

    layer = torch.nn.PReLU(alpha.size, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(alpha))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = layer(xt)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy().copy(), xt.grad.numpy().copy(), layer.weight.grad.numpy().copy()


def _forward(fn: Callable, x: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, object]:
    """Call the student's forward on copies; check the inputs are untouched and the result's form."""
    xc, ac = x.copy(), alpha.copy()
    result = call(fn, xc, ac, name="prelu_forward")
    assert_unchanged(x, xc, name="x")
    assert_unchanged(alpha, ac, name="alpha")
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"prelu_forward must return a tuple (out, cache), got {type(result).__name__}")
    out, cache = result
    check_dtype(out, name="out")
    return as_array(out, name="out", shape=x.shape), cache


def check_prelu_forward(
    fn: Callable, *, N: int = 6, D: int = 4, shared: bool = False, seed: int = 0
) -> float:
    """Compare the student's ``prelu_forward(x, alpha) -> (out, cache)`` with ``torch.nn.PReLU``.

    Args:
        fn: the student's forward.
        N: batch size.
        D: number of features.
        shared: test one shared slope of shape ``(1,)`` instead of one per feature.
        seed: seed of the inputs.

    Returns:
        The relative error of ``out``.
    """
    inp = make_inputs(N, D, shared=shared, seed=seed)
    x, alpha = inp["x"], inp["alpha"]
    out, _ = _forward(fn, x, alpha)
    expected, _, _ = torch_prelu(x, alpha, inp["dout"])
    mistakes = {
        "the slope applied to the positive side (x where x <= 0, alpha * x where x > 0)": lambda: np.where(
            x > 0, alpha * x, x
        ),
        "plain ReLU: the negative side must be alpha * x, not 0": lambda: np.maximum(x, 0.0),
        "the default slope 0.25 instead of the alpha that was passed": lambda: np.where(x > 0, x, 0.25 * x),
        "alpha * x everywhere: only the negative side is scaled": lambda: alpha * x,
    }
    return _compare("prelu_forward's out", out, expected, mistakes, f"x of shape {x.shape}")


def _compare(name: str, got: np.ndarray, expected: np.ndarray, mistakes: dict, context: str) -> float:
    try:
        return assert_close(got, expected, name=name, rtol=_RTOL, atol=_ATOL)
    except CheckFailure as exc:
        with np.errstate(all="ignore"):
            mistake = match_mistake(got, mistakes, rtol=1e-9)
        hint = f": you computed {mistake}" if mistake else ""
        raise CheckFailure(f"{exc} ({context}){hint}") from None


def _dalpha_mistakes(x: np.ndarray, alpha: np.ndarray, dout: np.ndarray) -> dict:
    neg = x <= 0
    per = np.where(neg, dout * x, 0.0)
    fold = (lambda v: v.sum(keepdims=True)) if alpha.size == 1 else (lambda v: v)
    return {
        "the mean over the batch; every example uses the same slope, so dalpha is the SUM over the batch": (
            lambda: fold(per.sum(axis=0)) / x.shape[0]
        ),
        "dalpha from the positive side; alpha only acts where x <= 0": lambda: fold(
            np.where(neg, 0.0, dout * x).sum(axis=0)
        ),
        "sum of dout where x <= 0, without the factor x (d(alpha * x)/d alpha = x)": lambda: fold(
            np.where(neg, dout, 0.0).sum(axis=0)
        ),
        "dout * alpha summed: that is part of dx, not dalpha (d(alpha * x)/d alpha = x)": lambda: fold(
            np.where(neg, dout * alpha, 0.0).sum(axis=0)
        ),
        "dalpha of every entry of x (x * dout summed without the mask x <= 0)": lambda: fold(
            (dout * x).sum(axis=0)
        ),
    }


def _dx_mistakes(x: np.ndarray, alpha: np.ndarray, dout: np.ndarray) -> dict:
    return {
        "ReLU's derivative (0 for x <= 0); PReLU's is alpha there": lambda: dout * (x > 0),
        "slope 1 at x = 0 (x >= 0); at the kink autograd gives alpha (use x > 0)": lambda: (
            dout * np.where(x >= 0, 1.0, alpha)
        ),
        "the local derivative without the upstream gradient dout": lambda: (
            np.where(x > 0, 1.0, alpha) + 0.0 * dout
        ),
        "alpha on the positive side and 1 on the negative side": lambda: dout * np.where(x > 0, alpha, 1.0),
    }


def check_prelu_backward(
    forward: Callable, backward: Callable, *, N: int = 6, D: int = 4, shared: bool = False, seed: int = 0
) -> float:
    """Compare ``prelu_backward(dout, cache) -> (dx, dalpha)`` with ``torch.nn.PReLU``'s autograd.

    The cache comes from the student's own ``prelu_forward`` (whose output is checked first).

    Args:
        forward: the student's forward.
        backward: the student's backward.
        N: batch size.
        D: number of features.
        shared: test one shared slope of shape ``(1,)``.
        seed: seed of the inputs.

    Returns:
        The larger relative error of ``dx`` and ``dalpha``.
    """
    inp = make_inputs(N, D, shared=shared, seed=seed)
    x, alpha, dout = inp["x"], inp["alpha"], inp["dout"]
    _, cache = _forward(forward, x, alpha)
    _, dx_ref, dalpha_ref = torch_prelu(x, alpha, dout)
    dc = dout.copy()
    result = call(backward, dc, cache, name="prelu_backward")
    assert_unchanged(dout, dc, name="dout")
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure(f"prelu_backward must return a tuple (dx, dalpha), got {type(result).__name__}")
    dx, dalpha = result
    check_dtype(dx, name="dx")
    check_dtype(dalpha, name="dalpha")
    context = f"x of shape {x.shape}, alpha of shape {alpha.shape}"
    if np.shape(dalpha) != alpha.shape:
        hint = {
            x.shape: "you did not sum over the batch: every example uses the same slope, so add up their "
            "contributions (sum over axis 0)",
            (): "return an array of alpha's shape",
        }.get(np.shape(dalpha), "dalpha must have alpha's shape")
        if np.shape(dalpha) in ((), (1,)) and alpha.shape != (1,):
            hint = "you summed over the features too: each feature has its own slope (sum over axis 0 only)"
        raise CheckFailure(f"dalpha has shape {np.shape(dalpha)}, expected {alpha.shape} ({context}): {hint}")
    dx = as_array(dx, name="dx", shape=x.shape)
    dalpha = as_array(dalpha, name="dalpha", shape=alpha.shape)
    err_dx = _compare("dx", dx, dx_ref, _dx_mistakes(x, alpha, dout), context)
    err_da = _compare("dalpha", dalpha, dalpha_ref, _dalpha_mistakes(x, alpha, dout), context)
    return max(err_dx, err_da)
