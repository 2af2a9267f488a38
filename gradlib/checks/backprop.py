"""Checks for lesson 01 (backpropagation and the deep linear chain).

Every check takes the student's function, runs it on inputs built from ``seed`` (non-square shapes, so
that a transposed matrix shows as a shape error), compares with gradlib's reference and returns the
worst relative error, or raises :class:`~gradlib.checks.core.CheckFailure` naming the mistake.

Cache formats are fixed by the lesson so that each exercise is graded on its own: the affine cache is
the tuple ``(x, W, b)`` and the chain cache is ``{"activations": [...], "weights": [...]}``, exactly
what :func:`gradlib.layers.affine_forward` and :func:`gradlib.chain.chain_forward` return.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from gradlib import chain as ref_chain
from gradlib import layers as ref_layers
from gradlib.checks import core
from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype, check_keys, describe
from gradlib.gradcheck import numerical_gradient_array

__all__ = [
    "check_affine_backward",
    "check_affine_backward_numerically",
    "check_affine_forward",
    "check_chain_backward",
    "check_chain_backward_scaling",
    "check_chain_forward",
    "check_first_overflow_depth",
    "check_first_overflow_depth_rejects",
    "check_output_scale",
]


def _affine_inputs(n: int, d: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def _copies(*arrays: np.ndarray) -> list[np.ndarray]:
    return [a.copy() for a in arrays]


def _unpack(result: Any, name: str, count: int, what: str) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != count:
        got = (
            f"a {type(result).__name__} of length {len(result)}"
            if isinstance(result, (tuple, list))
            else (type(result).__name__)
        )
        raise CheckFailure(f"{name} must return {count} values {what}; it returned {got}")
    return tuple(result)


# ----------------------------------------------------------------------------- affine layer
def check_affine_forward(
    affine_forward: Callable, *, n: int = 4, d: int = 5, m: int = 3, seed: int = 0
) -> float:
    """Check ``affine_forward(x, W, b) -> (out, cache)`` with x (n, d), W (d, m), b (m,).

    Returns:
        The relative error of ``out`` against ``x @ W + b``.
    """
    x, W, b = _affine_inputs(n, d, m, seed)
    kept = _copies(x, W, b)
    with core.quiet():
        result = call(affine_forward, x, W, b, name="affine_forward")
    out, cache = _unpack(result, "affine_forward", 2, "(out, cache)")
    for before, after, label in zip(kept, (x, W, b), ("x", "W", "b"), strict=True):
        assert_unchanged(before, after, name=label)
    expected = x @ W + b
    check_dtype(out, name="out")
    out = as_array(
        out, name="out", shape=(n, m), hint="out must be (N, M) = x @ W + b with W of shape (D, M)"
    )
    mistake = match_mistake(out, {"you forgot to add the bias b": x @ W, "you subtracted b": x @ W - b})
    err = assert_close(out, expected, name="out", hint=mistake, advice="out = x @ W + b")
    cache = _unpack(cache, "affine_forward's cache", 3, "(x, W, b), the inputs backward needs")
    for got, want, label in zip(cache, (x, W, b), ("x", "W", "b"), strict=True):
        assert_close(got, want, name=f"cache entry {label}", hint="the cache must be the tuple (x, W, b)")
    return err


def _affine_hint(label: str, got: np.ndarray, x: np.ndarray, W: np.ndarray, dout: np.ndarray) -> str:
    """Name the known mistake that produces ``got`` for gradient ``label``, or say how it differs.

    Without a known mistake, :func:`~gradlib.checks.diagnosis.describe` says how ``got`` relates to the
    right gradient (a factor, a transpose, nan, ...), followed by the formula.
    """
    rdx, rdW, rdb = ref_layers.affine_backward(dout, (x, W, None))
    n = len(x)
    candidates = {
        "dx": ({"a sign error (did you negate dx?)": -rdx}, "dx = dout @ W.T"),
        "dW": (
            {
                "dW averaged over the batch (x.T @ dout / N): the gradient of a sum is not averaged": rdW / n,
                "a sign error (did you negate dW?)": -rdW,
            },
            "dW = x.T @ dout",
        ),
        "db": (
            {
                "db as the mean over the batch instead of the sum": rdb / n,
                "a sign error (did you negate db?)": -rdb,
            },
            "db = dout.sum(axis=0)",
        ),
    }[label]
    mistake = match_mistake(got, candidates[0])
    if mistake:
        return f"you computed {mistake}"
    found = describe(got, {"dx": rdx, "dW": rdW, "db": rdb}[label], n=n)
    return f"Likely cause: {found}; {candidates[1]}" if found else candidates[1]


def _run_backward(affine_backward: Callable, n: int, d: int, m: int, seed: int):
    x, W, b = _affine_inputs(n, d, m, seed)
    dout = np.random.default_rng(seed + 1).normal(size=(n, m))
    kept = _copies(x, W, b, dout)
    with core.quiet():
        result = call(affine_backward, dout, (x, W, b), name="affine_backward")
    for before, after, label in zip(kept, (x, W, b, dout), ("x", "W", "b", "dout"), strict=True):
        assert_unchanged(before, after, name=label)
    dx, dW, db = _unpack(result, "affine_backward", 3, "(dx, dW, db)")
    for value, label in zip((dx, dW, db), ("dx", "dW", "db"), strict=True):
        check_dtype(value, name=label)
    dx = as_array(dx, name="dx", shape=(n, d), hint="dx = dout @ W.T has the shape of x")
    dW = as_array(
        dW, name="dW", shape=(d, m), hint="dW = x.T @ dout has the shape of W; did you transpose it?"
    )
    db = as_array(db, name="db", shape=(m,), hint="db sums dout over the batch axis: dout.sum(axis=0)")
    return (x, W, b, dout), (dx, dW, db)


def check_affine_backward(
    affine_backward: Callable, *, n: int = 4, d: int = 5, m: int = 3, seed: int = 0
) -> float:
    """Compare ``affine_backward(dout, (x, W, b)) -> (dx, dW, db)`` with gradlib's reference.

    Returns:
        The worst relative error over dx, dW and db.
    """
    (x, W, b, dout), (dx, dW, db) = _run_backward(affine_backward, n, d, m, seed)
    expected = ref_layers.affine_backward(dout, (x, W, b))
    errors = [
        assert_close(got, want, name=label, hint=_affine_hint(label, got, x, W, dout))
        for label, got, want in zip(("dx", "dW", "db"), (dx, dW, db), expected, strict=True)
    ]
    return max(errors)


def check_affine_backward_numerically(
    affine_backward: Callable, *, n: int = 3, d: int = 4, m: int = 2, seed: int = 0, tol: float = 1e-7
) -> float:
    """Gradient-check ``affine_backward`` against centered differences of ``x @ W + b``.

    The relative error ``max|a - n| / max(1e-8, |a| + |n|)`` of every gradient must be below ``tol``
    (cs231n's threshold for a smooth function in float64).

    Returns:
        The worst relative error.
    """
    (x, W, b, dout), grads = _run_backward(affine_backward, n, d, m, seed)
    x, W, b = x.copy(), W.copy(), b.copy()
    numeric = (
        numerical_gradient_array(lambda v: v @ W + b, x, dout),
        numerical_gradient_array(lambda v: x @ v + b, W, dout),
        numerical_gradient_array(lambda v: x @ W + v, b, dout),
    )
    worst = 0.0
    for label, got, num in zip(("dx", "dW", "db"), grads, numeric, strict=True):
        err = float(np.max(np.abs(got - num) / np.maximum(1e-8, np.abs(got) + np.abs(num))))
        if not err < tol:
            raise CheckFailure(
                f"gradient check failed for {label}: relative error {err:.2e} against centered "
                f"differences (must be below {tol:g}); {_affine_hint(label, got, x, W, dout)}"
            )
        worst = max(worst, err)
    return worst


# ----------------------------------------------------------------------------- the chain
_DXS_HINT = "dxs[k] = dLoss/d activations[k] for k = 0..L, and dxs[L] = dout (L = {L})"


def _chain_inputs(dims: tuple[int, ...], n: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A batch x (n, dims[0]) and weights (dims[k], dims[k+1]) of std 1/sqrt(fan_in)."""
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(scale=1 / math.sqrt(a), size=(a, b)) for a, b in zip(dims[:-1], dims[1:], strict=True)
    ]
    return np.random.default_rng(seed + 1).normal(size=(n, dims[0])), weights


def _as_list(value: Any, name: str, length: int, hint: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise CheckFailure(f"{name} must be a list of arrays, got {type(value).__name__}")
    if len(value) != length:
        raise CheckFailure(f"{name} has {len(value)} entries, expected {length}: {hint}")
    return list(value)


def check_chain_forward(
    chain_forward: Callable, *, dims: tuple[int, ...] = (5, 4, 6, 3), n: int = 2, seed: int = 0
) -> float:
    """Check ``chain_forward(x, weights) -> (activations, cache)`` on a chain of widths ``dims``.

    Returns:
        The worst relative error over the activations.
    """
    x, weights = _chain_inputs(dims, n, seed)
    kept = _copies(x, *weights)
    with core.quiet():
        result = call(chain_forward, x, list(weights), name="chain_forward")
    for i, (before, after) in enumerate(zip(kept, [x, *weights], strict=True)):
        assert_unchanged(before, after, name="x" if i == 0 else f"weights[{i - 1}]")
    acts, cache = _unpack(result, "chain_forward", 2, "(activations, cache)")
    L = len(weights)
    acts = _as_list(
        acts, "activations", L + 1, f"one per layer plus the input x (activations[0] = x) for L = {L} layers"
    )
    expected, _ = ref_chain.chain_forward(x, weights)
    worst = 0.0
    for k, (got, want) in enumerate(zip(acts, expected, strict=True)):
        check_dtype(got, name=f"activations[{k}]")
        got = as_array(
            got, name=f"activations[{k}]", shape=want.shape, hint="activations[k] = activations[k-1] @ W[k-1]"
        )
        hint = "activations[0] must be x itself" if k == 0 else None
        if k > 0 and match_mistake(got, {"shift": expected[k - 1]}):
            hint = f"activations[{k}] equals activations[{k - 1}]: is your list shifted by one layer?"
        worst = max(worst, assert_close(got, want, name=f"activations[{k}]", hint=hint))
    _check_chain_cache(cache, expected, weights)
    return worst


def _check_chain_cache(cache: Any, acts: list[np.ndarray], weights: list[np.ndarray]) -> None:
    """The cache must be ``{"activations": activations, "weights": weights}``, with those values."""
    if not isinstance(cache, dict) or not {"activations", "weights"} <= set(cache):
        check_keys(cache, ("activations", "weights"), name="the cache")
    for key, values in (("activations", acts), ("weights", weights)):
        what = f'the cache\'s "{key}"'
        listed = _as_list(cache[key], what, len(values), f"the list of all {len(values)} {key}")
        _compare_entries(listed, values, what, advice=f"the cache holds the {key} themselves")


def check_chain_backward(
    chain_backward: Callable, *, dims: tuple[int, ...] = (5, 4, 6, 3), n: int = 2, seed: int = 0
) -> float:
    """Check ``chain_backward(dout, cache) -> (dxs, dWs)`` against gradlib's reference.

    The cache is gradlib's own for a random x (so only the backward pass is graded) and dout is random.

    Returns:
        The worst relative error over all gradients.
    """
    x, weights = _chain_inputs(dims, n, seed)
    acts, cache = ref_chain.chain_forward(x, weights)
    dout = np.random.default_rng(seed + 2).normal(size=acts[-1].shape)
    kept = _copies(dout, *acts, *weights)
    student_cache = {"activations": list(acts), "weights": list(weights)}
    with core.quiet():
        result = call(chain_backward, dout, student_cache, name="chain_backward")
    for i, (before, after) in enumerate(zip(kept, [dout, *acts, *weights], strict=True)):
        label = "dout" if i == 0 else (f"activations[{i - 1}]" if i <= len(acts) else "a weight")
        assert_unchanged(before, after, name=label)
    dxs, dWs = _unpack(result, "chain_backward", 2, "(dxs, dWs)")
    L = len(weights)
    dxs = _as_list(dxs, "dxs", L + 1, _DXS_HINT.format(L=L))
    dWs = _as_list(dWs, "dWs", L, f"one gradient per weight matrix (L = {L})")
    rdxs, rdWs = ref_chain.chain_backward(dout, cache)
    dx_shape = (
        "dxs[k] has the shape of activations[k]: is your list in reverse order, or did you use W instead "
        "of W.T?"
    )
    dW_shape = (
        "dWs[k] has the shape of weights[k]: dW = activations[k].T @ dxs[k+1] (the layer's input, not its "
        "output)"
    )
    return max(
        _compare_entries(dxs, rdxs, "dxs", shape_hint=dx_shape, advice="dxs[k-1] = dxs[k] @ W[k-1].T", n=n),
        _compare_entries(
            dWs, rdWs, "dWs", shape_hint=dW_shape, advice="dWs[k] = activations[k].T @ dxs[k+1]", n=n
        ),
    )


def _compare_entries(
    got_list: list,
    want_list: list,
    label: str,
    *,
    shape_hint: str | None = None,
    advice: str,
    n: int | None = None,
) -> float:
    """Compare a list of arrays entry by entry (dtype, shape, values); return the worst relative error.

    ``n`` is the batch size, so that a factor N or 1/N is named.
    """
    worst = 0.0
    for k, (got, want) in enumerate(zip(got_list, want_list, strict=True)):
        check_dtype(got, name=f"{label}[{k}]")
        got = as_array(got, name=f"{label}[{k}]", shape=want.shape, hint=shape_hint)
        worst = max(worst, assert_close(got, want, name=f"{label}[{k}]", advice=advice, n=n))
    return worst


def check_chain_backward_scaling(
    chain_backward: Callable, *, scale: float = 2.0, depth: int = 60, dim: int = 3
) -> float:
    """Check that a chain of ``scale * I`` layers multiplies the input gradient by ``scale**depth``.

    Returns:
        The relative error of ``dxs[0]`` against ``scale**depth * dout``.
    """
    weights = ref_chain.scaled_identity_weights(depth, dim, scale)
    x = np.arange(1.0, dim + 1.0)[None, :]
    acts, _ = ref_chain.chain_forward(x, weights)
    dout = np.ones_like(acts[-1])
    expected = scale**depth * dout
    kept = dout.copy()
    with core.quiet():
        result = call(
            chain_backward, dout, {"activations": list(acts), "weights": list(weights)}, name="chain_backward"
        )
    assert_unchanged(kept, dout, name="dout")
    dxs, _ = _unpack(result, "chain_backward", 2, "(dxs, dWs)")
    dxs = _as_list(dxs, "dxs", depth + 1, _DXS_HINT.format(L=depth))
    got = as_array(dxs[0], name="dxs[0]", shape=expected.shape)
    hint = f"the gradient at the input should be {scale:g}**{depth} = {scale**depth:.4g} times dout"
    if np.array_equal(got, dout):
        hint = "dxs[0] equals dout: is your list in reverse order (dxs[0] must be the gradient at the input)?"
    return assert_close(got, expected, name=f"dxs[0] for {depth} layers of {scale:g} * I", hint=hint)


# ----------------------------------------------------------------------------- scale and overflow
def check_output_scale(output_scale: Callable, cases: list[tuple[float, int]]) -> float:
    """Check ``output_scale(scale, depth) == scale**depth`` (inf past float64's range) for every case.

    Returns:
        The worst relative error.
    """
    worst = 0.0
    for scale, depth in cases:
        expected = ref_chain.output_scale(scale, depth)
        with core.quiet():
            got = call(output_scale, scale, depth, name="output_scale")
        check_dtype(got, name=f"output_scale({scale!r}, {depth!r})")
        try:
            got = float(got)
        except (TypeError, ValueError, OverflowError):
            raise CheckFailure(f"output_scale({scale!r}, {depth!r}) returned {got!r}, not a number") from None
        if math.isinf(expected):
            if got != expected:
                sign = " (an odd power of a negative scale is negative)" if got == -expected else ""
                raise CheckFailure(
                    f"output_scale({scale!r}, {depth!r}) returned {got!r}; {scale!r}**{depth} is beyond "
                    f"float64's range, so the answer is {expected!r}{sign}"
                )
            continue
        hint = None
        if got == scale * depth:
            hint = "you computed scale * depth; the layers multiply, so it is scale ** depth"
        elif depth > 0 and math.isclose(got, scale ** (depth - 1), rel_tol=1e-9):
            hint = "you computed scale ** (depth - 1): off by one layer"
        name = f"output_scale({scale!r}, {depth!r})"
        advice = "each of the depth layers multiplies by scale"
        worst = max(worst, assert_close(got, expected, name=name, rtol=1e-12, hint=hint, advice=advice))
    return worst


@contextmanager
def _time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raise CheckFailure if the block runs longer than ``seconds`` (main thread on Unix only)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _alarm(signum, frame):
        raise CheckFailure(f"{what} did not return within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check_first_overflow_depth(first_overflow_depth: Callable, cases: list[tuple[float, Any]]) -> int:
    """Check ``first_overflow_depth(scale, dtype)`` against gradlib's for each ``(scale, dtype)`` case.

    Returns:
        The number of cases checked.
    """
    for scale, dtype in cases:
        expected = ref_chain.first_overflow_depth(scale, dtype)
        what = f"first_overflow_depth({scale!r}, np.{np.dtype(dtype).name})"
        with core.quiet(), _time_limit(5.0, what):
            got = call(first_overflow_depth, scale, dtype, name="first_overflow_depth")
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            raise CheckFailure(f"{what} returned {got!r}; it must return an int (a number of layers)")
        got = int(got)
        if got == expected:
            continue
        hint = _overflow_hint(scale, np.dtype(dtype), got, expected)
        raise CheckFailure(f"{what} returned {got}, expected {expected}: {hint}")
    return len(cases)


def _unrounded_depths(scale: float, dt: np.dtype) -> set[int]:
    """Depths found with the scale NOT rounded to ``dt``: step by step, and by the formula log(max)/log|s|."""
    depths = {math.ceil(math.log(float(np.finfo(dt).max)) / math.log(abs(scale)))}
    if float(dt.type(scale)) != scale:
        p, depth = dt.type(1), 0
        with np.errstate(over="ignore"):
            while np.isfinite(p) and depth < 200_000:
                p, depth = dt.type(float(p) * scale), depth + 1
        depths.add(depth)
    return depths


def _overflow_hint(scale: float, dt: np.dtype, got: int, expected: int) -> str:
    """Why ``first_overflow_depth(scale, dt)`` returned ``got`` rather than ``expected``."""
    if got == expected + 1 and scale < 0 and expected % 2 == 1:
        return (
            f"at depth {expected} the product is -inf (an odd power of a negative scale is negative), which "
            "is an overflow too: test np.isinf(p), not p == np.inf"
        )
    rounded = float(dt.type(scale))
    if rounded != scale and got in _unrounded_depths(scale, dt):
        return (
            f"{scale!r} is not a {dt.name} number: stored as {dt.name} it is {rounded:.6g}, and every "
            f"layer multiplies by that. Convert the scale to {dt.name} first and multiply step by step in "
            f"{dt.name}"
        )
    if got == expected - 1:
        return "off by one: that is the last depth that is still finite, not the first that is inf"
    if got == expected + 1:
        return "off by one: count the layer whose product first becomes inf"
    if dt != np.float64 and got == ref_chain.first_overflow_depth(scale, np.float64):
        return f"that is where float64 overflows; do the products in {dt.name}"
    return f"multiply p = p * scale in {dt.name}, starting at p = 1, until p is inf"


def check_first_overflow_depth_rejects(first_overflow_depth: Callable, scales: list[float]) -> int:
    """Check that ``first_overflow_depth`` raises ValueError (quickly) when ``|scale| <= 1``.

    Returns:
        The number of scales checked.
    """
    for scale in scales:
        what = f"first_overflow_depth({scale!r}, np.float32)"
        with core.quiet(), _time_limit(2.0, what + " (|scale| <= 1 never overflows: raise ValueError)"):
            core.expect_value_error(
                first_overflow_depth,
                scale,
                np.float32,
                name="first_overflow_depth",
                what=what,
                why="a product of factors with |scale| <= 1 never overflows",
            )
    return len(scales)
