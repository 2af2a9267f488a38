"""Checks for lesson 01's gradient checker: a student's ``numerical_gradient`` and ``rel_error``.

``numerical_gradient(f, x, h=1e-5)`` is run on functions that *record every point they are evaluated at*,
so the check sees how the student perturbed ``x``: both ``x + h e_i`` and ``x - h e_i`` (centered), only one
side (one-sided), a step other than ``h``, several entries at once (an entry not restored before the next
one), or no perturbation at all. The result is also compared with the exact gradient, on a
function with a large third derivative (a step of 1e-3 or more is visibly too coarse) and on one whose
value is large (a step of 1e-7 or less drowns in rounding error), and the default ``h`` is exercised.

``rel_error(a, b) = max|a - b| / max(1e-8, max(|a| + |b|))`` is compared on cases where the usual mistakes
differ: zero arrays (no floor gives nan), tiny arrays (no floor gives a large error), and arrays where a
mean, a norm or one-sided denominator give other numbers.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import numpy as np

from gradlib.checks.core import CheckFailure, as_array, call, match_mistake

__all__ = ["check_numerical_gradient", "check_rel_error", "rel_error_reference"]

#: Accuracy a centered difference with 1e-6 <= h <= 3e-4 reaches on the test functions (measured <= 3e-8).
_TOL = 1e-7


def rel_error_reference(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a - b| / max(1e-8, max(|a| + |b|))``, 0 for empty arrays (cs231n's definition)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b))) / max(1e-8, float(np.max(np.abs(a) + np.abs(b))))


class _Recorder:
    """A scalar function ``offset + sum(c * sin(k x))`` that records where it was evaluated."""

    def __init__(self, x: np.ndarray, *, offset: float, k: float, seed: int, closure: bool) -> None:
        self.x, self.closure = x, closure
        self.c = np.random.default_rng(seed).normal(size=x.shape)
        self.offset, self.k = offset, k
        self.points: list[np.ndarray] = []

    def __call__(self, v: np.ndarray) -> float:
        v = self.x if self.closure else np.asarray(v, dtype=np.float64)
        self.points.append(np.array(v, dtype=np.float64, copy=True))
        return float(self.offset + np.sum(self.c * np.sin(self.k * v)))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return self.k * self.c * np.cos(self.k * x)


def _steps(points: list[np.ndarray], x0: np.ndarray) -> list[dict[tuple[int, ...], float]]:
    """Per call, the entries of x that differ from x0 and by how much."""
    out = []
    for p in points:
        if p.shape != x0.shape:
            out.append({(): np.nan})
            continue
        diff = p - x0
        out.append({tuple(int(i) for i in ix): float(diff[ix]) for ix in zip(*np.nonzero(diff), strict=True)})
    return out


def _diagnose_steps(steps: list[dict], shape: tuple[int, ...], h: float) -> str | None:
    """Name what the recorded evaluation points show, or None if they are a centered difference."""
    if any(len(s) > 1 for s in steps):
        return (
            "f was evaluated with several entries of x perturbed at once: restore x[i] to its exact old "
            "value (save it before perturbing) before moving to the next entry"
        )
    seen: dict[tuple[int, ...], set[float]] = {}
    for s in steps:
        for ix, d in s.items():
            seen.setdefault(ix, set()).add(d)
    if not seen:
        return "f never saw x perturbed: evaluate f at x + h e_i and x - h e_i for every index i"
    sizes = {abs(d) for ds in seen.values() for d in ds}
    if sizes and all(abs(s - h) > 1e-3 * h for s in sizes):
        return f"x was perturbed by {max(sizes):.3g}, not by the step h = {h:g} that was passed in: use h"
    signs = {ix: {np.sign(d) for d in ds} for ix, ds in seen.items()}
    if all(len(sg) == 1 for sg in signs.values()) and len(seen) == int(np.prod(shape)):
        return (
            "a one-sided difference (f(x + h) - f(x)) / h: its error is O(h); use the centered "
            "(f(x + h e_i) - f(x - h e_i)) / (2h), whose error is O(h^2)"
        )
    if len(seen) < int(np.prod(shape)):
        total = int(np.prod(shape))
        return f"only {len(seen)} of the {total} entries of x were perturbed: loop over every index"
    return None


def _run(fn: Callable, f: _Recorder, x: np.ndarray, h: float | None) -> np.ndarray:
    kept = x.copy()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        grad = (
            call(fn, f, x, name="numerical_gradient")
            if h is None
            else call(fn, f, x, h=h, name="numerical_gradient")
        )
    if not np.array_equal(kept, x):
        worst = float(np.max(np.abs(kept - x)))
        raise CheckFailure(
            f"numerical_gradient left x changed (by up to {worst:.3g}): after perturbing x[i], "
            "write back its exact old value (x[i] = old; adding and subtracting h is not exact "
            "in floating point)"
        )
    dtype = getattr(grad, "dtype", None)
    if dtype is not None and dtype != np.float64:
        raise CheckFailure(f"numerical_gradient returned dtype {dtype}; return a float64 array")
    return as_array(grad, name="numerical_gradient(f, x)", shape=x.shape, hint="the gradient has x's shape")


def _step_used(steps: list[dict]) -> float | None:
    """The largest perturbation seen in the recorded calls (the step a default ``h`` turned out to be)."""
    sizes = [abs(d) for s in steps for d in s.values() if np.isfinite(d)]
    return max(sizes) if sizes else None


def _default_h(fn: Callable) -> float | None:
    try:
        param = inspect.signature(fn).parameters.get("h")
    except (TypeError, ValueError):
        return None
    if param is None or not isinstance(param.default, (int, float)):
        return None
    return float(param.default)


def check_numerical_gradient(
    fn: Callable, *, shape: tuple[int, ...] = (3, 4), seed: int = 0, h: float | None = None
) -> float:
    """Check ``numerical_gradient(f, x, h=...)`` on recording functions; return the worst relative error.

    Two functions are used, ``sum(c * sin(3 x))`` (large third derivative) and ``3000 + sum(c * sin(3 x))``
    (large value); each reads the array it is called with (the clean room runs the student's function in
    another process, so a function closing over the harness's ``x`` would never see a perturbation).

    Args:
        fn: the student's function.
        shape: shape of ``x``.
        seed: seed of ``x`` and of the functions' coefficients.
        h: the step to pass; None calls ``fn`` without ``h`` (its default is exercised).

    Returns:
        The largest relative error against the exact gradient.
    """
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1.5, 1.5, size=shape)
    step = _default_h(fn) if h is None else h
    worst = 0.0
    for offset in (3000.0, 0.0):
        for closure in (False,):  # graded across a process boundary: f receives the perturbed array
            x = x0.copy()
            f = _Recorder(x, offset=offset, k=3.0, seed=seed + 1, closure=closure)
            grad = _run(fn, f, x, h)
            steps = _steps(f.points, x0)
            used = step if step is not None else _step_used(steps)  # the default, as the calls show it
            if used is not None:
                problem = _diagnose_steps(steps, shape, used)
                if problem:
                    raise CheckFailure(f"numerical_gradient: {problem}")
            err = rel_error_reference(grad, f.gradient(x0))
            if not err <= _TOL:
                raise CheckFailure(_accuracy_message(err, offset, used, h))
            worst = max(worst, err)
    return worst


def _accuracy_message(err: float, offset: float, step: float | None, h: float | None) -> str:
    shown = (
        f"the default h (your calls moved x by {step:.3g})"
        if h is None and step is not None
        else f"h = {step}"
    )
    msg = f"numerical_gradient is not accurate enough with {shown}: relative error {err:.3g} > {_TOL:g}"
    if step is not None and step > 3e-4:
        return (
            msg + ". h is too large: the centered difference's error grows like h^2; use h = 1e-5 in float64"
        )
    if step is not None and step < 1e-6:
        return (
            msg + f". h is too small: f(x + h) - f(x - h) loses digits to rounding (f is about {offset:g} "
            "here, float64 keeps 16 digits); use h = 1e-5 in float64"
        )
    return msg + ". Use the centered difference (f(x + h e_i) - f(x - h e_i)) / (2h) with h = 1e-5"


# ----------------------------------------------------------------------------- rel_error
def _rel_cases(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4, 3))
    b = a + rng.normal(scale=1e-3, size=a.shape)
    b[0, 0] += 0.5
    c = rng.normal(size=5) * 3
    return [
        (a, b),
        (c, -c + rng.normal(scale=0.1, size=5)),
        (np.zeros(3), np.zeros(3)),
        (np.full(4, 1e-12), np.full(4, 3e-12)),
        (rng.normal(size=(2, 2)), rng.normal(size=(2, 2))),
    ]


def _rel_mistakes(a: np.ndarray, b: np.ndarray) -> dict:
    d = np.abs(a - b)
    return {
        "no max(1e-8, ...) floor in the denominator: two tiny gradients look far apart": lambda: (
            float(np.max(d)) / float(np.max(np.abs(a) + np.abs(b)))
        ),
        "the mean difference instead of the largest: use np.max": lambda: (
            float(np.mean(d)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b))))
        ),
        "norms (||a - b|| / (||a|| + ||b||)); this course uses the largest elementwise difference over the "
        "largest |a| + |b|": lambda: (
            float(np.linalg.norm(a - b)) / max(1e-8, float(np.linalg.norm(a) + np.linalg.norm(b)))
        ),
        "|a| + |b| without the abs: use np.abs(a) + np.abs(b)": lambda: (
            float(np.max(d)) / max(1e-8, float(np.max(a + b)))
        ),
        "the denominator max|a| + max|b|; use the largest elementwise |a| + |b|": lambda: (
            float(np.max(d)) / max(1e-8, float(np.max(np.abs(a)) + np.max(np.abs(b))))
        ),
        "the difference relative to a alone (max|a - b| / max|a|)": lambda: (
            float(np.max(d)) / max(1e-8, float(np.max(np.abs(a))))
        ),
    }


def check_rel_error(fn: Callable, *, seed: int = 0) -> float:
    """Check ``rel_error(a, b) -> float`` on arrays where the usual mistakes give other numbers.

    Args:
        fn: the student's function.
        seed: seed of the arrays.

    Returns:
        The largest absolute deviation from the reference (0 for a right answer up to rounding).
    """
    worst = 0.0
    for a, b in _rel_cases(seed):
        ka, kb = a.copy(), b.copy()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            got = call(fn, a, b, name="rel_error")
        if not (np.array_equal(a, ka) and np.array_equal(b, kb)):
            raise CheckFailure("rel_error modified its inputs; compute on new arrays")
        if np.ndim(got) != 0:
            raise CheckFailure(
                f"rel_error returned an array of shape {np.shape(got)}; it returns one number, the largest "
                "difference over the largest |a| + |b|"
            )
        try:
            value = float(got)
        except (TypeError, ValueError):
            raise CheckFailure(f"rel_error returned {type(got).__name__}; it must return a number") from None
        expected = rel_error_reference(a, b)
        if np.isnan(value):
            raise CheckFailure(
                "rel_error of two arrays of zeros returned nan (0 / 0): divide by "
                "max(1e-8, max(|a| + |b|)); the floor 1e-8 is what makes two zero gradients agree"
                if not np.any(a) and not np.any(b)
                else f"rel_error returned nan for arrays of shape {a.shape}, expected {expected:.10g}"
            )
        if not abs(value - expected) <= 1e-12 + 1e-9 * abs(expected):
            with np.errstate(all="ignore"):
                mistake = match_mistake(value, _rel_mistakes(a, b), rtol=1e-9)
            hint = f": you computed {mistake}" if mistake else ""
            raise CheckFailure(
                f"rel_error of arrays of shape {a.shape} "
                f"(largest |a| + |b| = {np.max(np.abs(a) + np.abs(b)):.3g}) returned {value:.10g}, "
                f"expected {expected:.10g}{hint}"
            )
        worst = max(worst, abs(value - expected))
    return worst
