"""The building blocks of every graded check.

A check function calls a student's function, compares the result with gradlib's reference, and either
returns a number (the worst relative error, a measured statistic, ...) or raises :class:`CheckFailure`
whose message says, in the student's terms, what is wrong and, where a known mistake explains it, which
mistake. Checks never print to stderr and never rely on ``np.testing`` (which a submission could replace).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = [
    "CheckFailure",
    "as_array",
    "assert_close",
    "assert_unchanged",
    "call",
    "expect_value_error",
    "format_pair",
    "match_mistake",
    "quiet",
    "rel_error",
]


class CheckFailure(AssertionError):
    """A graded check found a wrong answer; the message says what is wrong."""


def call(fn: Callable[..., Any], *args: Any, name: str | None = None, **kwargs: Any) -> Any:
    """Call a student's function, turning its exceptions into a readable :class:`CheckFailure`.

    Args:
        fn: the student's function.
        *args: positional arguments for ``fn``.
        name: how to call the function in messages (default: ``fn.__name__``).
        **kwargs: keyword arguments for ``fn``.

    Returns:
        Whatever ``fn`` returns.

    Raises:
        CheckFailure: if ``fn`` is not callable, is not implemented yet, or raises.
    """
    label = name or getattr(fn, "__name__", repr(fn))
    if not callable(fn):
        raise CheckFailure(f"{label} is not a function (got {type(fn).__name__})")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(
            f"{label} is not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except CheckFailure:
        raise
    except ZeroDivisionError as exc:
        raise CheckFailure(
            f"{label} raised ZeroDivisionError: {exc}. Some input here is zero (an all-zero gradient or "
            "norm is one of the cases the lesson defines); guard the division"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any student error becomes a graded failure
        raise CheckFailure(f"{label} raised {type(exc).__name__}: {exc}{_hint(exc)}") from None


def expect_value_error(
    fn: Callable[..., Any], *args: Any, name: str, what: str, why: str, **kwargs: Any
) -> None:
    """Call a student's function on input the lesson defines as invalid; it must raise ValueError.

    Args:
        fn: the student's function.
        *args: positional arguments for ``fn``.
        name: the function's name, for "not implemented yet".
        what: the call as the student would write it (e.g. ``"sgd_step(..., clip='l2')"``).
        why: why this input is invalid, in the lesson's terms.
        **kwargs: keyword arguments for ``fn``.

    Raises:
        CheckFailure: if ``fn`` returns, or raises anything but ValueError (a CheckFailure raised
            inside, e.g. by a time limit, passes through).
    """
    try:
        got = fn(*args, **kwargs)
    except ValueError:
        return
    except NotImplementedError:
        raise CheckFailure(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` with your code"
        ) from None
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - any other error is a wrong answer
        raise CheckFailure(
            f"{what} raised {type(exc).__name__}: {exc}; it must raise ValueError: {why}"
        ) from None
    shown = (
        repr(got)
        if got is None or isinstance(got, int | float | str | np.number)
        else f"a {type(got).__name__}"
    )
    raise CheckFailure(f"{what} returned {shown}; it must raise ValueError: {why}")


@contextmanager
def quiet() -> Iterator[None]:
    """Silence NumPy floating-point warnings and Python warnings raised by the student's code."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _hint(exc: Exception) -> str:
    """Advice for errors whose NumPy wording hides the usual cause ('' when there is none)."""
    if isinstance(exc, ValueError) and "Output operand" in str(exc):
        return (
            ". An in-place operation (`a @= W`, `a += b`, `out=`) writes into an existing array, which "
            "cannot change its shape: write `a = a @ W` instead"
        )
    return ""


def as_array(
    value: Any, *, name: str, shape: tuple[int, ...] | None = None, hint: str | None = None
) -> np.ndarray:
    """Copy a returned value into a plain float64 ndarray, checking its shape.

    Args:
        value: what the student's function returned.
        name: what the value is, for messages (e.g. ``"dx"``).
        shape: the expected shape, or None to accept any.
        hint: extra text for a shape mismatch (e.g. ``"did you transpose W?"``).

    Returns:
        A new ``np.ndarray`` of dtype float64 (never a subclass, never a view of the input).

    Raises:
        CheckFailure: if the value is None, not numeric, or has the wrong shape.
    """
    if value is None:
        raise CheckFailure(f"{name} is None: did you forget to `return` it?")
    try:
        arr = np.array(value, dtype=np.float64, copy=True, subok=False)
    except (TypeError, ValueError) as exc:
        raise CheckFailure(f"{name} is not a numeric array ({type(value).__name__}): {exc}") from None
    if type(arr) is not np.ndarray:  # defensive: a subclass that survived the copy
        arr = np.asarray(arr).view(np.ndarray).copy()
    if shape is not None and arr.shape != tuple(shape):
        extra = f": {hint}" if hint else ""
        if arr.ndim == 2 and arr.shape == tuple(shape)[::-1]:
            extra = f" (the transpose of that shape: swap the axes){extra}"
        raise CheckFailure(f"{name} has shape {arr.shape}, expected {tuple(shape)}{extra}")
    return arr


def rel_error(got: np.ndarray, expected: np.ndarray) -> float:
    """Relative error ``max|a - b| / max(1e-8, max(|a| + |b|))`` (cs231n's definition)."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.size == 0:
        return 0.0
    num = float(np.max(np.abs(got - expected)))
    den = max(1e-8, float(np.max(np.abs(got) + np.abs(expected))))
    return num / den


def _worst_index(got: np.ndarray, expected: np.ndarray) -> tuple[int, ...]:
    diff = np.abs(got - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), got.shape))


def assert_close(
    got: Any,
    expected: Any,
    *,
    name: str,
    rtol: float = 1e-7,
    atol: float = 1e-12,
    hint: str | None = None,
    n: int | None = None,
    advice: str | None = None,
) -> float:
    """Compare a student's array with the reference, elementwise ``|g - e| <= atol + rtol * |e|``.

    Args:
        got: the student's value (converted with :func:`as_array`, shape must match).
        expected: the reference value.
        name: what is compared, for messages.
        rtol: relative tolerance.
        atol: absolute tolerance.
        hint: appended to the failure message (e.g. the likely mistake). Without one, the message ends
            with :func:`gradlib.checks.diagnosis.describe`'s account of how the values relate (a constant
            factor, a sign flip, a transpose, float32 rounding, off by one, nan/inf), when it finds one.
        n: a size N of the problem (batch, fan_in, ...), so that a factor N or 1/N is named.
        advice: what the right computation is (e.g. a formula), appended last; unlike ``hint`` it does
            not replace the diagnosis.

    Returns:
        The relative error (:func:`rel_error`) between the two.

    Raises:
        CheckFailure: naming the worst element, its value and the expected value.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, name=name, shape=expected.shape)
    ok = np.abs(got - expected) <= atol + rtol * np.abs(expected)
    ok &= np.isnan(got) == np.isnan(expected)
    ok |= np.isnan(got) & np.isnan(expected)
    if not bool(np.all(ok)):
        idx = _worst_index(got, expected)
        where = f" at index {idx}" if got.ndim else ""
        g_text, e_text = format_pair(float(got[idx]), float(expected[idx]))
        msg = (
            f"{name} is wrong{where}: got {g_text}, expected {e_text} "
            f"({int(np.size(ok) - np.count_nonzero(ok))} of {np.size(ok)} values differ)"
        )
        if hint is None:
            from gradlib.checks.diagnosis import describe  # imports this module

            try:
                found = describe(got, expected, n=n)
            except Exception:  # noqa: BLE001 - a diagnosis must never hide the failure itself
                found = None
            hint = f"Likely cause: {found}." if found else None
        msg += f". {hint}" if hint else ""
        raise CheckFailure(msg.rstrip(".") + f". {advice}" if advice else msg)
    return rel_error(got, expected)


def format_pair(a: float, b: float) -> tuple[str, str]:
    """Print two numbers with the fewest significant digits (at least 6) that show they differ."""
    for digits in range(6, 18):
        a_text, b_text = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if a_text != b_text:
            return a_text, b_text
    return repr(a), repr(b)


def assert_unchanged(before: np.ndarray, after: np.ndarray, *, name: str) -> None:
    """Raise if an input array was modified in place by the student's function."""
    if before.shape != after.shape or not np.array_equal(before, after, equal_nan=True):
        raise CheckFailure(
            f"your function modified its input {name} in place; work on a copy "
            f"(e.g. `{name} = {name}.copy()` or build a new array)"
        )


def match_mistake(
    got: Any,
    candidates: Mapping[str, Any],
    *,
    rtol: float = 1e-6,
    atol: float = 1e-12,
) -> str | None:
    """Return the description of the known mistake whose output equals ``got``, or None.

    Args:
        got: the student's (wrong) value.
        candidates: mistake description -> the value that mistake produces (or a zero-argument
            callable computing it, so that costly candidates are only built when needed).
        rtol: relative tolerance of the match.
        atol: absolute tolerance of the match.

    Returns:
        The first matching description, or None.
    """
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    for description, value in candidates.items():
        try:
            value = np.asarray(value() if callable(value) else value, dtype=np.float64)
        except (TypeError, ValueError, ArithmeticError):
            continue
        if value.shape == got.shape and np.allclose(got, value, rtol=rtol, atol=atol):
            return description
    return None
