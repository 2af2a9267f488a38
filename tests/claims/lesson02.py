"""Lesson 02's claims: sigmoid chains, dying ReLUs, PReLU's slopes, bias shifts, 20- and 50-layer stacks."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from claims import REPO, Claim
from gradlib import activations as act
from gradlib import diagnostics, init, layers, losses
from gradlib.prelu import prelu_backward, prelu_forward

L = "02-activations"
SEEDS = (1, 2, 3)
STEPS = 150  # the interactive run of Figure 2


@cache
def _train(lr: float, seed: int, unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lesson's one-hidden-layer network: (dead fraction per step, loss per step, final slopes)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(256, 10))
    y = np.sin(x @ rng.normal(size=(10, 1)))
    W1, b1 = init.he_normal((10, 100), rng=rng), np.zeros(100)
    W2, b2 = init.xavier_normal((100, 1), rng=rng), np.zeros(1)
    alpha = np.full(100, 0.25)
    dead, history = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(STEPS):
            h, c1 = layers.affine_forward(x, W1, b1)
            dead.append(diagnostics.dead_fraction(act.relu(h)))
            if unit == "relu":
                a, c2 = layers.activation_forward(h, "relu")
            else:
                a, c2 = prelu_forward(h, alpha)
            out, c3 = layers.affine_forward(a, W2, b2)
            loss, dout = losses.mse(out, y)
            history.append(loss)
            da, dW2, db2 = layers.affine_backward(dout, c3)
            if unit == "relu":
                dh = layers.activation_backward(da, c2)
            else:
                dh, dalpha = prelu_backward(da, c2)
                alpha = alpha - lr * dalpha
            _, dW1, db1 = layers.affine_backward(dh, c1)
            W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return np.array(dead), np.array(history), alpha


def _no_unit_dies_at_low_rates():
    worst = {lr: max(_train(lr, s, "relu")[0].max() for s in SEEDS) for lr in (0.01, 0.03)}
    assert all(v == 0 for v in worst.values()), f"largest dead fraction per lr: {worst}"


def _part_dies_from_005():
    final = [_train(0.05, s, "relu")[0][-1] for s in SEEDS]
    assert max(final) > 0, f"dead fractions at lr 0.05: {final}"


def _quarter_to_70_percent_at_007():
    final = [_train(0.07, s, "relu")[0][-1] for s in SEEDS]
    rounded = [round(100 * f) for f in final]
    assert rounded == [29, 69, 27], f"dead % at lr 0.07 on seeds 1-3: {rounded}"
    assert 0.25 <= min(final) and max(final) <= 0.70, final


def _two_of_three_diverge_at_01():
    diverged = [not np.isfinite(_train(0.1, s, "relu")[1][-1]) for s in SEEDS]
    assert sum(diverged) == 2, f"diverged at lr 0.1 on seeds 1-3: {diverged}"


def _dead_units_stay_dead():
    for lr in (0.05, 0.07):
        for s in SEEDS:
            dead = _train(lr, s, "relu")[0]
            assert np.all(np.diff(dead) >= 0), f"lr {lr} seed {s}: dead fraction fell at some step: {dead}"


def _no_prelu_unit_dies():
    dead = [_train(0.07, s, "prelu")[0].max() for s in SEEDS]
    assert max(dead) == 0, f"PReLU: units with h <= 0 on the whole batch: {dead}"


def _slopes_end_above_025():
    means = [_train(0.07, s, "prelu")[2].mean() for s in SEEDS]
    assert all(0.42 <= round(m, 2) <= 0.46 for m in means), f"mean learned slopes: {means}"


def _prelu_lower_loss():
    pairs = [(_train(0.07, s, "prelu")[1][-1], _train(0.07, s, "relu")[1][-1]) for s in SEEDS]
    assert all(p < r for p, r in pairs), f"(PReLU, ReLU) final losses at lr 0.07: {pairs}"


def _bias_shift_kills_most():
    rng = np.random.default_rng(0)
    W = init.he_normal((20, 200), rng=rng)
    for n in (4, 32, 256):
        z = rng.normal(size=(n, 20)) @ W
        fractions = [diagnostics.dead_fraction(act.relu(z - c * z.std())) for c in (3.0, 4.0)]
        assert min(fractions) > 0.5, f"batch {n}: dead fraction at shifts 3 and 4 std: {fractions}"


def _stack_norms(name: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(256, 128))
    caches = []
    for _ in range(20):
        h, c_aff = layers.affine_forward(a, init.lecun_normal((128, 128), rng=rng), np.zeros(128))
        a, c_act = layers.activation_forward(h, name)
        caches.append((c_aff, c_act))
    grad = rng.normal(size=a.shape)
    norms = [np.linalg.norm(grad)]
    for c_aff, c_act in reversed(caches):
        grad, _, _ = layers.affine_backward(layers.activation_backward(grad, c_act), c_aff)
        norms.append(np.linalg.norm(grad))
    return np.array(norms[::-1])


def _relu_loses_sqrt2_per_layer():
    for name in ("relu", "leaky_relu"):
        norms = _stack_norms(name)
        per_layer = (norms[-1] / norms[0]) ** (1 / 20)
        assert 1.25 <= per_layer <= 1.6, (
            f"{name}: mean factor lost per layer {per_layer:.3f} (sqrt 2 = 1.414)"
        )


def _selu_steady_gradient():
    norms = _stack_norms("selu")
    ratio = norms.max() / norms.min()
    assert ratio < 3, f"SELU: max/min gradient norm over 20 layers {ratio:.2f}"


def _fixed_point_stds() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(512, 128))
    weights = [init.lecun_normal((128, 128), rng=rng) for _ in range(50)]
    stds = {}
    for name in ("selu", "relu", "tanh"):
        a, out = x, []
        for W in weights:
            a = act.get(name)(a @ W)
            out.append(a.std())
        stds[name] = np.array(out)
    return stds


def _selu_settles_relu_shrinks():
    stds = _fixed_point_stds()
    assert np.all(np.abs(stds["selu"][5:] - 1) < 0.15), f"SELU stds: {stds['selu'].round(3)}"
    per_layer = (stds["relu"][0] / stds["relu"][-1]) ** (1 / 49)
    assert 1.3 <= per_layer <= 1.5, f"ReLU shrink factor per layer {per_layer:.3f}"
    tanh = stds["tanh"]
    assert tanh[-1] < tanh[24] < tanh[9] < tanh[0], f"tanh stds do not decay: {tanh.round(3)}"


def _sigmoid_chain_bound():
    """Section 1: a chain of L sigmoids (weights 1) scales the gradient by at most 0.25^L; torch agrees."""
    a0 = np.concatenate([np.linspace(-10, 10, 201), np.random.default_rng(0).normal(0, 3, size=200)])
    for depth, decades in ((10, -6), (20, -12)):
        a, product = a0, np.ones_like(a0)
        for _ in range(depth):
            product, a = product * act.sigmoid_grad(a), act.sigmoid(a)
        t = torch.tensor(a0, requires_grad=True)
        out = t
        for _ in range(depth):
            out = torch.sigmoid(out)
        out.sum().backward()
        np.testing.assert_allclose(product, t.grad.numpy(), rtol=1e-10)
        assert product.max() <= 0.25**depth, f"{depth} sigmoids: largest factor {product.max():.3e}"
        assert round(np.log10(0.25**depth)) == decades, (depth, 0.25**depth)


def _sigmoid_weight_sweep():
    """Section 1: a_k = sigmoid(w a_{k-1}) at its fixed point; best factor w sigmoid'(w a*) over w."""
    w = np.linspace(0.1, 20, 4000)
    a = np.full_like(w, 0.5)
    for _ in range(3000):
        a = act.sigmoid(w * a)
    factor = w * act.sigmoid_grad(w * a)
    best = int(np.argmax(factor))
    t = torch.tensor(a[best], requires_grad=True)
    torch.sigmoid(w[best] * t).backward()
    assert abs(float(t.grad) - factor[best]) < 1e-9, (float(t.grad), factor[best])
    assert 1.4 <= w[best] <= 1.9 and 0.25 < factor[best] < 0.3, f"best w {w[best]:.2f}: {factor[best]:.3f}"
    assert factor[w >= 4].max() < 0.08, f"w >= 4: largest factor {factor[w >= 4].max():.3f}"
    assert factor.max() < 1, "some weight lets the gradient through"


def _sigmoid_drops_tanh_elu_slower():
    decades = {
        n: np.log10(_stack_norms(n)[-1] / _stack_norms(n)[0]) for n in ("sigmoid", "tanh", "elu", "relu")
    }
    per_layer = 10 ** (decades["sigmoid"] / 20)
    assert decades["sigmoid"] > 6 and 3.5 <= per_layer <= 6, f"sigmoid: {decades}, {per_layer:.2f} per layer"
    assert 0 < decades["tanh"] < decades["relu"] / 2 and 0 < decades["elu"] < decades["relu"] / 2, decades


def _larger_batch_fewer_dead_by_chance():
    """Figure 2's left panel: dead fraction against the bias shift, batches of 4, 32 and 256."""
    rng = np.random.default_rng(0)
    W = init.he_normal((20, 200), rng=rng)
    shifts = np.linspace(0, 5, 26)
    curves = []
    for n in (4, 32, 256):
        z = rng.normal(size=(n, 20)) @ W
        curves.append([diagnostics.dead_fraction(act.relu(z - c * z.std())) for c in shifts])
    curves = np.array(curves)
    area = curves.mean(axis=1)
    assert area[0] > area[1] > area[2], f"mean dead fraction over the shifts, n = 4, 32, 256: {area}"
    at_15 = curves[:, 7]  # shift 1.5 std
    assert at_15[0] - at_15[2] > 0.3, f"dead fraction at a 1.5-std shift: {at_15}"


def _derivative_peaks_and_tails():
    """sigma'(0) = 1/4, tanh'(0) = 1 (torch autograd), and their tails e^-|x| and 4 e^-2|x|."""
    x = np.linspace(-30, 30, 6001)
    t = torch.tensor(x, requires_grad=True)
    torch.sigmoid(t).sum().backward()
    np.testing.assert_allclose(act.sigmoid_grad(x), t.grad.numpy(), rtol=1e-12, atol=1e-300)
    assert act.sigmoid_grad(x).max() == act.sigmoid_grad(np.array(0.0)) == 0.25
    assert act.tanh_grad(x).max() == act.tanh_grad(np.array(0.0)) == 1.0
    # the exact ratios are 1 / (1 + e^-|x|)^2 and 1 / (1 + e^-2|x|)^2: within 1e-3 of 1 from |x| = 8 and 4 on;
    # beyond |x| ~ 12, 1 - tanh^2 cancels to rounding noise, so the tanh tail stops at 10
    tail = np.array([8.0, 10.0, 12.0, -12.0])
    np.testing.assert_allclose(act.sigmoid_grad(tail) * np.exp(np.abs(tail)), 1, rtol=1e-3)
    tail = np.array([6.0, 8.0, 10.0, -10.0])
    np.testing.assert_allclose(act.tanh_grad(tail) * np.exp(2 * np.abs(tail)) / 4, 1, rtol=1e-3)
    assert act.tanh_grad(np.array(6.0)) * np.exp(6.0) < 0.02, "tanh' decays like e^-|x|"


CLAIMS = [
    Claim(L, "cell-023", "With learning rates 0.01 and 0.03 no unit dies.", _no_unit_dies_at_low_rates),
    Claim(L, "cell-023", "From 0.05 on, the first few steps can kill part of the layer", _part_dies_from_005),
    Claim(
        L,
        "cell-023",
        "at 0.07 they kill between a quarter and 70 % of it, depending on the seed (29 %, 69 % and 27 % on "
        "seeds 1, 2 and 3)",
        _quarter_to_70_percent_at_007,
    ),
    Claim(L, "cell-023", "At lr 0.1 two of the three seeds diverge outright.", _two_of_three_diverge_at_01),
    Claim(L, "cell-023", "Those units stay dead for the rest of training", _dead_units_stay_dead),
    Claim(
        L,
        "cell-021",
        "a shift of 3 to 4 standard deviations kills most units whatever the batch size",
        _bias_shift_kills_most,
    ),
    Claim(L, "cell-027d", "No PReLU unit dies", _no_prelu_unit_dies),
    Claim(
        L,
        "cell-027d",
        "they end with a mean *above* 0.25 (about 0.42 to 0.46 after 150 steps)",
        _slopes_end_above_025,
    ),
    Claim(
        L,
        "cell-027d",
        "PReLU at lr 0.07 ends with a lower training loss than ReLU at the same rate",
        _prelu_lower_loss,
    ),
    Claim(
        L,
        "cell-040",
        "ReLU and leaky ReLU lose a factor of about $\\sqrt{2}$ per layer here",
        _relu_loses_sqrt2_per_layer,
    ),
    Claim(
        L,
        "cell-040",
        "SELU, with exactly the initialization it was designed for, keeps the gradient at a steady scale",
        _selu_steady_gradient,
    ),
    Claim(
        L,
        "cell-040",
        "SELU settles at $\\text{std} \\approx 1$ and stays there, while ReLU's activations shrink by "
        "$\\sqrt{2}$ per layer and tanh's slowly decay",
        _selu_settles_relu_shrinks,
    ),
]


def _weight_movement():
    import json

    nb = json.loads((REPO / "solutions" / L / f"{L}.ipynb").read_text())
    source = next("".join(c["source"]) for c in nb["cells"] if c["id"] == "cell-040b")
    ns = {"np": np, "init": init, "layers": layers, "losses": losses}
    exec(source[: source.index("\n\nmoved, size")], ns)  # the lesson's own weight_movement
    moved, size = ns["weight_movement"](100)
    assert moved[0] < 1e-6 and abs(size[0] - 1) < 1e-6, f"first layer: moved {moved[0]:.2e}, size {size[0]}"
    assert moved[9] > 0.5, f"last hidden layer moved by {moved[9]:.2f} of its norm"


CLAIMS += [
    Claim(
        L,
        "cell-040c",
        "After 100 steps they have moved by less than a millionth of their norm, and their norm is what it "
        "was at initialization to six digits, while the last hidden layer moved by most of its own norm.",
        _weight_movement,
    ),
]

CLAIMS += [
    Claim(
        L,
        "cell-013",
        "so 10 layers shrink the gradient by at least $0.25^{10} \\approx 10^{-6}$ and 20 layers by "
        "$\\approx 10^{-12}$",
        _sigmoid_chain_bound,
    ),
    Claim(
        L,
        "cell-013",
        "the best weight ($w \\approx 1.6$) keeps a factor of only about 0.28 per layer, and every "
        "$w \\ge 4$ less than 0.08: without biases, no weight lets a gradient through a deep sigmoid chain",
        _sigmoid_weight_sweep,
    ),
    Claim(
        L,
        "cell-040",
        "The sigmoid line drops by orders of magnitude: each layer multiplies by $\\sigma' \\le 1/4$ times a "
        "weight matrix that does not compensate.",
        _sigmoid_drops_tanh_elu_slower,
    ),
    Claim(L, "cell-040", "Tanh and ELU shrink more slowly", _sigmoid_drops_tanh_elu_slower),
]

CLAIMS += [
    Claim(
        L,
        "cell-021",
        "The larger the batch, the less likely a unit is dead *on that batch* by chance",
        _larger_batch_fewer_dead_by_chance,
    ),
]

CLAIMS += [
    Claim(
        L,
        "cell-002",
        "$\\sigma'(0) = 1/4$ and $\\tanh'(0) = 1$, and both decay exponentially for large $|x|$, "
        "$\\sigma'(x) \\approx e^{-|x|}$ and $\\tanh'(x) \\approx 4 e^{-2|x|}$",
        _derivative_peaks_and_tails,
    ),
]


def _tanh_weight_sweep():
    """Section 1: a_k = tanh(w a_{k-1}) at its fixed point; factor w tanh'(w a*) over w, as for sigmoid."""
    w = np.linspace(0.1, 20, 4000)
    a = np.full_like(w, 0.5)
    for _ in range(3000):
        a = act.tanh(w * a)
    factor = w * act.tanh_grad(w * a)
    best = int(np.argmax(factor))
    t = torch.tensor(a[best], requires_grad=True)
    torch.tanh(w[best] * t).backward()
    assert abs(float(t.grad) - factor[best]) < 1e-9, (float(t.grad), factor[best])
    assert 0.95 <= w[best] <= 1.05 and factor[best] > 0.99 and abs(a[best]) < 0.1, (
        f"best w {w[best]:.3f}: factor {factor[best]:.4f}, fixed point {a[best]:.3f}"
    )
    for w_min, bound in ((2, 0.17), (4, 0.01)):
        worst = factor[w >= w_min].max()
        assert worst < bound, f"w >= {w_min}: largest factor {worst:.4f}, not below {bound}"


CLAIMS += [
    Claim(
        L,
        "cell-013",
        "at $w \\approx 1$, where the chain settles near 0 and $\\tanh' \\approx 1$, it keeps a factor close "
        "to 1 per layer. But a larger $w$ saturates it just the same: every $w \\ge 2$ keeps less than 0.17 "
        "per layer, and every $w \\ge 4$ less than 0.01",
        _tanh_weight_sweep,
    ),
]
