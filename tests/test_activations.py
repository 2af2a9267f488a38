"""gradlib.activations against torch.nn.functional and autograd (float64)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from conftest import away_from_kinks, to_numpy, to_torch

from gradlib import activations as act
from gradlib.gradcheck import numerical_gradient_array, rel_error

# One table drives every test: (name, params, torch function). The function and derivative under test
# come from gradlib's own table, act.TABLE, so every activation gradlib defines is tested.
ORACLE = [
    ("linear", {}, lambda t: t * 1.0),
    ("sigmoid", {}, torch.sigmoid),
    ("tanh", {}, torch.tanh),
    ("relu", {}, F.relu),
    ("leaky_relu", {}, F.leaky_relu),
    ("leaky_relu", {"negative_slope": 0.2}, F.leaky_relu),
    ("elu", {}, F.elu),
    ("elu", {"alpha": 0.5}, F.elu),
    ("selu", {}, F.selu),
]
TABLE = [(name, params, act.TABLE[name].fn, act.TABLE[name].grad, oracle) for name, params, oracle in ORACLE]
IDS = [name + "".join(f"-{k}={v}" for k, v in params.items()) for name, params, *_ in TABLE]

# 0 exactly, the kink's neighbours, the saturated regions, and +-1e4 (overflow territory for exp).
GRID = np.concatenate(
    [
        [0.0, -0.0, 1e-12, -1e-12, 1e-8, -1e-8, 1e4, -1e4, 745.0, -745.0, 800.0, -800.0, 40.0, -40.0],
        np.linspace(-6.0, 6.0, 97),
    ]
)
# Tolerances: values agree to ~1 ulp (torch flushes e^-745 = 5e-324 to 0, hence the subnormal atol);
# derivatives like 1 - tanh^2 cancel, so a 1-ulp difference in tanh near 1 shows as ~2e-16 absolute.
VALUE_ATOL = 1e-300
GRAD_ATOL = 1e-15


def _torch_value_and_grad(torch_fn, params, x):
    t = to_torch(x, grad=True)
    out = torch_fn(t, **params)
    out.sum().backward()
    return to_numpy(out), to_numpy(t.grad)


@pytest.fixture(params=range(len(TABLE)), ids=IDS)
def entry(request):
    """One row of the table."""
    return TABLE[request.param]


def test_values_match_torch(entry):
    """Does each activation equal its torch.nn.functional counterpart on the whole grid?"""
    _, params, fn, _, torch_fn = entry
    expected, _ = _torch_value_and_grad(torch_fn, params, GRID)
    np.testing.assert_allclose(fn(GRID, **params), expected, rtol=1e-14, atol=VALUE_ATOL)


def test_derivatives_match_autograd(entry):
    """Does each derivative equal torch autograd's on the grid, including x = 0 and +-1e4?"""
    _, params, _, grad, torch_fn = entry
    _, expected = _torch_value_and_grad(torch_fn, params, GRID)
    np.testing.assert_allclose(grad(GRID, **params), expected, rtol=1e-13, atol=GRAD_ATOL)


def test_derivative_at_zero_is_exactly_autograds(entry):
    """Is the derivative at exactly 0 (and -0) the very value autograd gives at the kink?"""
    _, params, _, grad, torch_fn = entry
    zeros = np.array([0.0, -0.0])
    _, expected = _torch_value_and_grad(torch_fn, params, zeros)
    assert grad(zeros, **params).tolist() == expected.tolist()


def test_derivatives_match_numerical_gradient(entry, rng):
    """Does each derivative agree with centered differences of its own function (rel. error < 1e-7)?"""
    _, params, fn, grad, _ = entry
    x = away_from_kinks(rng.normal(0.0, 3.0, size=(6, 5)))
    dout = rng.normal(size=x.shape)
    numeric = numerical_gradient_array(lambda v: fn(v, **params), x, dout)
    assert rel_error(grad(x, **params) * dout, numeric) < 1e-7


def test_no_warnings_or_floating_point_errors_at_extremes(entry):
    """Do the function and its derivative run silently at +-1e4, even with every numpy error raising?"""
    _, params, fn, grad, _ = entry
    x = np.array([-1e4, -1e3, -745.0, -1.0, 0.0, 1.0, 745.0, 1e3, 1e4])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, der = fn(x, **params), grad(x, **params)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(der))


def test_inputs_unchanged_and_dtypes(entry):
    """Are inputs left untouched, float32 kept as float32 and integers promoted to float64?"""
    _, params, fn, grad, _ = entry
    x = np.array([-2.0, 0.0, 3.0])
    before = x.copy()
    fn(x, **params), grad(x, **params)
    np.testing.assert_array_equal(x, before)
    assert fn(x.astype(np.float32), **params).dtype == np.float32
    assert grad(x.astype(np.float32), **params).dtype == np.float32
    assert fn(np.array([-2, 0, 3]), **params).dtype == np.float64
    assert fn(x, **params).shape == grad(x, **params).shape == x.shape


def test_registry_entry_matches_functions_and_torch(entry):
    """Does get(name, **params) bundle the same function, derivative, torch name and torch's gain?"""
    name, params, fn, grad, _ = entry
    record = act.get(name, **params)
    assert record.name == name
    np.testing.assert_array_equal(record.fn(GRID), fn(GRID, **params))
    np.testing.assert_array_equal(record(GRID), fn(GRID, **params))
    np.testing.assert_array_equal(record.grad(GRID), grad(GRID, **params))
    torch_fn = getattr(F, record.torch_name, None) or getattr(torch, record.torch_name)
    if name != "linear":
        expected, _ = _torch_value_and_grad(torch_fn, params, GRID)
        np.testing.assert_allclose(record.fn(GRID), expected, rtol=1e-14, atol=VALUE_ATOL)
    if name == "elu":
        assert record.gain == math.sqrt(2.0)  # PyTorch defines no gain for ELU
    else:
        param = params.get("negative_slope")
        assert record.gain == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_registry_covers_every_name():
    """Does the table test every name get() accepts?"""
    assert {name for name, *_ in TABLE} == set(act.NAMES)


def test_sigmoid_derivative_peaks_at_a_quarter():
    """Is max sigmoid' exactly 0.25, at x = 0 (why L sigmoids shrink gradients by 0.25^L)?"""
    x = np.linspace(-10, 10, 2001)
    assert act.sigmoid_grad(np.array(0.0)) == 0.25
    assert act.sigmoid_grad(x).max() == 0.25


def test_selu_constants_are_pytorch():
    """Are SELU's alpha and scale the values PyTorch uses?"""
    one = torch.tensor([-1.0, 1.0], dtype=torch.float64)
    out = F.selu(one).numpy()
    assert out[1] == pytest.approx(act.SELU_SCALE, rel=1e-15)
    assert out[0] == pytest.approx(act.SELU_SCALE * act.SELU_ALPHA * math.expm1(-1.0), rel=1e-15)


def test_get_passes_activation_objects_through():
    """Does get() return an Activation unchanged, so layers accept either a name or a record?"""
    record = act.get("leaky_relu", negative_slope=0.3)
    assert act.get(record) is record
    assert record.params == {"negative_slope": 0.3}


@pytest.mark.parametrize("bad", ["rleu", "ReLU", "softmax", ""])
def test_unknown_name_raises_listing_options(bad):
    """Does an unknown activation name raise ValueError naming it and listing the options?"""
    with pytest.raises(ValueError, match=f"'{bad}'") as info:
        act.get(bad)
    assert all(name in str(info.value) for name in act.NAMES)


def test_bad_parameters_raise_naming_them():
    """Do a foreign parameter, a non-number and an infinite slope raise, naming the bad value?"""
    with pytest.raises(ValueError, match="'alpha'"):
        act.get("relu", alpha=1.0)
    with pytest.raises(ValueError, match="'alpha'.*negative_slope"):
        act.get("leaky_relu", alpha=1.0)
    with pytest.raises(TypeError, match="'0.1'"):
        act.leaky_relu(np.ones(2), negative_slope="0.1")
    with pytest.raises(ValueError, match="inf"):
        act.elu(np.ones(2), alpha=float("inf"))
    with pytest.raises(TypeError, match="3"):
        act.get(3)


def test_non_numeric_input_raises_type_error():
    """Does a string array raise TypeError naming its dtype?"""
    with pytest.raises(TypeError, match="<U"):
        act.relu(np.array(["a", "b"]))
