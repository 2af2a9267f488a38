"""gradlib.figures: every function returns a Figure, never shows it, and leaves pyplot clean."""

from __future__ import annotations

import io
import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gradlib import chain, data, figures  # noqa: E402
from gradlib.mlp import MLP  # noqa: E402
from gradlib.train import train  # noqa: E402


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    """Fail if any figure function calls plt.show(); check no pyplot figure is left open."""

    def _boom(*args, **kwargs):
        raise AssertionError("plt.show() was called")

    monkeypatch.setattr(plt, "show", _boom)
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before
    plt.close("all")


@pytest.fixture(scope="module")
def history():
    x, y = data.spirals(20, 3, rng=np.random.default_rng(0))
    model = MLP(2, 3, depth=3, width=8, activation="tanh", initializer="xavier_normal")
    params = model.init_params(rng=np.random.default_rng(1))
    return train(model, params, x, y, steps=8, lr=0.3, rng=np.random.default_rng(2))


def _renders(fig):
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_layer_histograms():
    """Does layer_histograms draw one titled histogram per layer, tolerating inf values?"""
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(10, 5)) for _ in range(7)] + [np.array([1.0, np.inf])]
    fig = figures.layer_histograms(values, title="activations")
    _renders(fig)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 8 and "layer 8" in visible[-1].get_title()


def test_gradient_norms_vs_depth_log_axis():
    """Is the y axis logarithmic and does a chain's vanishing gradient plot with one line per net?"""
    x = np.ones((1, 4))
    norms = {
        f"scale {s}": chain.chain_norms(x, chain.scaled_identity_weights(30, 4, s))["gradient_norms"]
        for s in (0.5, 1.0, 2.0)
    }
    fig = figures.gradient_norms_vs_depth(norms, start=0, title="chain")
    _renders(fig)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 3
    _renders(figures.gradient_norms_vs_depth(np.array([1.0, 0.0, np.inf, 1e-30])))


def test_scale_depth_heatmap_with_overflow():
    """Does the heatmap accept inf and 0 cells (overflow/underflow) and reject a wrong shape?"""
    depths, scales = [1, 10, 100, 1000], [0.5, 0.9, 1.0, 1.1, 2.0]
    values = np.array([[chain.output_scale(s, d) for s in scales] for d in depths])
    values[-1, 0] = 0.0
    fig = figures.scale_depth_heatmap(values, depths, scales, title="s**L")
    _renders(fig)
    assert len(fig.axes) == 2  # heatmap and colorbar
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        figures.scale_depth_heatmap(values.T, depths, scales)


def test_training_curves_single_and_compare(history):
    """Do training curves have 3 panels for one run and 2 log panels comparing runs?"""
    fig = figures.training_curves(history)
    _renders(fig)
    assert len(fig.axes) == 3 and fig.axes[0].get_yscale() == "log"
    fig = figures.training_curves({"a": history, "b": history.as_dict()})
    _renders(fig)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 2


def test_update_ratio_curves(history):
    """Does the update-ratio figure draw one line per layer plus the 1e-3 reference?"""
    fig = figures.update_ratio_curves(history)
    _renders(fig)
    assert len(fig.axes[0].get_lines()) == len(history.layer_names) + 1


def test_bad_inputs():
    """Do empty values, mismatched labels and missing records raise naming the problem?"""
    with pytest.raises(ValueError, match="empty"):
        figures.layer_histograms([])
    with pytest.raises(ValueError, match="2 entries"):
        figures.layer_histograms([np.ones(3)], labels=["a", "b"])
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        figures.gradient_norms_vs_depth(np.ones((2, 2)))
    with pytest.raises(ValueError, match="update_ratio"):
        figures.update_ratio_curves({"loss": np.ones(3)})


def test_figures_display_as_png_in_jupyter(monkeypatch):
    """Does a gradlib figure carry a PNG representation, so a notebook cell shows it without %matplotlib?"""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    from gradlib import diagnostic_figures

    fig = figures.gradient_norms_vs_depth({"a": np.array([1.0, 0.5, 0.25])})
    png = fig._repr_png_()
    assert isinstance(fig, figures.CourseFigure) and png.startswith(b"\x89PNG")
    assert diagnostic_figures._figure((2, 2))._repr_png_().startswith(b"\x89PNG")
