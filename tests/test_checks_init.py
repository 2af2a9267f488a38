"""gradlib.checks.init: the statistical checks of lesson 03 accept right answers and name wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlib import activations as ref_act
from gradlib import init as ref
from gradlib import stats
from gradlib.checks import CheckFailure
from gradlib.checks import init as chk

SHAPES = [(300, 100), (64, 512), (3, 3, 16, 32)]
KINDS = ["xavier_uniform", "xavier_normal", "he_normal", "lecun_normal"]


def test_truncated_normal_constants():
    """Does the truncated-normal formula reproduce Keras' 0.8796 std and a kurtosis near 2.37?"""
    z = np.random.default_rng(0).standard_normal(2_000_000)
    z = z[np.abs(z) <= 2]
    assert math.isclose(z.std(), ref.TRUNCATED_NORMAL_STD, rel_tol=2e-3)
    assert math.isclose(stats.excess_kurtosis(z) + 3, chk.truncated_normal_kurtosis(2.0), abs_tol=0.02)


# ----------------------------------------------------------------------------- fans
def test_compute_fans_check():
    """Does check_compute_fans pass gradlib and name swapped, PyTorch-layout and receptive-field mistakes?"""
    shapes = [(300, 100), (3, 3, 16, 32), (4, 9, 3)]
    assert chk.check_compute_fans(ref.compute_fans, shapes) == 3
    with pytest.raises(CheckFailure, match="swapped"):
        chk.check_compute_fans(lambda s: ref.compute_fans(s)[::-1], shapes)
    with pytest.raises(CheckFailure, match="receptive field is missing"):
        chk.check_compute_fans(lambda s: (s[-2], s[-1]), [(3, 3, 16, 32)])
    with pytest.raises(CheckFailure, match="PyTorch's"):
        chk.check_compute_fans(lambda s: (s[1] * s[2] * s[3], s[0] * s[2] * s[3]), [(3, 5, 16, 32)])
    with pytest.raises(CheckFailure, match=r"must return \(fan_in, fan_out\)"):
        chk.check_compute_fans(lambda s: 300, [(300, 100)])


# ----------------------------------------------------------------------------- initializers
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_reference_initializers_pass(kind, shape):
    """Do gradlib's initializers pass both the std and the distribution test on non-square shapes?"""
    fn = getattr(ref, kind)
    assert abs(chk.check_init_std(fn, kind, shape, seed=3) - 1) < 0.02
    chk.check_init_distribution(fn, kind, shape, seed=3)


@pytest.mark.parametrize("seed", range(20))
def test_checks_do_not_depend_on_the_seed(seed):
    """Do right answers drawn in another order pass for many seeds (no seed is special)?"""

    def transposed(shape, *, gain=1.0, rng):
        return ref.xavier_uniform(tuple(reversed(shape)), gain=gain, rng=rng).T

    chk.check_init_std(transposed, "xavier_uniform", (300, 100), seed=seed)
    chk.check_init_distribution(transposed, "xavier_uniform", (300, 100), seed=seed)
    chk.check_variance_scaling(ref.variance_scaling, (300, 100), seed=seed)


def _xavier_std(shape, gain=1.0):
    fi, fo = ref.compute_fans(shape)
    return gain * math.sqrt(2.0 / (fi + fo))


WRONG_STD = [
    (
        "xavier_normal",
        lambda s, rng, gain=1.0: ref.he_normal(s, rng=rng),
        "x the Xavier value for fan_in=300, fan_out=100 (measured",
    ),
    ("xavier_normal", lambda s, rng, gain=1.0: ref.he_normal(s, rng=rng), "did you use He's 2/fan_in?"),
    ("he_normal", lambda s, rng: rng.normal(0, _xavier_std(s), s), "Xavier's 2/(fan_in + fan_out)"),
    (
        "he_normal",
        lambda s, rng: rng.normal(0, math.sqrt(2 / s[-1]), s),
        "2/fan_out (fans from the wrong axis)",
    ),
    ("he_normal", lambda s, rng: rng.normal(0, math.sqrt(4 / sum(s)), s), "He from fan_avg"),
    ("lecun_normal", lambda s, rng: ref.he_normal(s, rng=rng), "He's 2/fan_in"),
    (
        "xavier_normal",
        lambda s, rng, gain=1.0: rng.normal(0, math.sqrt(3) * _xavier_std(s), s),
        "sqrt(3) * std",
    ),
    ("xavier_normal", lambda s, rng, gain=1.0: rng.normal(0, _xavier_std(s) ** 2, s), "missing sqrt"),
    (
        "xavier_uniform",
        lambda s, rng, gain=1.0: rng.uniform(-_xavier_std(s), _xavier_std(s), s),
        "uniform limit",
    ),
    (
        "xavier_uniform",
        lambda s, rng, gain=1.0: rng.uniform(0, math.sqrt(3) * _xavier_std(s), s),
        "centred at 0",
    ),
    ("xavier_uniform", lambda s, rng, gain=1.0: np.random.uniform(-0.1, 0.1, s), "np.random"),  # noqa: NPY002 - the mistake under test
    ("xavier_uniform", lambda s, rng, gain=1.0: np.full(s, 0.05), "same array for two different generators"),
    ("he_normal", lambda s, rng: ref.he_normal(s[::-1], rng=rng), "shape"),
]


@pytest.mark.parametrize(("kind", "fn", "message"), WRONG_STD)
def test_std_check_names_mistakes(kind, fn, message):
    """Does check_init_std fail a wrong initializer with a message naming the mistake?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_init_std(fn, kind, (300, 100))
    assert message in str(info.value)


def test_std_check_names_ignored_gain():
    """Does a Xavier initializer that ignores gain fail the gain test with 'no gain'?"""
    with pytest.raises(CheckFailure, match="no gain"):
        chk.check_init_std(
            lambda s, *, gain=1.0, rng: ref.xavier_normal(s, rng=rng), "xavier_normal", (200, 50), gain=5 / 3
        )
    chk.check_init_std(ref.xavier_normal, "xavier_normal", (200, 50), gain=5 / 3)


WRONG_FAMILY = [
    (
        "xavier_uniform",
        lambda s, rng, gain=1.0: rng.normal(0, _xavier_std(s), s),
        "look like a normal distribution",
    ),
    ("xavier_normal", lambda s, rng, gain=1.0: ref.xavier_uniform(s, rng=rng), "look like a uniform"),
    ("he_normal", lambda s, rng: ref.variance_scaling(s, scale=2.0, rng=rng), "look like a normal truncated"),
]


@pytest.mark.parametrize(("kind", "fn", "message"), WRONG_FAMILY)
def test_distribution_check_names_the_family(kind, fn, message):
    """Does check_init_distribution tell normal, uniform and truncated normal apart, scale-free?"""
    with pytest.raises(CheckFailure, match=message):
        chk.check_init_distribution(fn, kind, (300, 100))


def test_distribution_check_is_scale_free():
    """Does the distribution test accept the right family at a wrong scale (the std test's job)?"""
    chk.check_init_distribution(
        lambda s, rng, gain=1.0: 10 * ref.xavier_uniform(s, rng=rng), "xavier_uniform", (300, 100)
    )


def test_unknown_kind_is_rejected():
    """Does the check refuse an initializer name it does not know, naming it?"""
    with pytest.raises(ValueError, match="'kaiming'"):
        chk.check_init_std(ref.he_normal, "kaiming", (3, 4))


# ----------------------------------------------------------------------------- variance scaling
SETTINGS = [
    {},
    {"scale": 2.0, "mode": "fan_in", "distribution": "untruncated_normal"},
    {"scale": 1.0, "mode": "fan_out", "distribution": "untruncated_normal"},
    {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal"},
    {"scale": 3.0, "mode": "fan_out", "distribution": "uniform"},
]


@pytest.mark.parametrize("kwargs", SETTINGS)
@pytest.mark.parametrize("shape", [(300, 100), (3, 3, 16, 32)])
def test_variance_scaling_reference_passes(kwargs, shape):
    """Does gradlib's variance_scaling pass every mode and distribution on non-square shapes?"""
    assert abs(chk.check_variance_scaling(ref.variance_scaling, shape, **kwargs) - 1) < 0.02


def _vs(truncate="redraw", fan_avg_sum=False, uniform_factor=3.0, swap=False):
    def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
        fi, fo = ref.compute_fans(shape)
        if swap:
            fi, fo = fo, fi
        n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) if fan_avg_sum else (fi + fo) / 2}[mode]
        std = math.sqrt(scale / n)
        if distribution == "uniform":
            r = math.sqrt(uniform_factor * scale / n)
            return rng.uniform(-r, r, shape)
        if distribution == "untruncated_normal" or truncate == "none":
            return rng.normal(0, std, shape)
        z = rng.standard_normal(shape)
        if truncate == "clip":
            z = np.clip(z, -2, 2)
        else:
            while (np.abs(z) > 2).any():
                z[np.abs(z) > 2] = rng.standard_normal(int((np.abs(z) > 2).sum()))
        return z * std / (1.0 if truncate == "uncorrected" else ref.TRUNCATED_NORMAL_STD)

    return variance_scaling


@pytest.mark.parametrize(
    ("fn", "kwargs", "message"),
    [
        (_vs(truncate="uncorrected"), {}, "without Keras' correction"),
        (_vs(truncate="none"), {}, "truncated"),
        (_vs(truncate="clip"), {}, "std is"),
        (_vs(uniform_factor=1.0), {"distribution": "uniform", "scale": 2.0}, "sqrt(3 * scale / n)"),
        (_vs(fan_avg_sum=True), {"mode": "fan_avg", "distribution": "untruncated_normal"}, "their mean"),
        (_vs(swap=True), {"mode": "fan_in", "distribution": "untruncated_normal"}, "mode 'fan_out'"),
    ],
)
def test_variance_scaling_check_names_mistakes(fn, kwargs, message):
    """Does check_variance_scaling fail each wrong variant with a message naming it?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_variance_scaling(fn, (300, 100), **kwargs)
    assert message in str(info.value)


def test_variance_scaling_uses_defaults():
    """Does a variance_scaling whose defaults differ from Keras' fail the defaults test?"""

    def wrong_default(shape, *, scale=1.0, mode="fan_avg", distribution="truncated_normal", rng):
        return ref.variance_scaling(shape, scale=scale, mode=mode, distribution=distribution, rng=rng)

    with pytest.raises(CheckFailure, match="mode 'fan_avg'"):
        chk.check_variance_scaling(wrong_default, (300, 100))


# ----------------------------------------------------------------------------- activation stds
@pytest.mark.parametrize(
    ("kwargs"),
    [
        {},
        {"n": 5, "d": 4, "widths": (20, 3, 7, 9), "activation": "relu", "seed": 17},
        {"n": 30, "d": 6, "widths": (6,), "activation": "linear", "seed": 18},
    ],
)
def test_activation_stds_reference_passes(kwargs):
    """Does the reference pass check_activation_stds on several stacks?"""
    assert chk.check_activation_stds(chk.reference_activation_stds, **kwargs) == 0.0


def test_reference_activation_stds_matches_hand_computation():
    """Is the reference the std of tanh(x @ W) layer by layer, with init called in order?"""
    x = np.random.default_rng(0).normal(size=(50, 8))
    got = chk.reference_activation_stds(
        x, ref.lecun_normal, ref_act.tanh, [8, 3], rng=np.random.default_rng(1)
    )
    rng = np.random.default_rng(1)
    a1 = np.tanh(x @ ref.lecun_normal((8, 8), rng=rng))
    a2 = np.tanh(a1 @ ref.lecun_normal((8, 3), rng=rng))
    assert np.allclose(got, [a1.std(), a2.std()], rtol=1e-14)


def _stds(transform=None, pre=False, ddof=0, include_input=False, transpose=False, rng_arg=True):
    def activation_stds(x, init, activation, widths, *, rng):
        a, out = x, ([np.std(x)] if include_input else [])
        for width in widths:
            r = rng if rng_arg else np.random.default_rng()
            W = init((width, a.shape[1]), rng=r).T if transpose else init((a.shape[1], width), rng=r)
            h = a @ W
            a = activation(h)
            out.append(np.std(h if pre else a, ddof=ddof))
        return np.array(out)

    return activation_stds


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_stds(include_input=True), "without the input's"),
        (_stds(pre=True), "pre-activations"),
        (_stds(ddof=1), "ddof=1"),
        (_stds(transpose=True), "transposed"),
        (_stds(rng_arg=False), "pass the generator"),
    ],
)
def test_activation_stds_check_names_mistakes(fn, message):
    """Does check_activation_stds fail each wrong version with a message naming the mistake?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_activation_stds(fn)
    assert message in str(info.value)


def test_std_tolerance_gives_one_in_a_million():
    """Is the std tolerance z standard errors with z from a 1e-6 rate split over the cell's comparisons?"""
    n = 60_000
    tol = stats.std_tolerance(1.0, n, kurtosis=3.0, comparisons=2 * chk.CALLS_PER_CELL)
    assert 0.01 < tol < 0.02
    assert stats.z_for(1e-6, 2 * chk.CALLS_PER_CELL) > 5.0


def test_float32_weights_float_fans_and_one_redraw_are_named():
    """Are float32 weights, float fans and a truncated normal redrawn only once each named?"""

    def he32(shape, *, rng):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(math.sqrt(2.0 / shape[0]))

    with pytest.raises(CheckFailure, match="dtype float32"):
        chk.check_init_std(he32, "he_normal", (300, 100))
    with pytest.raises(CheckFailure, match="return ints"):
        chk.check_compute_fans(lambda s: (float(s[-2]), float(s[-1])), [(300, 100)])

    def once(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
        s = math.sqrt(scale / shape[0]) / 0.87962566103423978
        w = rng.normal(0.0, s, size=shape)
        out = np.abs(w) > 2 * s
        w[out] = rng.normal(0.0, s, size=int(out.sum()))
        return w

    with pytest.raises(CheckFailure, match="one redraw is not enough"):
        chk.check_variance_scaling(once, (300, 100))
