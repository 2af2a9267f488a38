"""gradlib.torch_hooks: the same LayerStats from a torch.nn model as from gradlib's numpy MLP."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gradlib import data, mlp
from gradlib import diagnostics as dg
from gradlib.torch_hooks import collect_stats, find_layers

MODULES = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


def _twins(activation, initializer, depth=4, width=16, inplace=False):
    """A gradlib MLP and a torch Sequential holding the same weights."""
    model = mlp.MLP(2, 3, depth=depth, width=width, activation=activation, initializer=initializer)
    params = model.init_params(rng=np.random.default_rng(0))
    mods = []
    for k in range(1, depth + 2):
        lin = nn.Linear(*params[f"W{k}"].shape).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(params[f"W{k}"].T))
            lin.bias.copy_(torch.from_numpy(params[f"b{k}"]))
        mods.append(lin)
        if k <= depth:
            mods.append(nn.ReLU(inplace=True) if inplace else MODULES[activation]())
    return model, params, nn.Sequential(*mods)


@pytest.mark.parametrize(
    ("activation", "initializer"), [("tanh", 1.0), ("relu", "he_normal"), ("sigmoid", 0.5)]
)
def test_torch_stats_equal_numpy_stats(activation, initializer):
    """Do hooks on a torch model give the same numbers as gradlib's MLP with the same weights?"""
    model, params, net = _twins(activation, initializer)
    x, y = data.spirals(30, 3, rng=np.random.default_rng(2))
    ours = dg.mlp_stats(model, params, x, y, lr=0.1)
    theirs = collect_stats(
        net, torch.from_numpy(x), lambda out: nn.functional.cross_entropy(out, torch.from_numpy(y)), lr=0.1
    )
    assert len(theirs) == len(ours) == model.depth + 1
    for a, b in zip(ours, theirs, strict=True):
        assert a.activation == b.activation
        for key, value in a.numbers().items():
            if value is None:
                assert b.numbers()[key] is None, (b.name, key)
            else:
                assert b.numbers()[key] == pytest.approx(value, rel=1e-9, abs=1e-15), (b.name, key)
    assert [v.verdict for v in dg.health_report(theirs)] == [v.verdict for v in dg.health_report(ours)]


def test_hooks_removed_and_grads_untouched():
    """Are all hooks removed and the model's .grad fields left as they were?"""
    _, _, net = _twins("tanh", "xavier_normal")
    x = torch.randn(8, 2, dtype=torch.float64)
    collect_stats(net, x, lambda out: out.pow(2).mean())
    for m in net.modules():
        assert not m._forward_hooks and not m._backward_hooks
    assert all(p.grad is None for p in net.parameters())


def test_hooks_removed_when_the_loss_fails():
    """Are hooks removed even when loss_fn raises?"""
    _, _, net = _twins("tanh", "xavier_normal")

    def broken(out):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        collect_stats(net, torch.randn(4, 2, dtype=torch.float64), broken)
    assert all(not m._forward_hooks for m in net.modules())


def test_inplace_relu_and_batchnorm_grouping():
    """Does an in-place ReLU after BatchNorm count as that Linear layer's activation?"""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.ReLU(inplace=True), nn.Linear(7, 2))
    stats = collect_stats(net, torch.randn(16, 5), lambda out: out.sum())
    assert [s.activation for s in stats] == ["relu", "linear"]
    assert stats[0].dead_fraction is not None and stats[0].act_mean >= 0


def test_functional_activation_falls_back_to_linear():
    """With F.tanh inside forward, is the layer reported with its pre-activation and 'linear'?"""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 4), nn.Linear(4, 1)

        def forward(self, x):
            return self.b(torch.tanh(self.a(x)))

    stats = collect_stats(Net(), torch.randn(6, 3), lambda out: out.mean())
    assert [(s.name, s.activation) for s in stats] == [("a", "linear"), ("b", "linear")]


def test_conv_layers_are_found():
    """Does a small CNN report its conv and linear layers in order?"""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    stats = collect_stats(net, torch.randn(5, 1, 8, 8), lambda out: out.pow(2).mean())
    assert [s.name for s in stats] == ["0", "3"]
    assert stats[0].activation == "relu" and 0.0 <= stats[0].dead_fraction <= 1.0


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: find_layers("not a model"), TypeError, "str"),
        (lambda: collect_stats(nn.ReLU(), torch.randn(2, 2), lambda o: o.sum()), ValueError, "ReLU"),
        (lambda: collect_stats(nn.Linear(2, 3), torch.randn(4, 2), lambda o: o), TypeError, "scalar"),
    ],
)
def test_bad_input_names_the_value(call, exc, text):
    """Does bad input raise the right exception naming the bad value?"""
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
