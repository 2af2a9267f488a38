"""gradlib.stats: the tolerances' formulas, and their false-failure rates measured by simulation."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from gradlib import stats


def test_z_for_is_the_two_sided_normal_quantile():
    """Is z_for(0.05) = 1.95996... and z_for(1e-6) = 4.8916...?"""
    assert stats.z_for(0.05) == pytest.approx(1.959963984540054, rel=1e-12)
    assert stats.z_for(1e-6) == pytest.approx(4.891638475698, rel=1e-9)
    assert stats.z_for() == stats.z_for(stats.DEFAULT_FALSE_RATE)


def test_comparisons_split_the_rate():
    """Does splitting a rate over k comparisons give the quantile of rate / k (Bonferroni)?"""
    assert stats.z_for(1e-6, comparisons=10) == pytest.approx(stats.z_for(1e-7), rel=1e-12)


def test_tolerance_formulas():
    """Are the tolerances z sigma / sqrt(n), z sigma sqrt((kappa - 1) / 4n) and z sqrt(24 / n)?"""
    z = stats.z_for(1e-6)
    assert stats.mean_tolerance(2.0, 400) == pytest.approx(z * 2.0 / 20.0, rel=1e-12)
    assert stats.std_tolerance(2.0, 400) == pytest.approx(z * 2.0 * math.sqrt(2.0 / 1600), rel=1e-12)
    assert stats.std_tolerance(2.0, 400, kurtosis=1.8) == pytest.approx(
        z * 2.0 * math.sqrt(0.8 / 1600), rel=1e-12
    )
    assert stats.kurtosis_tolerance(600) == pytest.approx(z * math.sqrt(24 / 600), rel=1e-12)


def _failure_rate(samples: np.ndarray, statistic, target: float, tol: float) -> float:
    values = np.apply_along_axis(statistic, 1, samples)
    return float(np.mean(np.abs(values - target) > tol))


# Simulation at a measurable false-failure rate of 5%: 4000 trials give a binomial sd of 0.0034, so
# the accepted band [0.03, 0.07] is ~6 sd wide on each side.
RATE, TRIALS, N = 0.05, 4000, 500
BAND = (0.03, 0.07)


@pytest.mark.parametrize("family", ["normal", "uniform"])
def test_mean_and_std_tolerances_fail_at_the_stated_rate(family):
    """Does a correct sample fail the mean and std tolerances about `false_rate` of the time?"""
    rng = np.random.default_rng(7)
    if family == "normal":
        samples, sigma, kappa = rng.normal(0, 2.0, (TRIALS, N)), 2.0, 3.0
    else:
        samples, sigma, kappa = rng.uniform(-3, 3, (TRIALS, N)), math.sqrt(3.0), 1.8
    mean_rate = _failure_rate(samples, np.mean, 0.0, stats.mean_tolerance(sigma, N, false_rate=RATE))
    std_tol = stats.std_tolerance(sigma, N, kurtosis=kappa, false_rate=RATE)
    std_rate = _failure_rate(samples, np.std, sigma, std_tol)
    assert BAND[0] <= mean_rate <= BAND[1]
    assert BAND[0] <= std_rate <= BAND[1]


@pytest.mark.parametrize("family", ["normal", "uniform"])
def test_kurtosis_tolerance_is_not_too_tight(family):
    """Does a correct sample fail the kurtosis tolerance at most about `false_rate` of the time?"""
    rng = np.random.default_rng(8)
    n = 2000
    if family == "normal":
        samples, target = rng.normal(size=(1000, n)), 0.0
    else:
        samples, target = rng.uniform(size=(1000, n)), -1.2
    rate = _failure_rate(samples, stats.excess_kurtosis, target, stats.kurtosis_tolerance(n, false_rate=RATE))
    assert rate <= BAND[1]


def test_excess_kurtosis_values():
    """Is the excess kurtosis m4/m2^2 - 3: -1.36 for [1, 2, 3, 4], ~0 normal, ~-1.2 uniform?"""
    assert stats.excess_kurtosis(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(2.5625 / 1.5625 - 3)
    rng = np.random.default_rng(0)
    assert abs(stats.excess_kurtosis(rng.normal(size=200_000))) < 0.05
    assert stats.excess_kurtosis(rng.uniform(size=200_000)) == pytest.approx(-1.2, abs=0.02)


def test_normal_quantile_agrees_with_statistics_module():
    """Does z_for(r) leave exactly r / 2 in each tail?"""
    z = stats.z_for(0.01)
    assert 2 * (1 - NormalDist().cdf(z)) == pytest.approx(0.01, rel=1e-9)


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: stats.z_for(0.0), "0.0"),
        (lambda: stats.z_for(1.5), "1.5"),
        (lambda: stats.z_for(0.01, comparisons=0), "comparisons must be an integer >= 1, got 0"),
        (lambda: stats.mean_tolerance(1.0, 1), "n must be an integer >= 2, got 1"),
        (lambda: stats.std_tolerance(1.0, 10, kurtosis=0.5), "0.5"),
        (lambda: stats.kurtosis_tolerance(0), "got 0"),
        (lambda: stats.excess_kurtosis(np.ones(5)), "constant"),
    ],
)
def test_bad_arguments_raise_naming_value(call, text):
    """Do out-of-range rates, sample sizes, kurtoses and constant samples raise ValueError naming them?"""
    with pytest.raises(ValueError, match=text):
        call()
