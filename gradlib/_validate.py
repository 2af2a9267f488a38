"""Argument checks shared by every gradlib module: one error type per kind of bad input, one dtype policy.

Each public function validates its arguments here, at the boundary, so every module answers bad input
the same way:

- **Wrong type** (a string where a number belongs, ``2.5`` where an integer belongs, a seed where a
  ``np.random.Generator`` belongs, an array of strings): :class:`ArgumentTypeError`, a ``TypeError``.
- **Right type, wrong value** (a negative std, a name that is not one of the options, a wrong shape):
  ``ValueError``.

Every message names the argument, shows the bad value with ``repr`` and says what is allowed, e.g.
``mode 'fan_sum' is not one of fan_in, fan_out, fan_avg`` or ``std must be a finite number >= 0, got
-1.0``.

:class:`ArgumentTypeError` also derives from ``ValueError``: some gradlib functions used to raise
``ValueError`` for a wrong type (``MLP(width=2.5)``), and code that catches ``ValueError`` there keeps
working.

Dtype policy: an array of a floating dtype keeps it (float16, float32 and float64 come back in the same
dtype, so a lesson can watch float32 overflow); an integer or bool array becomes float64; any other
dtype (complex, string, object) is a wrong type. Mixed inputs follow NumPy's promotion (float32 with
float64 gives float64). Scalars come back as Python ``float`` or ``int``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "ArgumentTypeError",
    "choice",
    "compatible",
    "float_array",
    "generator",
    "integer",
    "number",
    "shaped_like",
]


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type; a ``TypeError``, and a ``ValueError`` for older callers."""


def _kind(value: Any) -> str:
    """``repr`` of ``value`` with its type name, e.g. ``'0.1' (str)``."""
    return f"{value!r} ({type(value).__name__})"


def _range_text(
    at_least: float | None, above: float | None, at_most: float | None, below: float | None
) -> str:
    """Describe the allowed range: ``" >= 0"``, ``" > 0"``, ``" in [0, 1)"``, or ``""`` for any."""
    low = (at_least, "[", ">=") if at_least is not None else (above, "(", ">") if above is not None else None
    high = (at_most, "]", "<=") if at_most is not None else (below, ")", "<") if below is not None else None
    if low and high:
        return f" in {low[1]}{low[0]:g}, {high[0]:g}{high[1]}"
    bound = low or high
    return f" {bound[2]} {bound[0]:g}" if bound else ""


def number(
    value: Any,
    name: str,
    *,
    finite: bool = True,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
) -> float:
    """Return ``value`` as a float after checking it is a real number (not a bool) in the given range.

    Args:
        value: the argument.
        name: its name, for the message.
        finite: reject inf and NaN.
        at_least: inclusive lower bound, or None.
        above: exclusive lower bound, or None.
        at_most: inclusive upper bound, or None.
        below: exclusive upper bound, or None.

    Returns:
        ``float(value)``.

    Raises:
        ArgumentTypeError: if ``value`` is not a real number.
        ValueError: if it is not finite (when ``finite``) or outside the range.
    """
    allowed = ("a finite number" if finite else "a number") + _range_text(at_least, above, at_most, below)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be {allowed}, got {_kind(value)}")
    v = float(value)
    ok = not (finite and not math.isfinite(v)) and not math.isnan(v)
    ok = ok and (at_least is None or v >= at_least) and (above is None or v > above)
    ok = ok and (at_most is None or v <= at_most) and (below is None or v < below)
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return v


def integer(value: Any, name: str, *, at_least: int | None = None, at_most: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool) in ``[at_least, at_most]``.

    Raises:
        ArgumentTypeError: if ``value`` is not an integer (``2.5`` and ``True`` are not).
        ValueError: if it is outside the range.
    """
    allowed = "an integer" + _range_text(at_least, None, at_most, None)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {allowed}, got {_kind(value)}")
    if (at_least is not None and value < at_least) or (at_most is not None and value > at_most):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def choice(value: Any, name: str, options: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``options``; else raise ValueError naming it and the options.

    Raises:
        ValueError: ``"mode 'fan_sum' is not one of fan_in, fan_out, fan_avg"``.
    """
    try:
        known = value in options
    except TypeError:  # an unhashable value looked up in a dict or set of options
        known = False
    if not known:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(map(str, options))}")
    return value


def generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` after checking it is a ``numpy.random.Generator`` (not a seed, not a RandomState).

    Raises:
        ArgumentTypeError: naming what was passed instead.
    """
    if not isinstance(rng, np.random.Generator):
        raise ArgumentTypeError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), got {_kind(rng)}"
        )
    return rng


def float_array(value: Any, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a floating ndarray under gradlib's dtype policy (see the module docstring).

    A floating array is returned as is (no copy); integer and bool arrays are converted to float64.

    Raises:
        ArgumentTypeError: if the dtype is not real (complex, string, object).
        ValueError: if ``ndim`` is given and the array has another number of dimensions.
    """
    arr = np.asarray(value)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise ArgumentTypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


def shaped_like(value: Any, shape: tuple[int, ...], name: str = "dout") -> np.ndarray:
    """Return ``value`` as a floating array after checking it has ``shape`` (a forward output's shape).

    Raises:
        ArgumentTypeError: if the dtype is not real.
        ValueError: ``"dout has shape (3, 5), expected the forward output's shape (5, 3)"``.
    """
    arr = float_array(value, name)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} has shape {arr.shape}, expected the forward output's shape {tuple(shape)}")
    return arr


def compatible(
    ok: bool, a: str, a_shape: tuple[int, ...], b: str, b_shape: tuple[int, ...], rule: str
) -> None:
    """Raise ValueError ``"<a> has shape .. but <b> has shape ..: <rule>"`` unless ``ok``.

    Raises:
        ValueError: e.g. ``"x has shape (2, 3) but W has shape (4, 5): x.shape[1] must equal W.shape[0]"``.
    """
    if not ok:
        raise ValueError(f"{a} has shape {tuple(a_shape)} but {b} has shape {tuple(b_shape)}: {rule}")
