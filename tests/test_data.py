"""gradlib.data: seeded synthetic data sets."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import data


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: data.spirals(50, 4, rng=rng),
        lambda rng: data.circles(101, rng=rng),
        lambda rng: data.blobs(30, 3, dim=5, rng=rng),
        lambda rng: data.regression(80, dim=3, rng=rng),
    ],
    ids=["spirals", "circles", "blobs", "regression"],
)
def test_seeded_and_independent_of_global_rng(make):
    """Does the same seed give the same data, another seed other data, and the global RNG stay put?"""
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking that it is untouched)
    x1, y1 = make(np.random.default_rng(0))
    x2, y2 = make(np.random.default_rng(0))
    x3, _ = make(np.random.default_rng(1))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    after = np.random.get_state()[1]  # noqa: NPY002 (checking that it is untouched)
    np.testing.assert_array_equal(after, state)
    assert x1.dtype == np.float64 and np.all(np.isfinite(x1))


def test_spirals_shapes_and_geometry():
    """Are spirals (N*K, 2) with K balanced labels and radii in [0, 1]?"""
    x, y = data.spirals(100, 3, noise=0.0, rng=np.random.default_rng(0))
    assert x.shape == (300, 2) and y.shape == (300,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r, np.tile(np.linspace(0, 1, 100), 3), atol=1e-12)


def test_circles_radii():
    """Without noise, is class 0 on radius 1 and class 1 on radius factor?"""
    x, y = data.circles(40, noise=0.0, factor=0.3, rng=np.random.default_rng(0))
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    assert (y == 0).sum() == 20


def test_blobs_and_regression_shapes():
    """Do blobs and regression have the documented shapes and dtypes?"""
    x, y = data.blobs(10, 4, dim=3, spread=0.0, rng=np.random.default_rng(0))
    assert x.shape == (40, 3) and set(y) == {0, 1, 2, 3}
    assert np.allclose(x[y == 2], x[y == 2][0])  # spread 0: every point at its center
    x, y = data.regression(25, dim=2, rng=np.random.default_rng(0))
    assert x.shape == (25, 2) and y.shape == (25, 1) and y.dtype == np.float64


def test_standardize_keeps_a_floating_dtype():
    """Does standardize return float32 for float32 data and float64 for integers?"""
    x = np.array([[1, 2], [3, 5], [0, 1]])
    assert data.standardize(x).dtype == np.float64
    assert data.standardize(x.astype(np.float32)).dtype == np.float32


def test_standardize():
    """Does standardize give mean 0 / std 1 columns and leave constant columns finite?"""
    x = np.column_stack([np.arange(10.0), np.full(10, 3.0)])
    z = data.standardize(x)
    np.testing.assert_allclose(z[:, 0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(z[:, 0].std(), 1)
    np.testing.assert_array_equal(z[:, 1], 0)
    np.testing.assert_array_equal(x[:, 1], 3.0)


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: data.spirals(0, rng=np.random.default_rng()), ValueError, "0"),
        (lambda: data.spirals(10, 1, rng=np.random.default_rng()), ValueError, "n_classes"),
        (lambda: data.circles(10, noise=-1.0, rng=np.random.default_rng()), ValueError, "-1.0"),
        (lambda: data.circles(10, factor=1.5, rng=np.random.default_rng()), ValueError, "1.5"),
        (lambda: data.blobs(10, rng=42), TypeError, "int"),
        (lambda: data.regression(10, dim=0, rng=np.random.default_rng()), ValueError, "dim"),
        (lambda: data.standardize(np.ones(3)), ValueError, "(3,)"),
        (lambda: data.spirals(2.5, rng=np.random.default_rng()), TypeError, "2.5 (float)"),
        (lambda: data.circles(10, noise="0.1", rng=np.random.default_rng()), TypeError, "'0.1' (str)"),
        (lambda: data.standardize(np.array([["a"]])), TypeError, "<U1"),
    ],
)
def test_bad_input(call, exc, text):
    """Do bad counts, noise, factor, rng and shapes raise naming the bad value?"""
    with pytest.raises(exc) as info:
        call()
    assert text in str(info.value)
