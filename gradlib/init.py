"""Weight initializers: constant, random, variance scaling (Glorot, He, LeCun) and orthogonal.

Layout: a dense weight ``W`` has shape ``(fan_in, fan_out)`` and is used as ``x @ W`` (Keras'
layout; PyTorch stores the transpose ``(fan_out, fan_in)``). A convolution kernel has Keras' layout
``(kh, kw, c_in, c_out)``, so ``fan_in = kh * kw * c_in`` and ``fan_out = kh * kw * c_out``.

Every variance-scaling rule draws weights with ``Var[W] = scale / fan``:

- Glorot / Xavier: ``2 / (fan_in + fan_out)``, i.e. ``scale = 1`` on ``fan_avg``.
- He / Kaiming: ``2 / fan_in``.
- LeCun: ``1 / fan_in``.

A normal with that variance has ``std = sqrt(var)``; a uniform on ``[-r, r]`` has variance
``r^2 / 3``, so ``r = sqrt(3 var)``. The named initializers (``xavier_normal``, ``he_normal``,
``lecun_normal``) draw from an *untruncated* normal like ``torch.nn.init``; Keras' ``GlorotNormal``,
``HeNormal`` and ``LecunNormal`` truncate instead, which :func:`variance_scaling` reproduces with
``distribution="truncated_normal"``.

Every random function takes a keyword ``rng: np.random.Generator`` and uses nothing else; every
function returns a new float64 array.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import numpy as np

from gradlib import _validate, activations

__all__ = [
    "DISTRIBUTIONS",
    "MODES",
    "NONLINEARITIES",
    "TRUNCATED_NORMAL_STD",
    "calculate_gain",
    "compute_fans",
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "orthogonal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

#: Standard deviation of a standard normal truncated to (-2, 2) (Keras' correction constant).
TRUNCATED_NORMAL_STD = 0.87962566103423978
#: The modes :func:`variance_scaling` accepts.
MODES = ("fan_in", "fan_out", "fan_avg")
#: The distributions :func:`variance_scaling` accepts.
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
#: The names :func:`calculate_gain` accepts (PyTorch's list).
NONLINEARITIES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)


# ----------------------------------------------------------------------------- shapes
def _shape(shape: Any) -> tuple[int, ...]:
    """Normalize ``shape`` (an int or a sequence of non-negative ints) to a tuple."""
    items = (shape,) if isinstance(shape, Integral) and not isinstance(shape, bool) else shape
    try:
        dims = tuple(items)
    except TypeError:
        raise _validate.ArgumentTypeError(
            f"shape must be an int or a tuple of ints, got {shape!r} ({type(shape).__name__})"
        ) from None
    return tuple(_validate.integer(d, f"every dimension of shape {shape!r}", at_least=0) for d in dims)


# ----------------------------------------------------------------------------- fans and gains
def compute_fans(shape: Any) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight of the given shape.

    - 2-D ``(fan_in, fan_out)``: the shape itself (this project's ``x @ W`` layout).
    - k-D kernel in Keras layout ``(*receptive, c_in, c_out)``, e.g. ``(kh, kw, c_in, c_out)``:
      ``fan_in = prod(receptive) * c_in`` and ``fan_out = prod(receptive) * c_out``.

    Note that PyTorch's ``(out, in, kh, kw)`` layout gives the same numbers from other axes.

    Taught in lesson 03 (initialization).

    Args:
        shape: the weight's shape, at least 2-D.

    Returns:
        ``(fan_in, fan_out)``.

    Raises:
        ValueError: if the shape has fewer than 2 dimensions or a zero dimension.
    """
    dims = _shape(shape)
    if len(dims) < 2:
        raise ValueError(
            f"fans need a weight of at least 2 dimensions, got shape {dims!r}; "
            "use (fan_in, fan_out) for a dense layer or (kh, kw, c_in, c_out) for a kernel"
        )
    if 0 in dims:
        raise ValueError(f"fans of shape {dims!r} are zero; every dimension must be positive")
    receptive = math.prod(dims[:-2])
    return dims[-2] * receptive, dims[-1] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for the weights before a nonlinearity (``torch.nn.init.calculate_gain``).

    ===================  ===============================
    nonlinearity         gain
    ===================  ===============================
    linear, conv*, ...   1
    sigmoid              1
    tanh                 5 / 3
    relu                 sqrt(2)
    leaky_relu           sqrt(2 / (1 + slope^2))
    selu                 3 / 4
    ===================  ===============================

    For leaky_relu, ``param`` is the negative slope (default 0.01, as in PyTorch). For the other
    nonlinearities ``param`` is ignored, as in PyTorch. Self-normalizing SELU networks want LeCun
    initialization (gain 1 on ``1 / fan_in``) rather than 3/4 (Klambauer et al. 2017).

    Taught in lesson 03 (initialization).

    Args:
        nonlinearity: one of :data:`NONLINEARITIES`.
        param: the negative slope for ``"leaky_relu"``.

    Returns:
        The gain.

    Raises:
        ValueError: if the nonlinearity is unknown (the message lists the options) or ``param`` is
            not a finite number (a wrong type raises :class:`gradlib._validate.ArgumentTypeError`, a
            TypeError that is also the ValueError PyTorch raises there).
    """
    _validate.choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    if nonlinearity not in activations.TABLE:  # conv1d, conv_transpose2d, ...: linear maps
        return 1.0
    spec = activations.TABLE[nonlinearity]
    if param is not None and spec.defaults:
        return spec.gain(**{key: _validate.number(param, key) for key in spec.defaults})
    return spec.gain(**spec.defaults)


# ----------------------------------------------------------------------------- basic initializers
def zeros(shape: Any) -> np.ndarray:
    """All-zero array of the given shape (float64), e.g. for biases.

    Zero *weights* make every hidden unit of a layer compute the same thing and receive the same
    gradient forever (the symmetry problem).

    Taught in lesson 03 (initialization).

    Args:
        shape: an int or a tuple of ints.

    Returns:
        ``np.zeros(shape)``.
    """
    return np.zeros(_shape(shape), dtype=np.float64)


def constant(shape: Any, value: float) -> np.ndarray:
    """Array of the given shape filled with ``value`` (float64).

    Taught in lesson 03 (initialization).

    Args:
        shape: an int or a tuple of ints.
        value: the fill value (a finite real number).

    Returns:
        The filled array.

    Raises:
        TypeError: if ``value`` is not a real number.
        ValueError: if ``value`` is not finite.
    """
    value = _validate.number(value, "value")
    return np.full(_shape(shape), value, dtype=np.float64)


def normal(shape: Any, *, std: float, rng: np.random.Generator) -> np.ndarray:
    """Draw ``W ~ N(0, std^2)`` elementwise.

    Taught in lesson 03 (initialization).

    Args:
        shape: an int or a tuple of ints.
        std: the standard deviation (>= 0).
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    std = _validate.number(std, "std", at_least=0)
    return _validate.generator(rng).normal(0.0, std, size=_shape(shape))


def uniform(shape: Any, *, limit: float, rng: np.random.Generator) -> np.ndarray:
    """Draw ``W ~ U(-limit, limit)`` elementwise (variance ``limit^2 / 3``).

    Taught in lesson 03 (initialization).

    Args:
        shape: an int or a tuple of ints.
        limit: the bound ``r`` of ``[-r, r]`` (>= 0).
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    limit = _validate.number(limit, "limit", at_least=0)
    return _validate.generator(rng).uniform(-limit, limit, size=_shape(shape))


def _truncated_standard_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Standard normal draws, each redrawn until it falls inside [-2, 2]."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z


# ----------------------------------------------------------------------------- variance scaling
def variance_scaling(
    shape: Any,
    *,
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    rng: np.random.Generator,
) -> np.ndarray:
    """Keras' ``VarianceScaling``: weights with ``Var[W] = scale / n``.

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` for mode ``"fan_in"``,
    ``"fan_out"``, ``"fan_avg"``. Then, with ``sigma = sqrt(scale / n)``:

    - ``"truncated_normal"``: ``N(0, s^2)`` cut at ``±2 s`` (values beyond are redrawn), where
      ``s = sigma / 0.87962566103423978`` so that the truncated draws have std ``sigma``;
    - ``"untruncated_normal"``: ``N(0, sigma^2)``;
    - ``"uniform"``: ``U(-r, r)`` with ``r = sqrt(3 scale / n)``.

    Glorot is ``(1, "fan_avg")``, He ``(2, "fan_in")``, LeCun ``(1, "fan_in")``.

    Taught in lesson 03 (initialization).

    Args:
        shape: the weight's shape, ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        scale: the variance numerator (> 0).
        mode: one of :data:`MODES`.
        distribution: one of :data:`DISTRIBUTIONS`.
        rng: the random generator.

    Returns:
        Array of the given shape.

    Raises:
        ValueError: if ``scale <= 0`` or ``mode``/``distribution`` is not one of the options (the
            message names the bad value and the options).
    """
    _validate.choice(mode, "mode", MODES)
    _validate.choice(distribution, "distribution", DISTRIBUTIONS)
    scale = _validate.number(scale, "scale", above=0)
    rng = _validate.generator(rng)
    dims = _shape(shape)
    fan_in, fan_out = compute_fans(dims)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    variance = scale / n
    if distribution == "uniform":
        return uniform(dims, limit=math.sqrt(3.0 * variance), rng=rng)
    if distribution == "untruncated_normal":
        return normal(dims, std=math.sqrt(variance), rng=rng)
    std = math.sqrt(variance) / TRUNCATED_NORMAL_STD
    return std * _truncated_standard_normal(dims, rng)


def _glorot_std(shape: Any, gain: float) -> tuple[tuple[int, ...], float]:
    gain = _validate.number(gain, "gain", at_least=0)
    dims = _shape(shape)
    fan_in, fan_out = compute_fans(dims)
    return dims, gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_normal(shape: Any, *, gain: float = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier normal: ``W ~ N(0, std^2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
    networks". Also known as ``glorot_normal``; same as ``torch.nn.init.xavier_normal_``
    (untruncated; Keras' ``GlorotNormal`` truncates).

    Taught in lesson 03 (initialization).

    Args:
        shape: ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        gain: multiplies the std (see :func:`calculate_gain`).
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    dims, std = _glorot_std(shape, gain)
    return normal(dims, std=std, rng=rng)


def xavier_uniform(shape: Any, *, gain: float = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier uniform: ``W ~ U(-r, r)``, ``r = gain * sqrt(6 / (fan_in + fan_out))``.

    Glorot & Bengio (2010). Also known as ``glorot_uniform`` (Keras' default for Dense); same as
    ``torch.nn.init.xavier_uniform_``.

    Taught in lesson 03 (initialization).

    Args:
        shape: ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        gain: multiplies the limit (see :func:`calculate_gain`).
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    dims, std = _glorot_std(shape, gain)
    return uniform(dims, limit=math.sqrt(3.0) * std, rng=rng)


def he_normal(shape: Any, *, rng: np.random.Generator) -> np.ndarray:
    """He/Kaiming normal: ``W ~ N(0, 2 / fan_in)``.

    He, Zhang, Ren & Sun (2015), "Delving Deep into Rectifiers". Also known as ``kaiming_normal``;
    same as ``torch.nn.init.kaiming_normal_(a=0, mode="fan_in", nonlinearity="relu")`` on the
    transposed weight (untruncated; Keras' ``HeNormal`` truncates).

    Taught in lesson 03 (initialization).

    Args:
        shape: ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    return variance_scaling(shape, scale=2.0, distribution="untruncated_normal", rng=rng)


def he_uniform(shape: Any, *, rng: np.random.Generator) -> np.ndarray:
    """He/Kaiming uniform: ``W ~ U(-r, r)``, ``r = sqrt(6 / fan_in)``.

    He et al. (2015). Also known as ``kaiming_uniform``; same as
    ``torch.nn.init.kaiming_uniform_(a=0, mode="fan_in", nonlinearity="relu")`` (not the
    ``nn.Linear`` default, which uses ``a=sqrt(5)``, i.e. ``r = 1 / sqrt(fan_in)``).

    Taught in lesson 03 (initialization).

    Args:
        shape: ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    return variance_scaling(shape, scale=2.0, distribution="uniform", rng=rng)


def lecun_normal(shape: Any, *, rng: np.random.Generator) -> np.ndarray:
    """LeCun normal: ``W ~ N(0, 1 / fan_in)``, the partner of SELU.

    LeCun, Bottou, Orr & Müller (1998), "Efficient BackProp"; Klambauer et al. (2017),
    "Self-Normalizing Neural Networks". Untruncated (Keras' ``LecunNormal`` truncates; PyTorch has
    no named LeCun initializer).

    Taught in lesson 03 (initialization).

    Args:
        shape: ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    return variance_scaling(shape, scale=1.0, distribution="untruncated_normal", rng=rng)


def lecun_uniform(shape: Any, *, rng: np.random.Generator) -> np.ndarray:
    """LeCun uniform: ``W ~ U(-r, r)``, ``r = sqrt(3 / fan_in)``.

    LeCun et al. (1998), "Efficient BackProp"; Keras' ``LecunUniform``.

    Taught in lesson 03 (initialization).

    Args:
        shape: ``(fan_in, fan_out)`` or ``(kh, kw, c_in, c_out)``.
        rng: the random generator.

    Returns:
        Array of the given shape.
    """
    return variance_scaling(shape, scale=1.0, distribution="uniform", rng=rng)


# ----------------------------------------------------------------------------- orthogonal
def orthogonal(shape: Any, *, gain: float = 1.0, rng: np.random.Generator) -> np.ndarray:
    """Orthogonal initialization: ``gain`` times a random matrix with orthonormal columns or rows.

    Saxe, McClelland & Ganguli (2014), "Exact solutions to the nonlinear dynamics of learning in
    deep linear neural networks". The weight is viewed as a matrix of ``rows = prod(shape[:-1])``
    by ``cols = shape[-1]`` (Keras' flattening). Draw ``A ~ N(0, 1)`` of shape
    ``(max(rows, cols), min(rows, cols))``, factor ``A = QR``, multiply each column of ``Q`` by the
    sign of ``R``'s diagonal (so ``Q`` is Haar-distributed, not biased by the QR convention), and
    transpose when ``rows < cols``. Then ``W^T W = gain^2 I`` when ``rows >= cols`` and
    ``W W^T = gain^2 I`` otherwise: every singular value equals ``gain``, so a deep linear net
    neither explodes nor vanishes. Same as ``torch.nn.init.orthogonal_`` on the transposed weight.

    Taught in lesson 03 (initialization).

    Args:
        shape: at least 2-D, e.g. ``(fan_in, fan_out)``.
        gain: the common singular value (>= 0).
        rng: the random generator.

    Returns:
        Array of the given shape.

    Raises:
        ValueError: if the shape has fewer than 2 dimensions or a zero dimension.
    """
    gain = _validate.number(gain, "gain", at_least=0)
    dims = _shape(shape)
    compute_fans(dims)  # validates: at least 2-D, no zero dimension
    rng = _validate.generator(rng)
    rows, cols = math.prod(dims[:-1]), dims[-1]
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q = q * signs
    if rows < cols:
        q = q.T
    return gain * q.reshape(dims)


# ----------------------------------------------------------------------------- aliases
glorot_normal = xavier_normal
glorot_uniform = xavier_uniform
kaiming_normal = he_normal
kaiming_uniform = he_uniform
