"""Checks for lesson 07 (diagnosing and fixing): ``health_report`` and the "fix it" configuration.

``health_report`` is graded on the per-layer statistics of networks with planted faults (built with
:func:`gradlib.diagnostics.mlp_stats`, deterministic given their seeds) and on hand-made statistics that
test the order of the rules, non-finite values and custom thresholds. When the student's verdicts equal
those of a known wrong rule (comparing with the first layer instead of the last, using the weight
gradient instead of the output gradient, checking vanishing before saturation, ``>=`` instead of ``>``,
ignoring ``thresholds``), the message names it.

``fix_config`` is graded by training the returned configuration with :func:`gradlib.train.train`
(full batch, fixed seeds, 60 steps) and requiring the mean loss of the last 5 steps to be below
:data:`LOSS_THRESHOLD`. A network that does not learn stays near ``ln 3 ≈ 1.10``. Hidden cases also
change the problem's depth, width and lr (``check_fix_config(..., depth=16, width=24, lr=0.05)``), so a
function that returns one hard-coded dict fails.

How 0.5 was chosen (seeds 0-7 of each failing configuration, and seeds 0-3 with depth/width/lr
16/24/0.05 and 10/40/0.1): fixes that add BatchNorm, residual connections (with or without zero-γ) or
global-norm clipping to ReLU + He end at most at 0.37; ReLU + He alone ends between 0.59 and 1.09 or
diverges, since lr 0.1 with momentum 0.9 drives its update:data ratio above 1e-2 within ten steps;
clipping alone or Xavier alone stays near 1.10 or diverges. When a fix fails, the message says which of
these it resembles: steps too large (the update:data ratio), a gradient still vanishing at step 0, or
clipping alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlib import diagnostics as dg
from gradlib.checks.core import CheckFailure, call, quiet

__all__ = [
    "CASES",
    "CONFIG_KEYS",
    "FAILING",
    "FIXED_KEYS",
    "LOSS_THRESHOLD",
    "STEPS",
    "case_stats",
    "check_fix_config",
    "check_health_report",
    "run_config",
]

#: Keys of a training configuration; the FIXED ones describe the problem and may not change.
CONFIG_KEYS = (
    "depth", "width", "lr", "activation", "initializer", "batchnorm", "residual", "zero_gamma", "clip",
    "clip_value",
)  # fmt: skip
FIXED_KEYS = ("depth", "width", "lr")
_DEFAULTS = {"zero_gamma": False, "clip": None, "clip_value": None}
#: Training steps of a graded run and the loss a fixed configuration must get below.
STEPS = 60
LOSS_THRESHOLD = 0.5

#: The failing configurations of the "fix it" exercise.
FAILING = {
    "deep sigmoid, Xavier init": {
        "depth": 12, "width": 32, "lr": 0.1, "activation": "sigmoid", "initializer": "xavier_normal",
        "batchnorm": False, "residual": False, "zero_gamma": False, "clip": None, "clip_value": None,
    },
    "deep ReLU, N(0, 1) weights": {
        "depth": 12, "width": 32, "lr": 0.1, "activation": "relu", "initializer": 1.0,
        "batchnorm": False, "residual": False, "zero_gamma": False, "clip": None, "clip_value": None,
    },
    "deep tanh, N(0, 1) weights": {
        "depth": 12, "width": 32, "lr": 0.1, "activation": "tanh", "initializer": 1.0,
        "batchnorm": False, "residual": False, "zero_gamma": False, "clip": None, "clip_value": None,
    },
}  # fmt: skip


# ----------------------------------------------------------------------------- health_report
#: Planted-fault networks: name -> (activation, initializer, bias added to hidden layers, depth, seed).
CASES = {
    "vanishing tanh": ("tanh", 0.01, 0.0, 8, 1),
    "saturated tanh": ("tanh", 1.0, 0.0, 8, 2),
    "dead relu": ("relu", "he_normal", -3.0, 6, 3),
    "exploding relu": ("relu", 1.0, 0.0, 8, 4),
    "vanishing sigmoid": ("sigmoid", "xavier_normal", 0.0, 10, 5),
    "healthy relu": ("relu", "he_normal", 0.0, 6, 6),
    "healthy tanh": ("tanh", "xavier_normal", 0.0, 6, 7),
    "half-dead relu": ("relu", "he_normal", -1.0, 5, 8),
    "vanishing sigmoid 2": ("sigmoid", 0.3, 0.0, 12, 9),
}


def case_stats(name: str) -> list[dg.LayerStats]:
    """The per-layer statistics of a planted-fault network (:data:`CASES`) or a hand-made case.

    Hand-made cases: ``"precedence"`` (layers that qualify for two verdicts), ``"non-finite"``,
    ``"boundaries"`` (values exactly at the thresholds), ``"zero last gradient"`` (the last layer's
    gradient std is 0: r is inf for a positive gradient, 1 for a zero one), and the visible twins,
    ``"non-finite, other values"``, ``"boundaries, other values"`` (also values just past each
    threshold) and ``"zero last gradient, other values"``.
    """
    if name in _HANDMADE:
        return _HANDMADE[name]()
    if name not in CASES:
        raise ValueError(f"case {name!r} is not one of {', '.join([*CASES, *_HANDMADE])}")
    from gradlib import data, mlp

    activation, initializer, bias, depth, seed = CASES[name]
    x, y = data.spirals(40, 3, rng=np.random.default_rng(seed + 50))
    model = mlp.MLP(2, 3, depth=depth, width=48, activation=activation, initializer=initializer)
    params = model.init_params(rng=np.random.default_rng(seed))
    for k in range(1, depth + 1):
        params[f"b{k}"] = params[f"b{k}"] + bias
    with quiet():
        return dg.mlp_stats(model, params, x, y, keep_samples=False)


def _stats(name: str, activation: str = "relu", **numbers: Any) -> dg.LayerStats:
    base = {
        "act_mean": 0.1, "act_std": 1.0, "saturation": None, "dead_fraction": None, "grad_mean": 0.0,
        "grad_std": 1.0, "weight_std": 0.1, "weight_grad_norm": 1.0, "grad_data_ratio": 1e-2,
    }  # fmt: skip
    if activation in dg.SATURATING:
        base["saturation"] = 0.1
    if activation == "relu":
        base["dead_fraction"] = 0.1
    base.update(numbers)
    return dg.LayerStats(name=name, activation=activation, **base)


def _precedence() -> list[dg.LayerStats]:
    return [
        _stats("sat+vanish", "tanh", saturation=0.8, grad_std=1e-6, weight_grad_norm=1e-6),
        _stats("dead+vanish", "relu", dead_fraction=0.9, grad_std=1e-7, weight_grad_norm=5.0),
        _stats("dead+explode", "relu", dead_fraction=0.6, act_std=1e4, grad_std=1e4),
        _stats("explode act", "relu", act_std=500.0, grad_std=1e-3, weight_grad_norm=1e-3),
        _stats("explode grad", "sigmoid", saturation=0.2, grad_std=300.0, weight_grad_norm=1e-4),
        _stats("vanish", "tanh", grad_std=1e-3, weight_grad_norm=10.0),
        _stats("healthy small grad", "linear", grad_std=0.05, weight_grad_norm=1e-9),
        _stats("output", "linear", grad_std=1.0, weight_grad_norm=1e-3),
    ]


def _non_finite(
    finite: tuple[str, str], out_std: float, **bad: tuple[str, dict[str, float]]
) -> Callable[[], list[dg.LayerStats]]:
    """Layers ``name=(activation, statistics)`` with nan or inf among them, one finite layer, the output."""

    def build() -> list[dg.LayerStats]:
        layers = [_stats(name, act, **numbers) for name, (act, numbers) in bad.items()]
        return [*layers, _stats(*finite), _output(out_std)]

    return build


def _output(grad_std: float) -> dg.LayerStats:
    return _stats("output", "linear", grad_std=grad_std)


#: Each rule's threshold: (layer name, statistic, value on the threshold, 1 = the bad side is above).
_EDGES = (
    ("dead", "dead_fraction", 0.5, 1),
    ("saturated", "saturation", 0.5, 1),
    ("act std", "act_std", 100.0, 1),
    ("ratio", "grad_std", 100.0, 1),
    ("ratio", "grad_std", 0.01, -1),
)


def _boundaries(
    out_std: float, acts: tuple[str, ...], past: tuple[str, ...] = (), **extra: dict[str, float]
) -> Callable[[], list[dg.LayerStats]]:
    """Layers exactly on each threshold of :data:`_EDGES`, and just past it if ``past``, then the output.

    A layer on a threshold is healthy (every rule is strict); the i-th has activation ``acts[i]``, the one
    past it ``past[i]``. A ratio is the layer's gradient std over the output layer's (``out_std``);
    ``extra`` adds statistics to the layer of that name.
    """

    def build() -> list[dg.LayerStats]:
        layers = []
        for i, (label, field, value, side) in enumerate(_EDGES):
            scale = out_std if label == "ratio" else 1.0
            name = f"{label} exactly {value:g}"
            layers.append(_stats(name, acts[i], **{field: value * scale}, **extra.get(name, {})))
            if past:
                beyond = value * scale * (1 + side * 2e-4)
                word = "above" if side > 0 else "below"
                layers.append(_stats(f"{label} just {word} {value:g}", past[i], **{field: beyond}))
        return [*layers, _output(out_std)]

    return build


def _zero_last(values: tuple[float, ...]) -> Callable[[], list[dg.LayerStats]]:
    """Layers with the given grad_std above an output layer whose gradient std is exactly 0."""

    def build() -> list[dg.LayerStats]:
        layers = [_stats(f"layer {i + 1}", "relu", grad_std=v) for i, v in enumerate(values)]
        return [*layers, _output(0.0)]

    return build


_HANDMADE: dict[str, Callable[[], list[dg.LayerStats]]] = {
    "zero last gradient": _zero_last((0.5, 0.0, 2e-3)),
    "zero last gradient, other values": _zero_last((0.0, 7.0)),
    "precedence": _precedence,
    "non-finite": _non_finite(
        ("fine", "relu"),
        2.0,
        **{
            "nan grads": ("tanh", {"grad_std": math.nan, "saturation": 0.9}),
            "inf act": ("relu", {"act_std": math.inf, "dead_fraction": 0.9}),
            "inf ratio": ("relu", {"grad_data_ratio": math.inf}),
        },
    ),
    "boundaries": _boundaries(4.0, ("relu", "tanh", "relu", "relu", "relu")),
    "non-finite, other values": _non_finite(
        ("finite", "tanh"),
        3.0,
        **{
            "nan act mean": ("sigmoid", {"act_mean": math.nan, "saturation": 0.7}),
            "-inf weight std": ("relu", {"weight_std": -math.inf}),
            "inf grad:data": ("tanh", {"grad_data_ratio": math.inf, "grad_std": 1e-5}),
        },
    ),
    "boundaries, other values": _boundaries(
        3.0,
        ("relu", "sigmoid", "tanh", "relu", "tanh"),
        ("relu", "tanh", "relu", "relu", "relu"),
        **{"dead exactly 0.5": {"grad_std": 0.3}},
    ),
}


def _variant(
    stats,
    t: dg.Thresholds,
    *,
    ref: str = "last",
    key: str = "grad_std",
    order: str = "spec",
    strict=True,
    finite: str = "all",
):
    """Verdicts under a (possibly wrong) variant of the rules, to name a student's mistake."""
    values = [getattr(s, key) for s in stats]
    ref_value = {"last": values[-1], "first": values[0], "max": max(values)}[ref]
    gt = (lambda a, b: a > b) if strict else (lambda a, b: a >= b)
    lt = (lambda a, b: a < b) if strict else (lambda a, b: a <= b)
    out = []
    for s, v in zip(stats, values, strict=True):
        r = v / ref_value if ref_value > 0 else (math.inf if v > 0 else 1.0)
        checks = [
            ("exploding", any(_flagged(x, finite) for x in s.numbers().values())),
            ("dead", s.dead_fraction is not None and gt(s.dead_fraction, t.dead)),
            ("saturated", s.saturation is not None and gt(s.saturation, t.saturated)),
            ("exploding", gt(s.act_std, t.max_act_std) or gt(r, t.explode_ratio)),
            ("vanishing", lt(r, t.vanish_ratio)),
        ]
        if order == "gradients first":
            checks = [checks[0], checks[3], checks[4], checks[1], checks[2]]
        out.append(next((name for name, hit in checks if hit), "healthy"))
    return out


def _flagged(x: float | None, finite: str) -> bool:
    """Whether a rule variant reports ``x`` as non-finite: every nan/inf, only nan, or nothing."""
    if x is None or finite == "none":
        return False
    return math.isnan(x) if finite == "nan" else not math.isfinite(x)


def _mistakes(stats, t: dg.Thresholds) -> dict[str, list[str]]:
    found = {
        "you never checked for nan or inf statistics (rule 1: any non-finite number means exploding)": (
            _variant(stats, t, finite="none")
        ),
        "you checked for nan only (x != x or np.isnan); ±inf is not finite either, use np.isfinite": (
            _variant(stats, t, finite="nan")
        ),
        "you compared each layer's gradient with the FIRST layer's; compare with the last layer's "
        "(the one closest to the loss)": _variant(stats, t, ref="first"),
        "you compared with the largest gradient of any layer; compare with the last layer's": _variant(
            stats, t, ref="max"
        ),
        "you used weight_grad_norm; the rules use grad_std (the gradient arriving at the layer's output)": (
            _variant(stats, t, key="weight_grad_norm")
        ),
        "you checked vanishing/exploding before dead/saturated; the rules say dead, then saturated, "
        "then exploding, then vanishing": _variant(stats, t, order="gradients first"),
        "you used >= / <= at the thresholds; the rules say strictly above / below": _variant(
            stats, t, strict=False
        ),
    }
    if t != dg.DEFAULT_THRESHOLDS:
        found["you ignored the thresholds argument and used the default numbers"] = _variant(
            stats, dg.DEFAULT_THRESHOLDS
        )
    return found


def _verdicts(result: Any, stats: list[dg.LayerStats]) -> list[str]:
    if not isinstance(result, list | tuple):
        raise CheckFailure(
            f"health_report must return a list (one entry per layer), got {type(result).__name__}"
        )
    if len(result) != len(stats):
        raise CheckFailure(f"health_report returned {len(result)} entries for {len(stats)} layers")
    verdicts = []
    for i, (item, s) in enumerate(zip(result, stats, strict=True)):
        if not isinstance(item, tuple) or len(item) != 3:
            raise CheckFailure(
                f"entry {i} must be a (layer, verdict, reason) tuple or a diagnostics.Verdict, "
                f"got {item!r:.80}"
            )
        layer, verdict, reason = item
        if layer != s.name:
            raise CheckFailure(
                f"entry {i} names layer {layer!r}, expected {s.name!r} (keep the order of stats)"
            )
        if verdict not in dg.VERDICTS:
            raise CheckFailure(f"entry {i} ({s.name}) has verdict {verdict!r}, not one of {dg.VERDICTS}")
        if not isinstance(reason, str) or not reason.strip():
            raise CheckFailure(f"entry {i} ({s.name}) has no reason: give a short sentence with the number")
        verdicts.append(verdict)
    return verdicts


def check_health_report(
    health_report: Callable, case: str, *, thresholds: dg.Thresholds | None = None
) -> list[str]:
    """Grade ``health_report(stats)`` (or with ``thresholds=``) on one case against gradlib's.

    Returns:
        The student's verdicts.
    """
    stats = case_stats(case)
    t = dg.DEFAULT_THRESHOLDS if thresholds is None else thresholds
    kwargs = {} if thresholds is None else {"thresholds": thresholds}
    with quiet():
        result = call(health_report, list(stats), name="health_report", **kwargs)
        expected = [v.verdict for v in dg.health_report(stats, thresholds=t)]
    got = _verdicts(result, stats)
    if got == expected:
        return got
    wrong = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    i = wrong[0]
    why = dg.health_report([stats[i]] if i == len(stats) - 1 else [stats[i], stats[-1]], thresholds=t)[
        0
    ].reason
    with quiet():
        mistake = next((d for d, v in _mistakes(stats, t).items() if v == got), None)
    raise CheckFailure(
        f"case {case!r}: {len(wrong)} of {len(stats)} verdicts differ; first: layer {stats[i].name!r} "
        f"should be {expected[i]!r} ({why}), you said {got[i]!r}."
        + (f" Likely cause: {mistake}." if mistake else "")
    )


# ----------------------------------------------------------------------------- fix it
def _check_config(config: Any, failing: dict) -> dict:
    if not isinstance(config, dict):
        raise CheckFailure(
            f"fix_config must return a dict like the failing configuration, got {type(config).__name__}"
        )
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise CheckFailure(f"unknown keys {unknown}; a configuration has the keys {', '.join(CONFIG_KEYS)}")
    full = {**_DEFAULTS, **config}
    missing = [k for k in CONFIG_KEYS if k not in full]
    if missing:
        raise CheckFailure(f"the configuration lacks {missing}; start from a copy of the failing one")
    for key in FIXED_KEYS:
        if full[key] != failing[key]:
            raise CheckFailure(
                f"you changed {key} from {failing[key]!r} to {full[key]!r}: {', '.join(FIXED_KEYS)} describe "
                "the problem and must stay; fix the network (initializer, activation, batchnorm, residual, "
                "clipping)"
            )
    return full


def run_config(config: dict, *, seed: int = 0, steps: int = STEPS):
    """Train a configuration the way the grader does; return the :class:`gradlib.train.History`.

    Full batch of 150 spiral points (3 classes), SGD with momentum 0.9, ``steps`` steps, seeded.

    Raises:
        ValueError: if the configuration has invalid values (the message names them).
    """
    from gradlib import data, mlp, train

    full = {**_DEFAULTS, **config}
    x, y = data.spirals(50, 3, noise=0.1, rng=np.random.default_rng(100 + seed))
    model = mlp.MLP(
        2, 3, depth=full["depth"], width=full["width"], activation=full["activation"],
        initializer=full["initializer"], batchnorm=bool(full["batchnorm"]), residual=bool(full["residual"]),
    )  # fmt: skip
    zero_gamma = bool(full["zero_gamma"]) and model.batchnorm and model.residual
    params = model.init_params(rng=np.random.default_rng(seed), zero_gamma=zero_gamma)
    with quiet():
        return train.train(
            model, params, x, y, steps=steps, lr=full["lr"], rng=np.random.default_rng(seed + 1),
            clip=full["clip"], clip_value=full["clip_value"],
        )  # fmt: skip


def final_loss(history: Any) -> float:
    """Mean loss of the last 5 steps (inf if training diverged)."""
    if history.diverged_at is not None:
        return math.inf
    return float(np.mean(history.loss[-5:]))


def check_fix_config(fix_config: Callable, failing: str, *, seed: int = 0, **problem_changes: Any) -> float:
    """Train ``fix_config(FAILING[failing])`` and require a final loss below :data:`LOSS_THRESHOLD`.

    Args:
        fix_config: the student's function.
        failing: a key of :data:`FAILING`.
        seed: the training seed.
        **problem_changes: other values of the problem's own keys (:data:`FIXED_KEYS`: depth, width,
            lr), so that a hard-coded answer fails.

    Returns:
        The final loss.

    Raises:
        ValueError: if ``failing`` is unknown or a change is not one of the problem's keys.
    """
    if failing not in FAILING:
        raise ValueError(f"failing configuration {failing!r} is not one of {', '.join(FAILING)}")
    bad = sorted(set(problem_changes) - set(FIXED_KEYS))
    if bad:
        raise ValueError(f"problem changes {bad} are not among the problem's keys {', '.join(FIXED_KEYS)}")
    problem = {**FAILING[failing], **problem_changes}
    given = dict(problem)
    with quiet():
        config = call(fix_config, given, name="fix_config")
    if given != problem:
        raise CheckFailure("fix_config modified the failing configuration it was given; return a new dict")
    full = _check_config(config, problem)
    try:
        history = run_config(full, seed=seed)
    except (ValueError, TypeError) as exc:
        raise CheckFailure(f"the configuration cannot be trained: {exc}") from None
    loss = final_loss(history)
    if not loss < LOSS_THRESHOLD:
        what = "diverged (inf/nan loss)" if math.isinf(loss) else f"ended at loss {loss:.3f}"
        changed = {k: v for k, v in full.items() if problem.get(k) != v}
        hint = _fix_hint(history, changed, full["lr"])  # the advice first: it matters most
        hint += " You changed nothing." if not changed else f" You changed {changed}."
        shape = ", ".join(f"{k} {problem[k]}" for k in FIXED_KEYS)
        raise CheckFailure(
            f"your fix {what} on {failing!r} ({shape}, seed {seed}), not below {LOSS_THRESHOLD} after "
            f"{STEPS} steps.{hint}"
        )
    return loss


def _fix_hint(history: Any, changed: dict, lr: float) -> str:
    """What the failed run looks like: clipping alone, steps too large, or a gradient still vanishing."""
    if changed and set(changed) <= {"clip", "clip_value"}:
        return " Clipping alone caps large gradients; it cures no vanishing or saturation."
    with quiet():
        ratios = np.nanmedian(history.update_ratio, axis=1)
        peak = float(np.nanmax(ratios)) if np.any(np.isfinite(ratios)) else math.inf
        first_last = float(history.grad_norms[0, 0] / history.grad_norms[0, -1])
    if history.diverged_at is not None or peak > 1e-2:
        return (
            f" Update:data rose to {peak:.1e} (healthy ≈ 1e-3): steps too large at lr {lr}; add "
            "BatchNorm, residual connections or clipping."
        )
    if first_last < 1e-2:
        return (
            f" At step 0 layer 1 gets {first_last:.1e} of the output layer's gradient: still vanishing; "
            "change activation and initializer."
        )
    return ""


def thresholds_variant() -> dg.Thresholds:
    """Stricter thresholds for the hidden test of ``thresholds``."""
    return dataclasses.replace(dg.DEFAULT_THRESHOLDS, dead=0.05, saturated=0.2, vanish_ratio=0.2)
