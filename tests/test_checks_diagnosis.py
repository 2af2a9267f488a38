"""gradlib.checks.diagnosis: the generic checks and the description of how a wrong output relates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlib.checks import CheckFailure, assert_close
from gradlib.checks import diagnosis as dg
from gradlib.checks.core import format_pair

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))


@pytest.mark.parametrize(
    ("got", "text"),
    [
        (2 * X, "times 2"),
        (X / 2, "times 1/2"),
        (math.sqrt(2) * X, "times √2"),
        (X / math.sqrt(2), "times 1/√2"),
        (-X, "opposite sign"),
        (X / 7, "1/N (N = 7)"),
        (7 * X, "N = 7"),
        (X * 7 / 6, "N/(N-1) (N = 7)"),
        (1.2345 * X, "times a constant (1.2345)"),
        (X.T, "transpose"),
        (X.astype(np.float32).astype(np.float64), "float32"),
        (np.where(X > 1, np.inf, X), "inf at index"),
        (np.where(X > 1, np.nan, X), "nan at index"),
    ],
)
def test_describe_names_the_relation(got, text):
    """Does describe() name each relation between a wrong output and the answer?"""
    found = dg.describe(got, X, n=7)
    assert found is not None and text in found, found


def test_describe_off_by_one():
    """Are a shifted, a too-short and a too-long sequence, and a scalar off by one, named?"""
    seq = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    for got in (seq[1:], seq[:-1], np.append(seq, 9.0), np.array([1.0, 4.0, 1.0, 5.0, 9.0])):
        assert "off by one" in dg.describe(got, seq)
    assert "off by one" in dg.describe(128, 127)


def test_describe_wrong_axis():
    """Is a reduction over the wrong axis named when the full computation is given?"""
    a = RNG.normal(size=(5, 5))
    found = dg.describe(a.mean(axis=1), a.mean(axis=0), axis_of=lambda ax: a.mean(axis=ax), ndim=2)
    assert "axis 1" in found


def test_describe_finds_nothing_for_unrelated_values():
    """Does an unrelated wrong answer get no invented explanation?"""
    assert dg.describe(RNG.normal(size=(4, 3)), X) is None
    assert dg.describe(np.zeros((4, 3)), X) is None


def test_assert_close_prints_digits_that_differ_and_the_diagnosis():
    """Does a float32 result show digits that differ, and say float32?"""
    exp = np.array([0.17156123456789])
    got = exp.astype(np.float32).astype(np.float64)
    with pytest.raises(CheckFailure) as info:
        assert_close(got, exp, name="y", rtol=1e-9)
    g_text, e_text = format_pair(float(got[0]), float(exp[0]))
    assert g_text != e_text and g_text in str(info.value) and e_text in str(info.value)
    assert "float32" in str(info.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (np.zeros(3, dtype=np.float32), "float32"),
        (np.zeros(3, dtype=bool), "boolean mask"),
        (np.zeros(3, dtype=np.int64), "integers"),
        (np.float32(1.0), "float32"),
    ],
)
def test_check_dtype_names_the_wrong_dtype(value, text):
    """Is a float32, bool or int result rejected where float64 is asked, with the dtype named?"""
    with pytest.raises(CheckFailure, match=text):
        dg.check_dtype(value, name="out")


def test_check_dtype_accepts_float64_and_python_floats():
    """Are float64 arrays, numpy float64 scalars and Python floats accepted?"""
    for value in (np.zeros(3), np.float64(1.0), 1.0):
        dg.check_dtype(value, name="out")
    dg.check_dtype(np.zeros(3, dtype=np.float32), name="out", dtype=np.float32)


def test_check_keys_ignores_order_unless_asked():
    """Are the same keys in another order accepted, and missing or extra keys named?"""
    dg.check_keys({"b": 1, "a": 2}, ["a", "b"], name="grads")
    with pytest.raises(CheckFailure, match="order"):
        dg.check_keys({"b": 1, "a": 2}, ["a", "b"], name="grads", ordered=True)
    with pytest.raises(CheckFailure, match=r"missing \['b'\].*unexpected \['c'\]"):
        dg.check_keys({"a": 1, "c": 2}, ["a", "b"], name="grads")
    with pytest.raises(CheckFailure, match="must be a dict"):
        dg.check_keys([1, 2], ["a", "b"], name="grads")


def test_call_pure_finds_changes_inside_containers():
    """Is an in-place change caught in a plain argument, in a dict and in a list, and named by path?"""

    def scale_dict(grads, c):
        grads["W"] *= c
        return grads

    def scale_list(grads, c):
        grads[1] *= c
        return grads

    def pure(grads, c):
        return {k: v * c for k, v in grads.items()}

    d = {"W": np.ones(2), "b": np.ones(1)}
    with pytest.raises(CheckFailure, match=r"grads\['W'\]"):
        dg.call_pure(scale_dict, d, 2.0, name="clip")
    with pytest.raises(CheckFailure, match=r"grads\[1\]"):
        dg.call_pure(scale_list, [np.ones(2), np.ones(3)], 2.0, name="clip")
    np.testing.assert_array_equal(d["W"], 1.0)  # the caller's arrays are never touched
    assert dg.call_pure(pure, d, 2.0, name="clip")["W"][0] == 2.0


def test_check_default():
    """Is a missing, absent or different default named, and the lesson's default accepted?"""

    def good(x, *, eps=1e-5):
        return x

    def other(x, *, eps=1e-3):
        return x

    def none(x, eps):
        return x

    dg.check_default(good, "eps", 1e-5, name="bn")
    with pytest.raises(CheckFailure, match="defaults to 0.001"):
        dg.check_default(other, "eps", 1e-5, name="bn")
    with pytest.raises(CheckFailure, match="no default"):
        dg.check_default(none, "eps", 1e-5, name="bn")
    with pytest.raises(CheckFailure, match="no parameter 'momentum'"):
        dg.check_default(good, "momentum", 0.1, name="bn")
