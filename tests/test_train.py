"""gradlib.train against torch.optim.SGD (momentum) with torch's clipping utilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradlib import data
from gradlib.mlp import MLP
from gradlib.train import History, sgd_momentum_step, train


def _torch_train(model, params, x, y, *, steps, lr, momentum, clip, clip_value):
    """Full-batch training of the same tanh MLP (no BN) in torch."""
    P = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in params.items()}
    opt = torch.optim.SGD(list(P.values()), lr=lr, momentum=momentum)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        a = xt
        for k in range(1, model.depth + 1):
            a = torch.tanh(a @ P[f"W{k}"] + P[f"b{k}"])
        L1 = model.depth + 1
        loss = torch.nn.functional.cross_entropy(a @ P[f"W{L1}"] + P[f"b{L1}"], yt)
        loss.backward()
        losses.append(loss.item())
        if clip == "value":
            torch.nn.utils.clip_grad_value_(list(P.values()), clip_value)
        elif clip == "global_norm":
            torch.nn.utils.clip_grad_norm_(list(P.values()), clip_value)
        elif clip == "norm":
            for p in P.values():
                torch.nn.utils.clip_grad_norm_([p], clip_value)  # per-tensor: Keras clipnorm
        opt.step()
    return np.array(losses), {k: v.detach().numpy() for k, v in P.items()}


@pytest.mark.parametrize(
    ("clip", "clip_value"), [(None, None), ("value", 0.05), ("norm", 0.1), ("global_norm", 0.2)]
)
def test_matches_torch_sgd_momentum(clip, clip_value):
    """Do losses and final parameters match torch SGD(momentum=0.9) with the same clipping?"""
    x, y = data.spirals(20, 3, rng=np.random.default_rng(0))
    model = MLP(2, 3, depth=3, width=8, activation="tanh", initializer="xavier_normal")
    params = model.init_params(rng=np.random.default_rng(1))
    hist = train(
        model, params, x, y, steps=6, lr=0.5, momentum=0.9, rng=np.random.default_rng(2),
        clip=clip, clip_value=clip_value,
    )  # fmt: skip
    losses, final = _torch_train(
        model, params, x, y, steps=6, lr=0.5, momentum=0.9, clip=clip, clip_value=clip_value
    )
    np.testing.assert_allclose(hist.loss, losses, rtol=1e-6)
    for key, value in final.items():
        # torch's clipping adds 1e-6 to the norm for per-tensor clipping too, hence rtol 1e-5
        np.testing.assert_allclose(hist.params[key], value, rtol=1e-5, atol=1e-8)


def test_records_shapes_and_values():
    """Are the records (T, L+1) / (T, L), gradient norms measured before clipping, and ratios right?"""
    x, y = data.spirals(30, 3, rng=np.random.default_rng(0))
    model = MLP(2, 3, depth=4, width=10, activation="relu", batchnorm=True)
    params = model.init_params(rng=np.random.default_rng(1))
    hist = train(
        model, params, x, y, steps=5, lr=0.1, rng=np.random.default_rng(3), batch_size=32,
        clip="global_norm", clip_value=1e-3,
    )  # fmt: skip
    assert isinstance(hist, History)
    assert hist.grad_norms.shape == (5, 5) and hist.update_ratio.shape == (5, 5)
    assert hist.act_mean.shape == (5, 4) and hist.act_std.shape == (5, 4)
    assert hist.layer_names == ["W1", "W2", "W3", "W4", "W5"]
    assert np.all(hist.total_grad_norm > 1e-3)  # pre-clip norms, larger than the clip threshold
    np.testing.assert_allclose(
        hist.total_grad_norm[0] ** 2, np.sum(hist.grad_norms[0] ** 2), rtol=0.5
    )  # the weights carry most of the norm; biases and BN parameters the rest
    assert np.all(hist.total_grad_norm**2 >= np.sum(hist.grad_norms**2, axis=1) * (1 - 1e-12))
    # first step: velocity = clipped gradient, so the update norm is lr * ||clipped dW|| <= lr * 1e-3
    W = params["W1"]
    assert hist.update_ratio[0, 0] <= 0.1 * 1e-3 / np.linalg.norm(W) * (1 + 1e-9)
    assert np.all((hist.act_mean >= 0) & (hist.act_std > 0))  # ReLU outputs
    assert hist.diverged_at is None and hist.state["running_mean1"].shape == (10,)


def test_deterministic_and_pure():
    """Does the same rng give the same history, and are the initial params left untouched?"""
    x, y = data.regression(64, dim=3, rng=np.random.default_rng(0))
    model = MLP(3, 1, depth=2, width=16, activation="tanh", initializer="xavier_uniform")
    params = model.init_params(rng=np.random.default_rng(1))
    before = {k: v.copy() for k, v in params.items()}
    runs = [
        train(model, params, x, y, steps=10, lr=0.05, loss="mse", batch_size=16,
              rng=np.random.default_rng(7))
        for _ in range(2)
    ]  # fmt: skip
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)
    for k, v in params.items():
        np.testing.assert_array_equal(v, before[k])
    assert runs[0].loss[-1] < runs[0].loss[0]


def test_divergence_is_recorded_without_warnings():
    """Does an exploding run stop at the first non-finite loss, warning-free, with NaN rows after?"""
    x, y = data.regression(32, dim=2, rng=np.random.default_rng(0))
    model = MLP(2, 1, depth=3, width=16, activation="relu", initializer=3.0)
    params = model.init_params(rng=np.random.default_rng(1))
    hist = train(model, params, x, y, steps=50, lr=1.0, loss="mse", rng=np.random.default_rng(0))
    assert hist.diverged_at is not None and hist.diverged_at < 49
    assert np.all(np.isnan(hist.loss[hist.diverged_at + 1 :]))


def test_sgd_momentum_step():
    """Is the first step p - lr g and the second p - lr (mu g1 + g2), leaving inputs unchanged?"""
    p = {"W": np.array([1.0, 2.0])}
    g = {"W": np.array([0.5, -1.0])}
    p1, v1 = sgd_momentum_step(p, g, {}, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(p1["W"], [0.95, 2.1])
    p2, v2 = sgd_momentum_step(p1, g, v1, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(v2["W"], 1.9 * g["W"])
    np.testing.assert_allclose(p2["W"], p1["W"] - 0.19 * g["W"])
    np.testing.assert_array_equal(p["W"], [1.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"steps": 0}, ValueError, "0"),
        ({"loss": "hinge"}, ValueError, "hinge"),
        ({"clip": "l1"}, ValueError, "l1"),
        ({"clip": "global_norm", "clip_value": -1.0}, ValueError, "-1.0"),
        ({"clip": "norm"}, ValueError, "None"),
        ({"batch_size": 100}, ValueError, "100"),
        ({"rng": 3}, TypeError, "int"),
        ({"lr": -0.1}, ValueError, "-0.1"),
        ({"momentum": 1.0}, ValueError, "1.0"),
    ],
)
def test_bad_arguments(kwargs, exc, text):
    """Do bad steps, loss, clip mode, clip_value, batch size, rng, lr and momentum raise clearly?"""
    x, y = data.blobs(5, 2, rng=np.random.default_rng(0))
    model = MLP(2, 2, depth=1, width=4)
    args = {"steps": 2, "lr": 0.1, "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(exc) as info:
        train(model, model.init_params(rng=np.random.default_rng(0)), x, y, **args)
    assert text in str(info.value)
