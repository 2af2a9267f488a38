"""Elementwise activation functions and their derivatives.

Every function maps an array ``x`` of any shape ``S`` to an array of the same shape ``S``. The
derivative ``<name>_grad(x)`` is the elementwise ``df/dx`` evaluated at ``x`` (not at ``f(x)``), so
the backward pass of an activation layer is ``dx = dout * <name>_grad(x)``. At a kink (``x == 0``
exactly) each derivative takes the value PyTorch's autograd gives there:

- ``sigmoid``: ``f = 1 / (1 + exp(-x))``, ``f' = f (1 - f)``, ``f'(0) = 0.25``.
- ``tanh``: ``f = tanh(x)``, ``f' = 1 - f^2``, ``f'(0) = 1``.
- ``relu``: ``f = max(x, 0)``, ``f' = 1 if x > 0 else 0``, ``f'(0) = 0``.
- ``leaky_relu``: ``f = x if x > 0 else slope * x``, ``f' = 1 if x > 0 else slope``,
  ``f'(0) = slope``.
- ``elu``: ``f = x if x > 0 else alpha (e^x - 1)``, ``f' = 1 if x > 0 else alpha e^x``,
  ``f'(0) = alpha``.
- ``selu``: ``f = scale * elu(x, alpha)`` with SELU's fixed constants, ``f'(0) = scale * alpha``.
- ``linear``: ``f = x``, ``f' = 1``.

All functions are numerically stable: for inputs as large as ``±1e4`` they never evaluate ``exp``
of a large positive number and emit no overflow or invalid-value warnings. Floating inputs keep
their dtype; integer inputs are converted to float64.

:data:`TABLE` holds one :class:`Spec` per activation: function, derivative, gain, PyTorch name and
default hyper-parameters. :func:`get` builds an :class:`Activation` record from it, and
:func:`gradlib.init.calculate_gain`, :mod:`gradlib.checks` and the tests read their gains and functions
from it, so an activation is added in one place.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from gradlib import _validate

__all__ = [
    "NAMES",
    "SELU_ALPHA",
    "SELU_SCALE",
    "TABLE",
    "Activation",
    "Spec",
    "elu",
    "elu_grad",
    "get",
    "leaky_relu",
    "leaky_relu_grad",
    "linear",
    "linear_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
]

#: SELU's alpha (Klambauer et al. 2017, "Self-Normalizing Neural Networks"); PyTorch's value.
SELU_ALPHA = 1.6732632423543772848170429916717
#: SELU's scale (Klambauer et al. 2017); PyTorch's value.
SELU_SCALE = 1.0507009873554804934193349852946


def _as_float(x: Any) -> np.ndarray:
    """Return ``x`` as a floating ndarray (float64 unless it already is floating)."""
    return _validate.float_array(x, "x")


def _check_param(value: Any, name: str) -> float:
    """Validate a scalar hyper-parameter such as ``negative_slope`` or ``alpha``."""
    return _validate.number(value, name)


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    With ``e = exp(-|x|)`` (always <= 1): ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for
    ``x < 0``, so ``exp`` never sees a large positive argument.

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S`` with values in ``[0, 1]``.

    Raises:
        TypeError: if ``x`` is not a real numeric array.
    """
    x = _as_float(x)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: Any) -> np.ndarray:
    """Derivative of the sigmoid: ``s(x) (1 - s(x))``, at most 0.25 (at ``x = 0``).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S``.
    """
    s = sigmoid(x)
    with np.errstate(under="ignore"):
        return s * (1.0 - s)


def tanh(x: Any) -> np.ndarray:
    """Hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)`` (``np.tanh``, stable for any input).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S`` with values in ``[-1, 1]``.
    """
    return np.tanh(_as_float(x))


def tanh_grad(x: Any) -> np.ndarray:
    """Derivative of tanh: ``1 - tanh(x)^2``, equal to 1 at ``x = 0``.

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S``.
    """
    t = tanh(x)
    return 1.0 - t * t


def relu(x: Any) -> np.ndarray:
    """Rectified linear unit ``max(x, 0)`` (NaN stays NaN, as in PyTorch).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S``.
    """
    x = _as_float(x)
    return np.maximum(x, x.dtype.type(0))


def relu_grad(x: Any) -> np.ndarray:
    """Derivative of ReLU: ``1`` where ``x > 0``, else ``0`` (so ``relu'(0) = 0``, like autograd).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S`` holding 0.0 and 1.0.
    """
    x = _as_float(x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``x`` where ``x > 0``, else ``negative_slope * x`` (default slope 0.01).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.
        negative_slope: the slope for ``x <= 0``.

    Returns:
        Array of shape ``S``.

    Raises:
        TypeError: if ``negative_slope`` is not a real number.
        ValueError: if ``negative_slope`` is not finite.
    """
    slope = _check_param(negative_slope, "negative_slope")
    x = _as_float(x)
    return np.where(x > 0, x, x * x.dtype.type(slope))


def leaky_relu_grad(x: Any, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of leaky ReLU: ``1`` where ``x > 0``, else ``negative_slope`` (also at ``x = 0``).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.
        negative_slope: the slope for ``x <= 0``.

    Returns:
        Array of shape ``S``.
    """
    slope = _check_param(negative_slope, "negative_slope")
    x = _as_float(x)
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(slope))


def elu(x: Any, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit (Clevert et al. 2016): ``x`` if ``x > 0``, else ``alpha (e^x - 1)``.

    ``e^x - 1`` is computed with ``expm1`` on ``min(x, 0)``, so large positive inputs never reach
    ``exp``.

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.
        alpha: the saturation value for ``x -> -inf`` is ``-alpha``.

    Returns:
        Array of shape ``S``.

    Raises:
        TypeError: if ``alpha`` is not a real number.
        ValueError: if ``alpha`` is not finite.
    """
    alpha = _check_param(alpha, "alpha")
    x = _as_float(x)
    neg = np.minimum(x, x.dtype.type(0))
    with np.errstate(under="ignore"):
        return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(neg))


def elu_grad(x: Any, alpha: float = 1.0) -> np.ndarray:
    """Derivative of ELU: ``1`` where ``x > 0``, else ``alpha e^x`` (so ``elu'(0) = alpha``).

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.
        alpha: as in :func:`elu`.

    Returns:
        Array of shape ``S``.
    """
    alpha = _check_param(alpha, "alpha")
    x = _as_float(x)
    with np.errstate(under="ignore"):
        e = np.exp(np.minimum(x, x.dtype.type(0)))
        return np.where(x > 0, x.dtype.type(1), x.dtype.type(alpha) * e)


def selu(x: Any) -> np.ndarray:
    """Scaled ELU (Klambauer et al. 2017): ``SELU_SCALE * elu(x, SELU_ALPHA)``.

    With LeCun-normal weights (variance ``1 / fan_in``) SELU networks keep activations near zero
    mean and unit variance layer after layer ("self-normalizing").

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S``.
    """
    x = _as_float(x)
    with np.errstate(under="ignore"):
        return x.dtype.type(SELU_SCALE) * elu(x, SELU_ALPHA)


def selu_grad(x: Any) -> np.ndarray:
    """Derivative of SELU: ``SELU_SCALE`` where ``x > 0``, else ``SELU_SCALE * SELU_ALPHA * e^x``.

    Taught in lesson 02 (activations).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of shape ``S``.
    """
    x = _as_float(x)
    with np.errstate(under="ignore"):
        return x.dtype.type(SELU_SCALE) * elu_grad(x, SELU_ALPHA)


def linear(x: Any) -> np.ndarray:
    """Identity ``f(x) = x`` (a copy), for linear layers and deep linear networks.

    Taught in lesson 01 (the deep linear chain).

    Args:
        x: input of any shape ``S``.

    Returns:
        A new array of shape ``S``.
    """
    return _as_float(x).copy()


def linear_grad(x: Any) -> np.ndarray:
    """Derivative of the identity: ones of the shape of ``x``.

    Taught in lesson 01 (the deep linear chain).

    Args:
        x: input of any shape ``S``.

    Returns:
        Array of ones, shape ``S``.
    """
    return np.ones_like(_as_float(x))


@dataclass(frozen=True)
class Activation:
    """An activation function with everything a layer or an initializer needs to know about it.

    Calling the record applies the function: ``get("relu")(x) == relu(x)``.

    Taught in lesson 02 (activations).

    Attributes:
        name: gradlib's name (``"relu"``, ``"leaky_relu"``, ...).
        fn: ``x -> f(x)`` with the hyper-parameters bound.
        grad: ``x -> f'(x)`` with the hyper-parameters bound.
        gain: the recommended initialization gain for these parameters (see :class:`Spec`).
        torch_name: the PyTorch function computing the same thing (see :class:`Spec`).
        params: the hyper-parameters bound into ``fn`` and ``grad``, e.g.
            ``{"negative_slope": 0.01}``.
    """

    name: str
    fn: Callable[[Any], np.ndarray]
    grad: Callable[[Any], np.ndarray]
    gain: float
    torch_name: str
    params: dict[str, float] = field(default_factory=dict)

    def __call__(self, x: Any) -> np.ndarray:
        """Apply the activation to ``x``."""
        return self.fn(x)


class Spec(NamedTuple):
    """One row of :data:`TABLE`: everything gradlib knows about an activation.

    Attributes:
        fn: ``f(x, **params)``.
        grad: ``f'(x, **params)``.
        gain: ``gain(**params)``, the recommended initialization gain. For every name PyTorch knows
            this is exactly ``torch.nn.init.calculate_gain(name, param)``; PyTorch defines none for
            ELU, where gradlib uses ReLU's ``sqrt(2)`` (He initialization, as Clevert et al. 2016 did).
        torch_name: the ``torch.nn.functional`` (or ``torch``) function computing the same thing;
            ``"linear"`` means the identity.
        defaults: the hyper-parameters and their defaults (PyTorch's), e.g. ``{"alpha": 1.0}``.
    """

    fn: Callable[..., np.ndarray]
    grad: Callable[..., np.ndarray]
    gain: Callable[..., float]
    torch_name: str
    defaults: dict[str, float]


def _leaky_relu_gain(negative_slope: float) -> float:
    """``sqrt(2 / (1 + slope^2))`` (He et al. 2015, as ``torch.nn.init.calculate_gain``)."""
    return math.sqrt(2.0 / (1.0 + negative_slope**2))


#: The one activation table: name -> :class:`Spec`. :func:`get`, :func:`gradlib.init.calculate_gain`,
#: the checks and the tests all read it.
TABLE: dict[str, Spec] = {
    "linear": Spec(linear, linear_grad, lambda: 1.0, "linear", {}),
    "sigmoid": Spec(sigmoid, sigmoid_grad, lambda: 1.0, "sigmoid", {}),
    "tanh": Spec(tanh, tanh_grad, lambda: 5.0 / 3.0, "tanh", {}),
    "relu": Spec(relu, relu_grad, lambda: math.sqrt(2.0), "relu", {}),
    "leaky_relu": Spec(leaky_relu, leaky_relu_grad, _leaky_relu_gain, "leaky_relu", {"negative_slope": 0.01}),
    "elu": Spec(elu, elu_grad, lambda alpha: math.sqrt(2.0), "elu", {"alpha": 1.0}),
    "selu": Spec(selu, selu_grad, lambda: 3.0 / 4.0, "selu", {}),
}
#: Every name :func:`get` accepts.
NAMES: tuple[str, ...] = tuple(TABLE)


def _build(name: str, params: dict[str, float]) -> Activation:
    """Bind ``params`` into the table row of ``name``."""
    spec = TABLE[name]
    fn, grad = (functools.partial(f, **params) if params else f for f in (spec.fn, spec.grad))
    return Activation(name, fn, grad, spec.gain(**params), spec.torch_name, dict(params))


def get(name: str | Activation, **params: float) -> Activation:
    """Look up an activation by name, optionally binding its hyper-parameter.

    Taught in lesson 02 (activations).

    Args:
        name: one of :data:`NAMES` (``"linear"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``,
            ``"leaky_relu"``, ``"elu"``, ``"selu"``), or an :class:`Activation` (returned as is).
        **params: ``negative_slope=`` for ``"leaky_relu"`` (default 0.01) or ``alpha=`` for
            ``"elu"`` (default 1.0).

    Returns:
        The :class:`Activation` record (function, derivative, gain, PyTorch name).

    Raises:
        ValueError: if the name is unknown (the message lists the options) or a parameter does not
            belong to this activation.
        TypeError: if ``name`` is not a string or a parameter is not a real number.

    Example:
        >>> get("leaky_relu", negative_slope=0.2).gain  # doctest: +ELLIPSIS
        1.386...
    """
    if isinstance(name, Activation):
        if params:
            raise ValueError(f"parameters {sorted(params)} cannot be bound to an Activation object")
        return name
    if not isinstance(name, str):
        raise _validate.ArgumentTypeError(
            f"activation name must be a string, got {name!r} ({type(name).__name__})"
        )
    _validate.choice(name, "activation", NAMES)
    allowed = TABLE[name].defaults
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        options = ", ".join(allowed) if allowed else "none"
        raise ValueError(
            f"activation {name!r} takes no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {options}"
        )
    bound = {key: _check_param(params.get(key, default), key) for key, default in allowed.items()}
    return _build(name, bound)
