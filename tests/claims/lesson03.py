"""Claims of lesson 03 (initialization): symmetry, the scale of N(0, 1) and N(0, 0.01^2), the rules."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch

from claims import Claim
from gradlib import activations, chain, data, init, layers, losses
from gradlib.checks.init import reference_activation_stds

LESSON = "03-initialization"


@cache
def _symmetry_runs():
    """Section 1: a 3-16-1 tanh regression network from zeros, all 0.3, and Xavier, 400 SGD steps."""
    rng = np.random.default_rng(0)
    x, y = data.regression(200, dim=3, rng=rng)
    starts = {
        "zeros": (np.zeros((3, 16)), np.zeros((16, 1))),
        "all 0.3": (np.full((3, 16), 0.3), np.full((16, 1), 0.3)),
        "xavier": (init.xavier_normal((3, 16), rng=rng), init.xavier_normal((16, 1), rng=rng)),
    }
    out = {}
    for name, (W1, W2) in starts.items():
        b1, b2 = np.zeros(16), np.zeros(1)
        for _ in range(400):
            h, c1 = layers.affine_forward(x, W1, b1)
            a, c2 = layers.activation_forward(h, "tanh")
            o, c3 = layers.affine_forward(a, W2, b2)
            loss, dout = losses.mse(o, y)
            da, dW2, db2 = layers.affine_backward(dout, c3)
            _, dW1, db1 = layers.affine_backward(layers.activation_backward(da, c2), c1)
            W1, b1, W2, b2 = W1 - 0.1 * dW1, b1 - 0.1 * db1, W2 - 0.1 * dW2, b2 - 0.1 * db2
        out[name] = (loss, float(np.ptp(W1, axis=1).max()))
    return out


def _constant_starts_stay_identical():
    runs = _symmetry_runs()
    assert runs["zeros"][1] == 0 and runs["all 0.3"][1] == 0, f"spread {runs}"
    assert min(runs["zeros"][0], runs["all 0.3"][0]) > 1.5 * runs["xavier"][0], f"final losses {runs}"


def _layer_stds(std: float, activation: str, depth: int = 50, width: int = 128, n: int = 128, seed: int = 0):
    """Section 1's Figure 2: the std of each layer's output for N(0, std^2) weights."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, width))
    f = activations.get(activation)
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(depth):
            a = f(a @ rng.normal(0.0, std, size=(width, width)))
            out.append(a.std())
    return np.array(out), a


def _relu_scale_factors():
    big, _ = _layer_stds(1.0, "relu")
    small, _ = _layer_stds(0.01, "relu")
    per_big = np.exp(np.mean(np.diff(np.log(big))))
    per_small = np.exp(np.mean(np.diff(np.log(small))))
    assert 7 < per_big < 9 and 0.07 < per_small < 0.09, (
        f"per layer: N(0,1) {per_big:.3f}, N(0,1e-4) {per_small:.4f}"
    )
    assert 44 <= np.log10(big[-1]) <= 46.5, f"layer 50 std with N(0, 1): {big[-1]:.3g}"
    assert -56 <= np.log10(small[-1]) <= -54, f"layer 50 std with N(0, 0.01^2): {small[-1]:.3g}"


def _tanh_saturates():
    _, a = _layer_stds(1.0, "tanh")
    sat = np.mean(np.abs(a) > 0.97)
    assert 0.84 <= sat < 0.86, f"fraction of tanh outputs beyond ±0.97 at layer 50: {sat:.3f}"
    assert 1 - 0.97**2 < 0.06


def _harmonic_mean():
    for n_in, n_out in [(300, 100), (64, 512), (7, 7)]:
        harmonic = 2 / (1 / (1 / n_in) + 1 / (1 / n_out))
        assert abs(harmonic - 2 / (n_in + n_out)) < 1e-15, (n_in, n_out)


def _variance_rules_flat():
    he, _ = _layer_stds(math.sqrt(2 / 128), "relu")
    xavier, _ = _layer_stds(math.sqrt(2 / 256), "tanh")
    assert 1 / 3 < he[-1] / he[0] < 3, f"He/ReLU std layer 50 / layer 1: {he[-1] / he[0]:.3f}"
    assert 0.1 < xavier[-1] / xavier[0] <= 1, (
        f"Xavier/tanh std layer 50 / layer 1: {xavier[-1] / xavier[0]:.3f}"
    )


def _truncation_constants():
    from math import erf, exp, pi, sqrt

    p_out = 1 - erf(2 / sqrt(2))
    # std of a standard normal truncated to (-2, 2): var = 1 - 2 * 2 * phi(2) / (1 - p_out)
    phi2 = exp(-2) / sqrt(2 * pi)
    std = sqrt(1 - 4 * phi2 / (1 - p_out))
    assert abs(p_out - 0.046) < 0.0005, f"fraction outside ±2 std: {p_out:.4f}"
    assert abs(std - 0.87962566103423978) < 1e-12, f"truncated std {std!r}"


def _torch_layouts():
    gen = torch.Generator().manual_seed(0)
    wrong = torch.empty(300, 100, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(wrong, mode="fan_in", nonlinearity="relu", generator=gen)
    n = wrong.numel()
    tol = 6 / math.sqrt(2 * n)  # relative std of a sample std is about 1 / sqrt(2n); 6 sigma
    assert abs(wrong.std().item() / math.sqrt(2 / 100) - 1) < tol, f"std {wrong.std().item():.5f}"
    assert abs(math.sqrt(2 / 100) / math.sqrt(2 / 300) - math.sqrt(3)) < 1e-12


def _initializer_grid():
    """Figure 3: 30 layers of width 128 per activation and initializer."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(128, 128))
    inits = {"xavier": init.xavier_normal, "he": init.he_normal, "lecun": init.lecun_normal}
    out = {}
    for name in ("tanh", "relu", "selu"):
        for label, fn in inits.items():
            out[name, label] = reference_activation_stds(x, fn, activations.get(name), [128] * 30, rng=rng)
    return out


def _figure3_shapes():
    s = _initializer_grid()
    relu_he = s["relu", "he"]
    assert 1 / 3 < relu_he[-1] / relu_he[0] < 3, f"ReLU + He: {relu_he[[0, -1]]}"
    for label in ("xavier", "lecun"):
        per = np.exp(np.mean(np.diff(np.log(s["relu", label]))))
        assert abs(per - 1 / math.sqrt(2)) < 0.03, f"ReLU + {label}: factor {per:.4f} per layer"
    selu = s["selu", "lecun"]
    assert np.all(np.abs(selu[5:] - 1) < 0.2), f"SELU + LeCun stds {np.round(selu, 2)}"
    xt, ht = s["tanh", "xavier"], s["tanh", "he"]
    assert np.all(np.diff(xt[2:]) < 0.02) and xt[-1] > 0.1, f"tanh + Xavier {np.round(xt, 3)}"
    assert ht[-1] > 2 * xt[-1], f"tanh: He {ht[-1]:.3f} vs Xavier {xt[-1]:.3f}"


def _orthogonal_vs_gaussian():
    rng = np.random.default_rng(10)
    gauss = [init.lecun_normal((64, 64), rng=rng) for _ in range(50)]
    orth = [init.orthogonal((64, 64), rng=rng) for _ in range(50)]
    sg = np.linalg.svd(np.linalg.multi_dot(gauss), compute_uv=False)
    so = np.linalg.svd(np.linalg.multi_dot(orth), compute_uv=False)
    assert np.log10(sg.max() / sg.min()) > 5, (
        f"Gaussian product singular values {sg.max():.3g} .. {sg.min():.3g}"
    )
    np.testing.assert_allclose(so, 1.0, atol=1e-10)
    x = rng.normal(size=(4, 64))
    norms = chain.chain_norms(x, orth)["gradient_norms"]
    np.testing.assert_allclose(norms, norms[0], rtol=1e-10)


def _train_tanh_net(W1, W2, b1, steps, lr=0.1):
    """Section 1's network (tanh, linear output, MSE, SGD) on its data; returns the final parameters, loss."""
    x, y = data.regression(200, dim=3, rng=np.random.default_rng(0))
    b2, loss = np.zeros(W2.shape[1]), None
    for _ in range(steps):
        h, c1 = layers.affine_forward(x, W1, b1)
        a, c2 = layers.activation_forward(h, "tanh")
        o, c3 = layers.affine_forward(a, W2, b2)
        loss, dout = losses.mse(o, y)
        da, dW2, db2 = layers.affine_backward(dout, c3)
        _, dW1, db1 = layers.affine_backward(layers.activation_backward(da, c2), c1)
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return (W1, b1, W2, b2), loss


def _torch_two_steps(b1: np.ndarray) -> np.ndarray:
    """The same two SGD steps from zero weights, by torch autograd: W1 afterwards."""
    x, y = (torch.from_numpy(v) for v in data.regression(200, dim=3, rng=np.random.default_rng(0)))
    W1, W2 = torch.zeros(3, 16, dtype=torch.float64), torch.zeros(16, 1, dtype=torch.float64)
    bb1, b2 = torch.from_numpy(b1.copy()), torch.zeros(1, dtype=torch.float64)
    params = [p.requires_grad_() for p in (W1, bb1, W2, b2)]
    for _ in range(2):
        out = torch.tanh(x @ params[0] + params[1]) @ params[2] + params[3]
        grads = torch.autograd.grad(torch.mean((out - y) ** 2), params)
        params = [(p - 0.1 * g).detach().requires_grad_() for p, g in zip(params, grads, strict=True)]
    return params[0].detach().numpy()


def _only_output_bias_learns():
    (W1, b1, W2, b2), _ = _train_tanh_net(np.zeros((3, 16)), np.zeros((16, 1)), np.zeros(16), 400)
    assert not W1.any() and not b1.any() and not W2.any(), "a zero start moved W1, b1 or W2"
    assert abs(b2[0]) > 1e-3, f"the output bias did not learn either: {b2}"


def _xavier_loss() -> float:
    rng = np.random.default_rng(0)
    data.regression(200, dim=3, rng=rng)  # Figure 1 draws the data first, then the weights
    W1, W2 = init.xavier_normal((3, 16), rng=rng), init.xavier_normal((16, 1), rng=rng)
    return _train_tanh_net(W1, W2, np.zeros(16), 400)[1]


def _random_biases_zero_weights():
    """The popular-claims box: zero weights, N(0, 1) hidden biases (draws 10, 11, 12)."""
    zero_W1, zero_W2, xavier = np.zeros((3, 16)), np.zeros((16, 1)), _xavier_loss()
    for draw in range(3):
        biases = np.random.default_rng(10 + draw).normal(size=16)
        (W1_one, *_), _ = _train_tanh_net(zero_W1, zero_W2, biases, 1)
        (W1_two, *_), _ = _train_tanh_net(zero_W1, zero_W2, biases, 2)
        (W1_end, *_), loss = _train_tanh_net(zero_W1, zero_W2, biases, 400)
        assert not W1_one.any(), f"draw {draw}: W1 moved at the first step, by {np.linalg.norm(W1_one):.2e}"
        np.testing.assert_allclose(W1_two, _torch_two_steps(biases), rtol=1e-9, atol=1e-15)
        sv = np.linalg.svd(W1_two, compute_uv=False)
        assert sv[0] > 0 and sv[1] < 1e-12 * sv[0], (
            f"draw {draw}: W1 after two steps has singular values {sv}"
        )
        spread = float(np.ptp(W1_end, axis=1).max())
        assert spread > 0.5, f"draw {draw}: the units did not drift apart (spread {spread:.3f})"
        assert loss > 2 * xavier, f"draw {draw}: final loss {loss:.4f}, Xavier's {xavier:.4f}"


def _lecun_equals_xavier_on_square():
    for n in (16, 128):
        a = init.xavier_normal((n, n), rng=np.random.default_rng(n))
        b = init.lecun_normal((n, n), rng=np.random.default_rng(n))
        np.testing.assert_array_equal(a, b, err_msg=f"Xavier and LeCun differ on ({n}, {n})")
    a = init.xavier_normal((300, 100), rng=np.random.default_rng(0))
    b = init.lecun_normal((300, 100), rng=np.random.default_rng(0))
    assert not np.array_equal(a, b), "Xavier equals LeCun on a non-square layer too"


def _gaussian_singular_values_0_to_2():
    for seed in range(10, 15):
        sv = np.linalg.svd(init.lecun_normal((64, 64), rng=np.random.default_rng(seed)), compute_uv=False)
        assert 1.8 <= sv.max() <= 2.1 and sv.min() < 0.05, (
            f"seed {seed}: singular values {sv.min():.3g} .. {sv.max():.3g}"
        )


def _gaussian_product_figure4():
    """Figure 4's first seed: 100 LeCun-normal 64x64 layers after x; the product of the first 50."""
    rng = np.random.default_rng(10)
    x = rng.normal(size=(4, 64))
    weights = [init.lecun_normal((64, 64), rng=rng) for _ in range(100)]
    sv = np.linalg.svd(np.linalg.multi_dot(weights[:50]), compute_uv=False)
    assert 3 <= sv.max() <= 30 and np.mean(sv > 1) <= 0.1, (
        f"largest {sv.max():.3g}, share above 1 {np.mean(sv > 1)}"
    )
    assert 0.7 <= np.mean(sv < 1e-3) <= 0.8, f"share below 1e-3: {np.mean(sv < 1e-3):.3f}"
    g = chain.chain_norms(x, weights)["gradient_norms"]
    steps = np.diff(np.log10(g))
    assert np.log10(g.max() / g.min()) > 0.3 and (steps > 0).sum() > 20 and (steps < 0).sum() > 20, (
        f"gradient norms {g.min():.3g} .. {g.max():.3g}, {(steps > 0).sum()} steps up"
    )


CLAIMS = [
    Claim(
        LESSON,
        "cell-004",
        "The spread stays exactly 0 for both constant starts",
        _constant_starts_stay_identical,
    ),
    Claim(
        LESSON,
        "cell-004",
        "the loss stalls above what the random start reaches",
        _constant_starts_stay_identical,
    ),
    Claim(
        LESSON,
        "cell-006",
        "With ReLU, $\\mathcal{N}(0,1)$ weights multiply the scale by about $\\sqrt{128/2} = 8$ per layer "
        "($10^{45}$ after 50 layers) and $\\mathcal{N}(0, 0.01^2)$ by $0.08$ (down to $10^{-55}$)",
        _relu_scale_factors,
    ),
    Claim(LESSON, "cell-006", "at layer 50, 85 % of the outputs sit beyond $\\pm 0.97$", _tanh_saturates),
    Claim(
        LESSON,
        "cell-009",
        "the harmonic mean of the two variances they ask for, $1/n_{in}$ and $1/n_{out}$",
        _harmonic_mean,
    ),
    Claim(
        LESSON,
        "cell-006",
        "Only the variance rules keep the scale flat: He for ReLU, Xavier for tanh",
        _variance_rules_flat,
    ),
    Claim(LESSON, "cell-022", "about 4.6% are redrawn each round", _truncation_constants),
    Claim(
        LESSON,
        "cell-022",
        "Cutting at 2 std shrinks the standard deviation to $0.8796\\,s$",
        _truncation_constants,
    ),
    Claim(
        LESSON,
        "cell-026",
        "thinks fan_in = 100 and draws with $\\sigma = \\sqrt{2/100}$, $\\sqrt{3}\\times$ too large",
        _torch_layouts,
    ),
    Claim(
        LESSON,
        "cell-033",
        "For ReLU, only He is flat; Xavier and LeCun lose a factor $\\sqrt{2}$ per layer",
        _figure3_shapes,
    ),
    Claim(LESSON, "cell-033", "For SELU, LeCun is the fixed point at std 1", _figure3_shapes),
    Claim(
        LESSON,
        "cell-033",
        "He keeps a larger scale with many units pushed towards saturation",
        _figure3_shapes,
    ),
    Claim(
        LESSON,
        "cell-035",
        "The orthogonal product has every singular value equal to 1",
        _orthogonal_vs_gaussian,
    ),
    Claim(
        LESSON,
        "cell-035",
        "The Gaussian product's singular values cover many orders of magnitude",
        _orthogonal_vs_gaussian,
    ),
]

CLAIMS += [
    Claim(LESSON, "cell-002", "$W_2 = 0$: only the output bias learns", _only_output_bias_learns),
    Claim(
        LESSON,
        "cell-004c",
        "At the first step $W_1$ gets no gradient at all, since $dW_1$ passes through $W_2 = 0$. At the "
        "second, every column of $W_1$ moves along one and the same direction (the update has rank 1",
        _random_biases_zero_weights,
    ),
    Claim(
        LESSON,
        "cell-004c",
        "After 400 steps the loss is still more than twice what the Xavier start reaches.",
        _random_biases_zero_weights,
    ),
    Claim(
        LESSON,
        "cell-004c",
        "Random biases do make the units different (the spread between them ends well above 0)",
        _random_biases_zero_weights,
    ),
]

CLAIMS += [
    Claim(LESSON, "cell-033", "Xavier keeps a slowly decaying but healthy scale", _figure3_shapes),
    Claim(LESSON, "cell-033", "LeCun equals Xavier on square layers", _lecun_equals_xavier_on_square),
]

CLAIMS += [
    Claim(
        LESSON,
        "cell-033",
        "its singular values spread between about 0 and 2",
        _gaussian_singular_values_0_to_2,
    ),
    Claim(
        LESSON,
        "cell-035",
        "the product of 50 layers stretches a few directions by up to about 10 and shrinks all the "
        "others, three quarters of them by more than $10^{3}$, and the gradient norm through the 100-layer "
        "chain wanders up and down",
        _gaussian_product_figure4,
    ),
]
