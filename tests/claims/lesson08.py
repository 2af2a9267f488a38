"""Lesson 08's claims: the broken networks, their initial losses and verdicts, and the before/after table."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
from last_bits import nudge
from torch.nn import functional as F  # noqa: N812

from claims import Claim
from gradlib import diagnostics, torch_hooks
from gradlib.digits import load_split
from gradlib.torch_mlp import build_mlp
from gradlib.torch_train import train_classifier

L = "08-capstone"
STEPS = 150  # the interactive run
NUDGES = range(9)  # the run and eight copies changed in the last bit (tests/last_bits.py)


@cache
def _data():
    return load_split()


def _batch():
    d = _data()
    return torch.as_tensor(d.x_train[:256], dtype=torch.float32), torch.as_tensor(d.y_train[:256])


@cache
def _run(activation: str, init: str, norm: str | None, lr: float, clip: float | None = None, k: int = 0):
    model = nudge(build_mlp(10, 64, activation=activation, init=init, norm=norm, seed=0), k)
    with np.errstate(all="ignore"):
        result = train_classifier(model, _data(), lr=lr, steps=STEPS, seed=0, clip=clip)
    return model, result


def _verdicts(model) -> list[str]:
    x, y = _batch()
    with np.errstate(all="ignore"):
        stats = torch_hooks.collect_stats(model, x, lambda out: F.cross_entropy(out, y))
    return [v.verdict for v in diagnostics.health_report(stats)]


def _initial(kwargs) -> float:
    x, y = _batch()
    with torch.no_grad():
        return float(F.cross_entropy(build_mlp(10, 64, seed=0, **kwargs)(x), y))


def _neither_learns():
    _, a = _run("sigmoid", "small", None, 0.1)
    assert a.val_accuracy < 0.15 and abs(a.losses[-10:].mean() - a.losses[0]) < 0.1, a
    for k in NUDGES:  # B trains on the edge; it diverges whatever the last bits
        _, b = _run("relu", "he", None, 0.5, k=k)
        assert b.val_accuracy < 0.15 and b.diverged and len(b.losses) < 30, (k, b.losses)


def _initial_losses():
    small = _initial(dict(activation="sigmoid", init="small"))
    he = _initial(dict(activation="relu", init="he"))
    large = _initial(dict(activation="relu", init="large"))
    assert abs(small - math.log(10)) < 0.01, small
    assert 2.5 <= he <= 2.8, he
    assert 1e7 <= large <= 1e9, large


def _a_vanishes_b_explodes():
    a, b = _verdicts(_run("sigmoid", "small", None, 0.1)[0]), _verdicts(_run("relu", "he", None, 0.5)[0])
    assert a.count("vanishing") >= 8 and a[0] == "vanishing", a
    assert set(b) == {"exploding"}, b


def _b_fine_at_init():
    verdicts = _verdicts(build_mlp(10, 64, activation="relu", init="he", seed=0))
    assert set(verdicts) == {"healthy"}, verdicts


def _table():
    sig_bn = _run("sigmoid", "xavier", "batchnorm", 0.1)
    assert 0.9 <= sig_bn[1].val_accuracy <= 0.96, sig_bn[1].val_accuracy
    # BN at lr 0.5 trains on the edge: its accuracy moves with the last bits, so it is held to the bar
    edge = [_run("relu", "he", "batchnorm", 0.5, k=k) for k in NUDGES]
    for (model, result), bar in [(sig_bn, 0.9), (_run("tanh", "xavier", None, 0.05), 0.9)] + [
        (run, 0.75) for run in edge
    ]:
        assert result.val_accuracy >= bar and set(_verdicts(model)) == {"healthy"}, result.val_accuracy
        assert abs(result.losses[0] - math.log(10)) < 0.5, result.losses[0]


def _clipped() -> list:
    return [_run("relu", "he", None, 0.5, 1.0, k=k)[1] for k in NUDGES]


def _clipping_learns_little():
    accuracies = [r.val_accuracy for r in _clipped()]
    assert max(accuracies) < 0.75, f"clipping alone, seed 0 and its nudged copies: {accuracies}"


def _clipping_moves_by_tenths():
    accuracies = [r.val_accuracy for r in _clipped()]
    assert max(accuracies) - min(accuracies) >= 0.1, (
        f"clipping alone, seed 0 and its nudged copies: {accuracies}"
    )


def _digits_shape():
    from sklearn.datasets import load_digits

    digits = load_digits()
    assert digits.images.shape == (1797, 8, 8) and sorted(set(digits.target)) == list(range(10)), (
        digits.images.shape,
        sorted(set(digits.target)),
    )


def _hidden_scale_ratios(activation: str, init: str) -> np.ndarray:
    """The std of each Linear layer's output over the previous one's, on the first 256 training images."""
    x, _ = _batch()
    stds, h = [], x
    with torch.no_grad():
        for module in build_mlp(10, 64, activation=activation, init=init, seed=0):
            h = module(h)
            if isinstance(module, torch.nn.Linear):
                stds.append(float(h.std()))
    return np.array(stds[1:-1]) / np.array(stds[:-2])  # hidden layer to hidden layer


def _large_relu_grows_57():
    per_layer = float(np.exp(np.mean(np.log(_hidden_scale_ratios("relu", "large")))))
    assert 4.5 <= per_layer <= 7, f"N(0, 1) ReLU layers multiply the scale by {per_layer:.2f}"
    assert f"{math.sqrt(64 / 2):.1f}" == "5.7"


def _a_gradient_factor_002():
    x, y = _batch()
    model = build_mlp(10, 64, activation="sigmoid", init="small", seed=0)
    stats = torch_hooks.collect_stats(model, x, lambda out: F.cross_entropy(out, y))
    g = np.array([s.grad_std for s in stats[:-1]])  # the hidden layers
    per_layer = float(np.median(g[:-1] / g[1:]))
    assert 0.015 <= per_layer <= 0.025, (
        f"gradient factor per sigmoid layer {per_layer:.4f} (0.25 * 0.08 = 0.02)"
    )


def _xavier_alone_guesses():
    _, result = _run("sigmoid", "xavier", None, 0.1)
    assert result.val_accuracy < 0.15, f"sigmoid + Xavier, no BN: accuracy {result.val_accuracy:.3f}"


def _clipping_keeps_finite():
    for k in NUDGES:
        model, result = _run("relu", "he", None, 0.5, 1.0, k=k)
        assert not result.diverged and np.all(np.isfinite(result.losses)), (k, result.losses)
        assert all(torch.isfinite(p).all() for p in model.parameters()), f"nudge {k}: a weight is not finite"


CLAIMS = [
    Claim(L, "cell-006", "Neither network learns anything", _neither_learns),
    Claim(L, "cell-010", "ReLU + He\nstarts at about 2.6", _initial_losses),
    Claim(L, "cell-010", "ReLU with $\\mathcal{N}(0, 1)$ weights starts at about $10^8$", _initial_losses),
    Claim(
        L,
        "cell-012",
        "the gradient reaching the first hidden layers is less than 1/100 of what reaches the last",
        _a_vanishes_b_explodes,
    ),
    Claim(L, "cell-012", "Before it diverged, its gradients were fine at\ninitialization", _b_fine_at_init),
    Claim(L, "cell-020", "the same depth then reaches about 0.93", _table),
    Claim(L, "cell-020", "its accuracy stays below the 0.75 a fix must reach", _clipping_learns_little),
    Claim(
        L,
        "cell-020",
        "changing the\n  last bit of each initial weight moves its final accuracy by tenths",
        _clipping_moves_by_tenths,
    ),
    Claim(L, "cell-020", "adding BatchNorm (ReLU + He + BN even at lr 0.5) fixes it", _table),
    Claim(L, "cell-020", "each fixed network ends with a\n  health report of healthy layers only", _table),
]

CLAIMS += [
    Claim(L, "cell-000", "1,797 grey-scale images of 8 × 8 pixels, ten classes", _digits_shape),
    Claim(L, "cell-010", "Sigmoid with tiny weights starts exactly at $\\ln 10$", _initial_losses),
    Claim(
        L,
        "cell-010",
        "each layer multiplies the activations' scale by about $\\sqrt{64/2} \\approx 5.7$",
        _large_relu_grows_57,
    ),
    Claim(
        L,
        "cell-012",
        "the tiny weights multiply it by about $0.01 \\cdot \\sqrt{64} = 0.08$ more, per layer",
        _a_gradient_factor_002,
    ),
    Claim(
        L,
        "cell-020",
        "Replacing the init alone is not enough for a sigmoid network this deep",
        _xavier_alone_guesses,
    ),
    Claim(L, "cell-020", "Clipping at norm 1 keeps its numbers finite", _clipping_keeps_finite),
    Claim(L, "cell-020", "The initial losses of the working networks are near $\\ln 10 = 2.303$", _table),
]
