"""gradlib.checks.core: the building blocks every graded check uses."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib.checks import core
from gradlib.checks.core import CheckFailure


def test_check_failure_is_an_assertion_error():
    """Is CheckFailure an AssertionError, so nbgrader counts it as a failed test?"""
    assert issubclass(CheckFailure, AssertionError)


def test_call_returns_the_result():
    """Does call pass positional and keyword arguments through and return the result?"""
    assert core.call(lambda a, *, b: a + b, 2, b=3) == 5


def test_call_reports_a_blank_answer():
    """Does an unimplemented answer (NotImplementedError) become a CheckFailure naming the function?"""

    def xavier_uniform(shape):
        raise NotImplementedError()

    with pytest.raises(CheckFailure, match="xavier_uniform is not implemented yet"):
        core.call(xavier_uniform, (3, 2))


def test_call_reports_other_exceptions_with_type_and_message():
    """Does a crashing answer become a CheckFailure naming the exception type and message?"""

    def broken(x):
        return x["missing"]

    with pytest.raises(CheckFailure, match=r"my_fn raised KeyError: 'missing'"):
        core.call(broken, {}, name="my_fn")


def test_call_lets_check_failures_through_and_rejects_non_functions():
    """Is a CheckFailure re-raised as is, and a non-callable reported by its type?"""
    failure = CheckFailure("inner")

    def fails():
        raise failure

    with pytest.raises(CheckFailure) as info:
        core.call(fails)
    assert info.value is failure
    with pytest.raises(CheckFailure, match="is not a function.*int"):
        core.call(3, name="relu")


def test_as_array_copies_into_plain_float64():
    """Does as_array return a fresh float64 ndarray (no view, no subclass) from lists and arrays?"""
    source = np.arange(6, dtype=np.int64).reshape(2, 3)
    arr = core.as_array(source, name="W", shape=(2, 3))
    assert type(arr) is np.ndarray and arr.dtype == np.float64
    arr[0, 0] = 99.0
    assert source[0, 0] == 0
    masked = np.ma.array([1.0, 2.0], mask=[False, True])
    assert type(core.as_array(masked, name="m")) is np.ndarray
    np.testing.assert_array_equal(core.as_array([[1, 2]], name="x"), [[1.0, 2.0]])


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (None, {}, "dW is None: did you forget to `return` it"),
        (
            np.ones((3, 2)),
            {"shape": (2, 3), "hint": "did you transpose W?"},
            r"\(3, 2\).*\(2, 3\).*transpose",
        ),
        ("abc", {}, "not a numeric array"),
        ({"a": 1}, {}, "not a numeric array"),
    ],
)
def test_as_array_failures_name_the_problem(value, kwargs, text):
    """Do None, a wrong shape and a non-numeric value raise CheckFailure saying what is wrong?"""
    with pytest.raises(CheckFailure, match=text):
        core.as_array(value, name="dW", **kwargs)


def test_assert_close_returns_the_relative_error():
    """Does a match within tolerance return the relative error?"""
    err = core.assert_close(np.array([1.0, 2.0 + 1e-9]), np.array([1.0, 2.0]), name="out")
    assert err == pytest.approx(1e-9 / 4.0, rel=1e-6)


def test_assert_close_names_worst_index_got_and_expected():
    """Does a mismatch raise naming the worst index, got, expected, the count and the hint?"""
    got = np.array([[1.0, 2.0], [3.0, 10.0]])
    expected = np.array([[1.0, 2.5], [3.0, 4.0]])
    with pytest.raises(
        CheckFailure, match=r"dx is wrong at index \(1, 1\): got 10, expected 4 \(2 of 4"
    ) as info:
        core.assert_close(got, expected, name="dx", hint="did you forget the 1/N?")
    assert str(info.value).endswith("did you forget the 1/N?")


def test_assert_close_nan_handling():
    """Do NaNs match only NaNs (a NaN where a number is expected fails and is reported)?"""
    core.assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), name="x")
    with pytest.raises(CheckFailure, match=r"index \(0,\): got nan, expected 1"):
        core.assert_close(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), name="x")
    with pytest.raises(CheckFailure):
        core.assert_close(np.array([1.0]), np.array([np.nan]), name="x")


def test_assert_close_checks_shape_and_scalars():
    """Does a shape mismatch fail, and do scalars compare without an index in the message?"""
    with pytest.raises(CheckFailure, match=r"shape \(3,\), expected \(2,\)"):
        core.assert_close(np.ones(3), np.ones(2), name="b")
    with pytest.raises(CheckFailure, match=r"^loss is wrong: got 2, expected 1"):
        core.assert_close(2.0, 1.0, name="loss")


def test_assert_unchanged():
    """Does an in-place modification (or a reshape) raise naming the input, and an untouched one pass?"""
    before = np.array([1.0, np.nan])
    core.assert_unchanged(before, before.copy(), name="x")
    with pytest.raises(CheckFailure, match="modified its input W in place"):
        core.assert_unchanged(before, np.array([2.0, np.nan]), name="W")
    with pytest.raises(CheckFailure, match="x"):
        core.assert_unchanged(before, before.reshape(2, 1), name="x")


def test_match_mistake_names_the_matching_mistake_lazily():
    """Does match_mistake return the first matching description, computing candidates only as needed?"""
    calls = []

    def expensive():
        calls.append(1)
        return np.array([9.0])

    candidates = {"used fan_in only": np.array([1.0, 2.0]), "later": expensive}
    assert core.match_mistake(np.array([1.0, 2.0]), candidates) == "used fan_in only"
    assert calls == []
    assert core.match_mistake(np.array([9.0]), candidates) == "later"
    assert core.match_mistake(np.array([5.0, 5.0]), candidates) is None


def test_match_mistake_skips_broken_candidates_and_odd_values():
    """Are candidates that raise or differ in shape skipped, and a non-numeric answer unmatched?"""

    def broken():
        raise ZeroDivisionError

    candidates = {"broken": broken, "wrong shape": np.ones(3), "right": np.ones(2)}
    assert core.match_mistake(np.ones(2), candidates) == "right"
    assert core.match_mistake("not numbers", candidates) is None


def test_rel_error():
    """Is rel_error max|a-b| / max(1e-8, max(|a|+|b|)), 0 for empty arrays?"""
    assert core.rel_error(np.array([1.0, 3.0]), np.array([1.0, 2.0])) == pytest.approx(1.0 / 5.0)
    assert core.rel_error(np.array([1e-10]), np.array([0.0])) == pytest.approx(1e-2)
    assert core.rel_error(np.zeros(0), np.zeros(0)) == 0.0


def test_call_explains_an_in_place_matmul_that_changes_shape():
    """Does `a @= W` with a non-square W get advice to write `a = a @ W`, not only NumPy's gufunc text?"""

    def chain(a, W):
        a = a.copy()
        a @= W
        return a

    with pytest.raises(CheckFailure, match=r"raised ValueError: .*write `a = a @ W` instead"):
        core.call(chain, np.ones((4, 3)), np.ones((3, 5)))
    with pytest.raises(CheckFailure) as plain:
        core.call(lambda: np.ones(3).reshape(2, 2), name="reshape")
    assert "in-place" not in str(plain.value)


def _rejects(scale):
    if scale <= 1:
        raise ValueError(f"scale {scale} must be > 1")
    return 2


def test_expect_value_error_accepts_a_value_error_and_names_anything_else():
    """Does expect_value_error pass a ValueError and name a returned value or another exception?"""
    core.expect_value_error(_rejects, 0.5, name="f", what="f(0.5)", why="0.5 is too small")
    with pytest.raises(CheckFailure, match=r"f\(3\) returned 2; it must raise ValueError: 3 is fine"):
        core.expect_value_error(_rejects, 3, name="f", what="f(3)", why="3 is fine")
    with pytest.raises(CheckFailure, match=r"raised TypeError: .*; it must raise ValueError: no strings"):
        core.expect_value_error(_rejects, "x", name="f", what="f('x')", why="no strings")
    with pytest.raises(CheckFailure, match=r"returned a tuple; it must raise"):
        core.expect_value_error(lambda: (np.zeros(3), None), name="g", what="g()", why="why")


def test_expect_value_error_reports_a_blank_answer_and_lets_check_failures_through():
    """Is an unimplemented answer told so, and a CheckFailure raised inside (a time limit) kept as it is?"""

    def blank(x):
        raise NotImplementedError()

    def timed_out(x):
        raise CheckFailure("f(1) did not return within 2 s")

    with pytest.raises(CheckFailure, match="blank is not implemented yet"):
        core.expect_value_error(blank, 1, name="blank", what="blank(1)", why="why")
    with pytest.raises(CheckFailure, match=r"^f\(1\) did not return within 2 s$"):
        core.expect_value_error(timed_out, 1, name="f", what="f(1)", why="why")


def test_assert_close_advice_follows_the_diagnosis():
    """Is the advice appended after describe()'s diagnosis, which a hint would replace but advice keeps?"""
    expected = np.array([1.0, -2.0, 3.0, 0.5])
    with pytest.raises(CheckFailure) as info:
        core.assert_close(2 * expected, expected, name="g", advice="g = the formula")
    message = str(info.value)
    assert "Likely cause: it is the right answer times 2" in message
    assert message.endswith(". g = the formula")
    with pytest.raises(CheckFailure) as info:
        core.assert_close(2 * expected, expected, name="g", hint="known mistake", advice="g = the formula")
    assert str(info.value).endswith(". known mistake. g = the formula")


def test_as_array_names_a_transposed_shape():
    """Is a 2-D result of the reversed shape told that it is the transpose, and any other shape not?"""
    with pytest.raises(CheckFailure, match=r"expected \(2, 3\) \(the transpose of that shape"):
        core.as_array(np.zeros((3, 2)), name="dx", shape=(2, 3))
    with pytest.raises(CheckFailure) as info:
        core.as_array(np.zeros((3, 3)), name="dx", shape=(2, 3))
    assert "transpose" not in str(info.value)
