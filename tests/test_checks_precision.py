"""gradlib.checks.precision: loss scaling is graded against float64, and the known mistakes are named."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import precision as pr
from gradlib.checks import CheckFailure
from gradlib.checks import precision as chk


def test_problem_really_underflows_without_scaling():
    """Does a float16 backward pass without scaling lose a sizable part of the gradient?"""
    backward, dout, exact = chk.make_problem(16, 8, 6, 4, dout_std=1e-7, seed=0)
    plain = backward(dout.astype(np.float16))
    err = max(np.max(np.abs(p - e)) / np.max(np.abs(e)) for p, e in zip(plain, exact, strict=True))
    assert err > 0.1
    assert pr.underflow_fraction(dout) > 0.1


@pytest.mark.parametrize(
    ("scale", "std", "seed"), [(2.0**16, 1e-7, 0), (2.0**12, 5e-7, 7), (2.0**18, 3e-8, 8)]
)
def test_reference_passes(scale, std, seed):
    """Does gradlib's loss_scaled_gradients pass within the tolerance, with room to spare?"""
    assert chk.check_loss_scaling(pr.loss_scaled_gradients, scale=scale, dout_std=std, seed=seed) < 5e-3
    assert chk.check_overflow_detected(pr.loss_scaled_gradients)


def _variant(kind):
    def fn(backward, dout, scale):
        with np.errstate(all="ignore"):
            if kind == "no scaling":
                grads = [g.astype(np.float32) for g in backward(dout.astype(np.float16))]
            elif kind == "no unscale":
                grads = [g.astype(np.float32) for g in backward((dout * scale).astype(np.float16))]
            elif kind == "unscale in float16":
                grads = [
                    (g / np.float16(scale)).astype(np.float32)
                    for g in backward((dout * scale).astype(np.float16))
                ]
            elif kind == "float16 result":
                return pr.loss_scaled_gradients(backward, dout, scale)[0][0].astype(np.float16), False
        return grads, False

    return fn


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("no scaling", "no loss scaling"),
        ("no unscale", "forgot to unscale"),
        ("unscale in float16", "divided by the scale in float16"),
    ],
)
def test_known_mistakes_are_named(kind, text):
    """Is each known loss-scaling mistake caught and named?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_loss_scaling(_variant(kind))
    assert text in str(info.value)


def test_missing_inf_flag_is_caught():
    """Is found_inf=False on an overflowing scale caught?"""

    def never(backward, dout, scale):
        return pr.loss_scaled_gradients(backward, dout, scale)[0], False

    with pytest.raises(CheckFailure, match="found_inf is False"):
        chk.check_overflow_detected(never)


def test_scale_in_float16_is_explained():
    """Is multiplying by 2**16 in float16 (which overflows) explained in the message?"""

    def in_f16(backward, dout, scale):
        with np.errstate(all="ignore"):
            grads = [
                g.astype(np.float32) / scale for g in backward(dout.astype(np.float16) * np.float16(scale))
            ]
        return grads, not all(np.isfinite(g).all() for g in grads)

    with pytest.raises(CheckFailure, match="before multiplying by the scale"):
        chk.check_loss_scaling(in_f16)


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (lambda b, d, s: None, "(grads, found_inf)"),
        (lambda b, d, s: ([np.zeros(1, np.float32)], False), "list of 2 arrays"),
        (lambda b, d, s: (pr.loss_scaled_gradients(b, d, s)[0], "no"), "must be a bool"),
        (lambda b, d, s: (pr.loss_scaled_gradients(b, d, s)[0][::-1], False), "shape"),
    ],
)
def test_malformed_results_are_explained(answer, text):
    """Does a malformed result fail with a message saying what is malformed?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_loss_scaling(answer)
    assert text in str(info.value)


def test_checks_are_silent(capsys):
    """Do the checks write nothing to stdout/stderr even when the answer overflows?"""
    with pytest.raises(CheckFailure):
        chk.check_loss_scaling(_variant("no unscale"), scale=2.0**30)
    assert capsys.readouterr() == ("", "")


def test_an_overflow_in_the_first_gradient_only_must_be_found():
    """Does an answer that checks only the last gradient for inf fail when only the first overflows?"""

    def last_only(backward, dout, scale):
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (np.asarray(dout, dtype=np.float32) * np.float32(scale)).astype(np.float16)
            grads = [np.asarray(g).astype(np.float32) / np.float32(scale) for g in backward(scaled)]
        return grads, bool(not np.all(np.isfinite(grads[-1])))

    assert chk.check_overflow_detected(last_only, scale=2.0**24, dout_std=1e-2, seed=1)  # all overflow
    with pytest.raises(CheckFailure, match="only the first gradient overflows"):
        chk.check_overflow_detected(last_only, scale=2.0**10, dout_std=1e-3, seed=3, first_only=True)
