"""Tolerances for statistical tests, derived from the sample size and a target false-failure rate.

A grader that tests a random initializer cannot compare exact draws (a correct answer may draw its
numbers in another order); it compares sample statistics with the distribution's. Each tolerance below
is ``z`` standard errors, where ``z`` is the two-sided normal quantile for the false-failure rate split
over ``comparisons`` (Bonferroni), so a correct answer fails one check with probability at most
``false_rate``.

Notation: ``n`` samples, population standard deviation ``sigma``, population kurtosis ``kappa``
(fourth standardized moment: 3 for a normal, 1.8 for a uniform).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from gradlib import _validate

__all__ = [
    "DEFAULT_FALSE_RATE",
    "excess_kurtosis",
    "kurtosis_tolerance",
    "mean_tolerance",
    "std_tolerance",
    "z_for",
]

DEFAULT_FALSE_RATE = 1e-6


def z_for(false_rate: float = DEFAULT_FALSE_RATE, comparisons: int = 1) -> float:
    """Two-sided normal quantile: P(|Z| > z) = false_rate / comparisons.

    Raises:
        ValueError: if ``false_rate`` is not in (0, 1) or ``comparisons`` < 1.
        TypeError: if ``false_rate`` is not a number or ``comparisons`` not an integer.
    """
    false_rate = _validate.number(false_rate, "false_rate", above=0, below=1)
    comparisons = _validate.integer(comparisons, "comparisons", at_least=1)
    return NormalDist().inv_cdf(1.0 - false_rate / (2.0 * comparisons))


def mean_tolerance(
    sigma: float, n: int, *, false_rate: float = DEFAULT_FALSE_RATE, comparisons: int = 1
) -> float:
    """Tolerance on a sample mean: ``z * sigma / sqrt(n)``."""
    n = _validate.integer(n, "sample size n", at_least=2)
    return z_for(false_rate, comparisons) * sigma / math.sqrt(n)


def std_tolerance(
    sigma: float,
    n: int,
    *,
    kurtosis: float = 3.0,
    false_rate: float = DEFAULT_FALSE_RATE,
    comparisons: int = 1,
) -> float:
    """Tolerance on a sample standard deviation.

    By the delta method, ``Var(s) ~= sigma^2 (kappa - 1) / (4 n)``, so the tolerance is
    ``z * sigma * sqrt((kappa - 1) / (4 n))``.
    """
    n = _validate.integer(n, "sample size n", at_least=2)
    kurtosis = _validate.number(kurtosis, "kurtosis (at least 1 for any distribution)", at_least=1)
    return z_for(false_rate, comparisons) * sigma * math.sqrt((kurtosis - 1.0) / (4.0 * n))


def kurtosis_tolerance(n: int, *, false_rate: float = DEFAULT_FALSE_RATE, comparisons: int = 1) -> float:
    """Tolerance on a sample excess kurtosis: ``z * sqrt(24 / n)``.

    ``24 / n`` is the asymptotic variance for a normal sample; uniform and truncated-normal samples have
    a smaller one, so the bound holds for all three.
    """
    n = _validate.integer(n, "sample size n", at_least=2)
    return z_for(false_rate, comparisons) * math.sqrt(24.0 / n)


def excess_kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis ``m4 / m2^2 - 3`` (0 for a normal, -1.2 for a uniform)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    centred = x - x.mean()
    m2 = np.mean(centred**2)
    if m2 == 0.0:
        raise ValueError("excess kurtosis is undefined for a constant sample")
    return float(np.mean(centred**4) / m2**2 - 3.0)
