"""Per-layer health statistics of a network and a verdict per layer.

Taught in lesson 07 (diagnosing and fixing).

A *layer* here is a weight matrix followed by its nonlinearity: ``h = x @ W + b``, ``a = f(h)``. One
forward and one backward pass on a batch give, per layer, everything a practitioner looks at:

- the layer's output ``a`` (shape ``(N, H)``): its mean and std, the *saturation* fraction of a tanh or
  sigmoid (outputs where the derivative is below 6% of its maximum: ``|tanh| > 0.97``, or for a sigmoid
  ``|2 a - 1| > 0.97``, which is the same condition since ``2 sigmoid(x) - 1 = tanh(x / 2)``), and the
  *dead* fraction of a ReLU (units whose output is 0 for every example of the batch);
- the gradient ``dLoss/da`` arriving at that output (shape ``(N, H)``): its mean and std;
- the weight ``W`` and its gradient ``dW``: the gradient norm ``||dW||``, the *grad:data ratio*
  ``std(dW) / std(W)``, and, when the update is known, the *update:data ratio* ``std(ΔW) / std(W)``
  (around ``1e-3`` per step is the healthy range practitioners aim for).

:func:`layer_stats` turns those arrays into a :class:`LayerStats` record. The records are the common
input format: :mod:`gradlib.torch_hooks` produces the same records from a ``torch.nn`` model, so
:func:`health_report` and the figures in :mod:`gradlib.diagnostic_figures` work on both.

:func:`health_report` applies these rules to each layer, the first that matches wins
(thresholds in :data:`DEFAULT_THRESHOLDS`):

1. ``exploding`` if any statistic is nan or inf;
2. ``dead`` if the dead-ReLU fraction is above 0.5;
3. ``saturated`` if the saturation fraction is above 0.5;
4. ``exploding`` if the output std is above 100, or the gradient std is more than 100 times the
   gradient std at the last layer (the one closest to the loss);
5. ``vanishing`` if the gradient std is less than 0.01 times the gradient std at the last layer;
6. ``healthy`` otherwise.

Comparing each layer's gradient with the last layer's makes the verdict independent of the loss's
scale: the last layer receives what the loss sends, and the question is how much of it arrives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np

from gradlib import _validate

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SATURATION_LEVEL",
    "SATURATING",
    "VERDICTS",
    "LayerStats",
    "Thresholds",
    "Verdict",
    "dead_fraction",
    "health_report",
    "layer_stats",
    "mlp_stats",
    "saturation_fraction",
    "std_ratio",
]

#: ``|tanh|`` above this level counts as saturated (tanh' = 1 - 0.97**2 < 0.06).
SATURATION_LEVEL = 0.97
#: Activations that saturate, and how to map their output onto tanh's scale.
SATURATING = ("tanh", "sigmoid")
#: The verdicts :func:`health_report` can give.
VERDICTS = ("vanishing", "exploding", "saturated", "dead", "healthy")


@dataclass(frozen=True)
class Thresholds:
    """Thresholds of :func:`health_report` (see the module docstring for the rules)."""

    dead: float = 0.5
    saturated: float = 0.5
    max_act_std: float = 100.0
    explode_ratio: float = 100.0
    vanish_ratio: float = 0.01


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class LayerStats:
    """The statistics of one layer from one forward and backward pass (see the module docstring).

    Attributes:
        name: the layer's name (e.g. ``"layer 3"`` or a torch module path ``"net.4"``).
        activation: the nonlinearity's name (``"tanh"``, ``"relu"``, ..., ``"linear"`` if none).
        act_mean: mean of the layer's output.
        act_std: std of the layer's output.
        saturation: fraction of saturated outputs (tanh and sigmoid), else None.
        dead_fraction: fraction of units that output 0 on the whole batch (ReLU), else None.
        grad_mean: mean of ``dLoss/d output``.
        grad_std: std of ``dLoss/d output``.
        weight_std: std of the layer's weight ``W``.
        weight_grad_norm: Frobenius norm of ``dW``.
        grad_data_ratio: ``std(dW) / std(W)``.
        update_data_ratio: ``std(ΔW) / std(W)`` for the step taken (or ``lr * grad_data_ratio`` for
            plain SGD), None when unknown.
        activations: a flat float64 sample of the output (for histograms), or None.
        gradients: a flat float64 sample of ``dLoss/d output`` (for histograms), or None.
    """

    name: str
    activation: str
    act_mean: float
    act_std: float
    saturation: float | None
    dead_fraction: float | None
    grad_mean: float
    grad_std: float
    weight_std: float
    weight_grad_norm: float
    grad_data_ratio: float
    update_data_ratio: float | None = None
    activations: np.ndarray | None = field(default=None, repr=False, compare=False)
    gradients: np.ndarray | None = field(default=None, repr=False, compare=False)

    def numbers(self) -> dict[str, float | None]:
        """The scalar statistics as a dict (no name, activation or samples)."""
        skip = {"name", "activation", "activations", "gradients"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


class Verdict(NamedTuple):
    """One layer's verdict: ``(layer, verdict, reason)``; ``verdict`` is one of :data:`VERDICTS`."""

    layer: str
    verdict: str
    reason: str


def _float_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a non-empty float64 array (statistics are computed in float64)."""
    arr = _validate.float_array(value, name, ndim=ndim)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one value")
    return arr.astype(np.float64)


def saturation_fraction(out: Any, activation: str) -> float:
    """Fraction of saturated outputs of a tanh or sigmoid layer.

    Saturated means ``|out| > 0.97`` for tanh and ``|2 out - 1| > 0.97`` for sigmoid: there the
    derivative is below 6% of its maximum, so almost no gradient passes.

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        out: the layer's output (after the nonlinearity), any shape.
        activation: ``"tanh"`` or ``"sigmoid"``.

    Returns:
        A fraction in [0, 1].

    Raises:
        ValueError: if ``activation`` does not saturate (the message lists the options).
    """
    out = _float_array(out, "out")
    if activation == "tanh":
        centred = out
    elif activation == "sigmoid":
        centred = 2.0 * out - 1.0
    else:
        raise ValueError(f"activation {activation!r} does not saturate; expected one of {SATURATING}")
    return float(np.mean(np.abs(centred) > SATURATION_LEVEL))


def dead_fraction(out: Any) -> float:
    """Fraction of units (columns) whose output is exactly 0 for every example of the batch.

    A ReLU unit that outputs 0 on the whole batch also passes no gradient to its weights: it is dead.

    Taught in lesson 07 (diagnosing and fixing); the dying-ReLU experiment is in lesson 02.

    Args:
        out: the layer's output after the ReLU, shape ``(N, H)``.

    Returns:
        A fraction in [0, 1] (dead units / H).
    """
    out = _float_array(out, "out", ndim=2)
    return float(np.mean(np.all(out == 0.0, axis=0)))


def std_ratio(numerator: Any, denominator: Any) -> float:
    """``std(numerator) / std(denominator)``: the grad:data and update:data ratios.

    Returns inf when the denominator's std is 0 and the numerator's is not, and 0 when both are 0.
    """
    num = float(np.std(_float_array(numerator, "numerator")))
    den = float(np.std(_float_array(denominator, "denominator")))
    if den == 0.0:
        return 0.0 if num == 0.0 else math.inf
    return num / den


def _sample(arr: np.ndarray, limit: int = 100_000) -> np.ndarray:
    flat = arr.ravel()
    step = max(1, -(-flat.size // limit))
    return flat[::step].copy()


def layer_stats(
    name: str,
    *,
    out: Any,
    dout: Any,
    W: Any,
    dW: Any,
    activation: str = "linear",
    lr: float | None = None,
    update: Any = None,
    keep_samples: bool = True,
) -> LayerStats:
    """Collect the statistics of one layer ``a = f(x @ W + b)`` into a :class:`LayerStats`.

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        name: the layer's name.
        out: the layer's output ``a``, shape ``(N, H)`` (or any shape for conv layers).
        dout: ``dLoss/da``, the same shape as ``out``.
        W: the weight, any shape.
        dW: ``dLoss/dW``, the same shape as ``W``.
        activation: the nonlinearity's name; tanh/sigmoid get a saturation fraction and ReLU a dead
            fraction.
        lr: a plain-SGD learning rate: the update:data ratio is then ``lr * std(dW) / std(W)``.
        update: the step actually applied, ``W_new - W_old`` (takes precedence over ``lr``).
        keep_samples: keep flat samples of ``out`` and ``dout`` for histograms.

    Returns:
        The layer's :class:`LayerStats`.

    Raises:
        ValueError: if shapes disagree or an array is empty (the message names it).
        TypeError: if ``name`` or ``activation`` is not a string, or an array is not numeric.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a name such as 'relu', got {activation!r}")
    out_a, dout_a = _float_array(out, "out"), _float_array(dout, "dout")
    W_a, dW_a = _float_array(W, "W"), _float_array(dW, "dW")
    _validate.compatible(
        dout_a.shape == out_a.shape, "dout", dout_a.shape, "out", out_a.shape, "they must match"
    )
    _validate.compatible(dW_a.shape == W_a.shape, "dW", dW_a.shape, "W", W_a.shape, "they must match")
    ratio = std_ratio(dW_a, W_a)
    if update is not None:
        upd = _float_array(update, "update")
        _validate.compatible(upd.shape == W_a.shape, "update", upd.shape, "W", W_a.shape, "they must match")
        update_ratio: float | None = std_ratio(upd, W_a)
    elif lr is not None:
        update_ratio = float(lr) * ratio
    else:
        update_ratio = None
    flat_out = out_a.reshape(out_a.shape[0], -1) if out_a.ndim >= 2 else out_a.reshape(1, -1)
    return LayerStats(
        name=name,
        activation=activation,
        act_mean=float(out_a.mean()),
        act_std=float(out_a.std()),
        saturation=saturation_fraction(out_a, activation) if activation in SATURATING else None,
        dead_fraction=dead_fraction(flat_out) if activation == "relu" else None,
        grad_mean=float(dout_a.mean()),
        grad_std=float(dout_a.std()),
        weight_std=float(W_a.std()),
        weight_grad_norm=float(np.linalg.norm(dW_a.ravel())),
        grad_data_ratio=ratio,
        update_data_ratio=update_ratio,
        activations=_sample(out_a) if keep_samples else None,
        gradients=_sample(dout_a) if keep_samples else None,
    )


def mlp_stats(
    model: Any,
    params: dict,
    x: Any,
    y: Any,
    *,
    state: dict | None = None,
    lr: float | None = None,
    loss: str = "cross_entropy",
    keep_samples: bool = True,
) -> list[LayerStats]:
    """Statistics of every layer of a :class:`gradlib.mlp.MLP` on one batch.

    Hidden layer ``k`` is named ``"layer k"``; its output is the activation output ``f_k`` and its
    gradient ``dLoss/df_k``. The output layer comes last, named ``"output"``, with activation
    ``"linear"`` and the logits as its output.

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        model: the architecture.
        params: its parameters.
        x: inputs, shape ``(N, D)``.
        y: integer labels ``(N,)`` for ``loss="cross_entropy"``, targets ``(N, C)`` for ``"mse"``.
        state: BatchNorm running statistics (training mode is used).
        lr: plain-SGD learning rate for the update:data ratio.
        loss: ``"cross_entropy"`` or ``"mse"``.
        keep_samples: keep flat samples for histograms.

    Returns:
        ``model.depth + 1`` :class:`LayerStats`, input side first.

    Raises:
        ValueError: if ``loss`` is unknown.
    """
    from gradlib import batchnorm, layers, losses

    loss_fns = {"cross_entropy": losses.softmax_cross_entropy, "mse": losses.mse}
    _validate.choice(loss, "loss", tuple(loss_fns))
    out, cache, _ = model.forward(params, x, state, training=True)
    _, dout = loss_fns[loss](out, y)
    L1 = model.n_layers
    da, dW, _ = layers.affine_backward(dout, cache["out"])
    kw = {"lr": lr, "keep_samples": keep_samples}
    stats = [layer_stats("output", out=out, dout=dout, W=params[f"W{L1}"], dW=dW, **kw)]
    for k in range(model.depth, 0, -1):
        c_aff, c_bn, c_act = cache["layers"][k - 1]
        skip = model.residual and k >= 2
        if skip:  # the branch is affine -> act -> BN (see gradlib.mlp)
            df = model.branch_scale * da
            if c_bn is not None:
                df = batchnorm.batchnorm_backward(df, c_bn)[0]
            dz = layers.activation_backward(df, c_act)
        else:  # affine -> BN -> act
            df = da
            dz = layers.activation_backward(df, c_act)
            if c_bn is not None:
                dz = batchnorm.batchnorm_backward(dz, c_bn)[0]
        dprev, dW, _ = layers.affine_backward(dz, c_aff)
        f = cache["record"]["f"][k - 1]
        stats.append(
            layer_stats(
                f"layer {k}", out=f, dout=df, W=params[f"W{k}"], dW=dW, activation=model.activation, **kw
            )
        )
        da = dprev + da if skip else dprev
    return stats[::-1]


def _check_stats(stats: Any) -> list[LayerStats]:
    if isinstance(stats, LayerStats):
        raise TypeError("health_report needs a list of LayerStats (one per layer), got a single LayerStats")
    try:
        items = list(stats)
    except TypeError:
        raise TypeError(f"health_report needs a list of LayerStats, got {type(stats).__name__}") from None
    if not items:
        raise ValueError("health_report got an empty list of layers; need at least one LayerStats")
    for i, item in enumerate(items):
        if not isinstance(item, LayerStats):
            raise TypeError(f"item {i} is a {type(item).__name__}, not a LayerStats (use layer_stats(...))")
    return items


def _num(x: float, limit: float | None = None) -> str:
    """``x`` with 3 significant digits, or as many as it takes to tell it from ``limit``."""
    for digits in (3, 6, 10):
        text = f"{x:.{digits}g}"
        if limit is None or float(text) != limit or x == limit:
            return text
    return repr(x)


def _pct(fraction: float, limit: float | None = None) -> str:
    """A fraction as a percentage, with the digits it takes to tell it from ``limit``."""
    return _num(100 * fraction, None if limit is None else 100 * limit) + "%"


def _not_finite(s: LayerStats) -> str | None:
    for key, value in s.numbers().items():
        if value is not None and not math.isfinite(value):
            return key
    return None


def _verdict(s: LayerStats, ref_grad: float, t: Thresholds) -> tuple[str, str]:
    bad = _not_finite(s)
    if bad is not None:
        return "exploding", f"{bad} is {getattr(s, bad)}: the numbers overflowed"
    if s.dead_fraction is not None and s.dead_fraction > t.dead:
        return "dead", f"{_pct(s.dead_fraction, t.dead)} of the ReLU units output 0 for every example"
    if s.saturation is not None and s.saturation > t.saturated:
        return "saturated", f"{_pct(s.saturation, t.saturated)} of the {s.activation} outputs are saturated"
    if s.act_std > t.max_act_std:
        return "exploding", f"output std is {_num(s.act_std, t.max_act_std)} (above {t.max_act_std:g})"
    ratio = s.grad_std / ref_grad if ref_grad > 0 else (math.inf if s.grad_std > 0 else 1.0)
    if ratio > t.explode_ratio:
        return (
            "exploding",
            f"gradient std is {_num(ratio, t.explode_ratio)}x the last layer's (above {t.explode_ratio:g}x)",
        )
    if ratio < t.vanish_ratio:
        return (
            "vanishing",
            f"gradient std is {_num(ratio, t.vanish_ratio)}x the last layer's (below {t.vanish_ratio:g}x)",
        )
    return "healthy", f"output std {s.act_std:.3g}, gradient {ratio:.3g}x the last layer's"


def health_report(stats: Any, *, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Verdict]:
    """Give each layer a verdict (vanishing, exploding, saturated, dead or healthy) with its reason.

    The rules, in order (the first that matches wins), with ``r = grad_std / grad_std[last layer]``:
    non-finite statistic -> exploding; dead fraction > 0.5 -> dead; saturation > 0.5 -> saturated;
    act_std > 100 or r > 100 -> exploding; r < 0.01 -> vanishing; else healthy.

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        stats: a list of :class:`LayerStats`, input layer first, last layer (closest to the loss) last.
        thresholds: the thresholds of the rules.

    Returns:
        A list of :class:`Verdict` ``(layer, verdict, reason)``, one per layer, in the same order.

    Raises:
        TypeError: if ``stats`` is not a list of :class:`LayerStats`.
        ValueError: if ``stats`` is empty.
    """
    items = _check_stats(stats)
    ref = items[-1].grad_std
    return [Verdict(s.name, *_verdict(s, ref, thresholds)) for s in items]
