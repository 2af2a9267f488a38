"""Checks for lesson 07 (mixed precision): loss scaling by hand in numpy float16.

The student's ``loss_scaled_gradients(backward, dout, scale) -> (grads32, found_inf)`` runs a float16
backward pass (``backward``, given) on the scaled upstream gradient and unscales in float32. The check
uses a float16 two-layer linear network whose upstream gradients are tiny (about 1e-7, many below
float16's smallest subnormal 6e-8), compares with the exact float64 gradients, and names the usual
mistakes: no scaling, scaling after the cast (the values underflowed already), unscaling in float16
(they underflow again), forgetting to unscale, and not reporting inf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlib.checks.core import CheckFailure, as_array, call, match_mistake, quiet

__all__ = ["check_loss_scaling", "check_overflow_detected", "make_problem"]

_TOL = 2e-2


def make_problem(n: int, d: int, h: int, c: int, *, dout_std: float, seed: int):
    """A float16 network ``out = (x @ W1) @ W2`` and its float16 backward pass.

    Returns:
        ``(backward, dout, exact)``: ``backward(dout16) -> [dW1, dW2]`` in float16, the upstream
        gradient ``dout`` (float64, std ``dout_std``), and the exact float64 gradients of the same
        (float16-rounded) weights and inputs.
    """
    rng = np.random.default_rng(seed)
    x16 = rng.normal(size=(n, d)).astype(np.float16)
    W1 = (rng.normal(size=(d, h)) / np.sqrt(d)).astype(np.float16)
    W2 = (rng.normal(size=(h, c)) / np.sqrt(h)).astype(np.float16)
    a16 = x16 @ W1
    dout = rng.normal(0.0, dout_std, (n, c))

    def backward(dout16):
        dout16 = np.asarray(dout16)
        if dout16.dtype != np.float16:
            raise TypeError(f"backward expects a float16 dout (mixed precision), got {dout16.dtype}")
        da = dout16 @ W2.T
        return [x16.T @ da, a16.T @ dout16]

    x, w1, w2 = (v.astype(np.float64) for v in (x16, W1, W2))
    a = x @ w1
    exact = [x.T @ (dout @ w2.T), a.T @ dout]
    return backward, dout, exact


def _call(fn: Callable, backward, dout: np.ndarray, scale: float, count: int):
    kept = dout.copy()
    with quiet():
        result = call(fn, backward, dout, scale, name="loss_scaled_gradients")
    if not np.array_equal(kept, dout):
        raise CheckFailure("loss_scaled_gradients modified dout in place; build a new array")
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise CheckFailure("loss_scaled_gradients must return (grads, found_inf)")
    grads, found_inf = result
    if not isinstance(grads, list | tuple) or len(grads) != count:
        raise CheckFailure(f"grads must be a list of {count} arrays (one per parameter), got {grads!r:.80}")
    if not isinstance(found_inf, bool | np.bool_):
        raise CheckFailure(f"found_inf must be a bool, got {type(found_inf).__name__}")
    return list(grads), bool(found_inf)


def _mistakes(backward, dout: np.ndarray, scale: float) -> dict[str, Any]:
    with quiet():
        plain = [g.astype(np.float64) for g in backward(dout.astype(np.float16))]
        scaled16 = backward((dout.astype(np.float32) * scale).astype(np.float16))
        late = backward((dout.astype(np.float16) * np.float16(scale)).astype(np.float16))
        return {
            "no loss scaling: the float16 backward pass underflowed (multiply dout by scale first)": plain,
            "you cast dout to float16 before multiplying by the scale, so the small values had already "
            "underflowed": [(g.astype(np.float32) / scale).astype(np.float64) for g in late],
            "you divided by the scale in float16, so the gradients underflowed again (unscale in float32)": [
                (g / np.float16(scale)).astype(np.float64) for g in scaled16
            ],
            "you forgot to unscale: divide the gradients by the scale": [
                g.astype(np.float64) for g in scaled16
            ],
        }


def check_loss_scaling(
    loss_scaled_gradients: Callable,
    *,
    scale: float = 2.0**16,
    dout_std: float = 1e-7,
    n: int = 16,
    d: int = 8,
    h: int = 6,
    c: int = 4,
    seed: int = 0,
) -> float:
    """Gradients from a float16 backward pass with loss scaling must match float64 within 2%.

    Returns:
        The relative error ``max|g - exact| / max|exact|`` over all gradients.
    """
    backward, dout, exact = make_problem(n, d, h, c, dout_std=dout_std, seed=seed)
    grads, found_inf = _call(loss_scaled_gradients, backward, dout, scale, len(exact))
    arrays = []
    for i, (g, e) in enumerate(zip(grads, exact, strict=True)):
        dtype = getattr(g, "dtype", None)
        if dtype != np.float32:
            raise CheckFailure(
                f"grads[{i}] has dtype {dtype}; unscaled gradients must be float32 (the master copy), "
                "as GradScaler.unscale_ produces"
            )
        arrays.append(as_array(g, name=f"grads[{i}]", shape=e.shape))
    if found_inf:
        hint = ""
        if scale > 65504:
            hint = (
                ": did you cast dout to float16 before multiplying by the scale? In float16 the scale "
                f"{scale:g} itself overflows (max 65504); multiply in float32, then cast"
            )
        raise CheckFailure(f"found_inf is True but the gradients with scale={scale:g} are all finite{hint}")
    worst = max(float(np.max(np.abs(g - e)) / np.max(np.abs(e))) for g, e in zip(arrays, exact, strict=True))
    if not worst < _TOL:
        flat = np.concatenate([a.ravel() for a in arrays])
        with quiet():
            cands = {
                k: np.concatenate([np.ravel(v) for v in vs])
                for k, vs in _mistakes(backward, dout, scale).items()
            }
        mistake = match_mistake(flat, cands, rtol=1e-3, atol=0.0)
        raise CheckFailure(
            f"with dout of std {dout_std:g} and scale {scale:g} the gradients are off by {worst:.1%} of "
            f"their size (float64 reference; must be below {_TOL:.0%})" + (f": {mistake}" if mistake else "")
        )
    return worst


def _first_only_problem(seed: int, dout_std: float):
    """A float16 backward pass whose FIRST gradient overflows at a moderate scale and the other does not."""
    rng = np.random.default_rng(seed)
    n, c = 8, 3
    amp = np.float16(2000.0)
    ones = np.ones((c, 4), dtype=np.float16)
    dout = rng.normal(0.0, dout_std, (n, c))

    def backward(dout16):
        dout16 = np.asarray(dout16)
        if dout16.dtype != np.float16:
            raise TypeError(f"backward expects a float16 dout (mixed precision), got {dout16.dtype}")
        return [(dout16 * amp) @ ones * amp, dout16.T @ np.ones((n, 2), dtype=np.float16)]

    return backward, dout, 2


def check_overflow_detected(
    loss_scaled_gradients: Callable,
    *,
    scale: float = 2.0**24,
    dout_std: float = 1e-2,
    seed: int = 1,
    first_only: bool = False,
) -> bool:
    """A scale so large that float16 overflows must give ``found_inf=True`` (GradScaler skips the step).

    With ``first_only`` only the first of the gradients overflows (an early layer), so an answer that
    looks at the last gradient alone misses it.
    """
    if first_only:
        backward, dout, count = _first_only_problem(seed, dout_std)
    else:
        backward, dout, exact = make_problem(12, 6, 5, 3, dout_std=dout_std, seed=seed)
        count = len(exact)
    grads, found_inf = _call(loss_scaled_gradients, backward, dout, scale, count)
    if first_only and not found_inf:
        finite = [bool(np.all(np.isfinite(g))) for g in grads]
        raise CheckFailure(
            f"only the first gradient overflows here (finite per gradient: {finite}), but found_inf is "
            "False: check every gradient, not only the last one (e.g. any(not np.all(np.isfinite(g)) "
            "for g in grads))"
        )
    if not found_inf:
        raise CheckFailure(
            f"dout of std {dout_std:g} times scale {scale:g} overflows float16 (max 65504) to inf, but "
            "found_inf is False: check the unscaled gradients with np.isfinite and report it, so the "
            "step can be skipped and the scale lowered"
        )
    return True
