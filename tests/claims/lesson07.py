"""Claims of lesson 07 (diagnosis and mixed precision): its vital signs, the fix-it exercise, float16."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from claims import Claim
from gradlib import data, diagnostics, mlp, precision, train
from gradlib.checks import diagnose
from gradlib.checks.precision import make_problem

LESSON = "07-diagnosis"


def _spirals():
    return data.spirals(100, 3, rng=np.random.default_rng(0))


@cache
def _section1(kind: str):
    """Section 1: the N(0, 1) tanh network ("sick") and the Xavier one ("healthy"), 10 x 64."""
    x, y = _spirals()
    init = 1.0 if kind == "sick" else "xavier_normal"
    net = mlp.MLP(2, 3, depth=10, width=64, activation="tanh", initializer=init)
    return diagnostics.mlp_stats(net, net.init_params(rng=np.random.default_rng(1)), x, y, lr=0.01)


def _sick_layers_3_to_10_saturated():
    sat = [round(100 * s.saturation) for s in _section1("sick")[2:10]]
    assert min(sat) >= 69 and max(sat) <= 78, f"saturation % of layers 3-10: {sat}"


def _healthy_no_saturation():
    sat = [s.saturation for s in _section1("healthy")[:-1]]
    assert max(sat) == 0, f"saturation of the Xavier network: {sat}"


def _gradient_grows_2_to_8_per_layer():
    g = np.array([s.grad_std for s in _section1("sick")[:10]])
    steps = g[:-1] / g[1:]  # factor from layer k+1 to layer k, towards the input
    total = g[0] / g[-1]
    assert steps.min() >= 2 and steps.max() <= 8.5, f"per-layer growth factors {np.round(steps, 2)}"
    assert 10**6.5 <= total <= 10**7.5, f"layer 1 / layer 10 gradient std {total:.3g}"


def _saturated_yet_large_gradients():
    stats = _section1("sick")
    ref = stats[-1].grad_std
    r = [s.grad_std / ref for s in stats[2:10]]
    verdicts = [v.verdict for v in diagnostics.health_report(stats)[2:10]]
    assert 1.5 <= min(r) <= 2.5 and 1.5e5 <= max(r) <= 2.5e5, f"gradient / last layer's: {np.round(r, 1)}"
    assert set(verdicts) == {"saturated"}, f"verdicts of layers 3-10: {verdicts}"


@cache
def _lr_runs():
    """Section 1's update:data experiment: a 6 x 48 He ReLU network at four learning rates, 100 steps."""
    x, y = _spirals()
    net = mlp.MLP(2, 3, depth=6, width=48, activation="relu", initializer="he_normal")
    p = net.init_params(rng=np.random.default_rng(3))
    return {
        lr: train.train(net, p, x, y, steps=100, lr=lr, rng=np.random.default_rng(4))
        for lr in (1e-4, 1e-2, 0.1, 0.3)
    }


def _median(lr: float) -> float:
    return float(np.nanmedian(_lr_runs()[lr].update_ratio))


def _lr_001_near_1e3():
    h = _lr_runs()[1e-2]
    per_layer = np.nanmedian(h.update_ratio[20:], axis=0)
    hidden, first, out = per_layer[1:-1], per_layer[0], per_layer[-1]
    assert np.all((hidden > 5e-4) & (hidden < 2e-3)), f"hidden layers' ratios {hidden}"
    assert 2 < np.median(hidden) / first < 10 and 2 < out / np.median(hidden) < 10, (
        f"first {first}, out {out}"
    )
    assert np.all(np.diff(h.loss) < 0.01) and h.loss[-1] < 0.5 * h.loss[0], "the loss does not fall steadily"


def _lr_1e4_25_times_smaller():
    factor = _median(1e-2) / _median(1e-4)
    h = _lr_runs()[1e-4]
    assert 20 <= factor <= 30, f"lr 1e-2 / lr 1e-4 median ratio {factor:.1f}"
    assert h.loss[0] - h.loss[-1] < 0.1, f"lr 1e-4 loss {h.loss[0]:.3f} -> {h.loss[-1]:.3f}"


def _lr_03_jumps():
    h = _lr_runs()[0.3]
    assert _median(0.3) > 1e-2, f"median ratio {_median(0.3):.2e}"
    assert np.max(np.diff(h.loss)) > 0.1, "the loss does not jump around"
    assert 0.8 * h.loss[0] < h.loss[-1] < h.loss[0], f"lr 0.3 loss {h.loss[0]:.3f} -> {h.loss[-1]:.3f}"


def _lr_01_trains():
    h = _lr_runs()[0.1]
    assert 3e-3 <= _median(0.1) <= 5e-3 and h.loss[-1] < 0.1, f"{_median(0.1):.2e}, loss {h.loss[-1]:.3f}"


def _torch_default_init_vanishes():
    torch.manual_seed(0)
    modules = []
    for i in range(12):
        modules += [torch.nn.Linear(2 if i == 0 else 64, 64), torch.nn.Tanh()]
    net = torch.nn.Sequential(*modules, torch.nn.Linear(64, 3))
    x, y = _spirals()
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    from gradlib import torch_hooks

    stats = torch_hooks.collect_stats(net, xt, lambda out: torch.nn.functional.cross_entropy(out, yt), lr=0.1)
    r = [s.grad_std / stats[-1].grad_std for s in stats]
    assert max(r[:3]) < 0.01, f"first layers' gradient / last layer's: {np.round(r[:3], 5)}"


def _linear_default_variance():
    fan_in, n = 256, 256 * 512
    torch.manual_seed(0)
    w = torch.nn.Linear(fan_in, 512).weight.detach().double().numpy()
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(w).max() <= bound, f"max |w| {np.abs(w).max()} above 1/sqrt(fan_in) {bound}"
    # the sample variance of U(-b, b): relative std of the estimate is sqrt(0.8 / n); 6 sigma
    tol = 6 * np.sqrt(0.8 / n)
    assert abs(w.var() * 3 * fan_in - 1) < tol, f"variance x 3 fan_in = {w.var() * 3 * fan_in:.4f}"


def _failing(name: str, seed: int = 0):
    return diagnose.run_config(diagnose.FAILING[name], seed=seed)


def _not_learning_stays_near_ln3():
    for name in ("deep sigmoid, Xavier init", "deep tanh, N(0, 1) weights"):
        h = _failing(name)
        if name.startswith("deep sigmoid"):
            assert abs(diagnose.final_loss(h) - np.log(3)) < 0.01, f"{name}: {diagnose.final_loss(h):.3f}"
    relu = _failing("deep ReLU, N(0, 1) weights")
    assert relu.diverged_at is not None and relu.diverged_at <= 5, f"diverged at {relu.diverged_at}"


SEEDS = range(4)


@cache
def _fix_runs(fix: str):
    fixes = {
        "he": dict(activation="relu", initializer="he_normal"),
        "bn": dict(activation="relu", initializer="he_normal", batchnorm=True),
        "residual": dict(activation="relu", initializer="he_normal", batchnorm=True, residual=True),
        "zero-gamma": dict(
            activation="relu", initializer="he_normal", batchnorm=True, residual=True, zero_gamma=True
        ),
        "clip": dict(activation="relu", initializer="he_normal", clip="global_norm", clip_value=1.0),
    }
    # the three failing configurations differ only in what every fix replaces, so one run stands for all
    base = diagnose.FAILING["deep sigmoid, Xavier init"]
    return [diagnose.run_config({**base, **fixes[fix]}, seed=s) for s in SEEDS]


def _he_alone_fails():
    runs = _fix_runs("he")
    first_last = [float(h.grad_norms[0, 0] / h.grad_norms[0, -1]) for h in runs]
    with np.errstate(all="ignore"):
        ratios = [np.nanmedian(h.update_ratio, axis=1) for h in runs]  # median over layers, per step
    at10 = [float(r[10]) for r in ratios]
    peak = [float(np.nanmax(r)) for r in ratios]
    losses = [diagnose.final_loss(h) for h in runs]
    assert all(0.01 < r < 100 for r in first_last), f"||dW1|| / ||dW_out|| at step 0: {first_last}"
    assert all(2.5e-3 <= r <= 7.5e-3 for r in at10), f"update:data after 10 steps: {at10}"
    assert all(p > 2e-2 for p in peak), f"highest update:data: {peak}"
    assert sum(v >= diagnose.LOSS_THRESHOLD for v in losses) >= len(losses) - 1, f"final losses {losses}"


def _stabilizers_pass():
    for fix in ("bn", "residual", "zero-gamma", "clip"):
        losses = [diagnose.final_loss(h) for h in _fix_runs(fix)]
        assert max(losses) < diagnose.LOSS_THRESHOLD, (
            f"{fix}: final losses over seeds {list(SEEDS)}: {losses}"
        )


def _clip_alone_cannot_rescue_sigmoid():
    cfg = {**diagnose.FAILING["deep sigmoid, Xavier init"], "clip": "global_norm", "clip_value": 1.0}
    losses = [diagnose.final_loss(diagnose.run_config(cfg, seed=s)) for s in range(3)]
    assert min(losses) > 1.0, f"clipping alone: {losses}"


@cache
def _float16_gradients():
    """Section 5's cell: weight gradients of an 8-layer ReLU network for a late-training-sized signal."""
    net = mlp.MLP(2, 3, depth=8, width=64, activation="relu", initializer="he_normal")
    p = net.init_params(rng=np.random.default_rng(5))
    xb, _ = data.spirals(86, 3, rng=np.random.default_rng(6))
    out, c, _ = net.forward(p, xb)
    grads = net.backward(np.ones_like(out) * 1e-4 / out.size, c)
    g = np.concatenate([grads[f"W{k}"].ravel() for k in range(1, net.n_layers + 1)])
    return g[g != 0]


def _nearly_all_subnormal():
    g = _float16_gradients()
    below = np.mean(np.abs(g) < precision.float_format("float16").smallest_normal)
    assert below > 0.95, f"fraction below float16's smallest normal: {below:.3f}"


def _below_3e8_rounds_to_zero():
    sub = precision.float_format("float16").smallest_subnormal
    assert np.float16(0.49 * sub) == 0 and np.float16(0.51 * sub) == np.float16(sub), "rounding at sub/2"
    assert 2.9e-8 < sub / 2 < 3.1e-8 and 5.9e-8 < sub < 6.0e-8, f"smallest subnormal {sub}"
    g = _float16_gradients()
    lost = np.mean(g.astype(np.float16) == 0)
    expected = np.mean(np.abs(g) <= sub / 2)
    assert lost > 0 and abs(lost - expected) < 1e-3, f"flushed {lost:.4f}, below sub/2 {expected:.4f}"


def _bfloat16_range():
    f = precision.float_format("bfloat16")
    ok = 0.9e-38 < f.smallest_normal < 1.3e-38 and 8.5e-41 < f.smallest_subnormal < 9.5e-41
    assert ok, f"bfloat16 smallest normal {f.smallest_normal:.3g}, subnormal {f.smallest_subnormal:.3g}"


def _scale_drops_then_climbs():
    scale, tracker, scales = 2.0**24, 0, []
    n = 300
    for step in range(n):
        backward, dout, _ = make_problem(16, 8, 6, 4, dout_std=10.0 ** (-2 - 4 * step / n), seed=step)
        with np.errstate(over="ignore", invalid="ignore"):
            grads16 = backward((dout.astype(np.float32) * scale).astype(np.float16))
        found_inf = not all(np.all(np.isfinite(g.astype(np.float32))) for g in grads16)
        scales.append(scale)
        scale, tracker = precision.update_scale(scale, tracker, found_inf, growth_interval=20)
    scales = np.array(scales)
    low = int(np.argmin(scales))
    assert low < n // 3 and scales[low] < 2.0**24, f"lowest scale 2^{np.log2(scales[low]):.0f} at step {low}"
    assert scales[-1] > 2.0**24, f"final scale 2^{np.log2(scales[-1]):.0f}"


def _he_alone_jumps_near_1():
    """ReLU + He alone (seeds 0-3): the loss jumps, and ends near 1 unless it diverges."""
    for seed, h in zip(SEEDS, _fix_runs("he"), strict=True):
        loss = np.asarray(h.loss)
        final = diagnose.final_loss(h)
        assert not np.isfinite(final) or 0.7 <= final <= 1.3, f"seed {seed}: final loss {final:.3f}"
        assert np.nanmax(np.diff(loss)) > 0.3, f"seed {seed}: the loss never jumps up: {loss.round(3)}"


def _float16_bfloat16_formats():
    half, brain = precision.float_format("float16"), precision.float_format("bfloat16")
    assert half.max == 65504 == float(torch.finfo(torch.float16).max), half
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(65520.0)), "65520 does not overflow float16"
    assert brain.mantissa_bits + 1 == 8 and brain.eps == float(torch.finfo(torch.bfloat16).eps) == 2.0**-7, (
        brain
    )
    assert brain.max == float(torch.finfo(torch.bfloat16).max), brain


def _four_layers_decades_apart():
    """Figure 2 draws layers 1, 3, 6 and 10 of the sick network: how far apart are their gradient stds?"""
    g = np.array([s.grad_std for s in _section1("sick")])
    gaps = -np.diff(np.log10(g[[0, 2, 5, 9]]))
    assert np.all((gaps >= 1.7) & (gaps <= 2.7)), f"decades between the drawn layers: {gaps.round(2)}"


def _float_formulas_match_finfo():
    """The bit-count formulas of float_format agree with np.finfo and torch.finfo."""
    for name, tdtype in (
        ("float16", torch.float16),
        ("bfloat16", torch.bfloat16),
        ("float32", torch.float32),
    ):
        f, t = precision.float_format(name), torch.finfo(tdtype)
        bias = 2 ** (f.exponent_bits - 1) - 1
        assert f.max == (2 - 2.0**-f.mantissa_bits) * 2.0**bias == t.max, (name, f.max, t.max)
        assert f.smallest_normal == 2.0 ** (1 - bias) == t.tiny, (name, f.smallest_normal, t.tiny)
        assert f.smallest_subnormal == 2.0 ** (1 - bias - f.mantissa_bits) == t.tiny * t.eps, name
        assert f.mantissa_bits == t.bits - f.exponent_bits - 1, name
        if name != "bfloat16":
            n = np.finfo(name)
            assert (f.max, f.smallest_normal, f.smallest_subnormal) == (
                n.max,
                n.tiny,
                n.smallest_subnormal,
            ), name


CLAIMS = [
    Claim(
        LESSON,
        "cell-005",
        "From layer 3 on, 69–78 % of the outputs sit beyond ±0.97",
        _sick_layers_3_to_10_saturated,
    ),
    Claim(
        LESSON,
        "cell-005",
        "keeps its outputs spread over (−1, 1) with no saturation at all",
        _healthy_no_saturation,
    ),
    Claim(
        LESSON,
        "cell-005",
        "the gradient grows by a factor of 2 to 8 per layer, about $10^7$ from layer 10 to layer 1",
        _gradient_grows_2_to_8_per_layer,
    ),
    Claim(
        LESSON,
        "cell-010",
        "layers 3–10 are 69–78 % saturated, yet their gradients are between 2 and 200,000 times the last "
        "layer's",
        _saturated_yet_large_gradients,
    ),
    Claim(
        LESSON, "cell-010", "With lr = 0.01 the hidden layers' ratios settle close to 1e-3", _lr_001_near_1e3
    ),
    Claim(LESSON, "cell-010", "With lr = 1e-4 they are about 25 times smaller", _lr_1e4_25_times_smaller),
    Claim(LESSON, "cell-010", "With lr = 0.3 they are above 1e-2", _lr_03_jumps),
    Claim(LESSON, "cell-010", "lr = 0.1, with ratios near 4e-3, also trains well here", _lr_01_trains),
    Claim(
        LESSON,
        "cell-017",
        "`nn.Linear` draws from U(±1/√fan_in), whose variance is 1/(3·fan_in)",
        _linear_default_variance,
    ),
    Claim(
        LESSON,
        "cell-019",
        "The first layers receive less than 1% of the gradient that reaches the last layer",
        _torch_default_init_vanishes,
    ),
    Claim(
        LESSON,
        "cell-021",
        "a network that does not learn stays near ln 3 ≈ 1.10",
        _not_learning_stays_near_ln3,
    ),
    Claim(
        LESSON,
        "cell-023",
        "ReLU + He fixes the *start*: at step 0 no layer's gradient vanishes or explodes. On its own it does "
        "not pass: after ten steps its update:data ratio is already 3e-3 to 7e-3, later it peaks above 2e-2",
        _he_alone_fails,
    ),
    Claim(LESSON, "cell-023", "residual connections, with or without zero-γ", _stabilizers_pass),
    Claim(
        LESSON,
        "cell-023",
        "on its own it cannot rescue the vanishing sigmoid network",
        _clip_alone_cannot_rescue_sigmoid,
    ),
    Claim(
        LESSON,
        "cell-028",
        "The ReLU network with N(0, 1) weights diverges within a few steps",
        _not_learning_stays_near_ln3,
    ),
    Claim(
        LESSON,
        "cell-030",
        "nothing below about 3e-8 (values from there up to its smallest subnormal, 6e-8, round up to 6e-8)",
        _below_3e8_rounds_to_zero,
    ),
    Claim(LESSON, "cell-030", "down to about 1e-38, 9e-41 with subnormals", _bfloat16_range),
    Claim(
        LESSON,
        "cell-032",
        "Nearly all of these gradients are below float16's smallest *normal* number",
        _nearly_all_subnormal,
    ),
    Claim(
        LESSON,
        "cell-032",
        "about 3e-8 (a little left of the red line), round to exactly 0",
        _below_3e8_rounds_to_zero,
    ),
    Claim(LESSON, "cell-038", "The scale first drops", _scale_drops_then_climbs),
    Claim(LESSON, "cell-038", "float16 flushes gradients below about 3e-8", _below_3e8_rounds_to_zero),
]

CLAIMS += [
    Claim(
        LESSON,
        "cell-010",
        "(the first and the output layer sit a few times lower and higher) and the loss falls steadily",
        _lr_001_near_1e3,
    ),
    Claim(LESSON, "cell-010", "and the loss hardly moves", _lr_1e4_25_times_smaller),
    Claim(
        LESSON,
        "cell-010",
        "each step changes the weights by more than 1%, the loss jumps around and ends barely below where it "
        "started",
        _lr_03_jumps,
    ),
    Claim(LESSON, "cell-023", "and the loss jumps around near 1 or diverges", _he_alone_jumps_near_1),
    Claim(LESSON, "cell-030", "nothing above 65504", _float16_bfloat16_formats),
    Claim(LESSON, "cell-030", "only 8 significant bits", _float16_bfloat16_formats),
    Claim(
        LESSON,
        "cell-038",
        "then climbs as the gradients shrink, so small gradients stay representable",
        _scale_drops_then_climbs,
    ),
]

CLAIMS += [
    Claim(
        LESSON,
        "cell-005",
        "The four layers drawn (1, 3, 6 and 10) sit 1.7 to 2.7 decades apart",
        _four_layers_decades_apart,
    ),
    Claim(
        LESSON,
        "cell-028",
        "`precision.float_format` computes these numbers from the bit counts; they agree with `np.finfo` and "
        "`torch.finfo`.",
        _float_formulas_match_finfo,
    ),
]


def _fixed_curves_coincide():
    """Figure 6: the lesson's fix_config applied to the three failing configurations, seed 0, 60 steps."""
    import json

    from claims import REPO

    nb = json.loads((REPO / "solutions" / LESSON / f"{LESSON}.ipynb").read_text())
    ns: dict = {}
    exec(next("".join(c["source"]) for c in nb["cells"] if c["id"] == "fix_config"), ns)
    differ = {k for k in diagnose.CONFIG_KEYS if len({repr(c[k]) for c in diagnose.FAILING.values()}) > 1}
    assert differ == {"activation", "initializer"}, f"the failing configurations differ in {sorted(differ)}"
    fixed = [ns["fix_config"](cfg) for cfg in diagnose.FAILING.values()]
    assert all(f == fixed[0] for f in fixed), f"fixed configurations differ: {fixed}"
    curves = [np.asarray(diagnose.run_config(f, seed=0, steps=diagnose.STEPS).loss) for f in fixed]
    same = [np.array_equal(curves[0], c) for c in curves]
    assert all(same), f"loss curves equal to the first: {same}; final losses {[float(c[-1]) for c in curves]}"


CLAIMS += [
    Claim(
        LESSON,
        "cell-028",
        "the three failing configurations shown share depth, width and learning rate, so the three fixed "
        "networks are the same network and their curves coincide",
        _fixed_curves_coincide,
    ),
]
