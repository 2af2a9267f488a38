"""Checks for lesson 05 (gradient clipping): clip by value, by norm per array, by global norm, and SGD.

Gradients come as a list, a tuple or a dict of arrays; each check calls the student's function with
one of these containers and requires the same container type back, new arrays of the same shapes, and
the inputs left unchanged. Values are compared with ``torch.nn.utils.clip_grad_value_`` and
``torch.nn.utils.clip_grad_norm_`` (float64) where PyTorch has the operation, and with
:mod:`gradlib.clip` otherwise (per-array clipping, Keras ``clipnorm``). A failure names the mistake when
a known one explains the result: per-array norms where the global norm was asked for, the norm returned
after clipping, the missing ``1e-6``, gradients that were already small rescaled anyway, ...

Generic checks (:mod:`gradlib.checks.diagnosis`) run on every result: a dict may return its keys in any
order (the lesson asks for "the same keys"); every returned array must be float64, like the gradients
given. The lesson's edge cases are generated too (``zero=``): a gradient array that is all zero, and
gradients that are all zero, which must come back unchanged, finite and without a warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from gradlib import clip as ref
from gradlib.checks import core
from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype, check_keys, describe

__all__ = [
    "by_norm",
    "by_value",
    "global_clipped",
    "global_small",
    "global_total",
    "make_grads",
    "sgd_step",
    "sgd_step_contract",
]

_RTOL = 1e-9
_ATOL = 1e-12
_CONTAINERS = ("list", "tuple", "dict")


def make_grads(container: str, *, scale: float, seed: int, zero: str | None = None):
    """Return gradients of mixed shapes in ``container`` ('list', 'tuple' or 'dict').

    The arrays have different sizes and norms (one about 10x the others), so per-array and global
    clipping give different results. ``scale`` multiplies everything.

    Args:
        container: 'list', 'tuple' or 'dict'.
        scale: overall size of the gradients.
        seed: seed of the values.
        zero: None, "one" (the second array is all zero) or "all" (every array is all zero).

    Returns:
        The gradients, fresh float64 arrays.
    """
    if container not in _CONTAINERS:
        raise ValueError(f"container {container!r} is not one of {', '.join(_CONTAINERS)}")
    if zero not in (None, "one", "all"):
        raise ValueError(f"zero {zero!r} is not one of None, 'one', 'all'")
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 3, 2), (1,)]
    arrays = [scale * rng.standard_normal(s) for s in shapes]
    arrays[0] *= 10.0
    for i in {"one": [1], "all": range(len(arrays))}.get(zero, []):
        arrays[i] = np.zeros_like(arrays[i])
    if container == "dict":
        return {name: a for name, a in zip(("W1", "b1", "W2", "b2"), arrays, strict=True)}
    return tuple(arrays) if container == "tuple" else arrays


def _values(grads) -> list[np.ndarray]:
    return list(grads.values()) if isinstance(grads, Mapping) else list(grads)


def _copy(grads):
    if isinstance(grads, Mapping):
        return {k: v.copy() for k, v in grads.items()}
    copied = [v.copy() for v in grads]
    return tuple(copied) if isinstance(grads, tuple) else copied


def _rebuild(grads, arrays):
    if isinstance(grads, Mapping):
        return dict(zip(grads.keys(), arrays, strict=True))
    return tuple(arrays) if isinstance(grads, tuple) else list(arrays)


def _call(fn: Callable, grads, *args, name: str, **kwargs):
    """Call ``fn`` on a copy of ``grads``; check that the copy was not modified; return the result."""
    given = _copy(grads)
    result = call(fn, given, *args, name=name, **kwargs)
    for key, (before, after) in enumerate(zip(_values(grads), _values(given), strict=True)):
        label = list(grads.keys())[key] if isinstance(grads, Mapping) else key
        assert_unchanged(before, after, name=f"grads[{label!r}]")
    return result


def _arrays(result, grads, *, name: str) -> list[np.ndarray]:
    """Check that ``result`` has the container type, keys and shapes of ``grads``; return its arrays."""
    kind = type(grads).__name__
    if isinstance(grads, Mapping):
        if not isinstance(result, Mapping):
            raise CheckFailure(
                f"{name} was given a dict and returned a {type(result).__name__}: return the same "
                "container type, a dict with the same keys"
            )
        check_keys(result, grads.keys(), name=f"the dict {name} returned")
        result = {k: result[k] for k in grads}  # any order is fine; compare in the given one
    elif type(result) is not type(grads):
        raise CheckFailure(
            f"{name} was given a {kind} and returned a {type(result).__name__}: return the same "
            f"container type ({kind})"
        )
    elif len(result) != len(grads):
        raise CheckFailure(f"{name} returned {len(result)} arrays for {len(grads)} gradients")
    labels = list(grads) if isinstance(grads, Mapping) else range(len(grads))
    arrays = []
    for label, r, g in zip(labels, _values(result), _values(grads), strict=True):
        arrays.append(as_array(r, name=f"{name}[{label!r}]", shape=np.shape(g)))
        check_dtype(r, name=f"{name}[{label!r}]", dtype=np.asarray(g).dtype)
    return arrays


def _compare(got: list, expected: list, mistakes: dict, *, name: str, context: str) -> float:
    """Compare lists of arrays; on failure name the mistake whose output matches ``got``."""
    flat_got = np.concatenate([g.ravel() for g in got])
    flat_exp = np.concatenate([np.asarray(e, dtype=np.float64).ravel() for e in expected])
    try:
        return assert_close(
            flat_got, flat_exp, name=f"{name} (all arrays flattened)", rtol=_RTOL, atol=_ATOL, hint=""
        )
    except CheckFailure as exc:
        flat = {
            desc: (lambda v=value: np.concatenate([np.ravel(a) for a in _values(v() if callable(v) else v)]))
            for desc, value in mistakes.items()
        }
        with np.errstate(all="ignore"):
            # tight first (the missing 1e-6 changes values by ~1e-7), then loose for the rest
            mistake = match_mistake(flat_got, flat, rtol=1e-10, atol=1e-14)
            loose = {d: v for d, v in flat.items() if "1e-6" not in d}
            # a candidate that equals the answer on these gradients cannot tell anything apart
            loose = {d: v for d, v in loose.items() if match_mistake(flat_exp, {d: v}, rtol=1e-5) is None}
            mistake = mistake or match_mistake(flat_got, loose, rtol=1e-5, atol=1e-12)
            if mistake is None:
                found = describe(flat_got, flat_exp)
                mistake = f"likely cause: {found}" if found else None
        msg = f"{exc} ({context})"
        raise CheckFailure(msg + (f": {mistake}" if mistake else "")) from None


def _torch_clip(grads, *, value: float | None = None, max_norm: float | None = None):
    """Clip copies of ``grads`` with torch.nn.utils; return (arrays, total_norm or None)."""
    import torch

    params = []
    for g in _values(grads):
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        p.grad = torch.from_numpy(np.array(g, dtype=np.float64))
        params.append(p)
    total = None
    if value is not None:
        torch.nn.utils.clip_grad_value_(params, value)
    else:
        total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    return [p.grad.numpy().copy() for p in params], total


def by_value(
    clip_by_value: Callable,
    *,
    container: str,
    clip_value: float,
    scale: float = 1.0,
    seed: int = 0,
    zero: str | None = None,
) -> float:
    """Check ``clip_by_value(grads, clip_value)`` against ``torch.nn.utils.clip_grad_value_``.

    Args:
        clip_by_value: the student's function.
        container: 'list', 'tuple' or 'dict'.
        clip_value: the bound c.
        scale: size of the gradients (some components must exceed c).
        seed: seed of the gradients.
        zero: an edge case of :func:`make_grads` (an all-zero array, or all zero).

    Returns:
        The relative error.

    Raises:
        CheckFailure: naming the mistake (one-sided clipping, norm clipping, container changed, ...).
    """
    grads = make_grads(container, scale=scale, seed=seed, zero=zero)
    got = _arrays(_call(clip_by_value, grads, clip_value, name="clip_by_value"), grads, name="clip_by_value")
    expected, _ = _torch_clip(grads, value=clip_value)
    c = clip_value
    mistakes = {
        "you only clipped from above: the negative side must be clipped to -clip_value too": [
            np.minimum(g, c) for g in _values(grads)
        ],
        "you clipped the absolute values: keep each component's sign": [
            np.minimum(np.abs(g), c) for g in _values(grads)
        ],
        "you rescaled by the norm; clip by value bounds each component into [-c, c]": lambda: (
            ref.clip_by_norm(_values(grads), c)
        ),
    }
    return _compare(got, expected, mistakes, name="clip_by_value", context=f"clip_value={c:g}, {container}")


def by_norm(
    clip_by_norm: Callable,
    *,
    container: str,
    max_norm: float,
    scale: float = 1.0,
    seed: int = 0,
    zero: str | None = None,
) -> float:
    """Check per-array norm clipping (Keras ``clipnorm``): each array rescaled to norm <= max_norm.

    ``g * max_norm / ||g||`` and ``g * max_norm / (||g|| + 1e-6)`` are both accepted.

    Args:
        clip_by_norm: the student's function.
        container: 'list', 'tuple' or 'dict'.
        max_norm: the largest norm allowed per array.
        scale: size of the gradients.
        seed: seed of the gradients.
        zero: an edge case of :func:`make_grads` (an all-zero array, or all zero).

    Returns:
        The relative error.

    Raises:
        CheckFailure: naming the mistake (global norm used, small arrays rescaled up, value clipping, ...).
    """
    grads = make_grads(container, scale=scale, seed=seed, zero=zero)
    got = _arrays(_call(clip_by_norm, grads, max_norm, name="clip_by_norm"), grads, name="clip_by_norm")
    expected = _values(ref.clip_by_norm(grads, max_norm))
    with_eps = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in _values(grads)]  # also right
    try:
        return assert_close(
            np.concatenate([g.ravel() for g in got]),
            np.concatenate([g.ravel() for g in with_eps]),
            name="clip_by_norm",
            rtol=_RTOL,
            atol=_ATOL,
        )
    except CheckFailure:
        pass
    mistakes = {
        "you clipped by the global norm of all arrays; clip_by_norm rescales each array on its own": lambda: (
            ref.clip_by_global_norm(_values(grads), max_norm)[0]
        ),
        "arrays whose norm is already below max_norm must stay unchanged; you rescaled them up": _quiet(
            lambda: [g * max_norm / np.linalg.norm(g) for g in _values(grads)]
        ),
        "you clipped each component by value; clip by norm rescales the whole array": lambda: (
            ref.clip_by_value(_values(grads), max_norm)
        ),
        "you added a small eps inside the square root, sqrt(sum(g**2) + eps): the norm is sqrt(sum(g**2)) "
        "(torch adds its 1e-6 outside, to the norm)": _quiet(
            lambda: _eps_inside_candidates(grads, max_norm, _values(got))
        ),
        "you divided by the squared norm": _quiet(
            lambda: [g * min(1.0, max_norm / np.sum(g**2)) for g in _values(grads)]
        ),
    }
    return _compare(
        got, expected, mistakes, name="clip_by_norm", context=f"max_norm={max_norm:g}, {container}"
    )


def _call_global(fn: Callable, grads, max_norm: float):
    result = _call(fn, grads, max_norm, name="clip_by_global_norm")
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailure("clip_by_global_norm must return a tuple (clipped, total_norm)")
    clipped = _arrays(result[0], grads, name="clip_by_global_norm")
    total = as_array(result[1], name="total_norm")
    if total.size != 1:
        raise CheckFailure(f"total_norm must be one number, got an array of shape {total.shape}")
    return clipped, float(total.ravel()[0])


def _eps_inside_candidates(grads, max_norm: float, got: list, *, per_array: bool = True) -> list:
    """Clipping with the norm ``sqrt(sum g^2 + eps)``, for the usual eps closest to the student's result.

    ``per_array`` takes each array's own norm (clip by norm); otherwise the global norm of all of them.
    """
    best, best_err = None, math.inf
    arrays = _values(grads)
    squares = sum(float(np.sum(g**2)) for g in arrays)
    for eps in (1e-12, 1e-10, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
        norms = [math.sqrt((float(np.sum(g**2)) if per_array else squares) + eps) for g in arrays]
        cand = [g * min(1.0, max_norm / norm) for g, norm in zip(arrays, norms, strict=True)]
        err = max(float(np.max(np.abs(c - a))) for c, a in zip(cand, got, strict=True))
        if err < best_err:
            best, best_err = cand, err
    return best


def _quiet(fn: Callable) -> Callable:
    """A mistake candidate evaluated without floating-point warnings (it may divide by a zero norm)."""

    def run():
        with np.errstate(all="ignore"):
            return fn()

    return run


def _global_mistakes(grads, max_norm: float, got: list) -> dict:
    arrays = _values(grads)
    total = ref.global_norm(arrays)
    return {
        "you added a small eps inside the square root, sqrt(sum of squares + eps): the global norm is "
        "sqrt(sum of squared norms) (torch adds its 1e-6 outside, to the norm)": _quiet(
            lambda: _eps_inside_candidates(grads, max_norm, got, per_array=False)
        ),
        "you clipped each array by its own norm; clip_by_global_norm scales all arrays by ONE factor "
        "computed from the global norm": lambda: ref.clip_by_norm(arrays, max_norm),
        "you clipped each component by value; clip_by_global_norm rescales all arrays": lambda: (
            ref.clip_by_value(arrays, max_norm)
        ),
        "missing 1e-6: the factor is max_norm / (total_norm + 1e-6), as in clip_grad_norm_": _quiet(
            lambda: [a * min(1.0, np.float64(max_norm) / total) for a in arrays]
        ),
        "gradients whose global norm is already below max_norm must stay unchanged (the factor is "
        "clamped to at most 1); you rescaled them up": [a * max_norm / (total + 1e-6) for a in arrays],
        "the global norm is the square root of the sum of squared norms; you used the squared norm": [
            a * min(1.0, max_norm / (total**2 + 1e-6)) for a in arrays
        ],
        "the global norm is sqrt(sum of squared norms); you added the norms": lambda: [
            a * min(1.0, max_norm / (sum(np.linalg.norm(b) for b in arrays) + 1e-6)) for a in arrays
        ],
    }


def global_clipped(
    clip_by_global_norm: Callable, *, container: str, max_norm: float, scale: float = 1.0, seed: int = 0
) -> float:
    """Check the clipped arrays of ``clip_by_global_norm`` against ``torch.nn.utils.clip_grad_norm_``.

    Args:
        clip_by_global_norm: the student's function.
        container: 'list', 'tuple' or 'dict'.
        max_norm: the largest global norm allowed (choose it below the gradients' global norm).
        scale: size of the gradients.
        seed: seed of the gradients.

    Returns:
        The relative error of the clipped arrays.

    Raises:
        CheckFailure: naming the mistake (per-array clipping, missing 1e-6, ...).
    """
    grads = make_grads(container, scale=scale, seed=seed)
    clipped, _ = _call_global(clip_by_global_norm, grads, max_norm)
    expected, _ = _torch_clip(grads, max_norm=max_norm)
    ctx = f"max_norm={max_norm:g}, global norm {ref.global_norm(grads):.4g}, {container}"
    return _compare(
        clipped, expected, _global_mistakes(grads, max_norm, clipped), name="clipped", context=ctx
    )


def _check_total(total: float, grads, max_norm: float, clipped: list) -> float:
    expected = ref.global_norm(grads)
    arrays = _values(grads)
    mistakes = {
        "you returned the norm AFTER clipping; return the global norm of the gradients you were given": (
            ref.global_norm(clipped)
        ),
        "you returned the squared global norm; take its square root": expected**2,
        "you added the arrays' norms; the global norm is sqrt(sum of squared norms)": sum(
            float(np.linalg.norm(a)) for a in arrays
        ),
        "you returned the largest array norm; the global norm is sqrt(sum of squared norms)": max(
            float(np.linalg.norm(a)) for a in arrays
        ),
        "you returned max_norm; return the global norm before clipping": max_norm,
    }
    try:
        return assert_close(total, expected, name="total_norm", rtol=_RTOL, atol=_ATOL)
    except CheckFailure as exc:
        mistake = match_mistake(total, mistakes, rtol=1e-9)
        raise CheckFailure(f"{exc} (max_norm={max_norm:g})" + (f": {mistake}" if mistake else "")) from None


def global_total(
    clip_by_global_norm: Callable, *, container: str, max_norm: float, scale: float = 1.0, seed: int = 0
) -> float:
    """Check that ``clip_by_global_norm`` returns the global norm from BEFORE clipping.

    Args:
        clip_by_global_norm: the student's function.
        container: 'list', 'tuple' or 'dict'.
        max_norm: the largest global norm allowed.
        scale: size of the gradients.
        seed: seed of the gradients.

    Returns:
        The relative error of the returned norm.

    Raises:
        CheckFailure: naming the mistake (norm after clipping, squared norm, ...).
    """
    grads = make_grads(container, scale=scale, seed=seed)
    clipped, total = _call_global(clip_by_global_norm, grads, max_norm)
    _, torch_total = _torch_clip(grads, max_norm=max_norm)
    error = _check_total(total, grads, max_norm, clipped)
    return max(error, abs(total - torch_total) / torch_total)


def global_small(
    clip_by_global_norm: Callable, *, container: str, seed: int = 0, zero: str | None = None
) -> float:
    """Check that gradients whose global norm is already below ``max_norm`` come back unchanged.

    Args:
        clip_by_global_norm: the student's function.
        container: 'list', 'tuple' or 'dict'.
        seed: seed of the gradients.
        zero: an edge case of :func:`make_grads` (an all-zero array, or all zero).

    Returns:
        The worst relative error of arrays and norm.

    Raises:
        CheckFailure: naming the mistake (small gradients rescaled up to max_norm, ...).
    """
    grads = make_grads(container, scale=0.05, seed=seed, zero=zero)
    max_norm = 2.0 * ref.global_norm(grads) if zero != "all" else 1.0
    clipped, total = _call_global(clip_by_global_norm, grads, max_norm)
    ctx = f"global norm {ref.global_norm(grads):.4g} is already below max_norm={max_norm:.4g}"
    mistakes = _global_mistakes(grads, max_norm, clipped)
    error = _compare(clipped, _values(grads), mistakes, name="clipped", context=ctx)
    return max(error, _check_total(total, grads, max_norm, clipped))


def _clip_only(grads, clip: str | None, threshold: float | None) -> list[np.ndarray]:
    """The gradients clipped the way ``clip`` says (gradlib's reference), as a list of arrays."""
    if clip == "value":
        grads = ref.clip_by_value(grads, threshold)
    elif clip == "norm":
        grads = ref.clip_by_norm(grads, threshold)
    elif clip == "global_norm":
        grads = ref.clip_by_global_norm(grads, threshold)[0]
    return _values(grads)


def _reference_step(params, grads, *, lr: float, clip: str | None, threshold: float | None):
    clipped = _clip_only(grads, clip, threshold)
    return [p - lr * g for p, g in zip(_values(params), clipped, strict=True)]


def _call_step(fn: Callable, params, grads, **kwargs):
    given_p, given_g = _copy(params), _copy(grads)
    result = call(fn, given_p, given_g, name="sgd_step", **kwargs)
    for label, before, after in (("params", params, given_p), ("grads", grads, given_g)):
        for key, (b, a) in enumerate(zip(_values(before), _values(after), strict=True)):
            assert_unchanged(b, a, name=f"{label}[{key}]")
    return _arrays(result, params, name="sgd_step")


def sgd_step(
    sgd_step: Callable,
    *,
    clip: str | None,
    threshold: float | None,
    lr: float = 0.1,
    container: str = "list",
    scale: float = 1.0,
    seed: int = 0,
) -> float:
    """Check ``sgd_step(params, grads, lr=, clip=, threshold=)``: clip the gradients, then step.

    Args:
        sgd_step: the student's function.
        clip: None, 'value', 'norm' or 'global_norm'.
        threshold: the clip value or max norm (None when ``clip`` is None).
        lr: learning rate.
        container: 'list', 'tuple' or 'dict'.
        scale: size of the gradients.
        seed: seed of parameters and gradients.

    Returns:
        The relative error of the new parameters.

    Raises:
        CheckFailure: naming the mistake (no clipping, wrong kind of clipping, lr applied before
            clipping, wrong sign, ...).
    """
    params = make_grads(container, scale=1.0, seed=seed + 1000)
    grads = make_grads(container, scale=scale, seed=seed)
    got = _call_step(sgd_step, params, grads, lr=lr, clip=clip, threshold=threshold)
    expected = _reference_step(params, grads, lr=lr, clip=clip, threshold=threshold)
    p = _values(params)
    mistakes = {
        "the gradients were not clipped": lambda: _reference_step(
            params, grads, lr=lr, clip=None, threshold=None
        ),
        "you moved along +gradient; gradient DEscent subtracts lr * grad": lambda: [
            a + (a - b) for a, b in zip(p, expected, strict=True)
        ],
        "you multiplied by lr before clipping; clip the gradients, then multiply by lr": lambda: [
            a - g
            for a, g in zip(p, _clip_only([lr * g for g in _values(grads)], clip, threshold), strict=True)
        ],
    }
    for other in ("value", "norm", "global_norm"):
        if other != clip and clip is not None:
            mistakes[f"you clipped by {other.replace('_', ' ')} instead of by {clip.replace('_', ' ')}"] = (
                lambda other=other: _reference_step(params, grads, lr=lr, clip=other, threshold=threshold)
            )
    if clip == "norm":  # per-array clipping with torch's 1e-6 is accepted too
        with_eps = [
            a - lr * g * min(1.0, threshold / (np.linalg.norm(g) + 1e-6))
            for a, g in zip(p, _values(grads), strict=True)
        ]
        flat_got = np.concatenate([g.ravel() for g in got])
        if np.allclose(flat_got, np.concatenate([e.ravel() for e in with_eps]), rtol=_RTOL, atol=_ATOL):
            return core.rel_error(flat_got, np.concatenate([e.ravel() for e in with_eps]))
    ctx = f"clip={clip!r}, threshold={threshold}, lr={lr:g}, {container}"
    return _compare(got, expected, mistakes, name="new params", context=ctx)


def sgd_step_contract(sgd_step: Callable, *, container: str, seed: int = 0) -> None:
    """Check the contract of ``sgd_step``: same container back, inputs unchanged, bad ``clip`` rejected.

    Args:
        sgd_step: the student's function.
        container: 'list', 'tuple' or 'dict'.
        seed: seed of parameters and gradients.

    Raises:
        CheckFailure: if the container type changes, an input is modified, or an unknown ``clip``
            does not raise ValueError.
    """
    sgd_step_fn = sgd_step
    params = make_grads(container, scale=1.0, seed=seed + 1000)
    grads = make_grads(container, scale=3.0, seed=seed)
    _call_step(sgd_step_fn, params, grads, lr=0.5, clip="global_norm", threshold=1.0)
    core.expect_value_error(
        sgd_step_fn,
        _copy(params),
        _copy(grads),
        lr=0.1,
        clip="l2",
        threshold=1.0,
        name="sgd_step",
        what="sgd_step(..., clip='l2')",
        why="'l2' is not one of None, 'value', 'norm', 'global_norm' (name the bad value and the options)",
    )
