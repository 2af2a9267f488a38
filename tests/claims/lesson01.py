"""Lesson 01's claims: the gradient checker's accuracy, 2^100 and 0.5^100, float limits, random chains."""

from __future__ import annotations

import math

import numpy as np

from claims import Claim
from gradlib import chain, layers
from gradlib.gradcheck import numerical_gradient_array, rel_error

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
]
