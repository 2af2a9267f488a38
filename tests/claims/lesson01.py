"""Lesson 01's claims: gradient checks, 2^100 and 0.5^100, float limits, random chains, weight gradients."""

from __future__ import annotations

import math

import numpy as np
import torch

from claims import Claim
from gradlib import chain, layers
from gradlib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

L = "01-backprop"


def _affine_gradcheck_errors(backward_mistake: bool) -> float:
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    dout = rng.normal(size=(3, 2))
    dx, dW, db = layers.affine_backward(dout, (x, W, b))
    if backward_mistake:
        dW = x.T @ dout / 3  # a classic mistake: averaged over the batch
    worst = 0.0
    for analytic, v in ((dx, x), (dW, W), (db, b)):
        numeric = numerical_gradient_array(lambda _: layers.affine_forward(x, W, b)[0], v, dout)
        worst = max(worst, rel_error(analytic, numeric))
    return worst


def _right_1e10_wrong_1e2():
    right, wrong = _affine_gradcheck_errors(False), _affine_gradcheck_errors(True)
    assert 1e-12 <= right <= 1e-8, f"relative error of a right affine_backward: {right:.1e}"
    assert wrong > 1e-2, f"relative error of dW averaged over the batch: {wrong:.1e}"


def _powers():
    assert f"{2.0**100:.3g}" == "1.27e+30" and f"{0.5**100:.2g}" == "7.9e-31", (2.0**100, 0.5**100)


def _float_limits():
    depths = [chain.first_overflow_depth(2.0, t) for t in (np.float16, np.float32, np.float64)]
    assert depths == [16, 128, 1024], depths
    p, depth = np.float32(1), 0
    with np.errstate(under="ignore"):
        while p != 0:
            p, depth = np.float32(p * np.float32(0.5)), depth + 1
    assert depth == 150, f"float32 0.5^L is 0 from L = {depth}"
    assert np.float32(0.5) ** 127 < np.finfo(np.float32).tiny <= np.float32(0.5) ** 126  # subnormal from 127


def _fifteen_decades():
    for s, sign in ((2.0, 1), (0.5, -1)):
        decades = []
        for i in range(5):
            rng = np.random.default_rng(100 + i)
            weights = chain.random_gaussian_weights(50, 64, std=s / math.sqrt(64), rng=rng)
            g = chain.chain_norms(rng.normal(size=(8, 64)), weights)["gradient_norms"]
            decades.append(sign * math.log10(g[0] / g[-1]))
        assert all(13 <= d <= 17 for d in decades), f"s = {s}: decades over 50 layers {np.round(decades, 1)}"


def _identity_chain_gradient_ratio():
    """Figure 1: 100 layers W = sI; the input's gradient over the top's is s^100, checked against torch."""
    x = np.array([[1.0, -2.0, 0.5]])
    for s in (2.0, 0.5):
        g = chain.chain_norms(x, chain.scaled_identity_weights(100, 3, s))["gradient_norms"]
        xt = torch.tensor(x, requires_grad=True)
        out = xt
        for _ in range(100):
            out = out @ (s * torch.eye(3, dtype=torch.float64))
        out.sum().backward()
        oracle = float(xt.grad.norm()) / math.sqrt(3)
        assert math.isclose(g[0] / g[-1], oracle, rel_tol=1e-12), (s, g[0] / g[-1], oracle)
        decades = math.log10(g[0] / g[-1])
        assert abs(abs(decades) - 30) < 0.2 and (decades > 0) == (s > 1), f"s = {s}: {decades:.2f} decades"


def _unit_scale_drifts_slowly():
    drift = []
    for i in range(5):
        rng = np.random.default_rng(100 + i)
        weights = chain.random_gaussian_weights(50, 64, std=1 / math.sqrt(64), rng=rng)
        g = chain.chain_norms(rng.normal(size=(8, 64)), weights)["gradient_norms"]
        drift.append(math.log10(g[0] / g[-1]))
    assert max(map(abs, drift)) < 1, f"s = 1 is not slow: decades over 50 layers {np.round(drift, 2)}"
    assert max(drift) - min(drift) > 0.2, f"s = 1 does not drift apart: {np.round(drift, 2)}"


def _figure4_weight_gradients():
    """Figure 4's own draws (seed 7): flat across layers, shifted as a whole by about s^49."""
    rng = np.random.default_rng(7)
    level = {}
    for s in (0.5, 1.0, 2.0):
        weights = chain.random_gaussian_weights(50, 64, std=s / math.sqrt(64), rng=rng)
        g = chain.chain_norms(rng.normal(size=(8, 64)), weights)["weight_gradient_norms"]
        assert g.max() / g.min() < 4, f"s = {s}: layers span a factor {g.max() / g.min():.2f}"
        level[s] = np.log10(g)
    up, down = np.mean(level[2.0] - level[1.0]), np.mean(level[1.0] - level[0.5])
    assert 13.5 <= up <= 16.5 and 13.5 <= down <= 16.5, (
        f"decades s=2 over s=1 {up:.2f}, s=1 over 0.5 {down:.2f}"
    )
    assert f"{2.0**49:.0e}" == "6e+14", 2.0**49


def _smooth_loss(v: np.ndarray) -> float:
    return float(np.sum(np.sin(v) * np.exp(0.3 * v)))


def _difference_errors(h: float) -> tuple[float, float]:
    """Largest error of gradlib's centered difference and of a one-sided one, against torch's autograd."""
    v = np.array([0.7, -1.3, 2.1])
    t = torch.tensor(v, requires_grad=True)
    torch.sum(torch.sin(t) * torch.exp(0.3 * t)).backward()
    exact = t.grad.numpy()
    centered = numerical_gradient(_smooth_loss, v.copy(), h=h)
    one_sided = np.array([(_smooth_loss(v + h * e) - _smooth_loss(v)) / h for e in np.eye(3)])
    return float(np.abs(centered - exact).max()), float(np.abs(one_sided - exact).max())


def _centered_h2_one_sided_h():
    """Halving h divides the centered error by 4 (order 2) and the one-sided error by 2 (order 1)."""
    (c1, o1), (c2, o2) = _difference_errors(1e-2), _difference_errors(5e-3)
    assert 3.8 < c1 / c2 < 4.2 and 1.9 < o1 / o2 < 2.1, (
        f"error ratios: centered {c1 / c2:.2f}, one-sided {o1 / o2:.2f}"
    )


def _h_1e5_is_a_good_middle():
    errors = {h: _difference_errors(h)[0] for h in (1e-1, 1e-3, 1e-5, 1e-7, 1e-9, 1e-11)}
    assert min(errors, key=errors.get) == 1e-5 and errors[1e-5] < 1e-9, f"centered errors by h: {errors}"
    assert errors[1e-11] > 1e3 * errors[1e-5] < errors[1e-1], f"too small and too large h: {errors}"


CLAIMS = [
    Claim(
        L,
        "cell-008",
        "A correct backward pass gives about $10^{-10}$ here; above $10^{-2}$ it is wrong.",
        _right_1e10_wrong_1e2,
    ),
    Claim(L, "cell-017", "$2^{100} \\approx 1.27 \\times 10^{30}$", _powers),
    Claim(
        L,
        "cell-026",
        "In float32 the line for $s = 2$ stops at depth 128 (inf), and the line for $s = 0.5$ stops at 150 "
        "(exactly 0, after passing through the subnormal range from depth 127 on)",
        _float_limits,
    ),
    Claim(L, "cell-030", "the $s = 2$ lines climb about 15 decades over 50 layers", _fifteen_decades),
    Claim(
        L,
        "cell-019",
        "With $s = 2$ the first layer receives a gradient $10^{30}$ times larger than the last; with "
        "$s = 0.5$, $10^{30}$ times smaller.",
        _identity_chain_gradient_ratio,
    ),
    Claim(L, "cell-030", "Even $s = 1$ drifts slowly", _unit_scale_drifts_slowly),
    Claim(
        L,
        "cell-030",
        "for each $s$ the 50 layers lie within a factor of about 3 of each other, but the $s = 2$ layers sit "
        "about 15 decades above the $s = 1$ layers ($2^{49} \\approx 6 \\times 10^{14}$) and the $s = 0.5$ "
        "layers about 15 decades below",
        _figure4_weight_gradients,
    ),
]

CLAIMS += [
    Claim(
        L,
        "cell-008",
        "has error $O(h^2)$ (Taylor: the $h^2$ terms of the two sides cancel), while the one-sided "
        "$(\\mathcal{L}(v + h e_i) - \\mathcal{L}(v))/h$ has error $O(h)$",
        _centered_h2_one_sided_h,
    ),
    Claim(L, "cell-008", "In float64, $h = 10^{-5}$ is a good middle.", _h_1e5_is_a_good_middle),
]
