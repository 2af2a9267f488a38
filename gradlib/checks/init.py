"""Checks for lesson 03 (initialization): fans, and random initializers graded statistically.

An initializer cannot be graded by its exact draws: a correct answer may draw its numbers in another
order or with another NumPy call. These checks call the student's initializer with several fresh
generators ``np.random.default_rng(seed)`` and compare *sample statistics* of the pooled draws with the
distribution the initializer should have:

- the **std test** compares the mean and the standard deviation with the target (tolerances from
  :mod:`gradlib.stats`, false-failure rate at most 1e-6 per test cell) and, when the std is off, names
  the rule that would give the measured value ("did you use He's 2/fan_in?");
- the **distribution test** is scale-free: it standardizes the draws and compares the excess kurtosis
  (0 for a normal, -1.2 for a uniform, about -0.63 for a normal truncated at 2 std) and the largest
  ``|w| / std`` (exactly sqrt(3) for a uniform, at most 2 / 0.8796 for the truncated normal).

Shapes are non-square (e.g. ``(300, 100)``) so that fan_in, fan_out and their mean all differ. Every
check also verifies that the function uses the ``rng`` it is given (same seed, same array) rather than
NumPy's global generator.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from statistics import NormalDist

import numpy as np

from gradlib import activations, stats
from gradlib import init as ref
from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype

__all__ = [
    "DISTRIBUTION_OF",
    "check_activation_stds",
    "check_compute_fans",
    "check_init_distribution",
    "check_init_std",
    "check_variance_scaling",
    "reference_activation_stds",
    "truncated_normal_kurtosis",
]

#: Statistical check calls that may share one test cell (visible and hidden together; a variance_scaling
#: call tests the std and the shape, so it counts twice); each gets this share of the 1e-6 budget.
CALLS_PER_CELL = 8
#: Draw at least this many numbers per check (several draws for small shapes).
MIN_SAMPLES = 60_000
#: The distribution each named initializer draws from.
DISTRIBUTION_OF = {
    "xavier_uniform": "uniform",
    "xavier_normal": "normal",
    "he_normal": "normal",
    "lecun_normal": "normal",
}
_LABEL = {"xavier_uniform": "Xavier", "xavier_normal": "Xavier", "he_normal": "He", "lecun_normal": "LeCun"}


def truncated_normal_kurtosis(a: float = 2.0) -> float:
    """Kurtosis (4th standardized moment) of a standard normal truncated to ``[-a, a]``.

    With ``Z = 2 Phi(a) - 1``: ``m2 = 1 - 2 a phi(a) / Z`` and ``m4 = 3 - (6 a + 2 a^3) phi(a) / Z``.
    For ``a = 2``: ``m2 = 0.87962566...^2`` and kurtosis about 2.366 (excess -0.634).
    """
    nd = NormalDist()
    z, phi = 2.0 * nd.cdf(a) - 1.0, nd.pdf(a)
    m2 = 1.0 - 2.0 * a * phi / z
    m4 = 3.0 - (6.0 * a + 2.0 * a**3) * phi / z
    return m4 / m2**2


_KURTOSIS = {"normal": 3.0, "uniform": 1.8, "truncated_normal": truncated_normal_kurtosis(2.0)}


# ----------------------------------------------------------------------------- fans
def check_compute_fans(compute_fans: Callable, shapes: list[tuple[int, ...]]) -> int:
    """Check ``compute_fans(shape) -> (fan_in, fan_out)`` against gradlib for every shape.

    Returns:
        The number of shapes checked.
    """
    for shape in shapes:
        expected = ref.compute_fans(shape)
        got = call(compute_fans, shape, name="compute_fans")
        try:
            pair = tuple(float(v) for v in got)
        except (TypeError, ValueError):
            raise CheckFailure(
                f"compute_fans({shape}) returned {got!r}; it must return (fan_in, fan_out)"
            ) from None
        if len(pair) == 2 and pair == tuple(float(v) for v in expected):
            if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in got):
                kinds = ", ".join(type(v).__name__ for v in got)
                raise CheckFailure(
                    f"compute_fans({shape}) returned {got!r} ({kinds}); fans are counts: return ints "
                    "(e.g. int(...), math.prod, or // instead of /)"
                )
            continue
        rf = math.prod(shape[:-2])
        mistakes = {
            "you swapped them: here W is (fan_in, fan_out) (Keras' layout, used as x @ W); PyTorch's "
            "(out, in) layout is the transpose": (expected[1], expected[0]),
            "the receptive field is missing: for a (kh, kw, c_in, c_out) kernel, fan_in = kh * kw * c_in": (
                shape[-2],
                shape[-1],
            ),
            "you used PyTorch's (c_out, c_in, kh, kw) layout; here a kernel is (kh, kw, c_in, c_out)": (
                shape[1] * math.prod(shape[2:]),
                shape[0] * math.prod(shape[2:]),
            ),
            "fan_in and fan_out must come from the last two axes (c_in, c_out) times the receptive field": (
                shape[0] * rf,
                shape[1] * rf,
            ),
        }
        mistake = match_mistake(pair if len(pair) == 2 else (math.nan,), mistakes)
        hint = f": {mistake}" if mistake else ""
        raise CheckFailure(f"compute_fans({shape}) returned {got!r}, expected {expected}{hint}")
    return len(shapes)


# ----------------------------------------------------------------------------- drawing
def _draw(fn: Callable, shape: tuple[int, ...], rng_seed: int, kwargs: dict, label: str) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = call(fn, shape, rng=np.random.default_rng(rng_seed), name=label, **kwargs)
    w = as_array(
        out, name=f"the array returned by {label}", shape=shape, hint="return an array of the given shape"
    )
    check_dtype(out, name=f"the array returned by {label}")
    if not np.all(np.isfinite(w)):
        raise CheckFailure(f"{label} returned non-finite values (nan or inf)")
    return w


def _pooled(fn: Callable, shape: tuple[int, ...], seed: int, kwargs: dict, label: str) -> np.ndarray:
    """Draw enough arrays to pool >= MIN_SAMPLES numbers, after checking the rng is really used."""
    shape = tuple(shape)
    size = math.prod(shape)
    draws = max(2, math.ceil(MIN_SAMPLES / size))
    base = 7919 * (seed + 1)
    first = _draw(fn, shape, base, kwargs, label)
    again = _draw(fn, shape, base, kwargs, label)
    if not np.array_equal(first, again):
        raise CheckFailure(
            f"{label} returned different arrays for two generators with the same seed: draw every "
            "number from the `rng` argument (e.g. rng.normal(...)), not from np.random.* "
            "(the global generator)"
        )
    arrays = [first] + [_draw(fn, shape, base + i, kwargs, label) for i in range(1, draws)]
    if np.array_equal(arrays[0], arrays[1]):
        raise CheckFailure(
            f"{label} returned the same array for two different generators: use the `rng` argument"
        )
    return np.concatenate([a.ravel() for a in arrays])


def _fans_text(shape: tuple[int, ...]) -> str:
    fan_in, fan_out = ref.compute_fans(shape)
    return f"fan_in={fan_in}, fan_out={fan_out}"


def _std_candidates(shape: tuple[int, ...], target: float, gain: float, truncated: bool) -> dict[str, float]:
    """Standard deviations that known mistakes produce for a weight of ``shape``."""
    fi, fo = ref.compute_fans(shape)
    c = {
        "Xavier's 2/(fan_in + fan_out)": math.sqrt(2.0 / (fi + fo)),
        "He's 2/fan_in": math.sqrt(2.0 / fi),
        "LeCun's 1/fan_in": math.sqrt(1.0 / fi),
        "2/fan_out (fans from the wrong axis)": math.sqrt(2.0 / fo),
        "1/fan_out (fans from the wrong axis)": math.sqrt(1.0 / fo),
        "2/fan_avg = 4/(fan_in + fan_out) (He from fan_avg)": math.sqrt(4.0 / (fi + fo)),
        "1/(fan_in + fan_out) (the 2 is missing)": math.sqrt(1.0 / (fi + fo)),
        "the variance where the std belongs (a missing sqrt)": target**2,
        "the uniform limit sqrt(3) * std as the std": target * math.sqrt(3.0),
        "the std as the uniform limit (the limit must be sqrt(3) * std)": target / math.sqrt(3.0),
        "the square root of the fan, not its inverse": math.sqrt(2.0 * fi / (fi + fo)),
    }
    if gain != 1.0:
        c["no gain (the std must be multiplied by gain)"] = target / gain
        c["gain twice (or gain squared)"] = target * gain
    if truncated:
        c["a normal truncated at 2 std without Keras' correction (divide the std by 0.87962566103423978)"] = (
            target * ref.TRUNCATED_NORMAL_STD
        )
    return {k: v for k, v in c.items() if not math.isclose(v, target, rel_tol=1e-9)}


def _check_std_of(w: np.ndarray, target: float, *, what: str, candidates: dict[str, float]) -> float:
    n = w.size
    comparisons = 2 * CALLS_PER_CELL
    mean, std = float(w.mean()), float(w.std())
    mean_tol = stats.mean_tolerance(target, n, comparisons=comparisons)
    if abs(mean) > mean_tol:
        hint = ""
        if abs(mean - std * math.sqrt(3.0)) < 0.2 * std or (w.min() >= 0):
            hint = (
                ": the weights must be centred at 0 (all of yours are >= 0); draw from U(-r, r), not U(0, r)"
            )
        raise CheckFailure(f"the mean of the weights is {mean:.3g}, expected 0 (within {mean_tol:.2g}){hint}")
    tol = stats.std_tolerance(target, n, kurtosis=3.0, comparisons=comparisons)
    if abs(std - target) <= tol:
        return std / target
    matched = [
        name
        for name, value in candidates.items()
        if abs(std - value) <= stats.std_tolerance(value, n, kurtosis=3.0, comparisons=comparisons)
    ]
    ratio = std / target
    text = f"std is {ratio:.3g}x the {what} (measured {std:.4g}, expected {target:.4g})"
    if matched:
        text += f": did you use {' or '.join(matched)}?"
    raise CheckFailure(text)


def _target(kind: str, shape: tuple[int, ...], gain: float) -> float:
    fi, fo = ref.compute_fans(shape)
    var = {
        "xavier_uniform": 2.0 / (fi + fo),
        "xavier_normal": 2.0 / (fi + fo),
        "he_normal": 2.0 / fi,
        "lecun_normal": 1.0 / fi,
    }[kind]
    return gain * math.sqrt(var)


def _kwargs(kind: str, gain: float | None) -> dict:
    if gain is None:
        return {}
    if not kind.startswith("xavier"):
        raise ValueError(f"{kind} takes no gain; only xavier_uniform and xavier_normal do")
    return {"gain": gain}


def _check_kind(kind: str) -> None:
    if kind not in DISTRIBUTION_OF:
        raise ValueError(f"unknown initializer {kind!r}; expected one of {', '.join(DISTRIBUTION_OF)}")


def check_init_std(
    fn: Callable, kind: str, shape: tuple[int, ...], *, gain: float | None = None, seed: int = 0
) -> float:
    """Check the mean (0) and standard deviation of the student's initializer ``kind`` on ``shape``.

    Args:
        fn: the student's initializer, called as ``fn(shape, rng=...)`` (plus ``gain=`` if given).
        kind: ``"xavier_uniform"``, ``"xavier_normal"``, ``"he_normal"`` or ``"lecun_normal"``.
        shape: a non-square weight shape such as ``(300, 100)`` or ``(3, 3, 16, 32)``.
        gain: passed to Xavier initializers; None uses the function's default (1).
        seed: chooses the generators (any seed works: the tolerance does not depend on it).

    Returns:
        The measured std divided by the target std.
    """
    _check_kind(kind)
    g = 1.0 if gain is None else float(gain)
    w = _pooled(fn, shape, seed, _kwargs(kind, gain), kind)
    target = _target(kind, tuple(shape), g)
    what = f"{_LABEL[kind]} value for {_fans_text(tuple(shape))}" + (
        f", gain={g:g}" if gain is not None else ""
    )
    return _check_std_of(
        w, target, what=what, candidates=_std_candidates(tuple(shape), target, g, truncated=False)
    )


def _family(w: np.ndarray, distribution: str, label: str) -> float:
    """Scale-free test that the pooled draws come from ``distribution``; returns the excess kurtosis."""
    n = w.size
    comparisons = 2 * CALLS_PER_CELL
    std = float(w.std())
    if std == 0.0:
        raise CheckFailure(f"{label} returned a constant array: the weights must be random")
    kurt = stats.excess_kurtosis(w)
    ktol = stats.kurtosis_tolerance(n, comparisons=comparisons)
    peak = float(np.max(np.abs(w - w.mean()))) / std
    s_tol = stats.std_tolerance(1.0, n, kurtosis=3.0, comparisons=comparisons)
    names = {
        "uniform": "a uniform distribution (excess kurtosis -1.2)",
        "normal": "a normal distribution (excess kurtosis 0)",
        "truncated_normal": "a normal truncated at 2 std (excess kurtosis -0.63)",
    }
    looks = [
        name
        for name, k in (
            ("uniform", -1.2),
            ("normal", 0.0),
            ("truncated_normal", _KURTOSIS["truncated_normal"] - 3),
        )
        if abs(kurt - k) <= ktol
    ]
    expected_k = _KURTOSIS[distribution] - 3.0
    ok = abs(kurt - expected_k) <= ktol
    if distribution == "uniform":
        ok &= abs(peak - math.sqrt(3.0)) <= math.sqrt(3.0) * (s_tol + 20.0 / n)
    elif distribution == "truncated_normal":
        ok &= peak <= (2.0 / ref.TRUNCATED_NORMAL_STD) * (1.0 + s_tol)
    if ok:
        return kurt
    if distribution in looks:  # the right shape, but the largest value is off
        raise CheckFailure(_peak_message(label, distribution, peak))
    seen = names[looks[0]] if looks else f"no distribution this course uses (excess kurtosis {kurt:.2f})"
    advice = {
        "uniform": "draw with rng.uniform(-limit, limit, size=shape)",
        "normal": "draw with rng.normal(0.0, std, size=shape) (not truncated, not uniform)",
        "truncated_normal": "draw a normal and redraw every value beyond 2 std",
    }[distribution]
    raise CheckFailure(
        f"{label} should draw from {names[distribution]}, but its values look like {seen} "
        f"(largest |w| is {peak:.2f} std): {advice}"
    )


def _peak_message(label: str, distribution: str, peak: float) -> str:
    """The family matches by its kurtosis, but the largest |w| (in std) is where it cannot be."""
    if distribution == "truncated_normal":
        cut = 2.0 / ref.TRUNCATED_NORMAL_STD
        return (
            f"{label}: some values beyond 2 std were kept (|w| reaches {peak:.3f} std, past the cut at "
            f"{cut:.3f}). Redraw until none is left; one redraw is not enough"
        )
    return (
        f"{label}: the values are shaped like a uniform, but the largest |w| is {peak:.3f} std, not "
        f"sqrt(3) = {math.sqrt(3):.3f}: the interval is off (not centred at 0, or the wrong limit)"
    )


def check_init_distribution(
    fn: Callable, kind: str, shape: tuple[int, ...], *, gain: float | None = None, seed: int = 0
) -> float:
    """Check that the student's initializer draws from the right family (normal or uniform), scale-free.

    Returns:
        The measured excess kurtosis.
    """
    _check_kind(kind)
    w = _pooled(fn, shape, seed + 101, _kwargs(kind, gain), kind)
    return _family(w, DISTRIBUTION_OF[kind], kind)


# ----------------------------------------------------------------------------- variance scaling
def check_variance_scaling(
    fn: Callable,
    shape: tuple[int, ...],
    *,
    scale: float | None = None,
    mode: str | None = None,
    distribution: str | None = None,
    seed: int = 0,
) -> float:
    """Check the student's ``variance_scaling`` (Keras semantics) for one setting of its options.

    Options left as None are not passed, so the function's defaults are checked (scale 1, fan_in,
    truncated_normal). Checks the mean, the std ``sqrt(scale / n)`` and the distribution family.

    Returns:
        The measured std divided by the target std.
    """
    kwargs = {
        k: v for k, v in (("scale", scale), ("mode", mode), ("distribution", distribution)) if v is not None
    }
    s = 1.0 if scale is None else float(scale)
    m = "fan_in" if mode is None else mode
    d = "truncated_normal" if distribution is None else distribution
    if m not in ref.MODES or d not in ref.DISTRIBUTIONS:
        raise ValueError(
            f"mode {m!r} / distribution {d!r}: expected one of {ref.MODES} / {ref.DISTRIBUTIONS}"
        )
    shape = tuple(shape)
    fi, fo = ref.compute_fans(shape)
    fans = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2.0}
    target = math.sqrt(s / fans[m])
    label = "variance_scaling(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
    w = _pooled(fn, shape, seed, kwargs, label)
    candidates = {f"mode {other!r}": math.sqrt(s / n) for other, n in fans.items() if other != m}
    if s != 1.0:
        candidates["scale ignored (scale = 1)"] = math.sqrt(1.0 / fans[m])
        candidates["scale as the std instead of the variance numerator (sqrt missing)"] = s / math.sqrt(
            fans[m]
        )
    candidates["the variance where the std belongs (a missing sqrt)"] = target**2
    if m == "fan_avg":
        candidates["n = fan_in + fan_out for fan_avg (use their mean)"] = math.sqrt(s / (fi + fo))
    if d == "uniform":
        candidates["limit sqrt(scale / n): a uniform's limit is sqrt(3 * scale / n)"] = target / math.sqrt(
            3.0
        )
    if d == "truncated_normal":
        candidates[
            "a normal truncated at 2 std without Keras' correction (divide the std by 0.87962566103423978)"
        ] = target * ref.TRUNCATED_NORMAL_STD
    candidates = {k: v for k, v in candidates.items() if not math.isclose(v, target, rel_tol=1e-9)}
    what = f"value for scale={s:g}, mode={m!r} with {_fans_text(shape)}"
    ratio = _check_std_of(w, target, what=what, candidates=candidates)
    family = "normal" if d == "untruncated_normal" else d
    _family(w - w.mean(), family, f"{label} (distribution {d!r})")
    return ratio


# ----------------------------------------------------------------------------- activation stds
def reference_activation_stds(
    x: np.ndarray, init: Callable, activation: Callable, widths: list[int], *, rng: np.random.Generator
) -> np.ndarray:
    """Standard deviation of every layer's output in a stack ``a_k = activation(a_{k-1} @ W_k)``.

    ``W_k = init((a_{k-1}.shape[1], widths[k]), rng=rng)`` is drawn layer by layer; no biases.

    Taught in lesson 03 (initialization).

    Args:
        x: input batch, shape (N, D).
        init: an initializer ``init(shape, rng=rng)``, e.g. :func:`gradlib.init.he_normal`.
        activation: an elementwise function, e.g. :func:`gradlib.activations.relu`.
        widths: the output width of every layer (the depth is ``len(widths)``).
        rng: the generator passed to ``init``.

    Returns:
        A float64 array of ``len(widths)`` population standard deviations (``np.std``, ddof 0) over
        all entries of each layer's output.
    """
    a = np.asarray(x, dtype=np.float64)
    stds = []
    with np.errstate(over="ignore", invalid="ignore"):
        for width in widths:
            W = init((a.shape[1], width), rng=rng)
            a = activation(a @ W)
            stds.append(float(np.std(a)))
    return np.array(stds)


class _ScriptedInit:
    """A fake initializer returning pre-drawn matrices in call order, checking each call's shape."""

    def __init__(self, shapes: list[tuple[int, int]], seed: int, rng: np.random.Generator):
        gen = np.random.default_rng(seed)
        self.shapes = shapes
        self.mats = [gen.normal(scale=1.3 / math.sqrt(s[0]), size=s) for s in shapes]
        self.rng = rng
        self.calls = 0

    def __call__(self, shape, *, rng=None, **kwargs):
        k = self.calls
        if k >= len(self.shapes):
            raise CheckFailure(
                f"init was called {k + 1} times, but the network has only {len(self.shapes)} layers"
            )
        if rng is not self.rng:
            raise CheckFailure("pass the generator on to the initializer: init(shape, rng=rng)")
        if tuple(shape) != self.shapes[k]:
            hint = (
                " (transposed: a weight is (fan_in, fan_out), used as a @ W)"
                if tuple(shape)[::-1] == self.shapes[k]
                else ""
            )
            raise CheckFailure(
                f"init was called with shape {tuple(shape)} for layer {k + 1}, "
                f"expected {self.shapes[k]}{hint}"
            )
        self.calls += 1
        return self.mats[k].copy()


_ACTIVATIONS = {name: activations.TABLE[name].fn for name in ("tanh", "relu", "linear")}


def check_activation_stds(
    activation_stds: Callable,
    *,
    n: int = 64,
    d: int = 12,
    widths: tuple[int, ...] = (8, 16, 5),
    activation: str = "tanh",
    seed: int = 0,
) -> float:
    """Check ``activation_stds(x, init, activation, widths, *, rng)`` with a scripted initializer.

    Returns:
        The relative error against :func:`reference_activation_stds`.
    """
    shapes = list(zip((d, *widths[:-1]), widths, strict=True))
    x = np.random.default_rng(seed).normal(size=(n, d))
    kept = x.copy()
    rng = np.random.default_rng(seed + 1)
    act = _ACTIVATIONS[activation]
    fake = _ScriptedInit(shapes, seed + 2, rng)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = call(activation_stds, x, fake, act, list(widths), rng=rng, name="activation_stds")
    assert_unchanged(kept, x, name="x")
    if fake.calls != len(shapes):
        raise CheckFailure(
            f"init was called {fake.calls} times for {len(shapes)} layers: draw one W per layer"
        )
    expected = reference_activation_stds(x, _ScriptedInit(shapes, seed + 2, rng), act, list(widths), rng=rng)
    L = len(widths)
    if np.ndim(got) == 1 and len(got) == L + 1:
        raise CheckFailure(
            f"activation_stds returned {L + 1} values for {L} layers: return one std per layer, "
            "without the input's"
        )
    raw, got = got, as_array(got, name="the stds", shape=(L,), hint="one std per layer")
    check_dtype(raw, name="the stds")
    mats = [m.copy() for m in _ScriptedInit(shapes, seed + 2, rng).mats]
    a, pre, post1, per_unit = x, [], [], []
    for W in mats:
        h = a @ W
        pre.append(np.std(h))
        a = act(h)
        post1.append(np.std(a, ddof=1))
        per_unit.append(np.mean(np.std(a, axis=0)))
    mistake = match_mistake(
        got,
        {
            "the std of the pre-activations a @ W; measure the layer's output activation(a @ W)": np.array(
                pre
            ),
            "ddof=1 (the sample std); use np.std's default ddof=0": np.array(post1),
            "the mean of per-unit stds (axis=0); take the std over all entries of the layer": np.array(
                per_unit
            ),
        },
        rtol=1e-9,
    )
    return assert_close(
        got, expected, name="the stds", rtol=1e-9, hint=f"you computed {mistake}" if mistake else None
    )
