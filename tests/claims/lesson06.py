"""Claims of lesson 06 (residual connections): the experiments of its sections 1, 6, 7 and 8."""

from __future__ import annotations

from functools import cache

import numpy as np

from claims import Claim
from gradlib import data, losses, mlp, train

LESSON = "06-residual"


def _random_products(seed: int = 0, dim: int = 64, depth: int = 50, s: float = 0.2):
    """Section 1's experiment: gradient norms through random plain and residual blocks."""
    rng = np.random.default_rng(seed)
    jacobians = [s * rng.standard_normal((dim, dim)) / np.sqrt(dim) for _ in range(depth)]
    g_plain = g_res = rng.standard_normal(dim)
    plain, res = [np.linalg.norm(g_plain)], [np.linalg.norm(g_res)]
    for J in jacobians:
        g_plain = J.T @ g_plain
        g_res = g_res + J.T @ g_res
        plain.append(np.linalg.norm(g_plain))
        res.append(np.linalg.norm(g_res))
    return np.array(plain), np.array(res)


def _plain_falls_by_about_s():
    for seed in range(5):
        plain, _ = _random_products(seed)
        per_block = np.exp(np.mean(np.diff(np.log(plain))))
        assert 0.15 < per_block < 0.25, f"seed {seed}: plain product falls by {per_block:.3f} per block"


def _residual_grows_to_about_3():
    finals = []
    for seed in range(10):
        _, res = _random_products(seed)
        assert np.all(res >= 0.9 * res[0]), f"seed {seed}: the residual norm shrank: {res / res[0]}"
        finals.append(res[-1] / res[0])
    assert 2 <= np.median(finals) <= 4 and max(finals) < 5, f"final / start over seeds 0-9: {finals}"


def _spirals():
    return data.spirals(100, 3, rng=np.random.default_rng(0))


@cache
def _fifty_layer_norms(name: str, seed: int = 1) -> np.ndarray:
    """Section 6's experiment: ||dLoss/dW_k|| of a 50-layer MLP at initialization."""
    cfg = {
        "plain sigmoid": dict(activation="sigmoid", initializer="xavier_normal"),
        "residual sigmoid": dict(activation="sigmoid", initializer="xavier_normal", residual=True),
        "plain bn": dict(activation="relu", initializer="he_normal", batchnorm=True),
        "residual bn": dict(activation="relu", initializer="he_normal", batchnorm=True, residual=True),
    }[name]
    x, y = _spirals()
    net = mlp.MLP(2, 3, depth=50, width=32, **cfg)
    p = net.init_params(rng=np.random.default_rng(seed))
    out, c, _ = net.forward(p, x, training=True)
    g = net.backward(losses.softmax_cross_entropy(out, y)[1], c)
    return np.array([np.linalg.norm(g[f"W{k}"]) for k in range(1, net.n_layers + 1)])


def _ratio(name: str) -> float:
    n = _fifty_layer_norms(name)
    return float(n[0] / n[-1])


def _in_decade(value: float, exponent: float) -> bool:
    """Whether value is "about 10^exponent": within a factor of 10^0.5 either side."""
    return abs(np.log10(value) - exponent) <= 0.5


def _sigmoid_ratios():
    plain, res = _ratio("plain sigmoid"), _ratio("residual sigmoid")
    ok = _in_decade(plain, -33) and _in_decade(res, np.log10(3e-4))
    assert ok, f"plain {plain:.3g}, residual {res:.3g}"


def _plain_bn_grows():
    r = _ratio("plain bn")
    assert _in_decade(r, 4), f"first/last ratio of the plain BN network {r:.3g}"


def _residual_bn_flat():
    n = _fifty_layer_norms("residual bn")
    r, spread = n[0] / n[-1], n.max() / n.min()
    assert 0.5 <= r <= 1.0 and spread <= 25, f"first/last {r:.3g}, max/min over layers {spread:.3g}"


def _zero_gamma_steps(steps: int = 3):
    x, y = _spirals()
    net = mlp.MLP(2, 3, depth=50, width=32, activation="relu", initializer="he_normal", batchnorm=True,
                  residual=True)  # fmt: skip
    params = net.init_params(rng=np.random.default_rng(1), zero_gamma=True)
    state, velocity, rows = net.init_state(), {}, []
    for _ in range(steps):
        params, state, velocity, info = train.train_step(net, params, state, velocity, x, y, lr=0.05)
        rows.append((info["grads"], params))
    return net, rows


def _zero_gamma_first_step():
    net, rows = _zero_gamma_steps()
    (g1, p1), (g2, _), _ = rows
    blocks = range(2, net.depth + 1)
    w1 = [np.linalg.norm(g1[f"W{k}"]) for k in blocks]
    assert max(w1) == 0, f"branch weights got a gradient at step 1: {max(w1)}"
    assert all(np.linalg.norm(g1[f"gamma{k}"]) > 0 for k in blocks), "some gamma got no gradient at step 1"
    assert all(np.any(p1[f"gamma{k}"] != 0) for k in blocks), "some block's gamma did not move at step 1"
    w2 = [np.linalg.norm(g2[f"W{k}"]) for k in blocks]
    assert min(w2) > 0, f"some branch's weights still get no gradient at step 2: {w2}"


@cache
def _thirty_layer_runs(seed: int = 1, data_seed: int = 2):
    x, y = _spirals()
    out = {}
    for name, cfg in {
        "plain": dict(batchnorm=False, residual=False),
        "bn": dict(batchnorm=True, residual=False),
        "zero-gamma": dict(batchnorm=True, residual=True),
    }.items():
        net = mlp.MLP(2, 3, depth=30, width=32, activation="relu", initializer="he_normal", **cfg)
        p = net.init_params(rng=np.random.default_rng(seed), zero_gamma=cfg["residual"])
        out[name] = train.train(net, p, x, y, steps=200, lr=0.05, rng=np.random.default_rng(data_seed),
                                batch_size=100)  # fmt: skip
    return out


def _plain_he_does_not_learn():
    h = _thirty_layer_runs()["plain"]
    assert h.loss[-1] > h.loss[0] > 1.05, f"plain He: loss {h.loss[0]:.3f} -> {h.loss[-1]:.3f}"


def _bn_trains_to_046():
    h = _thirty_layer_runs()["bn"]
    assert 0.36 <= h.loss[-1] <= 0.56, f"plain BN final loss {h.loss[-1]:.3f}"


def _zero_gamma_below_01_and_every_gamma_grew():
    h = _thirty_layer_runs()["zero-gamma"]
    gammas = [np.abs(h.params[f"gamma{k}"]).mean() for k in range(2, 31)]
    assert h.loss[-1] < 0.1, f"zero-gamma residual final loss {h.loss[-1]:.3f}"
    assert min(gammas) > 0.05, f"mean |gamma| per block after 200 steps: {np.round(gammas, 3)}"


CLAIMS = [
    Claim(LESSON, "cell-005", "The plain product falls by about 0.2 per block", _plain_falls_by_about_s),
    Claim(
        LESSON,
        "cell-005",
        "The residual product never shrinks: it grows slowly, to about 3 times its starting norm",
        _residual_grows_to_about_3,
    ),
    Claim(
        LESSON,
        "cell-018",
        "first layer gets about $10^{-33}$ of the last layer's gradient: it cannot learn. With skip "
        "connections the same network keeps about $3 \\times 10^{-4}$",
        _sigmoid_ratios,
    ),
    Claim(LESSON, "cell-018", "a gradient that grows by $10^4$ towards the input", _plain_bn_grows),
    Claim(
        LESSON,
        "cell-018",
        "the first and the last layer get about the same gradient (a ratio near 0.7), and no two layers' "
        "gradients differ by more than a factor of 25",
        _residual_bn_flat,
    ),
    Claim(
        LESSON,
        "cell-018",
        "At the first step the weights inside a zero-γ branch get a gradient of exactly 0",
        _zero_gamma_first_step,
    ),
    Claim(
        LESSON,
        "cell-018",
        "from the second step on the branch's weights get a gradient too",
        _zero_gamma_first_step,
    ),
    Claim(LESSON, "cell-018", "every block starts growing at the same first step", _zero_gamma_first_step),
    Claim(
        LESSON,
        "cell-022",
        "The plain He network does not learn: after 200 steps its loss is higher than the 1.10",
        _plain_he_does_not_learn,
    ),
    Claim(LESSON, "cell-022", "With BatchNorm it trains, to a loss near 0.46", _bn_trains_to_046),
    Claim(
        LESSON,
        "cell-022",
        "ends far lower, below 0.1; by then every one of its 29 branches has a γ well away from 0",
        _zero_gamma_below_01_and_every_gamma_grew,
    ),
    Claim(
        LESSON,
        "cell-022",
        "skip connections move it from $10^{-33}$ to $3 \\times 10^{-4}$ for sigmoid",
        _sigmoid_ratios,
    ),
    Claim(LESSON, "cell-022", "and from $10^{4}$ to about 1 for ReLU + BatchNorm", _residual_bn_flat),
]
