"""Low-precision floats and loss scaling: why float16 training loses small gradients, and the fix.

Taught in lesson 07 (diagnosing and fixing, mixed precision).

A binary floating-point format with ``e`` exponent bits and ``m`` stored mantissa bits has

- bias ``2^(e-1) - 1``; largest finite value ``(2 - 2^-m) * 2^bias``;
- smallest normal value ``2^(1 - bias)``; smallest subnormal ``2^(1 - bias - m)``;
- machine epsilon ``2^-m`` (the gap between 1 and the next value).

float16 (e=5, m=10) tops out at 65504 and its smallest subnormal is ``2^-24 ≈ 6e-8``: gradients
below half of that (about 3e-8) round to 0 (*underflow*); those between 3e-8 and 6e-8 round up to
6e-8. bfloat16 (e=8, m=7) has float32's exponent, so float32's range, with only 8 significant bits.

*Loss scaling* multiplies the loss (equivalently the gradient entering the backward pass) by a
factor ``S`` (e.g. ``2^16``) so small gradients land in float16's range, then divides the float16
gradients by ``S`` in float32 before the update. If ``S`` is too large some gradients overflow to inf:
the step is skipped and ``S`` is halved. After ``growth_interval`` steps without overflow ``S`` is
doubled. That is ``torch.amp.GradScaler``'s dynamic loss scaling (:func:`update_scale`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlib import _validate

__all__ = [
    "FORMATS",
    "FloatFormat",
    "cast",
    "float_format",
    "loss_scaled_gradients",
    "underflow_fraction",
    "unscale",
    "update_scale",
]

#: name -> (exponent bits, stored mantissa bits) of the IEEE-style binary formats.
FORMATS = {"float16": (5, 10), "bfloat16": (8, 7), "float32": (8, 23), "float64": (11, 52)}


@dataclass(frozen=True)
class FloatFormat:
    """The range facts of a binary floating-point format (computed from its bit counts).

    Attributes:
        name: the format's name.
        exponent_bits: bits of the exponent.
        mantissa_bits: stored bits of the significand (one more is implicit).
        max: largest finite value.
        smallest_normal: smallest positive normal value (``np.finfo(...).tiny``).
        smallest_subnormal: smallest positive value of all.
        eps: gap between 1 and the next representable value.
    """

    name: str
    exponent_bits: int
    mantissa_bits: int
    max: float
    smallest_normal: float
    smallest_subnormal: float
    eps: float


def float_format(name: str) -> FloatFormat:
    """Range facts of ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``.

    ``max = (2 - 2^-m) 2^bias``, ``smallest_normal = 2^(1-bias)``, ``smallest_subnormal =
    2^(1-bias-m)``, ``eps = 2^-m`` with ``bias = 2^(e-1) - 1``; they agree with ``np.finfo`` and
    ``torch.finfo``.

    Taught in lesson 07 (mixed precision).

    Raises:
        ValueError: if the name is unknown (the message lists the options).
    """
    _validate.choice(name, "format", tuple(FORMATS))
    e, m = FORMATS[name]
    bias = 2 ** (e - 1) - 1
    return FloatFormat(
        name=name,
        exponent_bits=e,
        mantissa_bits=m,
        max=float((2.0 - 2.0**-m) * 2.0**bias),
        smallest_normal=float(2.0 ** (1 - bias)),
        smallest_subnormal=float(2.0 ** (1 - bias - m)),
        eps=float(2.0**-m),
    )


def cast(x: Any, dtype: Any = np.float16) -> np.ndarray:
    """``x`` rounded to ``dtype`` without overflow warnings (too large values become ±inf).

    Taught in lesson 07 (mixed precision).
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.asarray(x).astype(dtype)


def underflow_fraction(x: Any, dtype: Any = np.float16) -> float:
    """Fraction of the nonzero values of ``x`` that become exactly 0 when cast to ``dtype``.

    Taught in lesson 07 (mixed precision).

    Raises:
        ValueError: if ``x`` has no nonzero value.
    """
    x = np.asarray(x, dtype=np.float64)
    nonzero = x != 0
    if not nonzero.any():
        raise ValueError(f"x has no nonzero value (shape {x.shape}); underflow needs something to lose")
    return float(np.mean(cast(x[nonzero], dtype) == 0))


def unscale(grads: Sequence[Any], scale: float) -> tuple[list[np.ndarray], bool]:
    """Divide low-precision gradients by the loss scale in float32; report inf/nan.

    Like ``GradScaler.unscale_``: ``g32 = float32(g16) / scale``, done in float32 because dividing in
    float16 would underflow again.

    Taught in lesson 07 (mixed precision).

    Args:
        grads: the scaled gradients (any float dtype).
        scale: the loss scale ``S`` (> 0).

    Returns:
        ``(grads32, found_inf)``: float32 arrays, and whether any value is inf or nan.

    Raises:
        ValueError: if ``scale`` is not a positive finite number.
        TypeError: if ``scale`` is not a real number.
    """
    scale = _validate.number(scale, "scale", above=0)
    out = [np.asarray(g).astype(np.float32) / np.float32(scale) for g in grads]
    found_inf = not all(bool(np.all(np.isfinite(g))) for g in out)
    return out, found_inf


def loss_scaled_gradients(
    backward: Callable[[np.ndarray], Sequence[np.ndarray]], dout: Any, scale: float
) -> tuple[list[np.ndarray], bool]:
    """Run a float16 backward pass with loss scaling; return float32 gradients and an overflow flag.

    ``g = backward(float16(dout * S))`` then ``(float32(g) / S, any non-finite)``. The multiplication
    happens in float32 before the cast, so ``dout`` itself does not underflow.

    Taught in lesson 07 (mixed precision).

    Args:
        backward: maps a float16 upstream gradient to a list of float16 parameter gradients.
        dout: the unscaled upstream gradient ``dLoss/dout`` (any float dtype).
        scale: the loss scale ``S``.

    Returns:
        ``(grads32, found_inf)`` as :func:`unscale` returns them.
    """
    scale = _validate.number(scale, "scale", above=0)
    scaled = cast(np.asarray(dout, dtype=np.float32) * np.float32(scale), np.float16)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        grads = backward(scaled)
    return unscale(grads, scale)


def update_scale(
    scale: float,
    growth_tracker: int,
    found_inf: bool,
    *,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
) -> tuple[float, int]:
    """One step of dynamic loss scaling, exactly ``torch._amp_update_scale_`` (GradScaler.update).

    If ``found_inf``: the optimizer step is skipped, ``scale *= backoff_factor``, tracker = 0.
    Otherwise tracker += 1, and when it reaches ``growth_interval``: ``scale *= growth_factor``,
    tracker = 0.

    Taught in lesson 07 (mixed precision).

    Args:
        scale: the current loss scale.
        growth_tracker: consecutive steps without inf/nan so far.
        found_inf: whether this step's gradients had inf or nan.
        growth_factor: factor applied after ``growth_interval`` good steps (> 1).
        backoff_factor: factor applied after an overflow (in (0, 1)).
        growth_interval: good steps between two growths (>= 1).

    Returns:
        ``(new_scale, new_growth_tracker)``.

    Raises:
        ValueError: if a factor or the interval is out of range (the message names it).
        TypeError: if a factor or the scale is not a number, or the interval not an integer.
    """
    scale = _validate.number(scale, "scale", above=0)
    growth_factor = _validate.number(growth_factor, "growth_factor", above=1)
    backoff_factor = _validate.number(backoff_factor, "backoff_factor", above=0, below=1)
    growth_interval = _validate.integer(growth_interval, "growth_interval", at_least=1)
    if found_inf:
        return float(np.float32(scale) * np.float32(backoff_factor)), 0
    tracker = int(growth_tracker) + 1
    if tracker == growth_interval:
        return float(np.float32(scale) * np.float32(growth_factor)), 0
    return scale, tracker
