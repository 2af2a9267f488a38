"""Checks for lesson 02 (activations): values, derivatives at the kinks, stability, dead units.

:func:`check_activation` grades any of gradlib's activations or derivatives (``"sigmoid"``,
``"leaky_relu_grad"``, ...) against :mod:`gradlib.activations` on inputs that contain the kink
``x = 0`` exactly and, with ``extreme=True``, values as large as ``±1e4``. The student's function runs
with NumPy's floating-point errors turned into exceptions, so an ``exp`` that overflows (a warning that
would otherwise reach stderr) fails the check with a message that says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlib import activations as ref
from gradlib import diagnostics
from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype, describe

__all__ = ["EXTREMES", "check_activation", "check_dead_fraction", "dead_fraction_reference"]

#: Inputs that overflow a naive ``exp`` (``exp(800)`` is inf in float64).
EXTREMES = np.array([-1e4, -800.0, -50.0, -1e-9, 0.0, 1e-9, 50.0, 800.0, 1e4])

_PARAM = {"leaky_relu": "negative_slope", "elu": "alpha"}


def _base(name: str) -> str:
    return name[: -len("_grad")] if name.endswith("_grad") else name


def _reference(name: str, param: float | None) -> Callable[[np.ndarray], np.ndarray]:
    fn = getattr(ref, name)
    return fn if param is None else (lambda x: fn(x, param))


def _inputs(shape: tuple[int, ...], seed: int, extreme: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=3.0, size=shape)
    flat = x.reshape(-1)
    flat[0] = 0.0  # the kink, exactly
    flat[1 % flat.size] = -0.0
    if extreme:
        x = np.concatenate([flat, EXTREMES])
    return x


def _mistakes(name: str, x: np.ndarray, p: float | None) -> dict[str, Any]:
    """Known wrong answers for activation ``name`` at ``x`` (parameter ``p``), as zero-arg callables."""
    s, t = ref.sigmoid, ref.tanh
    lam, alpha = ref.SELU_SCALE, ref.SELU_ALPHA
    slope = 0.01 if p is None else p
    a = 1.0 if p is None else p
    neg = np.minimum(x, 0.0)
    table: dict[str, dict[str, Any]] = {
        "sigmoid": {
            "sigmoid(-x): a sign error, 1 / (1 + exp(x))": lambda: s(-x),
            "tanh instead of the sigmoid": lambda: t(x),
        },
        "sigmoid_grad": {
            "s(1 - s) with s = x: the formula needs s = sigmoid(x)": lambda: x * (1 - x),
            "sigmoid(x) itself, not its derivative": lambda: s(x),
            "the derivative of tanh, 1 - tanh(x)**2": lambda: 1 - t(x) ** 2,
        },
        "tanh_grad": {
            "1 - x**2: the formula needs t = tanh(x)": lambda: 1 - x**2,
            "1 - tanh(x): the tanh must be squared": lambda: 1 - t(x),
            "tanh(x) itself, not its derivative": lambda: t(x),
        },
        "relu": {"abs(x) instead of max(x, 0)": lambda: np.abs(x), "the identity": lambda: x},
        "relu_grad": {
            "relu'(0) = 1 (x >= 0), but autograd and this course take relu'(0) = 0 (x > 0)": lambda: (
                1.0 * (x >= 0)
            ),
            "relu(x) itself, not its derivative": lambda: ref.relu(x),
        },
        "leaky_relu": {
            "the default slope 0.01 where negative_slope was given": lambda: ref.leaky_relu(x, 0.01),
            "slope applied to the positive side": lambda: np.where(x > 0, slope * x, x),
            "plain ReLU (slope 0)": lambda: ref.relu(x),
        },
        "leaky_relu_grad": {
            "0 on the negative side: that is ReLU's derivative; leaky ReLU's is negative_slope": lambda: (
                1.0 * (x > 0)
            ),
            "derivative 1 at x = 0 (x >= 0); at the kink autograd gives negative_slope (use x > 0)": lambda: (
                np.where(x >= 0, 1.0, slope)
            ),
            "the default slope 0.01 where negative_slope was given": lambda: ref.leaky_relu_grad(x, 0.01),
            "slope * x on the negative side: that is the function, not its derivative": lambda: np.where(
                x > 0, 1.0, slope * x
            ),
        },
        "elu": {
            "alpha = 1 where another alpha was given": lambda: ref.elu(x, 1.0),
            "alpha * exp(x) without the - 1": lambda: np.where(x > 0, x, a * np.exp(neg)),
        },
        "elu_grad": {
            "alpha * (exp(x) - 1) on the negative side: that is the function, not its derivative": lambda: (
                np.where(x > 0, 1.0, a * np.expm1(neg))
            ),
            "derivative 1 at x = 0 (x >= 0); at the kink autograd gives alpha (use x > 0)": lambda: np.where(
                x >= 0, 1.0, a * np.exp(neg)
            ),
            "alpha = 1 where another alpha was given": lambda: ref.elu_grad(x, 1.0),
        },
        "selu": {
            "ELU without SELU's scale": lambda: ref.elu(x, alpha),
            "the scale applied to the negative side only": lambda: np.where(
                x > 0, x, lam * alpha * np.expm1(neg)
            ),
            "the scale applied to the positive side only": lambda: np.where(
                x > 0, lam * x, alpha * np.expm1(neg)
            ),
        },
        "selu_grad": {
            "1 on the positive side: SELU's derivative there is SELU_SCALE": lambda: np.where(
                x > 0, 1.0, lam * alpha * np.exp(neg)
            ),
            "ELU's derivative without SELU's scale": lambda: ref.elu_grad(x, alpha),
            "SELU_SCALE at x = 0 (x >= 0); at the kink autograd gives SELU_SCALE * SELU_ALPHA": lambda: (
                np.where(x >= 0, lam, lam * alpha * np.exp(neg))
            ),
        },
    }
    return table.get(name, {})


def _call_strict(fn: Callable, x: np.ndarray, param: float | None, label: str) -> Any:
    """Call the student's function with floating-point overflow/invalid/divide raised as errors."""
    args = (x,) if param is None else (x, param)

    def strict(*given: Any) -> Any:
        try:
            with (
                warnings.catch_warnings(),
                np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"),
            ):
                warnings.simplefilter("error")
                return fn(*given)
        except (FloatingPointError, RuntimeWarning) as exc:
            raise CheckFailure(
                f"{label} is not numerically stable: NumPy reported '{exc}' for inputs as large as "
                f"|x| = {np.max(np.abs(x)):g}. Never evaluate exp of a large positive number: use exp(-|x|) "
                "(sigmoid) or exp(min(x, 0)) (ELU, SELU), or pick the formula with np.where on x's sign"
            ) from None

    return call(strict if callable(fn) else fn, *args, name=label)


def check_activation(
    fn: Callable,
    name: str,
    *,
    param: float | None = None,
    shape: tuple[int, ...] = (3, 7),
    seed: int = 0,
    extreme: bool = False,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> float:
    """Compare the student's ``fn`` with ``gradlib.activations.<name>`` elementwise.

    Args:
        fn: the student's function, called as ``fn(x)`` or ``fn(x, param)``.
        name: gradlib's name: ``"sigmoid"``, ``"sigmoid_grad"``, ``"tanh_grad"``, ``"relu"``,
            ``"relu_grad"``, ``"leaky_relu"``, ``"leaky_relu_grad"``, ``"elu"``, ``"elu_grad"``,
            ``"selu"``, ``"selu_grad"``.
        param: the negative slope (leaky ReLU) or alpha (ELU); None to use the function's default.
        shape: shape of the random inputs (they include 0 exactly).
        seed: seed of the inputs.
        extreme: also include inputs up to ``±1e4``, and fail on any overflow warning.
        rtol: relative tolerance.
        atol: absolute tolerance.

    Returns:
        The relative error against the reference.

    Raises:
        ValueError: if ``name`` is not one of gradlib's activations or derivatives.
    """
    if not hasattr(ref, name) or _base(name) not in ref.NAMES:
        raise ValueError(f"unknown activation {name!r}; expected one of gradlib.activations' functions")
    x = _inputs(shape, seed, extreme)
    kept = x.copy()
    shown = f"{name}(x)" if param is None else f"{name}(x, {_PARAM[_base(name)]}={param!r})"
    out = _call_strict(fn, x, param, shown)
    assert_unchanged(kept, x, name="x")
    with np.errstate(all="ignore"):
        expected = _reference(name, param)(x)
    check_dtype(out, name=shown)
    out = as_array(out, name=shown, shape=x.shape, hint="an activation returns an array of the input's shape")
    if np.isnan(out).any() and not np.isnan(expected).any():
        where = float(x[np.isnan(out)].ravel()[0])
        raise CheckFailure(
            f"{shown} is not numerically stable: it returned nan at x = {where:g} (an overflow such as "
            "inf / inf or inf - inf). Never evaluate exp of a large positive number"
        )
    with np.errstate(all="ignore"):
        mistake = match_mistake(out, _mistakes(name, x, param), rtol=1e-9)
    if mistake:
        hint = f"you computed {mistake}"
    elif name.startswith("selu") and np.allclose(out, expected, rtol=1e-3, atol=1e-9):
        hint = (
            "close but not exact: use the full constants SELU_ALPHA = 1.6732632423543772848170429916717 "
            "and SELU_SCALE = 1.0507009873554804934193349852946"
        )
    else:
        hint = None
    return assert_close(out, expected, name=shown, rtol=rtol, atol=atol, hint=hint)


# ----------------------------------------------------------------------------- dead units
def dead_fraction_reference(pre_activations: np.ndarray) -> float:
    """Fraction of units (columns) whose pre-activation is ``<= 0`` for every example (row).

    Such a ReLU unit outputs 0 on the whole batch and, since ``relu'(h) = 0`` for ``h <= 0``, passes
    no gradient to its weights: it is dead. Equal to :func:`gradlib.diagnostics.dead_fraction` of
    ``relu(pre_activations)``.

    Taught in lesson 02 (activations).

    Args:
        pre_activations: ``h = x @ W + b``, shape ``(N, H)``.

    Returns:
        dead units / H, a float in [0, 1].
    """
    return diagnostics.dead_fraction(ref.relu(np.asarray(pre_activations, dtype=np.float64)))


def _dead_cases(n: int, units: int, seed: int) -> np.ndarray:
    """Pre-activations with dead, alive, barely-alive and exactly-zero columns."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(n, units))
    kinds = rng.permutation(np.arange(units) % 5)
    for j, kind in enumerate(kinds):
        if kind == 0:  # dead: all negative
            h[:, j] = -np.abs(h[:, j]) - 0.1
        elif kind == 1:  # dead: zeros and negatives (relu'(0) = 0)
            h[:, j] = -np.abs(h[:, j])
            h[rng.integers(n), j] = 0.0
            if n > 1:
                h[0, j] = 0.0
        elif kind == 2:  # alive through a single positive example
            h[:, j] = -np.abs(h[:, j]) - 0.1
            h[rng.integers(n), j] = 0.5
        elif kind == 3:  # alive: all positive
            h[:, j] = np.abs(h[:, j]) + 0.1
    return h


def check_dead_fraction(dead_fraction: Callable, *, n: int = 6, units: int = 10, seed: int = 0) -> float:
    """Check ``dead_fraction(pre_activations) -> float`` on a constructed (n, units) batch.

    Returns:
        The student's (correct) fraction.
    """
    h = _dead_cases(n, units, seed)
    kept = h.copy()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = call(dead_fraction, h, name="dead_fraction")
    assert_unchanged(kept, h, name="pre_activations")
    expected = dead_fraction_reference(h)
    try:
        value = float(np.asarray(got, dtype=np.float64))
    except (TypeError, ValueError):
        raise CheckFailure(
            f"dead_fraction returned {type(got).__name__} {np.shape(got)}; it must return one number"
        ) from None
    if abs(value - expected) <= 1e-12:
        return value
    dead = h <= 0
    mistakes = {
        "the fraction of all entries that are <= 0, not of units dead on the whole batch": dead.mean(),
        "h < 0 where a dead unit has h <= 0 (relu'(0) = 0, so a pre-activation of exactly 0 is dead too)": (
            (h < 0).all(axis=0).mean()
        ),
        "the fraction of examples (rows) instead of units (columns): reduce over axis 0": dead.all(
            axis=1
        ).mean(),
        "units that are <= 0 for ANY example; a dead unit is <= 0 for ALL of them": dead.any(axis=0).mean(),
        "a count of dead units instead of a fraction": float(dead.all(axis=0).sum()),
        "the fraction of alive units": 1.0 - expected,
    }
    mistake = match_mistake(value, mistakes, rtol=1e-12)
    found = None if mistake else describe(value, expected, n=units)
    hint = f": you computed {mistake}" if mistake else (f". Likely cause: {found}" if found else "")
    raise CheckFailure(
        f"dead_fraction of a ({n}, {units}) batch returned {value:g}, expected {expected:g} "
        f"({int(round(expected * units))} of {units} units are <= 0 on every example){hint}"
    )
