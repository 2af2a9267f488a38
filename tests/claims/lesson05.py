"""Claims of lesson 05 (gradient clipping): [0.9, 100], per-tensor vs global, vanishing, rescue, cliff."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from claims import Claim
from gradlib import chain, clip, init, layers

LESSON = "05-clipping"


def _angle(u, v) -> float:
    return float(np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))


def _value_vs_norm():
    g = np.array([0.9, 100.0])
    by_value = clip.clip_by_value([g], 1.0)[0]
    by_norm = clip.clip_by_norm([g], 1.0)[0]
    np.testing.assert_array_equal(by_value, [0.9, 1.0])
    assert round(_angle(by_value, g)) == 41, f"angle {_angle(by_value, g):.2f}"
    assert round(by_norm[0], 3) == 0.009 and round(by_norm[1], 5) == 0.99996, f"by norm {by_norm}"
    assert _angle(by_norm, g) < 1e-6


def _per_tensor_ratio():
    grads = {"W": np.array([[30.0, 40.0]]), "b": np.array([0.3, 0.4])}
    before = np.linalg.norm(grads["W"]) / np.linalg.norm(grads["b"])
    per = clip.clip_by_norm(grads, 1.0)
    after = np.linalg.norm(per["W"]) / np.linalg.norm(per["b"])
    glob, _ = clip.clip_by_global_norm(grads, 1.0)
    kept = np.linalg.norm(glob["W"]) / np.linalg.norm(glob["b"])
    assert np.isclose(before, 100) and np.isclose(after, 2) and np.isclose(kept, 100), (before, after, kept)


@cache
def _section3():
    """Section 3: a 12-layer sigmoid MLP (Xavier) and a 30-layer linear chain with W = 1.3 I."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32))
    weights = [init.xavier_normal((32, 32), rng=rng) for _ in range(12)]
    h, caches = x, []
    for W in weights:
        h, c_aff = layers.affine_forward(h, W, np.zeros(32))
        h, c_act = layers.activation_forward(h, "sigmoid")
        caches.append((c_aff, c_act))
    dh, sig = rng.standard_normal(h.shape) / 64, []
    for c_aff, c_act in reversed(caches):
        dh, dW, _ = layers.affine_backward(layers.activation_backward(dh, c_act), c_aff)
        sig.insert(0, dW)
    x_chain, d_chain = rng.standard_normal((64, 16)), rng.standard_normal((64, 16)) / 64
    grads = {}
    for s in (1.0, 1.3):
        _, cache_ = chain.chain_forward(x_chain, chain.scaled_identity_weights(30, 16, s))
        grads[s] = chain.chain_backward(d_chain, cache_)[1]
    return sig, grads


def _clipping_leaves_vanishing_alone():
    sig, _ = _section3()
    clipped, total = clip.clip_by_global_norm(sig, 1.0)
    assert 0.4 < total < 0.6, f"global norm of the sigmoid gradients {total:.3g}"
    for a, b in zip(sig, clipped, strict=True):
        np.testing.assert_array_equal(a, b)
    sq = np.array([np.sum(g**2) for g in sig])
    assert sq[-3:].sum() > 0.9 * sq.sum(), (
        f"share of the last 3 layers in the squared norm {sq[-3:].sum() / sq.sum()}"
    )
    assert sq[0] < 1e-6 * sq[-1], f"first / last layer {np.sqrt(sq[0] / sq[-1]):.3g}"


def _chain_factor_2000():
    _, grads = _section3()
    factors = [np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(grads[1.3], grads[1.0], strict=True)]
    np.testing.assert_allclose(factors, 1.3**29, rtol=1e-9)
    assert 1900 < 1.3**29 < 2100
    clipped, total = clip.clip_by_global_norm(grads[1.3], 1.0)
    ratios = [np.linalg.norm(c) / np.linalg.norm(g) for c, g in zip(clipped, grads[1.3], strict=True)]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)  # one factor for every layer
    assert total > 1


def _train_deep_linear(mode, threshold, steps=300, lr=0.05, depth=12, dim=8):
    target = np.random.default_rng(0).standard_normal((dim, dim)) / np.sqrt(dim)
    weights = [init.orthogonal((dim, dim), gain=1.25, rng=np.random.default_rng(1)) for _ in range(depth)]
    data_rng = np.random.default_rng(2)
    out = []
    for _ in range(steps):
        x = data_rng.standard_normal((64, dim))
        acts, cache_ = chain.chain_forward(x, weights)
        diff = acts[-1] - x @ target
        out.append(np.mean(diff**2))
        if not out[-1] < 1e30:
            break
        _, grads = chain.chain_backward(2 * diff / diff.size, cache_)
        if mode == "value":
            grads = clip.clip_by_value(grads, threshold)
        elif mode == "global_norm":
            grads = clip.clip_by_global_norm(grads, threshold)[0]
        weights = [w - lr * g for w, g in zip(weights, grads, strict=True)]
    return np.array(out)


def _rescue():
    assert 14 < 1.25**12 < 15, 1.25**12
    plain = _train_deep_linear(None, None)
    assert len(plain) <= 4 and not plain[-1] < 1e30, f"unclipped losses {plain}"
    for mode, c in (("value", 0.05), ("global_norm", 1.0)):
        losses = _train_deep_linear(mode, c)
        assert len(losses) == 300 and losses[-1] < 0.05 * losses[0], (
            f"{mode}: {losses[0]:.3g} -> {losses[-1]:.3g}"
        )


def _cliff_paths():
    height, sharp = 4.0, 30.0

    def grad(w):
        u = w[0] + 0.3 * w[1]
        s = 0.5 * (1.0 + np.tanh(0.5 * sharp * (u - 1.0)))
        dwall = height * sharp * s * (1.0 - s)
        return np.array([0.2 * (w[0] - 3.0) + dwall, 0.2 * (w[1] - 0.5) + 0.3 * dwall])

    def path(mode, c):
        w, out = np.array([-2.2, 2.0]), []
        for _ in range(40):
            g = grad(w)
            if mode == "value":
                g = clip.clip_by_value([g], c)[0]
            elif mode == "global_norm":
                g = clip.clip_by_global_norm([g], c)[0][0]
            w = w - 0.9 * g
            out.append(w)
        return np.array(out)

    def outside(p):
        return (p[:, 0] < -4) | (p[:, 0] > 3) | (p[:, 1] < -2.5) | (p[:, 1] > 3)

    out = outside(path(None, None))
    throws = int(np.sum(out[1:] & ~out[:-1]) + out[0])
    assert throws >= 2, f"the unclipped path leaves the picture {throws} times"
    for mode, c in (("value", 0.5), ("global_norm", 1.0)):
        assert not outside(path(mode, c)).any(), f"{mode} leaves the picture"


def _torch_clipped(grads: list[np.ndarray], how: str, c: float) -> list[np.ndarray]:
    """The same clipping done by torch: by value, per tensor (Keras clipnorm) or global norm."""
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = torch.from_numpy(g.copy())
    if how == "value":
        torch.nn.utils.clip_grad_value_(params, c)
    elif how == "per_tensor":
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], c)
    else:
        torch.nn.utils.clip_grad_norm_(params, c)
    return [p.grad.numpy() for p in params]


def _step_angles(grads: list[np.ndarray], c: float) -> dict[str, float]:
    flat = np.concatenate([g.ravel() for g in grads])
    ours = {
        "value": clip.clip_by_value(grads, c),
        "per_tensor": clip.clip_by_norm(grads, c),
        "global": clip.clip_by_global_norm(grads, c)[0],
    }
    angles = {}
    for how, clipped in ours.items():
        oracle = _torch_clipped(grads, how, c)
        # torch divides by norm + 1e-6: a relative difference of at most 1e-6 / norm < 1e-6 / c
        for a, b in zip(clipped, oracle, strict=True):
            np.testing.assert_allclose(
                a, b, rtol=2e-6 / c, atol=1e-12, err_msg=f"{how} at {c} differs from torch"
            )
        angles[how] = _angle(flat, np.concatenate([g.ravel() for g in clipped]))
    return angles


def _clipnorm_turns_the_step():
    """The popular-claims box: per-tensor clipping of the sigmoid network's gradients turns the step."""
    sig, _ = _section3()
    assert max(np.abs(g).max() for g in sig) < 0.1, "some component is above 0.1"
    norms = np.array([np.linalg.norm(g) for g in sig])
    assert round(norms[-1], 1) == 0.5 and list(np.flatnonzero(norms > 0.01)) == [9, 10, 11], norms
    at_01, at_001 = _step_angles(sig, 0.1), _step_angles(sig, 0.01)
    assert at_01["value"] == 0 and round(at_01["per_tensor"]) == 34, f"threshold 0.1: {at_01}"
    assert round(at_001["per_tensor"]) == 47 and round(at_001["value"]) == 28, f"threshold 0.01: {at_001}"
    assert max(at_01["global"], at_001["global"]) < 1e-4, (at_01, at_001)


def _equal_norms_at_section5_start():
    target = np.random.default_rng(0).standard_normal((8, 8)) / np.sqrt(8)
    weights = [init.orthogonal((8, 8), gain=1.25, rng=np.random.default_rng(1)) for _ in range(12)]
    x = np.random.default_rng(2).standard_normal((64, 8))
    acts, cache_ = chain.chain_forward(x, weights)
    diff = acts[-1] - x @ target
    grads = chain.chain_backward(2 * diff / diff.size, cache_)[1]
    norms = np.array([np.linalg.norm(g) for g in grads])
    assert norms.max() - norms.min() < 1e-9 * norms.max(), f"first-step norms {norms}"
    assert _step_angles(grads, 1.0)["per_tensor"] < 1e-4, "per-tensor clipping turned Section 5's step"


def _first_component_share():
    """[0.9, 100] clipped by value to [0.9, 1.0]: the first component's share, by sum and by squares."""
    g = np.array([0.9, 100.0])
    v = clip.clip_by_value([g], 1.0)[0]
    for name, share in (("sum", lambda a: a[0] / a.sum()), ("squares", lambda a: a[0] ** 2 / np.sum(a**2))):
        before, after = share(np.abs(g)), share(np.abs(v))
        assert before < 0.01 and 0.4 <= after < 0.5, f"share by {name}: {before:.4f} -> {after:.3f}"


CLAIMS = [
    Claim(LESSON, "cell-002", "the step points 41° away from the gradient", _value_vs_norm),
    Claim(LESSON, "cell-002", "Norm clipping gives $[0.009,\\ 0.99996]$", _value_vs_norm),
    Claim(LESSON, "cell-012", "Their ratio was 100 : 1 and becomes 2 : 1", _per_tensor_ratio),
    Claim(
        LESSON, "cell-019", "so clipping leaves them exactly as they are", _clipping_leaves_vanishing_alone
    ),
    Claim(
        LESSON,
        "cell-019",
        "every layer's gradient is $1.3^{29} \\approx 2000$ times what it is with `W = I`",
        _chain_factor_2000,
    ),
    Claim(
        LESSON, "cell-019", "Clipping divides every layer's gradient by the same factor", _chain_factor_2000
    ),
    Claim(
        LESSON,
        "cell-025",
        "within three steps the loss is astronomically large",
        _rescue,
    ),
    Claim(
        LESSON,
        "cell-025",
        "The same run with value clipping (`c = 0.05`) or global-norm clipping (`max_norm = 1`) trains",
        _rescue,
    ),
    Claim(LESSON, "cell-028", "is thrown out of the picture, walks back, and is thrown again", _cliff_paths),
    Claim(LESSON, "cell-028", "but are never thrown far", _cliff_paths),
]

CLAIMS += [
    Claim(
        LESSON,
        "cell-020c",
        "At threshold 0.1 no component is larger than 0.1, so `clipvalue` changes nothing, yet `clipnorm` "
        "cuts the last layer's gradient (norm 0.5) down to 0.1 and turns the step by about 34°. At 0.01 it "
        "cuts the last three layers and turns the step by about 47°, further than `clipvalue` (about 28°).",
        _clipnorm_turns_the_step,
    ),
    Claim(
        LESSON,
        "cell-020c",
        "Only global-norm clipping keeps the direction at every threshold (0°).",
        _clipnorm_turns_the_step,
    ),
    Claim(
        LESSON,
        "cell-020c",
        "or when all have the same norm, as the 12 layers of Section 5's network do at its first step",
        _equal_norms_at_section5_start,
    ),
]

CLAIMS += [
    Claim(
        LESSON,
        "cell-002",
        "the first component, which was less than 1 % of the gradient, is now almost half of it",
        _first_component_share,
    ),
    Claim(
        LESSON,
        "cell-019",
        "(about 0.5, almost all of it in the last layers) is below 1",
        _clipping_leaves_vanishing_alone,
    ),
    Claim(LESSON, "cell-019", "and the first layers still get nothing", _clipping_leaves_vanishing_alone),
    Claim(LESSON, "cell-025", "amplifies by up to $1.25^{12} \\approx 15$", _rescue),
]
