"""Figures of :class:`gradlib.diagnostics.LayerStats`: the same pictures for a numpy or a torch model.

Taught in lesson 07 (diagnosing and fixing).

Every function returns a ``matplotlib.figure.Figure`` and never calls ``plt.show()``; the figures are
built with the object API, so they work under any backend (Agg included).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlib.diagnostics import LayerStats

__all__ = [
    "activation_histograms",
    "gradient_histograms",
    "ratio_by_layer",
    "update_ratio_history",
]


def _figure(size: tuple[float, float]):
    from gradlib.figures import CourseFigure

    return CourseFigure(figsize=size, layout="constrained")


def _check(stats: Sequence[LayerStats], sample: str) -> list[LayerStats]:
    stats = list(stats)
    if not stats or not all(isinstance(s, LayerStats) for s in stats):
        raise TypeError(
            "expected a non-empty list of LayerStats (from layer_stats, mlp_stats or collect_stats)"
        )
    missing = [s.name for s in stats if getattr(s, sample) is None]
    if missing:
        raise ValueError(f"layers {missing} kept no {sample} sample; collect them with keep_samples=True")
    return stats


def _histograms(stats, sample: str, title: str, label) -> Any:
    fig = _figure((7.5, 3.6))
    ax = fig.add_subplot()
    for s in stats:
        values = getattr(s, sample)
        values = values[np.isfinite(values)]
        hist, edges = np.histogram(values, bins=60)
        ax.plot(0.5 * (edges[1:] + edges[:-1]), hist / max(1, values.size), label=label(s))
    ax.set_title(title)
    ax.set_ylabel("fraction of values")
    ax.legend(fontsize=7, ncol=2)
    return fig


def activation_histograms(stats: Sequence[LayerStats], *, layers: Sequence[int] | None = None):
    """Overlaid histograms of each layer's output, labelled with mean, std and saturation/dead %.

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        stats: per-layer statistics with samples.
        layers: indices of the layers to draw (default: all but the output layer).
    """
    stats = _check(stats, "activations")
    chosen = [stats[i] for i in (layers if layers is not None else range(max(1, len(stats) - 1)))]

    def label(s: LayerStats) -> str:
        extra = ""
        if s.saturation is not None:
            extra = f", sat {s.saturation:.0%}"
        elif s.dead_fraction is not None:
            extra = f", dead {s.dead_fraction:.0%}"
        return f"{s.name} ({s.activation}): mean {s.act_mean:+.2f}, std {s.act_std:.2f}{extra}"

    fig = _histograms(chosen, "activations", "activation distribution per layer", label)
    fig.axes[0].set_xlabel("layer output")
    return fig


def gradient_histograms(stats: Sequence[LayerStats], *, layers: Sequence[int] | None = None):
    """Overlaid histograms of ``log10 |dLoss/d output|`` per layer, labelled with the gradient's std.

    A log axis is used because the point is the *scale*: a vanishing network shifts the early layers'
    histograms many decades to the left, an exploding one to the right. Exact zeros are left out.

    Taught in lesson 07 (diagnosing and fixing).
    """
    stats = _check(stats, "gradients")
    chosen = [stats[i] for i in (layers if layers is not None else range(max(1, len(stats) - 1)))]
    logs = []
    for s in chosen:
        g = np.abs(s.gradients[np.isfinite(s.gradients)])
        logs.append(dataclasses.replace(s, gradients=np.log10(g[g > 0]) if np.any(g > 0) else np.zeros(1)))
    fig = _histograms(
        logs, "gradients", "gradient magnitude per layer", lambda s: f"{s.name}: std {s.grad_std:.2e}"
    )
    fig.axes[0].set_xlabel("log10 |dLoss / d(layer output)|")
    return fig


def ratio_by_layer(stats: Sequence[LayerStats]):
    """Gradient std per layer and the grad:data ratio per layer, both on log axes.

    Taught in lesson 07 (diagnosing and fixing).
    """
    stats = _check(stats, "name")
    fig = _figure((9, 3.4))
    left, right = fig.subplots(1, 2)
    x = np.arange(len(stats))
    names = [s.name for s in stats]
    floor = 1e-30
    left.semilogy(x, [max(s.grad_std, floor) for s in stats], "o-")
    left.set_title("std of dLoss/d(output) per layer")
    right.semilogy(x, [max(s.grad_data_ratio, floor) for s in stats], "s-", color="C1")
    right.set_title("grad:data ratio std(dW)/std(W)")
    for ax in (left, right):
        ax.set_xticks(x, names, rotation=60, fontsize=7)
        ax.grid(True, which="major", alpha=0.3)
    return fig


def update_ratio_history(history: Any, *, names: Sequence[str] | None = None, healthy: float = 1e-3):
    """The update:data ratio of every layer over training steps, log axis, with the healthy level.

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        history: an array ``(steps, layers)`` of ratios, or a list (one per step) of lists of
            :class:`LayerStats` with ``update_data_ratio`` set.
        names: layer names for the legend.
        healthy: the level drawn as a dashed line (``1e-3``: the rule of thumb).

    Raises:
        ValueError: if the history is empty or not 2-D.
    """
    if len(history) and not isinstance(history, np.ndarray) and isinstance(history[0], list | tuple):
        if names is None:
            names = [s.name for s in history[0]]
        history = [[s.update_data_ratio for s in step] for step in history]
    ratios = np.asarray(history, dtype=np.float64)
    if ratios.ndim != 2 or ratios.size == 0:
        raise ValueError(f"history must be (steps, layers) with at least one value, got shape {ratios.shape}")
    fig = _figure((7.5, 3.6))
    ax = fig.add_subplot()
    for j in range(ratios.shape[1]):
        label = names[j] if names is not None else f"layer {j + 1}"
        ax.semilogy(np.maximum(ratios[:, j], 1e-30), label=label, lw=1)
    ax.axhline(healthy, color="k", ls="--", lw=1, label=f"{healthy:g} (rule of thumb)")
    ax.set_xlabel("training step")
    ax.set_ylabel("update:data ratio")
    ax.set_title("std(update) / std(W) per layer over training")
    ax.legend(fontsize=7, ncol=2)
    return fig
