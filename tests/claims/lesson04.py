"""Lesson 04's claims: BN in a deep sigmoid MLP, BN with injected shifts, batch size, bias and folding.

The training experiments run the lesson's own code: the cells that define the spirals, the network and its
SGD step (and the noisy variant) are executed from the solution notebook, with the interactive step count.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import torch

from claims import REPO, Claim
from gradlib import batchnorm, init, layernorm, layers

L = "04-batchnorm"
STEPS = 600  # the interactive run


@cache
def _namespace() -> dict:
    nb = json.loads((REPO / "solutions" / L / f"{L}.ipynb").read_text())
    cells = {c["id"]: "".join(c["source"]) for c in nb["cells"]}
    ns = {"np": np, "batchnorm": batchnorm, "init": init, "layers": layers, "layernorm": layernorm}
    exec(cells["cell-025"], ns)  # spirals, softmax_cross_entropy, make_net, forward, sgd_step
    noisy = cells["cell-028b"]
    exec(noisy[: noisy.index("\nnet = make_net")], ns)  # forward_noisy, noisy_sgd_step
    return ns


def _data():
    ns = _namespace()
    x, y = ns["spirals"](100, rng=np.random.default_rng(0))
    return x, y


@cache
def _train(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(losses, gradient norms at step 1, mean of the last 10 steps' norms): 'plain', 'bn' or 'noisy'."""
    ns = _namespace()
    x, y = _data()
    net = ns["make_net"](12, 64, use_bn=kind != "plain", rng=np.random.default_rng(1))
    batch_rng, noise_rng = np.random.default_rng(2), np.random.default_rng(3)
    losses, all_norms = [], []
    for _ in range(STEPS):
        idx = batch_rng.choice(len(y), 64, replace=False)
        if kind == "noisy":
            losses.append(ns["noisy_sgd_step"](net, x[idx], y[idx], lr=0.5, noise_rng=noise_rng))
        else:
            loss, norms = ns["sgd_step"](net, x[idx], y[idx], lr=0.5)
            losses.append(loss)
            all_norms.append(norms)
    norms = np.array(all_norms) if all_norms else np.zeros((1, 1))
    return np.array(losses), norms[0], norms[-10:].mean(axis=0)


def _final(kind: str) -> float:
    return float(_train(kind)[0][-20:].mean())


def _first_layer_1e8():
    norms = _train("plain")[1]
    ratios = norms[0] / norms[-2], norms[0] / norms[-1]  # vs the last hidden layer and the output layer
    assert all(1e-9 <= r <= 1e-7 for r in ratios), f"first/last gradient norm without BN: {ratios}"


def _loss_stays_near_log3():
    assert abs(_final("plain") - np.log(3)) < 0.05, f"final loss without BN {_final('plain'):.3f}"


def _bn_within_20_then_3():
    _, first, last = _train("bn")
    assert 10 <= first.max() / first.min() <= 25, f"gradient norms with BN at step 1: {first}"
    assert last.max() / last.min() <= 4, f"gradient norms with BN, last 10 steps: {last}"


def _noisy_still_trains():
    noisy, bn, plain = _final("noisy"), _final("bn"), _final("plain")
    assert noisy < 0.5 * np.log(3) and abs(noisy - bn) < 0.15, f"noisy {noisy:.3f}, BN {bn:.3f}"
    assert abs(plain - np.log(3)) < 0.05, f"without BN {plain:.3f}"


@cache
def _batch_size_experiment() -> dict[int, tuple[float, float, float]]:
    x, _ = _data()
    h_all = x @ init.xavier_normal((2, 64), rng=np.random.default_rng(1))
    mean, var = h_all.mean(axis=0), h_all.var(axis=0)
    ones, zeros = np.ones(64), np.zeros(64)
    example = h_all[[150]]
    eval_out = batchnorm.batchnorm_forward(example, ones, zeros, mean, var, training=False)[0][0]
    alone = layernorm.layernorm_forward(example, ones, zeros)[0][0]
    result = {}
    for B in (2, 4, 16, 128):
        pick = np.random.default_rng(B)
        bn, ln = [], []
        for _ in range(200):
            others = pick.choice(np.delete(np.arange(len(h_all)), 150), B - 1, replace=False)
            batch = np.vstack([example, h_all[others]])
            bn.append(batchnorm.batchnorm_forward(batch, ones, zeros, mean, var, training=True)[0][0])
            ln.append(layernorm.layernorm_forward(batch, ones, zeros)[0][0])
        bn, ln = np.array(bn), np.array(ln)
        result[B] = (bn.std(axis=0).mean(), np.abs(bn - eval_out).mean(), np.abs(ln - alone).max())
    return result


def _bn_noise_grows_ln_zero():
    r = _batch_size_experiment()
    noise = [r[B][0] for B in (128, 16, 4, 2)]
    gap = [r[B][1] for B in (128, 16, 4, 2)]
    assert np.all(np.diff(noise) > 0) and np.all(np.diff(gap) > 0), f"noise {noise}, gap {gap} (B = 128..2)"
    assert max(r[B][2] for B in r) == 0.0, f"LN output differences across batches: {[r[B][2] for B in r]}"


def _numbers_at_128_and_2():
    r = _batch_size_experiment()
    assert max(r[128][:2]) < 0.1, f"B = 128: noise, gap = {r[128][:2]}"
    assert 0.6 <= min(r[2][:2]) and max(r[2][:2]) <= 0.8, f"B = 2: noise, gap = {r[2][:2]}"


def _one_over_sqrt_b():
    r = _batch_size_experiment()
    for small, large in ((4, 16), (16, 128)):
        ratio = r[small][0] / r[large][0]
        assert 0.6 <= ratio / np.sqrt(large / small) <= 1.5, f"noise ratio {small}/{large}: {ratio:.2f}"


def _bias_and_fold():
    rng = np.random.default_rng(5)
    x, W, b = rng.normal(size=(8, 6)), rng.normal(size=(6, 4)), rng.normal(size=4)
    g, beta = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 2.0, 4)
    with_b, c, _, _ = batchnorm.batchnorm_forward(x @ W + b, g, beta, rm, rv, training=True)
    without_b = batchnorm.batchnorm_forward(x @ W, g, beta, rm, rv, training=True)[0]
    db = layers.affine_backward(batchnorm.batchnorm_backward(rng.normal(size=(8, 4)), c)[0], (x, W, b))[2]
    assert np.abs(with_b - without_b).max() < 1e-14 and np.abs(db).max() < 1e-14, (with_b - without_b, db)
    scale = g / np.sqrt(rv + 1e-5)
    W_f, b_f = W * scale, (b - rm) * scale + beta
    eval_out = batchnorm.batchnorm_forward(x @ W + b, g, beta, rm, rv, training=False)[0]
    assert np.abs(x @ W_f + b_f - eval_out).max() < 1e-13
    linear = torch.nn.Linear(6, 4, dtype=torch.float64).eval()
    bn = torch.nn.BatchNorm1d(4, dtype=torch.float64).eval()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W.T))
        linear.bias.copy_(torch.from_numpy(b))
        bn.weight.copy_(torch.from_numpy(g))
        bn.bias.copy_(torch.from_numpy(beta))
        bn.running_mean.copy_(torch.from_numpy(rm))
        bn.running_var.copy_(torch.from_numpy(rv))
    fused = torch.nn.utils.fusion.fuse_linear_bn_eval(linear, bn)
    assert np.abs(fused.weight.detach().numpy().T - W_f).max() < 1e-13
    assert np.abs(fused.bias.detach().numpy() - b_f).max() < 1e-13


def _keras_lags():
    means = np.random.default_rng(1).normal(2.0, 1.0, (150, 16)).mean(axis=1)

    def average(w):
        avg, out = 0.0, []
        for v in means:
            avg = (1 - w) * avg + w * v
            out.append(avg)
        return np.array(out)

    torch_avg, keras_avg = average(0.1), average(0.01)
    assert abs(torch_avg[29] - 2) < 0.15 and keras_avg[29] < 0.6, (torch_avg[29], keras_avg[29])


Z_1E7 = 5.33  # two-sided normal quantile: a correct result fails with probability 1e-7 per comparison


def _biased_variance_expectation():
    """Section 1's figure: 4000 batches per N from N(0, 1); the mean batch variance is (N - 1) / N."""
    samples = np.random.default_rng(0).standard_normal((4000, 16))
    for n in range(2, 17):
        biased, unbiased = samples[:, :n].var(axis=1), samples[:, :n].var(axis=1, ddof=1)
        t = torch.from_numpy(samples[:, :n])
        np.testing.assert_allclose(biased, torch.var(t, dim=1, correction=0).numpy(), rtol=1e-12)
        # for normal samples Var(biased) = 2 (N - 1) / N^2 and Var(unbiased) = 2 / (N - 1)
        tol_b, tol_u = Z_1E7 * np.sqrt(2 * (n - 1) / n**2 / 4000), Z_1E7 * np.sqrt(2 / (n - 1) / 4000)
        assert abs(biased.mean() - (n - 1) / n) < tol_b, f"N = {n}: mean biased variance {biased.mean():.4f}"
        assert abs(unbiased.mean() - 1) < tol_u, f"N = {n}: mean unbiased variance {unbiased.mean():.4f}"
    assert np.isclose(samples[:, :2].var(axis=1, ddof=1), 2 * samples[:, :2].var(axis=1)).all()


def _normalized_batch_is_exactly_standard():
    rng = np.random.default_rng(5)
    x = rng.normal(3.0, 2.5, size=(6, 4))
    out, _, _, _ = batchnorm.batchnorm_forward(
        x, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), training=True
    )
    ref = torch.nn.BatchNorm1d(4, dtype=torch.float64).train()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    var = x.var(axis=0)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), var / (var + 1e-5), rtol=1e-12)


def _copied_keras_momentum_is_noisy():
    """Section 2's figure: PyTorch momentum 0.9 keeps mostly the last batch; 0.1 smooths over ~10."""
    means = np.random.default_rng(1).normal(2.0, 1.0, (150, 16)).mean(axis=1)

    def average(w):
        avg, out = 0.0, []
        for v in means:
            avg = (1 - w) * avg + w * v
            out.append(avg)
        return np.array(out)

    spread = means[50:].std()  # stationary std of an EMA is sqrt(w / (2 - w)) of the batch means' std
    copied, default = average(0.9)[50:].std() / spread, average(0.1)[50:].std() / spread
    assert copied > 0.75 and default < 0.4 and copied > 2 * default, (copied, default)


def _dx_sums_to_zero_per_feature():
    """Section 4: per feature, sum_i dx_i = 0 (gamma arbitrary); torch's autograd gives the same dx."""
    rng = np.random.default_rng(8)
    x, dout, gamma = rng.normal(2, 3, size=(7, 5)), rng.normal(size=(7, 5)), rng.normal(size=5)
    out, cache_, _, _ = batchnorm.batchnorm_forward(
        x, gamma, np.zeros(5), np.zeros(5), np.ones(5), training=True
    )
    dx = batchnorm.batchnorm_backward(dout, cache_)[0]
    xt = torch.tensor(x, requires_grad=True)
    bn = torch.nn.BatchNorm1d(5, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
    bn(xt).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    scale = np.abs(dx).sum(axis=0)
    assert np.all(np.abs(dx.sum(axis=0)) < 1e-12 * scale), f"sum of dx per feature {dx.sum(axis=0)}"
    shifted = batchnorm.batchnorm_forward(
        x + 10.0, gamma, np.zeros(5), np.zeros(5), np.ones(5), training=True
    )
    np.testing.assert_allclose(shifted[0], out, atol=1e-9, err_msg="shifting a feature changed BN's output")


def _batch_of_one():
    """Training mode refuses one example (torch and gradlib); eval mode takes it and agrees with torch."""
    one = np.array([[0.5, -1.0, 2.0]])
    bn = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    try:
        bn.train()(torch.from_numpy(one))
    except ValueError:
        pass
    else:
        raise AssertionError("torch's BatchNorm1d trained on a batch of one")
    try:
        batchnorm.batchnorm_forward(one, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), training=True)
    except ValueError:
        pass
    else:
        raise AssertionError("gradlib's batchnorm_forward trained on a batch of one")
    ours = batchnorm.batchnorm_forward(one, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), training=False)[
        0
    ]
    np.testing.assert_allclose(ours, bn.eval()(torch.from_numpy(one)).detach().numpy(), rtol=1e-12)


def _two_examples_only_order():
    """With B = 2, each unit's normalized output is +-1 (up to eps): only which example is larger survives."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 3, size=(2, 64))
    out = batchnorm.batchnorm_forward(x, np.ones(64), np.zeros(64), np.zeros(64), np.ones(64), training=True)[
        0
    ]
    half_gap = np.abs(x[0] - x[1]) / 2
    np.testing.assert_allclose(
        np.abs(out), np.tile(half_gap / np.sqrt(half_gap**2 + 1e-5), (2, 1)), rtol=1e-12
    )
    assert np.all(np.abs(out) > 0.99) and np.array_equal(np.sign(out[0]), np.sign(x[0] - x[1])), out


CLAIMS = [
    Claim(
        L,
        "cell-028",
        "Without BN the gradient of the first layer is about $10^{-8}$ times that of the last",
        _first_layer_1e8,
    ),
    Claim(L, "cell-028", "the loss stays near $\\log 3$", _loss_stays_near_log3),
    Claim(
        L,
        "cell-028",
        "the gradient norms of all layers stay within a factor of about 20 of each other at the first step, "
        "and of about 3 by the end of training",
        _bn_within_20_then_3,
    ),
    Claim(
        L,
        "cell-006",
        "Keras's 0.99 averages over about 100 batches, so it lags behind at the start",
        _keras_lags,
    ),
    Claim(
        L,
        "cell-028c",
        "its final training loss is far below guessing ($\\log 3 \\approx 1.10$) and close to plain BN's, "
        "while the network without BN never leaves guessing",
        _noisy_still_trains,
    ),
    Claim(
        L,
        "cell-029d",
        "BN's noise and train/eval gap both grow as the batch shrinks",
        _bn_noise_grows_ln_zero,
    ),
    Claim(L, "cell-029d", "roughly like $1/\\sqrt{B}$ once $B$ is more than a few", _one_over_sqrt_b),
    Claim(
        L,
        "cell-029d",
        "at $B = 128$ they are below 0.1 (in units of the normalized output, whose std is 1), at $B = 2$ "
        "they are between 0.6 and 0.8",
        _numbers_at_128_and_2,
    ),
    Claim(L, "cell-029d", "its gap is exactly 0", _bn_noise_grows_ln_zero),
    Claim(
        L,
        "cell-029f",
        "its gradient is 0 up to rounding; the folded layer equals eval-mode BN to rounding error, and "
        "equals PyTorch's fusion too",
        _bias_and_fold,
    ),
]

CLAIMS += [
    Claim(
        L,
        "cell-002",
        "$\\mathbb{E}[\\sigma^2_{\\text{batch}}] = \\frac{N-1}{N}\\sigma^2$",
        _biased_variance_expectation,
    ),
    Claim(
        L,
        "cell-002",
        "after dividing by it, the batch has exactly mean 0 and variance 1 (up to eps)",
        _normalized_batch_is_exactly_standard,
    ),
    Claim(
        L,
        "cell-006",
        "Copying Keras's `0.9` into PyTorch's `momentum` keeps mostly the last batch: the running mean "
        "is noisy",
        _copied_keras_momentum_is_noisy,
    ),
]

CLAIMS += [
    Claim(
        L,
        "cell-018",
        "So, per feature, $\\sum_i dx_i = 0$: shifting a whole feature does not change BN's output.",
        _dx_sums_to_zero_per_feature,
    ),
]

CLAIMS += [
    Claim(
        L,
        "cell-014",
        "PyTorch refuses; in eval mode the running statistics are fixed numbers and one example is fine",
        _batch_of_one,
    ),
    Claim(
        L,
        "cell-029d",
        "With two examples, BN only tells which of the two is larger in each unit.",
        _two_examples_only_order,
    ),
]
