"""gradlib._validate: TypeError for a wrong type, ValueError for a wrong value, across the library.

Every message names the bad value and what is allowed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlib import _validate as v
from gradlib import (
    activations,
    batchnorm,
    chain,
    clip,
    data,
    diagnostics,
    gradcheck,
    init,
    layers,
    losses,
    mlp,
    precision,
    stats,
    train,
)


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: v.number("0.1", "slope"), "'0.1' (str)"),
        (lambda: v.number(True, "std", at_least=0), "True (bool)"),
        (lambda: v.number(None, "eps", above=0), "None (NoneType)"),
        (lambda: v.integer(2.5, "width", at_least=1), "2.5 (float)"),
        (lambda: v.integer(True, "depth", at_least=1), "True (bool)"),
        (lambda: v.integer("3", "depth"), "'3' (str)"),
        (lambda: v.generator(42), "42 (int)"),
        (lambda: v.generator(np.random.RandomState(0)), "RandomState"),
        (lambda: v.float_array(np.array(["a", "b"]), "x"), "<U1"),
        (lambda: v.float_array(np.ones(2, dtype=complex), "x"), "complex128"),
        (lambda: v.shaped_like(np.array([None]), (1,)), "object"),
    ],
)
def test_wrong_type_raises_a_type_error_naming_it(call, text):
    """Does a wrong type raise ArgumentTypeError (a TypeError and a ValueError) naming the value?"""
    with pytest.raises(v.ArgumentTypeError) as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert text in str(info.value)


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: v.number(-1.0, "std", at_least=0), "std must be a finite number >= 0, got -1.0"),
        (lambda: v.number(0.0, "eps", above=0), "eps must be a finite number > 0, got 0.0"),
        (
            lambda: v.number(1.5, "momentum", at_least=0, at_most=1),
            "momentum must be a finite number in [0, 1], got 1.5",
        ),
        (lambda: v.number(1.0, "momentum", at_least=0, below=1), "in [0, 1), got 1.0"),
        (lambda: v.number(0.5, "growth", above=1), "growth must be a finite number > 1, got 0.5"),
        (lambda: v.number(2.0, "backoff", above=0, below=1), "in (0, 1), got 2.0"),
        (lambda: v.number(math.inf, "value"), "value must be a finite number, got inf"),
        (lambda: v.number(math.nan, "scale", finite=False), "scale must be a number, got nan"),
        (lambda: v.integer(0, "depth", at_least=1), "depth must be an integer >= 1, got 0"),
        (lambda: v.integer(9, "batch_size", at_least=1, at_most=8), "an integer in [1, 8], got 9"),
        (
            lambda: v.choice("fan_sum", "mode", ("fan_in", "fan_out")),
            "mode 'fan_sum' is not one of fan_in, fan_out",
        ),
        (lambda: v.choice(["l2"], "clip", (None, "value")), "clip ['l2'] is not one of None, value"),
        (lambda: v.float_array(np.ones(3), "x", ndim=2), "x must be 2-D, got shape (3,)"),
        (
            lambda: v.compatible(False, "x", (2, 3), "W", (4, 5), "x.shape[1] must equal W.shape[0]"),
            "x has shape (2, 3) but W has shape (4, 5): x.shape[1] must equal W.shape[0]",
        ),
        (
            lambda: v.shaped_like(np.ones((3, 5)), (5, 3)),
            "dout has shape (3, 5), expected the forward output's shape (5, 3)",
        ),
    ],
)
def test_wrong_value_raises_a_value_error_naming_it(call, text):
    """Does a value out of range or not among the options raise a plain ValueError naming it and the range?"""
    with pytest.raises(ValueError) as info:
        call()
    assert not isinstance(info.value, TypeError)
    assert text in str(info.value)


def test_valid_values_come_back_as_python_scalars():
    """Are valid numbers and integers returned as float and int, numpy scalars included?"""
    assert v.number(np.float32(0.5), "x", at_least=0, at_most=1) == 0.5
    assert type(v.number(np.int64(3), "x")) is float
    assert v.number(math.inf, "scale", finite=False) == math.inf
    assert v.number(0.0, "std", at_least=0) == 0.0
    assert v.integer(np.int32(4), "n", at_least=4) == 4 and type(v.integer(np.int32(4), "n")) is int
    assert v.choice(None, "clip", (None, "value")) is None
    rng = np.random.default_rng(0)
    assert v.generator(rng) is rng
    assert v.compatible(True, "x", (2, 3), "W", (3, 5), "fits") is None


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floating_arrays_keep_their_dtype_without_a_copy(dtype):
    """Does a floating array come back as the very same array, dtype kept?"""
    x = np.ones((2, 3), dtype=dtype)
    assert v.float_array(x, "x", ndim=2) is x
    assert v.shaped_like(x, (2, 3)) is x


@pytest.mark.parametrize(
    "value", [np.array([1, 2]), np.array([True, False]), [1, 2], np.arange(2, dtype=np.uint8)]
)
def test_integer_and_bool_arrays_become_float64(value):
    """Are integer, unsigned, bool arrays and lists of ints converted to float64?"""
    out = v.float_array(value, "x")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(value, dtype=np.float64))


# --------------------------------------------------------------------------- the library's public boundary
def _rng():
    return np.random.default_rng(0)


# (call with the bad argument, its repr): one wrong type and one wrong value per module.
WRONG_TYPES = [
    (lambda: activations.get("elu", alpha="1"), "'1'"),
    (lambda: init.he_normal((4, 3), rng=7), "7"),
    (lambda: init.normal((2, 2), std="1", rng=_rng()), "'1'"),
    (lambda: init.compute_fans((3, 2.5)), "2.5"),
    (
        lambda: batchnorm.batchnorm_forward(np.ones((2, 2)), *[np.ones(2)] * 4, training=True, eps="1e-5"),
        "'1e-5'",
    ),
    (lambda: batchnorm.keras_momentum(None), "None"),
    (lambda: chain.scaled_identity_weights(2.0, 3, 1.0), "2.0"),
    (lambda: clip.clip_by_value([np.ones(2)], "1"), "'1'"),
    (lambda: data.spirals(10, noise="0.2", rng=_rng()), "'0.2'"),
    (lambda: layers.affine_forward(np.array([["a"]]), np.ones((1, 1)), np.ones(1)), "<U1"),
    (lambda: losses.mse(np.ones(2, dtype=complex), np.ones(2)), "complex128"),
    (lambda: precision.unscale([np.ones(2)], "big"), "'big'"),
    (lambda: stats.mean_tolerance(1.0, 10.5), "10.5"),
    (lambda: mlp.MLP(3, 2, depth=2, width=2.5), "2.5"),
    (lambda: train.sgd_momentum_step({}, {}, {}, lr="0.1"), "'0.1'"),
    (lambda: gradcheck.numerical_gradient(lambda w: 0.0, np.ones(2), h="1e-5"), "'1e-5'"),
    (lambda: diagnostics.dead_fraction(np.array([["x"]])), "<U1"),
]
WRONG_VALUES = [
    (lambda: activations.get("rleu"), "'rleu'"),
    (lambda: init.variance_scaling((4, 3), mode="fan_sum", rng=_rng()), "'fan_sum'"),
    (lambda: init.normal((2, 2), std=-1.0, rng=_rng()), "-1.0"),
    (lambda: batchnorm.keras_momentum(1.5), "1.5"),
    (lambda: chain.scaled_identity_weights(0, 3, 1.0), "0"),
    (lambda: clip.clip_by_norm([np.ones(2)], 0.0), "0.0"),
    (lambda: data.circles(10, factor=1.5, rng=_rng()), "1.5"),
    (lambda: layers.affine_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5)), "(2, 3)"),
    (lambda: losses.mse(np.ones(3), np.ones(2)), "(2,)"),
    (lambda: precision.update_scale(1.0, 0, False, backoff_factor=2.0), "2.0"),
    (lambda: stats.z_for(1.5), "1.5"),
    (lambda: mlp.MLP(3, 2, depth=0, width=4), "0"),
    (lambda: train.sgd_momentum_step({}, {}, {}, lr=0.1, momentum=1.0), "1.0"),
    (lambda: gradcheck.numerical_gradient(lambda w: 0.0, np.ones(2), h=0.0), "0.0"),
    (lambda: diagnostics.dead_fraction(np.ones(3)), "(3,)"),
]


@pytest.mark.parametrize("call, text", WRONG_TYPES)
def test_every_module_raises_type_error_for_a_wrong_type(call, text):
    """Does each module answer a wrong type with a TypeError naming the value?"""
    with pytest.raises(TypeError) as info:
        call()
    assert text in str(info.value)


@pytest.mark.parametrize("call, text", WRONG_VALUES)
def test_every_module_raises_value_error_for_a_wrong_value(call, text):
    """Does each module answer a wrong value with a ValueError (not a TypeError) naming it?"""
    with pytest.raises(ValueError) as info:
        call()
    assert not isinstance(info.value, TypeError)
    assert text in str(info.value)
