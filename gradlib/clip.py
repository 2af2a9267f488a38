"""Gradient clipping: by value, by norm per array, and by the global norm of all arrays.

``grads`` is a list (or tuple) of arrays, one per parameter, or a dict ``{name: array}``; every
function returns the same container type with new arrays and never modifies the arrays it was given.

- By value (Keras ``clipvalue``, ``torch.nn.utils.clip_grad_value_``): every component into
  ``[-c, c]``. It can change the direction: ``[0.9, 100]`` with ``c = 1`` becomes ``[0.9, 1]``.
- By norm, each array on its own (Keras ``clipnorm``): ``g * c / ||g||`` when ``||g|| > c``.
  ``[0.9, 100]`` with ``c = 1`` becomes about ``[0.0090, 0.99996]`` (0.9 / 100.004 = 0.0089996): the
  direction is kept.
- By global norm (``torch.nn.utils.clip_grad_norm_``, Keras ``global_clipnorm``): with
  ``total = sqrt(sum_i ||g_i||^2)``, every array is multiplied by
  ``coef = min(1, max_norm / (total + 1e-6))``; ``total`` (before clipping) is returned too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from gradlib import _validate

__all__ = ["clip_by_global_norm", "clip_by_norm", "clip_by_value", "global_norm"]

_EPS = 1e-6  # added to the total norm by torch.nn.utils.clip_grad_norm_


def _items(grads: object) -> tuple[list, list[np.ndarray]]:
    """Split ``grads`` into keys (dict) or positions (list/tuple) and floating arrays; raise on others."""
    if isinstance(grads, Mapping):
        keys = list(grads.keys())
        values = [grads[k] for k in keys]
    elif isinstance(grads, (list, tuple)):
        keys = list(range(len(grads)))
        values = list(grads)
    else:
        raise _validate.ArgumentTypeError(
            f"grads must be a list, tuple or dict of arrays, got {type(grads).__name__}"
        )
    return keys, [_validate.float_array(v, f"grads[{k!r}]") for k, v in zip(keys, values, strict=True)]


def _rebuild(grads: object, keys: list, arrays: list[np.ndarray]) -> object:
    """Return the new arrays in the container type of ``grads`` (dict, list or tuple)."""
    if isinstance(grads, Mapping):
        return dict(zip(keys, arrays, strict=True))
    if isinstance(grads, tuple):
        return tuple(arrays)
    return list(arrays)


def clip_by_value(grads, clip_value: float):
    """Clip every component of every gradient into ``[-clip_value, clip_value]``.

    ``clipped_i = min(max(g_i, -c), c)``, like ``torch.nn.utils.clip_grad_value_`` and Keras
    ``clipvalue``; this can change the gradient's direction.

    Taught in lesson 05 (gradient clipping).

    Args:
        grads: list, tuple or dict of gradient arrays (any shapes).
        clip_value: the bound ``c >= 0``.

    Returns:
        The same container type holding new clipped arrays.

    Raises:
        ValueError: if ``clip_value`` is negative or not finite.
        TypeError: if ``grads`` is not a list, tuple or dict of numeric arrays, or a bound not a number.
    """
    c = _validate.number(clip_value, "clip_value", at_least=0)
    keys, arrays = _items(grads)
    return _rebuild(grads, keys, [np.clip(a, -c, c) for a in arrays])


def clip_by_norm(grads, max_norm: float):
    """Rescale each gradient array on its own so that its L2 norm is at most ``max_norm``.

    ``clipped = g * max_norm / ||g||`` when ``||g|| > max_norm``, else ``g`` unchanged (Keras
    ``clipnorm``, TensorFlow ``clip_by_norm``): the direction of each array is kept, but the
    relative sizes of different arrays are not.

    Taught in lesson 05 (gradient clipping).

    Args:
        grads: list, tuple or dict of gradient arrays (any shapes).
        max_norm: the largest allowed norm per array, > 0.

    Returns:
        The same container type holding new arrays.

    Raises:
        ValueError: if ``max_norm`` is not a finite number > 0.
        TypeError: if ``grads`` is not a list, tuple or dict of numeric arrays, or a bound not a number.
    """
    c = _validate.number(max_norm, "max_norm", above=0)
    keys, arrays = _items(grads)
    clipped = []
    for a in arrays:
        norm = float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
        clipped.append(a * (c / norm) if norm > c else a.copy())
    return _rebuild(grads, keys, clipped)


def global_norm(grads) -> float:
    """Return ``sqrt(sum_i ||g_i||^2)``, the L2 norm of all gradients seen as one long vector.

    Taught in lesson 05 (gradient clipping).

    Args:
        grads: list, tuple or dict of gradient arrays (any shapes).

    Returns:
        The global norm as a Python float (computed in float64).

    Raises:
        TypeError: if ``grads`` is not a list, tuple or dict of numeric arrays.
    """
    _, arrays = _items(grads)
    return float(math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays)))


def clip_by_global_norm(grads, max_norm: float):
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    ``total = sqrt(sum_i ||g_i||^2)``; ``coef = min(1, max_norm / (total + 1e-6))``;
    ``clipped_i = g_i * coef``: the semantics of ``torch.nn.utils.clip_grad_norm_`` (Keras
    ``global_clipnorm``). Gradients whose global norm is already small come back unchanged (as
    copies).

    Taught in lesson 05 (gradient clipping).

    Args:
        grads: list, tuple or dict of gradient arrays (any shapes).
        max_norm: the largest allowed global norm, > 0.

    Returns:
        ``(clipped, total_norm)``: the same container type holding new arrays, and the global norm
        *before* clipping, a Python float.

    Raises:
        ValueError: if ``max_norm`` is not a finite number > 0.
        TypeError: if ``grads`` is not a list, tuple or dict of numeric arrays, or a bound not a number.
    """
    c = _validate.number(max_norm, "max_norm", above=0)
    keys, arrays = _items(grads)
    total = global_norm(grads)
    coef = min(1.0, c / (total + _EPS))
    clipped = [a * coef if coef < 1.0 else a.copy() for a in arrays]
    return _rebuild(grads, keys, clipped), total
