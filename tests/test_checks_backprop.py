"""gradlib.checks.backprop: the checks of lesson 01 accept the reference and name wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

from gradlib import chain as ref_chain
from gradlib import layers as ref_layers
from gradlib.checks import CheckFailure
from gradlib.checks import backprop as chk


def _blank(*args, **kwargs):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- affine
def test_affine_checks_accept_reference():
    """Do the affine checks pass gradlib's reference on several non-square shapes?"""
    for n, d, m, seed in [(4, 5, 3, 0), (7, 2, 6, 11), (1, 9, 4, 12)]:
        assert chk.check_affine_forward(ref_layers.affine_forward, n=n, d=d, m=m, seed=seed) < 1e-12
        assert chk.check_affine_backward(ref_layers.affine_backward, n=n, d=d, m=m, seed=seed) < 1e-12
    assert chk.check_affine_backward_numerically(ref_layers.affine_backward) < 1e-7


def _fwd_no_bias(x, W, b):
    return x @ W, (x, W, b)


def _fwd_transposed(x, W, b):
    return x @ W.T + b, (x, W, b)


def _fwd_no_cache(x, W, b):
    return x @ W + b


def _fwd_inplace(x, W, b):
    x *= 1.5
    return x @ W / 1.5 + b, (x, W, b)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_blank, "not implemented"),
        (_fwd_no_bias, "forgot to add the bias"),
        (_fwd_transposed, "raised ValueError"),
        (_fwd_no_cache, "(out, cache)"),
        (_fwd_inplace, "modified its input x"),
    ],
)
def test_affine_forward_check_names_mistakes(fn, message):
    """Does check_affine_forward fail each wrong forward with a message naming the mistake?"""
    with pytest.raises(CheckFailure, match=None) as info:
        chk.check_affine_forward(fn)
    assert message.lower() in str(info.value).lower()


def _bwd(dx_fn=None, dW_fn=None, db_fn=None):
    def affine_backward(dout, cache):
        x, W, b = cache
        dx = dx_fn(dout, x, W) if dx_fn else dout @ W.T
        dW = dW_fn(dout, x, W) if dW_fn else x.T @ dout
        db = db_fn(dout) if db_fn else dout.sum(axis=0)
        return dx, dW, db

    return affine_backward


def _bwd_inplace(dout, cache):
    x, W, b = cache
    db = dout.sum(axis=0)
    dout -= 0.5
    dout += 0.5  # restores the value only approximately; and the array was written anyway
    dout *= 2.0
    return (dout / 2) @ W.T, x.T @ (dout / 2), db


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (_blank, "not implemented"),
        (_bwd(dW_fn=lambda d, x, W: d.T @ x), "shape"),
        (_bwd(db_fn=lambda d: d.sum(axis=1)), "dout.sum(axis=0)"),
        (_bwd(db_fn=lambda d: d.mean(axis=0)), "mean over the batch"),
        (_bwd(dW_fn=lambda d, x, W: x.T @ d / len(x)), "averaged"),
        (_bwd(dx_fn=lambda d, x, W: -(d @ W.T)), "sign error"),
        (_bwd_inplace, "modified its input dout"),
    ],
)
def test_affine_backward_check_names_mistakes(fn, message):
    """Does check_affine_backward fail each wrong backward with a message naming the mistake?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_affine_backward(fn)
    assert message.lower() in str(info.value).lower()


def test_numerical_check_fails_wrong_gradient():
    """Does the numerical gradient check reject a backward pass with a wrong db?"""
    with pytest.raises(CheckFailure, match="gradient check failed for db"):
        chk.check_affine_backward_numerically(_bwd(db_fn=lambda d: d.mean(axis=0)))


# ----------------------------------------------------------------------------- chain
def test_chain_checks_accept_reference():
    """Do the chain checks pass gradlib's reference on non-square widths and deep scalings?"""
    for dims, seed in [((5, 4, 6, 3), 0), ((3, 7), 41), ((6, 2, 5, 5, 4, 3), 42)]:
        assert chk.check_chain_forward(ref_chain.chain_forward, dims=dims, seed=seed) < 1e-12
        assert chk.check_chain_backward(ref_chain.chain_backward, dims=dims, seed=seed) < 1e-12
    for scale, depth in [(2.0, 60), (0.5, 80), (-1.5, 25)]:
        assert chk.check_chain_backward_scaling(ref_chain.chain_backward, scale=scale, depth=depth) < 1e-12


def _fwd_without_input(x, weights):
    acts, cache = ref_chain.chain_forward(x, weights)
    return acts[1:], cache


def _fwd_inplace_matmul(x, weights):
    a, acts = x, [x.copy()]
    for W in weights:
        if W.shape[0] == W.shape[1]:
            a @= W
        else:
            a = a @ W
        acts.append(a.copy())
    return acts, {"activations": acts, "weights": weights}


def _fwd_ws_transposed(x, weights):
    acts = [x]
    for W in weights:
        acts.append(acts[-1] @ W.T)
    return acts, {"activations": acts, "weights": weights}


@pytest.mark.parametrize(
    ("fn", "dims", "message"),
    [
        (_blank, (5, 4, 6, 3), "not implemented"),
        (_fwd_without_input, (5, 4, 6, 3), "activations[0] = x"),
        (_fwd_inplace_matmul, (4, 4, 4), "modified its input x"),
        (_fwd_ws_transposed, (5, 4, 6, 3), "raised ValueError"),
    ],
)
def test_chain_forward_check_names_mistakes(fn, dims, message):
    """Does check_chain_forward fail each wrong chain with a message naming the mistake?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_chain_forward(fn, dims=dims)
    assert message.lower() in str(info.value).lower()


def _bwd_not_reversed(dout, cache):
    dxs, dWs = ref_chain.chain_backward(dout, cache)
    return dxs[::-1], dWs[::-1]


def _bwd_missing_dout(dout, cache):
    dxs, dWs = ref_chain.chain_backward(dout, cache)
    return dxs[:-1], dWs


def _bwd_w_not_transposed(dout, cache):
    acts, Ws = cache["activations"], cache["weights"]
    d, dxs, dWs = dout, [dout], []
    for k in range(len(Ws) - 1, -1, -1):
        dWs.append(acts[k].T @ d)
        d = d @ Ws[k]
        dxs.append(d)
    return dxs[::-1], dWs[::-1]


def _bwd_inplace_square(dout, cache):
    acts, Ws = cache["activations"], cache["weights"]
    d, dxs, dWs = dout, [dout.copy()], []
    for k in range(len(Ws) - 1, -1, -1):
        dWs.append(acts[k].T @ d)
        d @= Ws[k].T
        dxs.append(d.copy())
    return dxs[::-1], dWs[::-1]


@pytest.mark.parametrize(
    ("fn", "dims", "message"),
    [
        (_blank, (5, 4, 6, 3), "not implemented"),
        (_bwd_not_reversed, (5, 4, 6, 3), "reverse order"),
        (_bwd_missing_dout, (5, 4, 6, 3), "dxs[L] = dout"),
        (_bwd_w_not_transposed, (5, 4, 6, 3), "raised ValueError"),
        (_bwd_inplace_square, (3, 3, 3), "modified its input dout"),
    ],
)
def test_chain_backward_check_names_mistakes(fn, dims, message):
    """Does check_chain_backward fail each wrong backward with a message naming the mistake?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_chain_backward(fn, dims=dims)
    assert message.lower() in str(info.value).lower()


def test_chain_scaling_check_fails_off_by_one_layer():
    """Does the scaling check fail a backward pass that skips the first layer?"""

    def skip_first(dout, cache):
        dxs, dWs = ref_chain.chain_backward(dout, cache)
        return [dxs[1], *dxs[1:]], dWs

    with pytest.raises(CheckFailure, match=r"2\*\*60"):
        chk.check_chain_backward_scaling(skip_first)


# ----------------------------------------------------------------------------- scale and overflow
def test_output_scale_check():
    """Does check_output_scale accept s**L (inf past float64) and name scale * depth and off-by-one?"""
    cases = [(2.0, 100), (0.5, 100), (10.0, 400), (-1e10, 41), (3.0, 0)]
    chk.check_output_scale(ref_chain.output_scale, cases)
    with pytest.raises(CheckFailure, match="scale \\* depth"):
        chk.check_output_scale(lambda s, L: s * L, cases)
    with pytest.raises(CheckFailure, match="off by one"):
        chk.check_output_scale(lambda s, L: s ** (L - 1), cases)
    with pytest.raises(CheckFailure, match="beyond float64"):
        chk.check_output_scale(lambda s, L: 1e308, [(10.0, 400)])
    with pytest.raises(CheckFailure, match="OverflowError"):
        chk.check_output_scale(lambda s, L: float(s) ** L, [(10.0, 400)])


def test_first_overflow_depth_checks():
    """Do the overflow checks accept the reference and name off-by-one, float64 and non-ValueError?"""
    cases = [(2.0, np.float32), (2.0, np.float16), (10.0, np.float32), (-3.0, np.float32)]
    assert chk.check_first_overflow_depth(ref_chain.first_overflow_depth, cases) == 4
    assert chk.check_first_overflow_depth_rejects(ref_chain.first_overflow_depth, [0.5, 1.0, -1.0, 0.0]) == 4
    with pytest.raises(CheckFailure, match="last depth that is still finite"):
        chk.check_first_overflow_depth(lambda s, dt: ref_chain.first_overflow_depth(s, dt) - 1, cases)
    with pytest.raises(CheckFailure, match="float64 overflows"):
        chk.check_first_overflow_depth(lambda s, dt: ref_chain.first_overflow_depth(s, np.float64), cases)
    with pytest.raises(CheckFailure, match="must return an int"):
        chk.check_first_overflow_depth(lambda s, dt: 128.0, cases)


def test_rejects_check_stops_an_endless_loop():
    """Does the |scale| <= 1 check fail (within seconds) a loop that never ends?"""

    def endless(scale, dtype=np.float32):
        p, depth = dtype(1), 0
        while not np.isinf(p):
            p = dtype(p * scale)
            depth += 1
        return depth

    with pytest.raises(CheckFailure, match="did not return within"):
        chk.check_first_overflow_depth_rejects(endless, [0.5])
    with pytest.raises(CheckFailure, match="must raise ValueError"):
        chk.check_first_overflow_depth_rejects(lambda s, dt: 0, [0.5])
    with pytest.raises(CheckFailure, match="raised ZeroDivisionError"):
        chk.check_first_overflow_depth_rejects(lambda s, dt: 1 / 0, [0.5])
