"""gradlib.diagnostics: per-layer statistics and health verdicts on networks with planted faults."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradlib import activations, data, mlp
from gradlib import diagnostics as dg


def _network(activation, initializer, *, depth=10, bias=0.0, seed=1):
    x, y = data.spirals(80, 3, rng=np.random.default_rng(0))
    model = mlp.MLP(2, 3, depth=depth, width=64, activation=activation, initializer=initializer)
    params = model.init_params(rng=np.random.default_rng(seed))
    for k in range(1, depth + 1):
        params[f"b{k}"] = params[f"b{k}"] + bias
    return model, params, x, y


def test_sigmoid_saturation_is_tanh_saturation_at_half_input():
    """Is a sigmoid saturated exactly where tanh(x/2) is (2*sigmoid(x) - 1 = tanh(x/2))?"""
    x = np.random.default_rng(0).normal(0, 4, (200, 30))
    got = dg.saturation_fraction(activations.sigmoid(x), "sigmoid")
    expected = dg.saturation_fraction(np.tanh(x / 2), "tanh")
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0.2 < got < 0.8


def test_saturation_counts_outputs_beyond_097():
    """Does tanh saturation count exactly the outputs with |a| > 0.97?"""
    out = np.array([[0.0, 0.96, 0.975, -0.99], [0.5, -0.2, 1.0, 0.97]])
    assert dg.saturation_fraction(out, "tanh") == pytest.approx(3 / 8)


def test_dead_fraction_counts_units_zero_on_the_whole_batch():
    """Does a unit count as dead only if it outputs 0 for every example?"""
    out = np.maximum(np.random.default_rng(0).normal(size=(50, 10)), 0.0) + 0.1
    out[:, [2, 7]] = 0.0
    out[:49, 4] = 0.0  # alive on one example: not dead
    assert dg.dead_fraction(out) == pytest.approx(0.2)


def test_layer_stats_numbers_against_torch():
    """Do mean/std, grad:data and lr-update ratios equal torch's std (biased) of the same arrays?"""
    rng = np.random.default_rng(3)
    out, dout, W, dW = (
        rng.normal(size=(20, 5)),
        rng.normal(size=(20, 5)),
        rng.normal(size=(4, 5)),
        rng.normal(size=(4, 5)),
    )
    s = dg.layer_stats("l", out=out, dout=dout, W=W, dW=dW, activation="tanh", lr=0.01)
    t = {k: torch.tensor(v) for k, v in dict(out=out, dout=dout, W=W, dW=dW).items()}
    assert s.act_std == pytest.approx(float(t["out"].std(unbiased=False)), rel=1e-12)
    assert s.grad_std == pytest.approx(float(t["dout"].std(unbiased=False)), rel=1e-12)
    ratio = float(t["dW"].std(unbiased=False) / t["W"].std(unbiased=False))
    assert s.grad_data_ratio == pytest.approx(ratio, rel=1e-12)
    assert s.update_data_ratio == pytest.approx(0.01 * ratio, rel=1e-12)
    assert s.weight_grad_norm == pytest.approx(float(torch.linalg.norm(t["dW"])), rel=1e-12)
    assert s.dead_fraction is None and s.saturation is not None


def test_update_array_takes_precedence_over_lr():
    """Is the update:data ratio std(update)/std(W) when the step actually applied is given?"""
    rng = np.random.default_rng(4)
    W = rng.normal(size=(6, 3))
    upd = 1e-3 * rng.normal(size=(6, 3))
    s = dg.layer_stats("l", out=W, dout=W, W=W, dW=W, lr=5.0, update=upd)
    assert s.update_data_ratio == pytest.approx(np.std(upd) / np.std(W))


def test_mlp_stats_weight_gradients_match_mlp_backward():
    """Does mlp_stats see the same dW as MLP.backward (its replicated backward has not drifted)?"""
    from gradlib import losses

    for residual in (False, True):
        model = mlp.MLP(2, 3, depth=4, width=8, activation="tanh", residual=residual, batchnorm=True)
        params = model.init_params(rng=np.random.default_rng(0))
        x, y = data.spirals(10, 3, rng=np.random.default_rng(1))
        out, cache, _ = model.forward(params, x)
        grads = model.backward(losses.softmax_cross_entropy(out, y)[1], cache)
        stats = dg.mlp_stats(model, params, x, y)
        norms = [float(np.linalg.norm(grads[f"W{k}"])) for k in range(1, model.depth + 2)]
        assert [s.weight_grad_norm for s in stats] == pytest.approx(norms, rel=1e-12)
        assert [s.name for s in stats][-1] == "output"


PLANTED = [
    # (activation, initializer, bias, {layer index: expected verdict})
    ("tanh", 0.01, 0.0, {0: "vanishing", 4: "vanishing"}),
    ("tanh", 1.0, 0.0, {5: "saturated", 9: "saturated"}),
    ("relu", "he_normal", -3.0, {0: "dead", 9: "dead"}),
    ("relu", 1.0, 0.0, {0: "exploding", 9: "exploding", 10: "exploding"}),
    ("sigmoid", "xavier_normal", 0.0, {0: "vanishing", 3: "vanishing"}),
    ("relu", "he_normal", 0.0, dict.fromkeys(range(11), "healthy")),
    ("tanh", "xavier_normal", 0.0, dict.fromkeys(range(11), "healthy")),
]


@pytest.mark.parametrize(("act", "initializer", "bias", "expected"), PLANTED)
def test_health_report_finds_planted_faults(act, initializer, bias, expected):
    """Does health_report name the planted fault (and call the healthy networks healthy)?"""
    stats = dg.mlp_stats(*_network(act, initializer, bias=bias))
    report = dg.health_report(stats)
    assert len(report) == len(stats)
    for i, verdict in expected.items():
        assert report[i].verdict == verdict, report[i]
        assert report[i].layer == stats[i].name and report[i].reason


def test_nan_statistics_are_exploding():
    """Is a layer whose statistics overflowed to nan/inf called exploding?"""
    s = dg.layer_stats("l", out=np.ones((4, 2)), dout=np.ones((4, 2)), W=np.ones((2, 2)), dW=np.ones((2, 2)))
    bad = dg.LayerStats(**{**s.__dict__, "act_std": math.inf})
    assert dg.health_report([bad, s])[0].verdict == "exploding"


def test_thresholds_are_configurable():
    """Does a stricter dead threshold change the verdict of a 30%-dead layer?"""
    out = np.ones((5, 10))
    out[:, :3] = 0.0
    s = dg.layer_stats("l", out=out, dout=out, W=out, dW=out, activation="relu")
    assert dg.health_report([s])[0].verdict == "healthy"
    assert dg.health_report([s], thresholds=dg.Thresholds(dead=0.25))[0].verdict == "dead"


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: dg.health_report([]), ValueError, "empty"),
        (lambda: dg.health_report([{"name": "x"}]), TypeError, "dict"),
        (lambda: dg.health_report(3), TypeError, "int"),
        (lambda: dg.saturation_fraction(np.ones(3), "relu"), ValueError, "'relu'"),
        (lambda: dg.dead_fraction(np.ones(3)), ValueError, "(3,)"),
        (
            lambda: dg.layer_stats(
                "l", out=np.ones((2, 3)), dout=np.ones((3, 2)), W=np.ones(2), dW=np.ones(2)
            ),
            ValueError,
            "(3, 2)",
        ),
        (lambda: dg.layer_stats("l", out=[], dout=[], W=[1.0], dW=[1.0]), ValueError, "out is empty"),
        (lambda: dg.mlp_stats(*_network("relu", "he_normal", depth=2), loss="hinge"), ValueError, "'hinge'"),
    ],
)
def test_bad_input_names_the_value(call, exc, text):
    """Does bad input raise the right exception naming the bad value?"""
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
