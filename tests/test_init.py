"""gradlib.init: exact fans and gains against torch, and seed-independent distribution statistics.

Statistical tests compare sample mean, std and excess kurtosis with the distribution's, for several
seeds, on non-square shapes (fan_in != fan_out tells Xavier from He and exposes swapped fans). Each
tolerance comes from gradlib.stats with the false-failure rate 1e-6 split (Bonferroni) over every
statistical comparison in this file, so a correct initializer fails this file with probability
<= 1e-6. Where torch.nn.init has the initializer, torch's draws on the *transposed* tensor
(PyTorch's (fan_out, fan_in) layout) must show the same statistics.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
import torch
from conftest import SEEDS

from gradlib import activations, init, stats

SHAPES = [(300, 100), (100, 300)]
UNIFORM_KURTOSIS = 1.8  # fourth standardized moment of a uniform
NORMAL_KURTOSIS = 3.0


def _truncated_moments(a: float = 2.0) -> tuple[float, float]:
    """Variance and kurtosis of a standard normal truncated to [-a, a] (integration by parts)."""
    nd = NormalDist()
    z = 2.0 * nd.cdf(a) - 1.0
    pdf = nd.pdf(a)
    m2 = 1.0 - 2.0 * a * pdf / z
    m4 = 3.0 * m2 - 2.0 * a**3 * pdf / z
    return m2, m4 / m2**2


TRUNC_VAR, TRUNC_KURTOSIS = _truncated_moments()


def _var(fan_in: int, fan_out: int, mode: str) -> float:
    """The fan a variance-scaling rule divides by."""
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def _torch_init(fn, **kwargs):
    """A torch drawer: fills a (fan_out, fan_in) tensor and returns it transposed to (in, out)."""

    def draw(shape, seed):
        torch.manual_seed(seed)
        t = torch.empty(shape[1], shape[0], dtype=torch.float64)
        fn(t, **kwargs)
        return t.T.numpy()

    return draw


def _vs(scale, mode, distribution):
    return lambda shape, rng: init.variance_scaling(
        shape, scale=scale, mode=mode, distribution=distribution, rng=rng
    )


def _trunc_torch(scale, mode):
    """torch.nn.init.trunc_normal_ with Keras' std correction and cut at 2 std."""

    def draw(shape, seed):
        std = math.sqrt(scale / _var(shape[0], shape[1], mode)) / init.TRUNCATED_NORMAL_STD
        return _torch_init(torch.nn.init.trunc_normal_, std=std, a=-2 * std, b=2 * std)(shape, seed)

    return draw


# (id, gradlib drawer (shape, rng), std from (fan_in, fan_out), family, torch drawer or None)
# family: "normal", "uniform" or "truncated" (cut at 2 of the pre-correction std).
TANH_GAIN = activations.get("tanh").gain
TABLE = [
    (
        "xavier_normal",
        lambda s, rng: init.xavier_normal(s, rng=rng),
        lambda i, o: math.sqrt(2 / (i + o)),
        "normal",
        _torch_init(torch.nn.init.xavier_normal_),
    ),
    (
        "xavier_normal-gain",
        lambda s, rng: init.xavier_normal(s, gain=TANH_GAIN, rng=rng),
        lambda i, o: TANH_GAIN * math.sqrt(2 / (i + o)),
        "normal",
        _torch_init(torch.nn.init.xavier_normal_, gain=TANH_GAIN),
    ),
    (
        "xavier_uniform",
        lambda s, rng: init.xavier_uniform(s, rng=rng),
        lambda i, o: math.sqrt(2 / (i + o)),
        "uniform",
        _torch_init(torch.nn.init.xavier_uniform_),
    ),
    (
        "xavier_uniform-gain",
        lambda s, rng: init.xavier_uniform(s, gain=TANH_GAIN, rng=rng),
        lambda i, o: TANH_GAIN * math.sqrt(2 / (i + o)),
        "uniform",
        _torch_init(torch.nn.init.xavier_uniform_, gain=TANH_GAIN),
    ),
    (
        "he_normal",
        lambda s, rng: init.he_normal(s, rng=rng),
        lambda i, o: math.sqrt(2 / i),
        "normal",
        _torch_init(torch.nn.init.kaiming_normal_, nonlinearity="relu"),
    ),
    (
        "he_uniform",
        lambda s, rng: init.he_uniform(s, rng=rng),
        lambda i, o: math.sqrt(2 / i),
        "uniform",
        _torch_init(torch.nn.init.kaiming_uniform_, nonlinearity="relu"),
    ),
    (
        "lecun_normal",
        lambda s, rng: init.lecun_normal(s, rng=rng),
        lambda i, o: math.sqrt(1 / i),
        "normal",
        _torch_init(torch.nn.init.kaiming_normal_, nonlinearity="linear"),
    ),
    (
        "lecun_uniform",
        lambda s, rng: init.lecun_uniform(s, rng=rng),
        lambda i, o: math.sqrt(1 / i),
        "uniform",
        _torch_init(torch.nn.init.kaiming_uniform_, nonlinearity="linear"),
    ),
    (
        "normal",
        lambda s, rng: init.normal(s, std=0.3, rng=rng),
        lambda i, o: 0.3,
        "normal",
        _torch_init(torch.nn.init.normal_, std=0.3),
    ),
    (
        "uniform",
        lambda s, rng: init.uniform(s, limit=0.2, rng=rng),
        lambda i, o: 0.2 / math.sqrt(3),
        "uniform",
        _torch_init(torch.nn.init.uniform_, a=-0.2, b=0.2),
    ),
]
for _mode in init.MODES:
    TABLE += [
        (
            f"vs-{_mode}-truncated",
            _vs(2.0, _mode, "truncated_normal"),
            lambda i, o, m=_mode: math.sqrt(2.0 / _var(i, o, m)),
            "truncated",
            _trunc_torch(2.0, _mode),
        ),
        (
            f"vs-{_mode}-untruncated",
            _vs(2.0, _mode, "untruncated_normal"),
            lambda i, o, m=_mode: math.sqrt(2.0 / _var(i, o, m)),
            "normal",
            None,
        ),
        (
            f"vs-{_mode}-uniform",
            _vs(2.0, _mode, "uniform"),
            lambda i, o, m=_mode: math.sqrt(2.0 / _var(i, o, m)),
            "uniform",
            None,
        ),
    ]
IDS = [row[0] for row in TABLE]

# Every statistical comparison in this file: per (row, shape, seed, drawer) mean, std, kurtosis.
N_DRAWERS = len(TABLE) + sum(row[4] is not None for row in TABLE)
COMPARISONS = N_DRAWERS * len(SHAPES) * len(SEEDS) * 3


def _check_statistics(w: np.ndarray, std: float, family: str, who: str) -> None:
    """Assert mean, std, excess kurtosis and bounds of the sample ``w`` match the family."""
    n = w.size
    kappa = {"normal": NORMAL_KURTOSIS, "uniform": UNIFORM_KURTOSIS, "truncated": TRUNC_KURTOSIS}[family]
    mean_tol = stats.mean_tolerance(std, n, comparisons=COMPARISONS)
    std_tol = stats.std_tolerance(std, n, kurtosis=kappa, comparisons=COMPARISONS)
    kurt_tol = stats.kurtosis_tolerance(n, comparisons=COMPARISONS)
    assert abs(w.mean()) <= mean_tol, f"{who}: mean {w.mean():.4g} not within {mean_tol:.3g} of 0"
    assert abs(w.std() - std) <= std_tol, f"{who}: std {w.std():.5g}, expected {std:.5g} ± {std_tol:.2g}"
    kurt = stats.excess_kurtosis(w)
    assert abs(kurt - (kappa - 3.0)) <= kurt_tol, f"{who}: excess kurtosis {kurt:.3f}, want {kappa - 3:.3f}"
    peak = np.abs(w).max()
    if family == "uniform":
        limit = math.sqrt(3.0) * std
        # P(all n draws inside 0.999 limit) = 0.999^n < 1e-13 for n = 30000.
        assert 0.999 * limit < peak <= limit, f"{who}: max |w| {peak:.5g}, limit {limit:.5g}"
    elif family == "truncated":
        cut = 2.0 * std / math.sqrt(TRUNC_VAR)
        # P(no draw in the outer 1% of the cut) < e^-60 for n = 30000.
        assert 0.99 * cut < peak <= cut, f"{who}: max |w| {peak:.5g}, cut at 2 std = {cut:.5g}"
    else:
        # An untruncated normal goes past 2.5 std (and so past any 2-std cut) with certainty here.
        assert peak > 2.5 * std, f"{who}: max |w| {peak:.5g} looks truncated"


@pytest.mark.parametrize("shape", SHAPES, ids=["300x100", "100x300"])
@pytest.mark.parametrize("row", TABLE, ids=IDS)
def test_initializer_statistics(row, shape):
    """Do mean, std, kurtosis and bounds match the initializer's distribution for every seed?"""
    name, draw, std_of, family, _ = row
    std = std_of(*shape)
    for seed in SEEDS:
        w = draw(shape, np.random.default_rng(seed))
        assert w.shape == shape and w.dtype == np.float64
        _check_statistics(w, std, family, f"{name} {shape} seed {seed}")


@pytest.mark.parametrize("shape", SHAPES, ids=["300x100", "100x300"])
@pytest.mark.parametrize("row", [r for r in TABLE if r[4] is not None], ids=lambda r: r[0])
def test_torch_on_transposed_layout_has_same_statistics(row, shape):
    """Does torch.nn.init on the (fan_out, fan_in) tensor draw from the same distribution?"""
    name, _, std_of, family, torch_draw = row
    for seed in SEEDS:
        _check_statistics(torch_draw(shape, seed), std_of(*shape), family, f"torch {name} {shape}")


def test_truncation_constant_is_std_of_truncated_normal():
    """Is 0.87962566103423978 the std of a standard normal truncated to (-2, 2)?"""
    assert math.sqrt(TRUNC_VAR) == pytest.approx(init.TRUNCATED_NORMAL_STD, rel=1e-15)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [((300, 100), (100, 300)), ((5, 16, 32), (32, 16, 5)), ((3, 3, 16, 32), (32, 16, 3, 3))],
)
def test_fans_match_torch_on_its_layout(ours, theirs):
    """Do Keras-layout fans equal torch's fans computed on torch's (out, in, *kernel) layout?"""
    fans = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(theirs))
    assert init.compute_fans(ours) == fans


def test_fans_of_a_dense_and_a_conv_weight():
    """Is fan_in the first axis of a dense W and kh*kw*c_in for a conv kernel?"""
    assert init.compute_fans((300, 100)) == (300, 100)
    assert init.compute_fans([3, 3, 16, 32]) == (144, 288)


@pytest.mark.parametrize(
    ("shape", "exc", "text"),
    [
        ((5,), ValueError, r"\(5,\)"),
        ((), ValueError, r"\(\)"),
        ((3, 0), ValueError, r"\(3, 0\)"),
        ((3, -2), ValueError, "-2"),
        ((3, 2.5), ValueError, "2.5"),
        ("3x4", ValueError, "3x4"),
        (None, TypeError, "None"),
    ],
)
def test_bad_shapes_raise_naming_them(shape, exc, text):
    """Does an unusable shape raise, naming the shape or the bad entry?"""
    with pytest.raises(exc, match=text):
        init.compute_fans(shape)


@pytest.mark.parametrize("nonlinearity", init.NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity):
    """Does calculate_gain return exactly torch's value for every nonlinearity it knows?"""
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("slope", [None, 0, 0.01, 0.2, 1, 3.5])
def test_leaky_relu_gain_equals_torch(slope):
    """Is the leaky ReLU gain sqrt(2 / (1 + slope^2)) with torch's default slope 0.01?"""
    assert init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain("leaky_relu", slope)


def test_known_gains():
    """Are the gains the reference values (tanh 5/3, relu sqrt 2, selu 3/4, leaky default 0.01)?"""
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))


@pytest.mark.parametrize("name", sorted(set(init.NONLINEARITIES) & set(activations.NAMES)))
def test_calculate_gain_reads_the_activation_table(name):
    """Does calculate_gain give the gain of activations.get for every activation both know?"""
    assert init.calculate_gain(name) == activations.get(name).gain
    if name == "leaky_relu":
        assert init.calculate_gain(name, 0.3) == activations.get(name, negative_slope=0.3).gain


def test_bad_gain_requests_raise_naming_value():
    """Do an unknown nonlinearity and a non-numeric slope raise ValueError naming them?"""
    with pytest.raises(ValueError, match="'rleu'.*relu, leaky_relu, selu"):
        init.calculate_gain("rleu")
    with pytest.raises(ValueError, match="'steep'"):
        init.calculate_gain("leaky_relu", "steep")  # ValueError, as in torch
    with pytest.raises(TypeError, match="'steep'"):
        init.calculate_gain("leaky_relu", "steep")  # and TypeError, as for every wrong type in gradlib


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"mode": "fan_sum"}, "'fan_sum' is not one of fan_in, fan_out, fan_avg"),
        ({"mode": "FAN_IN"}, "'FAN_IN'"),
        ({"distribution": "normal"}, "'normal' is not one of truncated_normal, untruncated_normal, uniform"),
        ({"distribution": "gaussian"}, "'gaussian'"),
        ({"scale": 0.0}, "0.0"),
        ({"scale": -2.0}, "-2.0"),
    ],
)
def test_variance_scaling_typos_raise_naming_value_and_options(kwargs, text):
    """Does a bad mode, distribution or scale raise ValueError naming the value (and the options)?"""
    with pytest.raises(ValueError, match=text):
        init.variance_scaling((4, 3), rng=np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)], ids=["int", "None", "RandomState"])
def test_rng_must_be_a_generator(rng):
    """Does passing a seed or a legacy RandomState instead of a Generator raise TypeError naming it?"""
    with pytest.raises(TypeError, match=type(rng).__name__):
        init.he_normal((4, 3), rng=rng)


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda r: init.normal((2, 2), std=-1.0, rng=r), ValueError, "-1.0"),
        (lambda r: init.uniform((2, 2), limit=float("nan"), rng=r), ValueError, "nan"),
        (lambda r: init.xavier_uniform((2, 2), gain="5/3", rng=r), TypeError, "5/3"),
        (lambda r: init.orthogonal((4,), rng=r), ValueError, r"\(4,\)"),
        (lambda r: init.constant((2,), value="one"), TypeError, "one"),
    ],
)
def test_bad_parameters_raise_naming_value(call, exc, text):
    """Do bad std, limit, gain, shape and constant values raise, naming the value?"""
    with pytest.raises(exc, match=text):
        call(np.random.default_rng(0))


def test_draws_depend_only_on_the_given_rng():
    """Do equal seeds give equal weights, without touching numpy's global random state?"""
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - checking the global state is untouched
    fns = [init.xavier_normal, init.he_uniform, init.lecun_normal, init.orthogonal, init.variance_scaling]
    for fn in fns:
        a = fn((7, 5), rng=np.random.default_rng(3))
        b = fn((7, 5), rng=np.random.default_rng(3))
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_aliases_are_the_same_functions():
    """Are glorot_* and kaiming_* the xavier_* and he_* functions themselves?"""
    assert init.glorot_normal is init.xavier_normal
    assert init.glorot_uniform is init.xavier_uniform
    assert init.kaiming_normal is init.he_normal
    assert init.kaiming_uniform is init.he_uniform


def test_zeros_and_constant():
    """Do zeros and constant return fresh float64 arrays of the shape, ints accepted as 1-D shapes?"""
    assert init.zeros(4).shape == (4,)
    z = init.zeros((3, 2))
    assert z.dtype == np.float64 and not z.any()
    c = init.constant((2, 3), 0.5)
    assert c.dtype == np.float64 and c.shape == (2, 3) and np.all(c == 0.5)


def test_conv_kernels_use_keras_fans():
    """Does he_normal on a (kh, kw, c_in, c_out) kernel use fan_in = kh*kw*c_in?"""
    w = init.he_normal((3, 3, 64, 32), rng=np.random.default_rng(0))
    _check_statistics(w, math.sqrt(2 / (3 * 3 * 64)), "normal", "he_normal conv")


# ----------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0), 0.5])
@pytest.mark.parametrize("shape", [(300, 100), (100, 300), (64, 64), (3, 3, 4, 8)])
def test_orthogonal_has_every_singular_value_equal_to_gain(shape, gain):
    """Is W^T W = gain^2 I (tall or square) or W W^T = gain^2 I (wide), so all singular values = gain?"""
    for seed in SEEDS:
        w = init.orthogonal(shape, gain=gain, rng=np.random.default_rng(seed))
        assert w.shape == shape
        m = w.reshape(-1, shape[-1])
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, gain**2 * np.eye(gram.shape[0]), atol=1e-12)


@pytest.mark.parametrize("shape", [(300, 100), (100, 300)])
def test_orthogonal_matches_torch_on_transposed_layout(shape):
    """Does torch.nn.init.orthogonal_ on the (out, in) tensor give the same Gram identity?"""
    t = torch.empty(shape[1], shape[0], dtype=torch.float64)
    torch.manual_seed(0)
    w = torch.nn.init.orthogonal_(t, gain=2.0).T.numpy()
    ours = init.orthogonal(shape, gain=2.0, rng=np.random.default_rng(0))
    for m in (w, ours):
        gram = m.T @ m if shape[0] >= shape[1] else m @ m.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(min(shape)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(ours, compute_uv=False), np.linalg.svd(w, compute_uv=False))


@pytest.mark.parametrize("shape", [(50, 20), (20, 50)])
def test_orthogonal_fixes_the_qr_sign(shape):
    """Is Q sign-corrected so that R = Q^T A has a positive diagonal (the unique, Haar-distributed Q)?"""
    w = init.orthogonal(shape, rng=np.random.default_rng(4))
    a = np.random.default_rng(4).standard_normal((max(shape), min(shape)))
    q = w if shape[0] >= shape[1] else w.T
    assert np.all(np.diag(q.T @ a) > 0)
