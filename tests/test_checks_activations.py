"""gradlib.checks.activations: the checks of lesson 02 accept the reference and name wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import activations as ref
from gradlib.checks import CheckFailure
from gradlib.checks import activations as chk

NAMES = [
    "sigmoid",
    "sigmoid_grad",
    "tanh_grad",
    "relu",
    "relu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "elu",
    "elu_grad",
    "selu",
    "selu_grad",
]
PARAMS = {"leaky_relu": [None, 0.2, 0.05], "elu": [None, 0.5, 1.7]}


def _params(name):
    return PARAMS.get(name.removesuffix("_grad"), [None])


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_every_case(name):
    """Does every check pass gradlib's reference, with extreme inputs and other shapes and parameters?"""
    for param in _params(name):
        for shape, seed in [((3, 7), 0), ((5,), 1), ((2, 3, 4), 2)]:
            for extreme in (False, True):
                fn = getattr(ref, name)
                err = chk.check_activation(fn, name, param=param, shape=shape, seed=seed, extreme=extreme)
                assert err < 1e-15


def test_unknown_name_is_rejected():
    """Does check_activation refuse a name gradlib has no activation for, naming it?"""
    with pytest.raises(ValueError, match="'swish'"):
        chk.check_activation(ref.relu, "swish")


def _naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _naive_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))


def _relu_inplace(x):
    x[x < 0] = 0
    return x


def _blank(x, *args):
    raise NotImplementedError()


WRONG = [
    ("sigmoid", _blank, None, False, "not implemented"),
    ("sigmoid", _naive_sigmoid, None, True, "not numerically stable"),
    ("sigmoid", lambda x: np.exp(x) / (1 + np.exp(x)), None, True, "overflow"),
    ("sigmoid", lambda x: ref.sigmoid(-x), None, False, "sign error"),
    ("sigmoid_grad", lambda x: x * (1 - x), None, False, "s = sigmoid(x)"),
    ("sigmoid_grad", ref.sigmoid, None, False, "not its derivative"),
    ("tanh_grad", lambda x: 1 - x**2, None, False, "t = tanh(x)"),
    ("tanh_grad", lambda x: 1 / np.cosh(x) ** 2, None, True, "not numerically stable"),
    ("relu", _relu_inplace, None, False, "modified its input x"),
    ("relu", np.abs, None, False, "abs(x)"),
    ("relu_grad", lambda x: (x >= 0) * 1.0, None, False, "relu'(0) = 1"),
    ("leaky_relu", lambda x, s=0.01: ref.leaky_relu(x), 0.2, False, "default slope"),
    ("leaky_relu", lambda x, s=0.01: np.where(x > 0, s * x, x), 0.2, False, "positive side"),
    ("leaky_relu_grad", lambda x, s=0.01: (x > 0) * 1.0, 0.2, False, "ReLU's derivative"),
    ("leaky_relu_grad", lambda x, s=0.01: np.where(x >= 0, 1.0, s), 0.2, False, "at the kink"),
    ("leaky_relu_grad", lambda x, s=0.01: np.where(x > 0, 1.0, s * x), 0.2, False, "the function"),
    ("elu", _naive_elu, None, True, "not numerically stable"),
    ("elu", lambda x, a=1.0: ref.elu(x), 0.5, False, "alpha = 1"),
    ("elu", lambda x, a=1.0: np.where(x > 0, x, a * np.exp(np.minimum(x, 0))), 0.5, False, "without the - 1"),
    ("elu_grad", lambda x, a=1.0: np.where(x >= 0, 1.0, a * np.exp(np.minimum(x, 0))), 0.5, False, "kink"),
    (
        "elu_grad",
        lambda x, a=1.0: np.where(x > 0, 1.0, a * np.expm1(np.minimum(x, 0))),
        0.5,
        False,
        "function",
    ),
    ("selu", lambda x: ref.elu(x, ref.SELU_ALPHA), None, False, "without SELU's scale"),
    ("selu", lambda x: 1.0507 * ref.elu(x, 1.6733), None, False, "full constants"),
    (
        "selu_grad",
        lambda x: np.where(x > 0, 1.0, ref.SELU_SCALE * ref.SELU_ALPHA * np.exp(np.minimum(x, 0))),
        None,
        False,
        "1 on the positive side",
    ),
]


@pytest.mark.parametrize(("name", "fn", "param", "extreme", "message"), WRONG)
def test_wrong_activation_is_named(name, fn, param, extreme, message):
    """Does check_activation fail a known wrong activation with a message naming the mistake?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_activation(fn, name, param=param, extreme=extreme)
    assert message.lower() in str(info.value).lower()


def test_check_never_writes_warnings(recwarn):
    """Does a failing stability check leave no warning behind (nothing reaches stderr)?"""
    with pytest.raises(CheckFailure):
        chk.check_activation(_naive_sigmoid, "sigmoid", extreme=True)
    assert len(recwarn) == 0


# ----------------------------------------------------------------------------- dead units
def test_dead_fraction_reference_counts_zero_as_dead():
    """Is a unit with pre-activations 0 and -1 dead, and one with a single 0.5 alive?"""
    h = np.array([[0.0, -1.0, 0.5, 2.0], [-1.0, -2.0, -3.0, 1.0]])
    assert chk.dead_fraction_reference(h) == 0.5


@pytest.mark.parametrize(("n", "units", "seed"), [(6, 10, 0), (50, 7, 11), (3, 25, 12), (1, 8, 13)])
def test_dead_fraction_check_accepts_reference(n, units, seed):
    """Does check_dead_fraction pass the reference on several batch shapes?"""
    value = chk.check_dead_fraction(chk.dead_fraction_reference, n=n, units=units, seed=seed)
    assert 0.0 < value < 1.0


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda h: float((h <= 0).mean()), "fraction of all entries"),
        (lambda h: float((h < 0).all(axis=0).mean()), "h < 0"),
        (lambda h: float((h <= 0).all(axis=1).mean()), "examples (rows)"),
        (lambda h: float((h <= 0).any(axis=0).mean()), "for any example"),
        (lambda h: int((h <= 0).all(axis=0).sum()), "count"),
        (lambda h: (h <= 0).all(axis=0), "one number"),
        (_blank, "not implemented"),
    ],
)
def test_dead_fraction_check_names_mistakes(fn, message):
    """Does check_dead_fraction fail each wrong definition with a message naming it?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_dead_fraction(fn)
    assert message.lower() in str(info.value).lower()
