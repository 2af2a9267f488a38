"""gradlib.diagnostic_figures: figures return a Figure for numpy and torch statistics alike."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from gradlib import data, mlp
from gradlib import diagnostic_figures as figs
from gradlib import diagnostics as dg


def _stats(keep=True):
    model = mlp.MLP(2, 3, depth=3, width=8, activation="tanh", initializer="xavier_normal")
    params = model.init_params(rng=np.random.default_rng(0))
    x, y = data.spirals(10, 3, rng=np.random.default_rng(1))
    return dg.mlp_stats(model, params, x, y, lr=0.1, keep_samples=keep)


def test_every_figure_is_a_figure_with_one_line_per_layer():
    """Does each function return a Figure drawing one curve per hidden layer?"""
    stats = _stats()
    for fn in (figs.activation_histograms, figs.gradient_histograms):
        fig = fn(stats)
        assert isinstance(fig, Figure) and len(fig.axes[0].lines) == len(stats) - 1
    assert len(figs.ratio_by_layer(stats).axes) == 2
    history = [stats, stats]
    fig = figs.update_ratio_history(history)
    assert len(fig.axes[0].lines) == len(stats) + 1  # plus the 1e-3 line


def test_missing_samples_are_named():
    """Without kept samples, does the histogram say which layers lack them?"""
    with pytest.raises(ValueError, match="layer 1"):
        figs.activation_histograms(_stats(keep=False))


def test_bad_history_shape_is_named():
    """Does a 1-D history raise naming its shape?"""
    with pytest.raises(ValueError, match=r"\(3,\)"):
        figs.update_ratio_history(np.ones(3))
