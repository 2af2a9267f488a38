"""gradlib.digits: the capstone's real data, split and standardized."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib.digits import load_split


def test_the_fixed_split_has_the_documented_sizes_and_no_overlap():
    """Is the default split 1,348 / 449 examples of 64 features, ten classes, each image in one part?"""
    s = load_split()
    assert s.x_train.shape == (1348, 64) and s.x_val.shape == (449, 64) and s.num_classes == 10
    rows = {r.tobytes() for r in np.round(s.x_train, 9)}
    assert sum(r.tobytes() in rows for r in np.round(s.x_val, 9)) < 10  # a few digits are exact duplicates
    assert set(np.unique(s.y_train)) == set(range(10)) == set(np.unique(s.y_val))


def test_standardized_with_training_statistics_only():
    """Do training features have mean 0 and std 1 (or 0 where constant), validation ones not exactly?"""
    s = load_split()
    std = s.x_train.std(axis=0)
    np.testing.assert_allclose(s.x_train.mean(axis=0), 0, atol=1e-12)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    assert np.abs(s.x_val.mean(axis=0)).max() > 1e-3


def test_same_seed_same_split_other_seed_other_split():
    """Is the split a function of the seed alone?"""
    a, b, c = load_split(), load_split(), load_split(seed=1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.y_train, c.y_train)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, True, "0.2"])
def test_bad_val_fraction_is_rejected_naming_it(bad):
    """Is a val_fraction outside (0, 1) an error that shows the value?"""
    with pytest.raises(ValueError, match=f"got {bad!r}"):
        load_split(val_fraction=bad)


def test_read_without_sklearn_equals_load_digits():
    """Are the pixels and labels read from the wheel's file exactly scikit-learn's ``load_digits()``?"""
    from sklearn.datasets import load_digits

    from gradlib.digits import _read_digits

    x, y = _read_digits()
    reference = load_digits()
    assert x.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(x, reference.data)
    np.testing.assert_array_equal(y, reference.target)
