"""gradlib.mlp against the same network written in torch (float64, autograd as the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradlib.mlp import MLP

TORCH_ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def _torch_forward(model, params, x, state, training):
    """The network of gradlib.mlp's docstring, written directly with torch ops."""
    P = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in params.items()}
    a = torch.from_numpy(x)
    new_state = {}

    def bn(k, v):
        if not model.batchnorm:
            return v
        rm = torch.from_numpy(state[f"running_mean{k}"].copy())
        rv = torch.from_numpy(state[f"running_var{k}"].copy())
        new_state[f"running_mean{k}"], new_state[f"running_var{k}"] = rm, rv
        return torch.nn.functional.batch_norm(
            v, rm, rv, P[f"gamma{k}"], P[f"beta{k}"], training, model.momentum, model.eps
        )

    act = TORCH_ACT[model.activation]
    for k in range(1, model.depth + 1):
        z = a @ P[f"W{k}"] + P[f"b{k}"]
        if model.residual and k >= 2:  # branch affine -> act -> BN, then the addition
            a = a + model.branch_scale * bn(k, act(z))
        else:  # affine -> BN -> act
            a = act(bn(k, z))
    L1 = model.depth + 1
    return a @ P[f"W{L1}"] + P[f"b{L1}"], P, new_state


CONFIGS = [
    {"activation": "relu"},
    {"activation": "tanh", "batchnorm": True},
    {"activation": "relu", "residual": True, "branch_scale": 0.7},
    {"activation": "sigmoid", "batchnorm": True, "residual": True},
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_forward_backward_match_torch(cfg, training):
    """Do output, new running stats and every parameter gradient match torch autograd?"""
    rng = np.random.default_rng(0)
    model = MLP(in_dim=5, out_dim=3, depth=4, width=6, **cfg)
    params = model.init_params(rng=rng)
    if model.batchnorm:  # non-trivial gamma/beta and running stats
        for k in range(1, model.depth + 1):
            params[f"gamma{k}"] = rng.uniform(0.5, 1.5, 6)
            params[f"beta{k}"] = rng.normal(0, 0.3, 6)
    state = {k: v + rng.uniform(0, 0.5, v.shape) for k, v in model.init_state().items()}
    x = rng.normal(size=(7, 5))
    dout = rng.normal(size=(7, 3))
    out, cache, new_state = model.forward(params, x, state, training=training)
    grads = model.backward(dout, cache)
    out_t, P, state_t = _torch_forward(model, params, x, state, training)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert list(grads) == list(params)
    for key in params:
        np.testing.assert_allclose(grads[key], P[key].grad.numpy(), rtol=1e-8, atol=1e-11)
    for key in new_state:
        np.testing.assert_allclose(new_state[key], state_t[key].numpy(), rtol=1e-12)


def test_numerical_gradient_of_input():
    """Is dx within 1e-7 relative error of centered differences (tanh, BN, residual)?"""
    rng = np.random.default_rng(1)
    model = MLP(3, 2, depth=3, width=4, activation="tanh", batchnorm=True, residual=True)
    params = model.init_params(rng=rng)
    x = rng.normal(size=(5, 3))
    dout = rng.normal(size=(5, 2))
    out, cache, _ = model.forward(params, x)
    _, dx = model.backward(dout, cache, return_dx=True)
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += 1e-5
        xm[idx] -= 1e-5
        fp = np.sum(model.forward(params, xp)[0] * dout)
        fm = np.sum(model.forward(params, xm)[0] * dout)
        num[idx] = (fp - fm) / 2e-5
    assert np.max(np.abs(dx - num)) / np.max(np.abs(dx) + np.abs(num)) < 1e-7


def test_purity_and_records():
    """Are params and state untouched, and does the cache record z, u, f, a per hidden layer?"""
    rng = np.random.default_rng(2)
    model = MLP(4, 2, depth=3, width=5, batchnorm=True)
    params, state = model.init_params(rng=rng), model.init_state()
    before = {k: v.copy() for k, v in {**params, **state}.items()}
    x = rng.normal(size=(6, 4))
    out, cache, new_state = model.forward(params, x, state, training=True)
    model.backward(np.ones_like(out), cache)
    for k, v in {**params, **state}.items():
        np.testing.assert_array_equal(v, before[k])
    assert not np.allclose(new_state["running_mean1"], state["running_mean1"])
    rec = cache["record"]
    assert all(len(rec[key]) == 3 for key in "zufa")
    np.testing.assert_allclose(rec["u"][0].mean(axis=0), 0, atol=1e-12)  # BN output per feature
    np.testing.assert_array_equal(rec["f"][1], np.maximum(rec["u"][1], 0))


def test_zero_gamma_residual_is_identity():
    """With zero_gamma and relu, do the residual layers pass a_1 through unchanged?"""
    model = MLP(3, 2, depth=5, width=4, batchnorm=True, residual=True)
    params = model.init_params(rng=np.random.default_rng(3), zero_gamma=True)
    np.testing.assert_array_equal(params["gamma1"], 1.0)
    np.testing.assert_array_equal(params["gamma3"], 0.0)
    _, cache, _ = model.forward(params, np.random.default_rng(4).normal(size=(8, 3)))
    np.testing.assert_array_equal(cache["record"]["a"][-1], cache["record"]["a"][0])


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_zero_gamma_branches_start_training(activation):
    """Does a zero-γ branch learn: γ and β move at step 1, the branch's W from step 2 (not frozen at 0)?"""
    from gradlib import data, train

    x, y = data.spirals(40, 3, rng=np.random.default_rng(0))
    model = MLP(2, 3, depth=6, width=8, activation=activation, batchnorm=True, residual=True)
    params = model.init_params(rng=np.random.default_rng(1), zero_gamma=True)
    state, velocity = model.init_state(), {}
    w_grad_norms = []
    for _ in range(3):
        params, state, velocity, info = train.train_step(model, params, state, velocity, x, y, lr=0.05)
        w_grad_norms.append([np.linalg.norm(info["grads"][f"W{k}"]) for k in range(2, model.depth + 1)])
    w_grad_norms = np.array(w_grad_norms)
    for k in range(2, model.depth + 1):
        moved = np.mean(params[f"gamma{k}"] != 0)  # a unit whose ReLU is dead for every example stays 0
        assert moved >= 0.5, f"gamma{k} after 3 steps: {params[f'gamma{k}']}"
        assert np.any(params[f"beta{k}"] != 0), f"beta{k} never moved"
    np.testing.assert_array_equal(w_grad_norms[0], 0.0)  # the branch is multiplied by gamma = 0 at step 1
    assert np.all(w_grad_norms[1:] > 0), f"branch weights get no gradient after gamma moved: {w_grad_norms}"


def test_initializer_choices():
    """Do a float std, a name and a callable give weights of the expected scale and shapes?"""
    rng = np.random.default_rng(5)
    p = MLP(300, 10, depth=1, width=200, initializer=0.01).init_params(rng=rng)
    assert p["W1"].shape == (300, 200) and p["W2"].shape == (200, 10)
    assert abs(p["W1"].std() - 0.01) < 0.001
    p = MLP(300, 10, depth=1, width=200, initializer="he_normal").init_params(rng=rng)
    assert abs(p["W1"].std() - np.sqrt(2 / 300)) < 0.1 * np.sqrt(2 / 300)
    p = MLP(3, 1, depth=1, width=2, initializer=lambda s, rng: np.ones(s)).init_params(rng=rng)
    np.testing.assert_array_equal(p["W1"], 1.0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"depth": 0}, ValueError, "depth"),
        ({"width": 2.5}, ValueError, "2.5"),
        ({"activation": "swish"}, ValueError, "swish"),
        ({"initializer": "he_gaussian"}, ValueError, "he_gaussian"),
        ({"initializer": -0.1}, ValueError, "-0.1"),
    ],
)
def test_bad_architecture(kwargs, exc, text):
    """Do bad depth, width, activation and initializer raise naming the value?"""
    args = {"in_dim": 3, "out_dim": 2, "depth": 2, "width": 4, **kwargs}
    with pytest.raises(exc) as info:
        MLP(**args)
    assert text in str(info.value)


def test_bad_calls():
    """Do a missing parameter, N = 1 with BN in training and zero_gamma without BN raise clearly?"""
    model = MLP(3, 2, depth=2, width=4, batchnorm=True)
    params = model.init_params(rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="'W2'"):
        model.forward({k: v for k, v in params.items() if k != "W2"}, np.ones((4, 3)))
    with pytest.raises(ValueError, match="N=1"):
        model.forward(params, np.ones((1, 3)), training=True)
    model.forward(params, np.ones((1, 3)), training=False)  # eval mode works with one example
    with pytest.raises(ValueError, match="zero_gamma"):
        MLP(3, 2, depth=2, width=4).init_params(rng=np.random.default_rng(0), zero_gamma=True)
    with pytest.raises(TypeError, match="int"):
        model.init_params(rng=0)
