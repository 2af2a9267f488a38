"""Matplotlib figures of per-layer statistics, built with the object-oriented API.

Every function returns a new :class:`matplotlib.figure.Figure` that is *not* registered with
pyplot: nothing is shown, nothing needs closing, and it works under the Agg backend (the autograder).
The figures are :class:`CourseFigure`, which Jupyter shows as a PNG when it is the last expression of a
cell (or passed to ``display``) whatever the matplotlib backend; ``fig.savefig(path)`` writes it to a file.

Shapes: ``L`` layers, ``T`` training steps.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from gradlib.runtime import grading

__all__ = [
    "CourseFigure",
    "gradient_norms_vs_depth",
    "layer_histograms",
    "scale_depth_heatmap",
    "training_curves",
    "update_ratio_curves",
]


class CourseFigure(Figure):
    """A matplotlib Figure that a Jupyter cell displays as a PNG image.

    A plain ``Figure`` created without pyplot has no rich representation, so a notebook shows only
    ``<Figure size 600x380 with 1 Axes>`` unless ``%matplotlib inline`` was run. Used by every figure in
    gradlib (lessons 01-07).
    """

    def _repr_png_(self) -> bytes | None:
        """Render the figure as PNG bytes (IPython's display protocol); None under the autograder.

        Under grading the lessons skip drawing (see :func:`gradlib.runtime.skip_figures_under_grading`)
        and IPython then shows the figure's text form.
        """
        if grading():
            return None
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _series(values: object, name: str) -> dict[str, np.ndarray]:
    """Return ``{label: 1-D float array}`` from one array or a mapping label -> array."""
    items = values.items() if isinstance(values, Mapping) else [("", values)]
    out = {}
    for label, v in items:
        arr = np.asarray(v, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name}[{label!r}] must be a non-empty 1-D array, got shape {arr.shape}")
        out[str(label)] = arr
    if not out:
        raise ValueError(f"{name} is empty")
    return out


def layer_histograms(
    values: Sequence[np.ndarray],
    *,
    labels: Sequence[str] | None = None,
    bins: int = 50,
    title: str | None = None,
    value_range: tuple[float, float] | None = None,
    max_cols: int = 5,
) -> Figure:
    """One histogram per layer (activations or gradients), titled with each layer's mean and std.

    Taught in lesson 02 (activations) and lesson 07 (diagnosing a sick network).

    Args:
        values: L arrays of any shapes (flattened), e.g. ``cache["record"]["f"]`` of an MLP.
        labels: L subplot titles (default "layer 1", ...).
        bins: number of bins per histogram.
        title: figure title.
        value_range: common x range (default: each layer's own finite range).
        max_cols: subplots per row.

    Returns:
        A Figure with L axes.

    Raises:
        ValueError: if ``values`` is empty or ``labels`` has another length.
    """
    values = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    if not values:
        raise ValueError("values is empty: give one array per layer")
    labels = [f"layer {k}" for k in range(1, len(values) + 1)] if labels is None else list(labels)
    if len(labels) != len(values):
        raise ValueError(f"labels has {len(labels)} entries but values has {len(values)}")
    cols = min(max_cols, len(values))
    rows = -(-len(values) // cols)
    fig = CourseFigure(figsize=(2.6 * cols, 2.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, v, label in zip(axes, values, labels, strict=False):
        finite = v[np.isfinite(v)]
        ax.hist(finite, bins=bins, range=value_range, color="C0")
        stats = f"mean {finite.mean():.2g}, std {finite.std():.2g}" if finite.size else "no finite"
        ax.set_title(f"{label}\n{stats}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(values) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def gradient_norms_vs_depth(
    norms: np.ndarray | Mapping[str, np.ndarray],
    *,
    xlabel: str = "layer",
    ylabel: str = "gradient norm",
    title: str | None = None,
    start: int = 1,
) -> Figure:
    """Gradient norm per layer on a log y axis, one line per network.

    Zeros and infinities cannot sit on a log axis and are left out of the line.

    Taught in lesson 01 (the depth toy) and lesson 06 (residual connections).

    Args:
        norms: an (L,) array, or a dict ``{label: (L,) array}`` to compare networks.
        xlabel: x axis label.
        ylabel: y axis label.
        title: axes title.
        start: the layer number of the first entry (1, or 0 for a chain including the input).

    Returns:
        A Figure with one axes.

    Raises:
        ValueError: if an entry is not a non-empty 1-D array.
    """
    series = _series(norms, "norms")
    fig = CourseFigure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    for label, v in series.items():
        shown = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        ax.plot(np.arange(start, start + v.size), shown, marker="o", ms=3, label=label or None)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if any(series):
        ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return fig


def scale_depth_heatmap(
    values: np.ndarray,
    depths: Sequence[float],
    scales: Sequence[float],
    *,
    label: str = "output scale",
    title: str | None = None,
) -> Figure:
    """Heatmap of ``log10(|values|)`` over depth (rows) and weight scale (columns).

    Cells that are 0, inf or NaN (underflow, overflow) are drawn in black.

    Taught in lesson 01 (the depth toy) and lesson 03 (initialization).

    Args:
        values: shape (len(depths), len(scales)), e.g. ``output_scale(s, L)`` or a gradient norm.
        depths: the depth of each row.
        scales: the weight scale of each column.
        label: what the values are (colorbar label).
        title: axes title.

    Returns:
        A Figure with the heatmap and a colorbar.

    Raises:
        ValueError: if ``values`` does not have shape (len(depths), len(scales)).
    """
    values = np.asarray(values, dtype=np.float64)
    shape = (len(depths), len(scales))
    if values.shape != shape:
        raise ValueError(f"values must have shape {shape} (depths, scales), got {values.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.log10(np.abs(values))
    logv = np.ma.masked_invalid(logv)
    fig = CourseFigure(figsize=(1.2 + 0.55 * shape[1], 1.0 + 0.35 * shape[0]), layout="constrained")
    ax = fig.subplots()
    cmap = _cmap_with_bad("RdBu_r")
    span = max(1.0, float(np.abs(logv).max())) if logv.count() else 1.0
    image = ax.imshow(logv, cmap=cmap, vmin=-span, vmax=span, aspect="auto", origin="lower")
    ax.set_xticks(range(shape[1]), [f"{s:g}" for s in scales], rotation=90, fontsize=7)
    ax.set_yticks(range(shape[0]), [f"{d:g}" for d in depths], fontsize=7)
    ax.set_xlabel("weight scale")
    ax.set_ylabel("depth")
    fig.colorbar(image, ax=ax, label=f"log10 {label} (black: 0 or inf)")
    if title:
        ax.set_title(title)
    return fig


def _cmap_with_bad(name: str):
    """Return a copy of a colormap that draws masked (invalid) cells in black."""
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad="black")


def _histories(histories: object) -> dict[str, object]:
    """Return ``{label: history}`` from one History-like object or a mapping of them."""
    if isinstance(histories, Mapping) and not hasattr(histories, "loss") and "loss" not in histories:
        return {str(k): v for k, v in histories.items()}
    return {"": histories}


def _get(history: object, key: str) -> np.ndarray:
    """Read ``key`` from a History or a dict of arrays."""
    value = history.get(key) if isinstance(history, Mapping) else getattr(history, key, None)
    if value is None:
        raise ValueError(f"history has no {key!r} record")
    return np.asarray(value, dtype=np.float64)


def training_curves(histories: object, *, title: str | None = None) -> Figure:
    """Loss and global gradient norm per step (log axes), one line per run.

    With a single run a third panel shows every layer's gradient norm.

    Taught in lesson 04 (batch normalization) and lesson 05 (gradient clipping).

    Args:
        histories: a :class:`gradlib.train.History` (or dict with ``"loss"``, ``"total_grad_norm"``,
            ``"grad_norms"`` arrays), or a dict ``{label: history}`` to compare runs.
        title: figure title.

    Returns:
        A Figure with two or three axes.

    Raises:
        ValueError: if a history lacks the ``loss`` or ``total_grad_norm`` record.
    """
    runs = _histories(histories)
    single = len(runs) == 1
    fig = CourseFigure(figsize=(12 if single else 9, 3.6), layout="constrained")
    axes = fig.subplots(1, 3 if single else 2)
    for label, h in runs.items():
        axes[0].plot(_positive(_get(h, "loss")), label=label or None)
        axes[1].plot(_positive(_get(h, "total_grad_norm")), label=label or None)
    for ax, name in zip(axes[:2], ("loss", "global gradient norm"), strict=True):
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        if not single:
            ax.legend()
    if single:
        h = next(iter(runs.values()))
        norms = _get(h, "grad_norms")
        for k in range(norms.shape[1]):
            axes[2].plot(_positive(norms[:, k]), label=f"W{k + 1}", color=_layer_color(k, norms))
        axes[2].set_yscale("log")
        axes[2].set_xlabel("step")
        axes[2].set_ylabel("gradient norm per layer")
        axes[2].legend(fontsize=6, ncol=2)
    if title:
        fig.suptitle(title)
    return fig


def update_ratio_curves(history: object, *, title: str | None = None) -> Figure:
    """Update:data ratio ``||lr v|| / ||W||`` of every layer per step, with the 1e-3 rule of thumb.

    Taught in lesson 07 (diagnosing a sick network).

    Args:
        history: a :class:`gradlib.train.History` (or dict with an ``"update_ratio"`` (T, L) array).
        title: axes title.

    Returns:
        A Figure with one axes (log y).

    Raises:
        ValueError: if the history has no ``update_ratio`` record.
    """
    ratios = _get(history, "update_ratio")
    fig = CourseFigure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    for k in range(ratios.shape[1]):
        ax.plot(_positive(ratios[:, k]), label=f"W{k + 1}", color=_layer_color(k, ratios))
    ax.axhline(1e-3, color="black", ls="--", lw=1, label="1e-3")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update : data ratio")
    ax.legend(fontsize=6, ncol=2)
    if title:
        ax.set_title(title)
    return fig


def _positive(v: np.ndarray) -> np.ndarray:
    """Replace values a log axis cannot show (<= 0, inf, NaN) by NaN."""
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _layer_color(k: int, table: np.ndarray):
    """Color of layer k on a sequential colormap (early layers light, late layers dark)."""
    import matplotlib

    n = max(1, table.shape[1] - 1)
    return matplotlib.colormaps["viridis"](k / n)
