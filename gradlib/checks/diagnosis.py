"""Generic checks for every exercise's output, and a diagnosis of how a wrong output relates to the answer.

Any lesson's checks can call these; each raises :class:`~gradlib.checks.core.CheckFailure` with a complete
message of a few lines, or returns quietly.

**Generic checks** (call them on what the student's function returned or was given):

- ``check_dtype(value, name=..., dtype=np.float64)``: the result is an ndarray (or scalar) of that dtype;
  a float32 result, a bool mask or an int array where float64 was asked is named as such.
- ``check_keys(result, expected_keys, name=...)``: a dict has exactly the expected keys, in any order
  (pass ``ordered=True`` only where the lesson says order matters).
- ``call_pure(fn, *args, name=..., **kwargs)``: call the student's function on copies of its array
  arguments (also inside lists, tuples and dicts) and fail if it modified any of them.
- ``check_default(fn, param, value, name=...)``: the function's keyword ``param`` defaults to the
  lesson's ``value`` (skipped for a ``**kwargs`` wrapper, such as the grader's clean-room proxy); also
  call it without that argument and compare, since only a call shows what a wrapped default does.

**Diagnosis** (``describe(got, expected, n=None)``): when an array is wrong, return one sentence saying
how it relates to the right answer, or None. The relations tried, in order: NaN or inf where the answer
is finite; the transpose; a sign flip; a constant factor (2, 1/2, √2, 1/√2, 100, N or 1/N for a given ``n``,
or any other constant, printed); float32 rounding of the right answer; the sequence shifted by one
(off-by-one depth or index); the right values along another axis (a reduction over the wrong axis, when
``axis_of`` gives the full array). :func:`gradlib.checks.core.assert_close` appends it to its message when
no known mistake matched, so every lesson's checks get it without extra code.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from gradlib.checks.core import CheckFailure, call

__all__ = ["call_pure", "check_default", "check_dtype", "check_keys", "describe"]


# ----------------------------------------------------------------------------- generic checks
def check_dtype(value: Any, *, name: str, dtype: Any = np.float64) -> None:
    """Fail unless ``value`` is an array or scalar of ``dtype`` (Python floats count as float64)."""
    want = np.dtype(dtype)
    if isinstance(value, bool) or isinstance(value, np.bool_):
        got = np.dtype(bool)
    elif isinstance(value, float) and want == np.float64:
        return
    elif isinstance(value, int) and not isinstance(value, bool) and want.kind == "i":
        return
    else:
        got = getattr(value, "dtype", None)
        if got is None:
            got = np.asarray(value).dtype
    if got == want:
        return
    why = {
        "f": f"{got} keeps fewer digits than {want}: compute in {want} (no astype({got}) or {got} constants)",
        "b": "a boolean mask is not a number: convert it, e.g. mask.astype(np.float64)",
        "i": f"integers where {want} was asked: use float arithmetic (e.g. / instead of //, or astype)",
        "u": f"unsigned integers where {want} was asked",
        "O": "an object array: return a numeric numpy array, not a list of mixed things",
    }.get(np.dtype(got).kind, f"convert it to {want}")
    raise CheckFailure(f"{name} has dtype {got}; the lesson asks for {want}. {why}.")


def check_keys(result: Any, expected_keys: Iterable[Any], *, name: str, ordered: bool = False) -> None:
    """Fail unless ``result`` is a dict with exactly ``expected_keys`` (in that order if ``ordered``)."""
    expected = list(expected_keys)
    if not isinstance(result, Mapping):
        raise CheckFailure(f"{name} must be a dict with the keys {expected}, got a {type(result).__name__}")
    got = list(result.keys())
    missing = [k for k in expected if k not in result]
    extra = [k for k in got if k not in expected]
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise CheckFailure(f"{name} has the keys {got}: {', '.join(parts)}; expected the keys {expected}")
    if ordered and got != expected:
        raise CheckFailure(f"{name} has the keys in the order {got}; this exercise asks for {expected}")


def _copy_args(value: Any) -> Any:
    return copy.deepcopy(value)


def _arrays_in(value: Any, path: str) -> list[tuple[str, np.ndarray]]:
    if isinstance(value, np.ndarray):
        return [(path, value)]
    if isinstance(value, Mapping):
        return [item for k, v in value.items() for item in _arrays_in(v, f"{path}[{k!r}]")]
    if isinstance(value, list | tuple):
        return [item for i, v in enumerate(value) for item in _arrays_in(v, f"{path}[{i}]")]
    return []


def call_pure(fn: Callable[..., Any], *args: Any, name: str, **kwargs: Any) -> Any:
    """Call ``fn`` on deep copies of its arguments; fail if it changed any array it was given.

    Returns:
        What ``fn`` returned.
    """
    given_args, given_kwargs = _copy_args(args), _copy_args(kwargs)
    result = call(fn, *given_args, name=name, **given_kwargs)
    params = list(inspect.signature(fn).parameters) if callable(fn) else []
    labels = [params[i] if i < len(params) else f"argument {i + 1}" for i in range(len(args))]
    pairs = [*zip(labels, args, given_args, strict=True)] + [(k, kwargs[k], given_kwargs[k]) for k in kwargs]
    for label, before, after in pairs:
        for (path, b), (_, a) in zip(_arrays_in(before, label), _arrays_in(after, label), strict=False):
            if b.shape != a.shape or not np.array_equal(b, a, equal_nan=True):
                raise CheckFailure(
                    f"{name} modified its input {path} in place; work on a copy (e.g. `{label} = "
                    f"{label}.copy()`, or build new arrays) so that the caller's values stay as they were"
                )
    return result


def check_default(fn: Callable[..., Any], param: str, value: Any, *, name: str) -> None:
    """Fail unless ``fn``'s keyword ``param`` exists and defaults to ``value`` (the lesson's default)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return  # a builtin or C function: nothing to inspect
    kinds = {p.kind for p in parameters.values()}
    if param not in parameters and inspect.Parameter.VAR_KEYWORD in kinds:
        return  # a wrapper such as the grader's clean-room proxy: only calling it can tell
    if param not in parameters:
        raise CheckFailure(f"{name} has no parameter {param!r}; the lesson's signature has {param}={value!r}")
    default = parameters[param].default
    if default is inspect.Parameter.empty:
        raise CheckFailure(f"{name}'s {param} has no default; the lesson's default is {param}={value!r}")
    same_kind = type(default) is type(value) or (_number(default) and _number(value))
    if not (same_kind and default == value):
        raise CheckFailure(f"{name}'s {param} defaults to {default!r}; the lesson's default is {value!r}")


def _number(x: Any) -> bool:
    return isinstance(x, int | float | np.number) and not isinstance(x, bool)


# ----------------------------------------------------------------------------- diagnosis
def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-6) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=1e-12 * (1 + np.max(np.abs(b)))))


_CONSTANTS = {2.0: "2", 0.5: "1/2", math.sqrt(2): "√2", 1 / math.sqrt(2): "1/√2", 3.0: "3", 1 / 3: "1/3"}
_CONSTANTS.update({100.0: "100", 0.01: "1/100"})


def _factor_name(c: float, n: int | None) -> str | None:
    # N and 1/N first (a sum for a mean is the likeliest cause), then the constants, then √N and 1/√N
    named = {float(n): f"N = {n}", 1.0 / n: f"1/N (N = {n})"} if n else {}
    if n and n > 1:
        named.update({n / (n - 1): f"N/(N-1) (N = {n})", (n - 1) / n: f"(N-1)/N (N = {n})"})
    for value, label in _CONSTANTS.items():
        named.setdefault(value, label)
    if n:
        named.setdefault(math.sqrt(n), f"√N (N = {n})")
        named.setdefault(1 / math.sqrt(n), f"1/√N (N = {n})")
    for value, label in named.items():
        if abs(c - value) <= 1e-6 * value:
            return label
    return None


def _constant_factor(got: np.ndarray, expected: np.ndarray, n: int | None) -> str | None:
    mask = np.abs(expected) > 1e-12 * (1 + np.max(np.abs(expected)))
    if not mask.any() or not np.all(np.isfinite(got)):
        return None
    ratios = got[mask] / expected[mask]
    c = float(np.median(ratios))
    if c == 0 or abs(c - 1) < 1e-4:
        return None
    if not np.allclose(got, c * expected, rtol=1e-6, atol=1e-12 * (1 + np.max(np.abs(got)))):
        return None
    if abs(c + 1) < 1e-6:
        return (
            "it is the right answer with the opposite sign: a sign flipped somewhere (+ for -, or a - lost)"
        )
    label = _factor_name(abs(c), n)
    sign = "" if c > 0 else "minus "
    if label is None and mask.sum() < 3:
        return None  # one or two numbers are always "a constant times" the answer
    if label is None:
        return f"it is the right answer times a constant ({c:.6g}): a constant factor is missing or extra"
    hints = {
        "2": "a factor 2 too many (e.g. d(x²) = 2x counted twice)",
        "1/2": "a factor 2 missing (e.g. the 2 of d(x²) = 2x)",
        "√2": "a factor √2 too many (a ReLU gain, or 2 inside a square root)",
        "1/√2": "a factor √2 missing (a ReLU gain, or the 2 inside a square root)",
        "100": "a percentage where a fraction was asked",
        "1/100": "a fraction where a percentage was asked",
    }
    why = hints.get(
        label, "an extra or missing division by N, or a mean where a sum was asked (or the reverse)"
    )
    return f"it is the right answer times {sign}{label}: {why}"


def _float32_rounding(got: np.ndarray, expected: np.ndarray) -> str | None:
    if not np.all(np.isfinite(expected)):
        return None
    with np.errstate(over="ignore"):
        rounded = expected.astype(np.float32).astype(np.float64)
    if np.array_equal(rounded, expected):
        return None
    scale = np.max(np.abs(expected)) + 1e-300
    with np.errstate(over="ignore"):
        representable = np.array_equal(got.astype(np.float32).astype(np.float64), got)
    if representable and np.max(np.abs(got - expected)) / scale <= 1e-5:
        return (
            "it agrees with the answer only to about 7 digits: float32 arithmetic or a float32 cast somewhere"
        )
    return None


def _off_by_one(got: np.ndarray, expected: np.ndarray) -> str | None:
    if got.ndim == 0 and expected.ndim == 0 and float(got - expected) in (1.0, -1.0):
        return f"it is {float(got - expected):+g} from the answer: off by one (count from 0 or 1? < or <=?)"
    if got.ndim != 1 or expected.ndim != 1:
        return None
    if got.size == expected.size - 1 and (_close(got, expected[1:]) or _close(got, expected[:-1])):
        return "it is the answer with one entry too few: off by one (a range that stops one early?)"
    if got.size == expected.size + 1 and (_close(got[1:], expected) or _close(got[:-1], expected)):
        return "it is the answer with one entry too many: off by one (the input counted as a layer?)"
    if got.size == expected.size > 1 and (_close(got[1:], expected[:-1]) or _close(got[:-1], expected[1:])):
        return "it is the answer shifted by one position: off by one (depth or index counted from 0 or 1?)"
    return None


def _wrong_axis(got: np.ndarray, axis_of: Callable[[int], Any] | None, ndim: int) -> str | None:
    if axis_of is None:
        return None
    for axis in range(ndim):
        try:
            alt = np.asarray(axis_of(axis), dtype=np.float64)
        except Exception:  # noqa: BLE001 - an axis the reduction does not accept
            continue
        if alt.shape == got.shape and _close(got, alt):
            return f"it equals the same computation over axis {axis}: the wrong axis"
    return None


def describe(
    got: Any,
    expected: Any,
    *,
    n: int | None = None,
    axis_of: Callable[[int], Any] | None = None,
    ndim: int = 0,
) -> str | None:
    """One sentence on how a wrong ``got`` relates to the right ``expected``, or None if none is found.

    Args:
        got: the student's value.
        expected: the right value.
        n: a size N of the problem (batch size, fan_in, ...) so that factors N, 1/N, N/(N-1) are named.
        axis_of: ``axis -> the right computation done over that axis`` for reductions (wrong axis).
        ndim: the number of axes ``axis_of`` accepts.
    """
    try:
        g = np.array(got, dtype=np.float64)
        e = np.array(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if g.shape == e.shape and np.all(np.isfinite(e)) and not np.all(np.isfinite(g)):
        bad = "nan" if np.isnan(g).any() else "inf"
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
        where = f" at index {idx}" if g.ndim else ""
        return (
            f"it has {bad}{where} where the answer is finite: an overflow or a 0/0 (exp of a large number, "
            "or dividing by a zero norm?)"
        )
    if g.ndim == 2 and g.shape == e.shape[::-1] and g.shape != e.shape and _close(g.T, e):
        return "it is the transpose of the answer: swap the axes (W is (fan_in, fan_out), used as x @ W)"
    if g.shape != e.shape:
        return _off_by_one(g, e) if g.ndim == e.ndim == 1 else None
    for test in (
        lambda: _float32_rounding(g, e),
        lambda: _constant_factor(g, e, n),
        lambda: _off_by_one(g, e),
        lambda: _wrong_axis(g, axis_of, ndim),
    ):
        found = test()
        if found:
            return found
    return None
