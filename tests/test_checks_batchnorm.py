"""gradlib.checks.batchnorm: the reference passes every check, known mistakes fail with a message naming them.

The lesson's catalog is graded in-process by test_catalog_inprocess.py and with nbgrader by test_selfcheck.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import batchnorm as ref
from gradlib.checks import CheckFailure
from gradlib.checks import batchnorm as chk


@pytest.mark.parametrize("N", [2, 3, 4, 33])
def test_reference_passes_every_check(N):
    """Does gradlib's reference pass all checks for N = 2, 3, 4, 33 and several eps/momentum values?"""
    f, b = ref.batchnorm_forward, ref.batchnorm_backward
    for eps, momentum in ((1e-5, 0.1), (1e-3, 0.01), (1e-2, 0.9)):
        assert chk.forward_training(f, N=N, D=4, eps=eps, momentum=momentum, seed=N) < 1e-10
        assert chk.running_stats(f, N=N, D=4, eps=eps, momentum=momentum, seed=N) < 1e-10
        assert chk.forward_eval(f, N=N, D=4, eps=eps, momentum=momentum, seed=N) < 1e-10
        assert chk.backward_training(f, b, N=N, D=4, eps=eps, seed=N) < 1e-10
        assert chk.backward_eval(f, b, N=N, D=4, eps=eps, seed=N) < 1e-10
    chk.batch_of_one(f, D=4, seed=N)


def _unbiased_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    out, cache, rm, rv = ref.batchnorm_forward(
        x, gamma, beta, running_mean, running_var, training=training, momentum=momentum, eps=eps
    )
    if training:
        mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return out, cache, rm, rv


def test_unbiased_variance_is_caught_with_two_examples():
    """Is normalizing with the unbiased variance caught and named with N = 2?"""
    with pytest.raises(CheckFailure, match="unbiased variance"):
        chk.forward_training(_unbiased_forward, N=2, D=3, seed=0)


def test_wrong_forward_is_reported_by_the_backward_check():
    """Does the backward check refuse a cache made by a wrong forward, saying to fix the forward?"""
    with pytest.raises(CheckFailure, match="fix batchnorm_forward first"):
        chk.backward_training(_unbiased_forward, ref.batchnorm_backward, N=3, D=3, seed=0)


def test_blank_answers_fail():
    """Do all checks fail with 'not implemented' on a blank answer?"""

    def blank(*args, **kwargs):
        raise NotImplementedError()

    for check in (chk.forward_training, chk.running_stats, chk.forward_eval):
        with pytest.raises(CheckFailure, match="not implemented"):
            check(blank, N=3, D=2)
    with pytest.raises(CheckFailure, match="not implemented"):
        chk.batch_of_one(blank, D=2)
    with pytest.raises(CheckFailure, match="not implemented"):
        chk.backward_training(ref.batchnorm_forward, blank, N=3, D=2)
    with pytest.raises(CheckFailure, match="not implemented"):
        chk.backward_eval(blank, blank, N=3, D=2)


def test_inputs_are_built_to_reveal_missing_eps():
    """Does feature 0 of the check inputs have a variance below the default eps?"""
    x = chk.make_inputs(8, 3, seed=0)["x"]
    assert x[:, 0].var() < 1e-5 < x[:, 1:].var(axis=0).min()
