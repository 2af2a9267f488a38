"""Small seeded synthetic data sets: nothing is downloaded, every draw comes from ``rng``.

Shapes: ``N`` examples, ``D`` input features, ``K`` classes. Classification sets return
``(x, y)`` with ``x`` float64 ``(N, D)`` and ``y`` int64 ``(N,)`` in ``[0, K)``; the regression set
returns ``y`` float64 ``(N, 1)``. Examples come grouped by class; shuffle them (or draw random
minibatches) before training on slices.
"""

from __future__ import annotations

import numpy as np

from gradlib import _validate

__all__ = ["blobs", "circles", "regression", "spirals", "standardize"]


def _class_sizes(n_per_class: object, n_classes: object) -> tuple[int, int]:
    """Return ``(n_per_class, n_classes)`` after checking they are integers >= 1 and >= 2."""
    n = _validate.integer(n_per_class, "n_per_class", at_least=1)
    return n, _validate.integer(n_classes, "n_classes", at_least=2)


def spirals(
    n_per_class: int, n_classes: int = 3, *, noise: float = 0.2, turns: float = 1.0, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-D spiral arms, one per class (the cs231n toy problem).

    Class ``k`` has points at radius ``r = t`` and angle ``theta = 2 pi (turns * t + k / K)``
    for ``t`` evenly spaced in ``[0, 1]``, with Gaussian noise of std ``noise`` (radians) added to
    the angle: ``x = r * (cos theta, sin theta)``. Not linearly separable.

    Taught in lesson 04 (batch normalization).

    Args:
        n_per_class: points per class, >= 1.
        n_classes: number of arms K, >= 2.
        noise: angular noise std, >= 0.
        turns: how many full turns each arm makes, > 0.
        rng: the random generator.

    Returns:
        ``(x, y)``: x of shape (n_per_class * K, 2), y of shape (n_per_class * K,).

    Raises:
        ValueError: on non-positive counts, fewer than 2 classes, negative noise or turns <= 0.
        TypeError: if ``rng`` is not a Generator, a count is not an integer or a parameter not a number.
    """
    n, k = _class_sizes(n_per_class, n_classes)
    noise = _validate.number(noise, "noise", at_least=0)
    turns = _validate.number(turns, "turns", above=0)
    rng = _validate.generator(rng)
    t = np.tile(np.linspace(0.0, 1.0, n), k)
    labels = np.repeat(np.arange(k), n)
    theta = 2 * np.pi * (turns * t + labels / k) + rng.normal(0.0, noise, n * k)
    x = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1)
    return x, labels.astype(np.int64)


def circles(n: int, *, noise: float = 0.05, factor: float = 0.5, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric 2-D circles: class 0 on radius 1, class 1 on radius ``factor``.

    Angles are uniform in ``[0, 2 pi)``; Gaussian noise of std ``noise`` is added to each coordinate.
    The first ``n // 2`` examples are class 0, the rest class 1.

    Taught in lesson 02 (activations).

    Args:
        n: total number of points, >= 2.
        noise: coordinate noise std, >= 0.
        factor: radius of the inner circle, in (0, 1).
        rng: the random generator.

    Returns:
        ``(x, y)``: x of shape (n, 2), y of shape (n,) with values 0 and 1.

    Raises:
        ValueError: if ``n`` < 2, ``noise`` < 0 or ``factor`` not in (0, 1).
        TypeError: if ``rng`` is not a Generator, a count is not an integer or a parameter not a number.
    """
    n = _validate.integer(n, "n", at_least=2)
    noise = _validate.number(noise, "noise", at_least=0)
    factor = _validate.number(factor, "factor", above=0, below=1)
    rng = _validate.generator(rng)
    labels = (np.arange(n) >= n // 2).astype(np.int64)
    radius = np.where(labels == 0, 1.0, float(factor))
    theta = rng.uniform(0.0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    return x + rng.normal(0.0, noise, x.shape), labels


def blobs(
    n_per_class: int, n_classes: int = 3, *, dim: int = 2, spread: float = 1.0, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: class ``k`` is ``N(mu_k, spread**2 I)`` with centers ``mu_k ~ N(0, 4 I)``.

    Taught in lesson 03 (initialization).

    Args:
        n_per_class: points per class, >= 1.
        n_classes: number of classes K, >= 2.
        dim: input dimension D, >= 1.
        spread: std of each blob, >= 0.
        rng: the random generator (centers are drawn first, then the points).

    Returns:
        ``(x, y)``: x of shape (n_per_class * K, D), y of shape (n_per_class * K,).

    Raises:
        ValueError: on bad counts or a negative spread.
        TypeError: if ``rng`` is not a Generator, a count is not an integer or a parameter not a number.
    """
    n, k = _class_sizes(n_per_class, n_classes)
    d = _validate.integer(dim, "dim", at_least=1)
    spread = _validate.number(spread, "spread", at_least=0)
    rng = _validate.generator(rng)
    centers = rng.normal(0.0, 2.0, (k, d))
    labels = np.repeat(np.arange(k), n)
    x = centers[labels] + rng.normal(0.0, spread, (n * k, d))
    return x, labels.astype(np.int64)


def regression(n: int, *, dim: int = 1, noise: float = 0.1, rng) -> tuple[np.ndarray, np.ndarray]:
    """A smooth nonlinear regression target: ``y = sin(3 x @ w) + 0.5 (x @ w)**2 + noise``.

    ``x ~ U(-1, 1)^D`` and ``w`` is a random unit vector (drawn first), so the target varies along one
    direction; the noise is Gaussian with std ``noise``.

    Taught in lesson 05 (gradient clipping).

    Args:
        n: number of examples, >= 1.
        dim: input dimension D, >= 1.
        noise: target noise std, >= 0.
        rng: the random generator.

    Returns:
        ``(x, y)``: x of shape (n, D) and y of shape (n, 1), both float64.

    Raises:
        ValueError: on bad counts or negative noise.
        TypeError: if ``rng`` is not a Generator, a count is not an integer or a parameter not a number.
    """
    n = _validate.integer(n, "n", at_least=1)
    d = _validate.integer(dim, "dim", at_least=1)
    noise = _validate.number(noise, "noise", at_least=0)
    rng = _validate.generator(rng)
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    x = rng.uniform(-1.0, 1.0, (n, d))
    s = x @ w
    y = np.sin(3 * s) + 0.5 * s**2 + rng.normal(0.0, noise, n)
    return x, y[:, None]


def standardize(x: np.ndarray) -> np.ndarray:
    """Return ``(x - mean) / std`` per feature (columns with std 0 are only centered).

    Taught in lesson 04 (batch normalization).

    Args:
        x: data, shape (N, D).

    Returns:
        A new array of shape (N, D): float64, or ``x``'s dtype if that is floating.

    Raises:
        ValueError: if ``x`` is not 2-D.
    """
    x = _validate.float_array(x, "x (N, D)", ndim=2)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
