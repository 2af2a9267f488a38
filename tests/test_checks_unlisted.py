"""Wrong answers that no catalog entry lists (lessons 01, 02, 04) are named by how their output differs.

Each answer below is written for this test only (autograder/catalog/ has none like it): a dtype, a cache's
contents, a transposed or non-finite result, a factor, a sign. The generic checks of
:mod:`gradlib.checks.diagnosis` must name it, not only say "wrong". The last tests check that the hints
they replace are true, with NumPy and torch as the oracles.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradlib import activations as ref_act
from gradlib import batchnorm as ref_bn
from gradlib import chain as ref_chain
from gradlib import layernorm as ref_ln
from gradlib import layers as ref_layers
from gradlib import prelu as ref_prelu
from gradlib.checks import CheckFailure
from gradlib.checks import activations as chk_act
from gradlib.checks import backprop as chk_bp
from gradlib.checks import batchnorm as chk_bn
from gradlib.checks import layernorm as chk_ln
from gradlib.checks import prelu as chk_prelu


# ----------------------------------------------------------------------------- lesson 01
def _affine_backward_dw_doubled(dout, cache):
    dx, dW, db = ref_layers.affine_backward(dout, cache)
    return dx, 2.0 * dW, db


def _affine_backward_db_float16(dout, cache):
    dx, dW, db = ref_layers.affine_backward(dout, cache)
    return dx, dW, db.astype(np.float16)


def _affine_forward_inf_row(x, W, b):
    out = x @ W + b
    out = out / (x[:, :1] != x[:1, :1])  # divides the first row by 0
    return out, (x, W, b)


def _chain_forward_cache_transposed(x, weights):
    acts, _ = ref_chain.chain_forward(x, weights)
    return acts, {"activations": acts, "weights": [W.T for W in weights]}


def _chain_forward_cache_keys(x, weights):
    acts, _ = ref_chain.chain_forward(x, weights)
    return acts, {"acts": acts, "weights": weights}


def _chain_backward_dw_mean(dout, cache):
    dxs, dWs = ref_chain.chain_backward(dout, cache)
    return dxs, [dW / len(dout) for dW in dWs]


def _output_scale_abs(scale, depth):
    return ref_chain.output_scale(abs(scale), depth)


LESSON_01 = [
    ("dW doubled", lambda: chk_bp.check_affine_backward(_affine_backward_dw_doubled), r"times 2"),
    (
        "db float16",
        lambda: chk_bp.check_affine_backward(_affine_backward_db_float16),
        r"db has dtype float16",
    ),
    ("inf row", lambda: chk_bp.check_affine_forward(_affine_forward_inf_row), r"has inf at index \(0, 0\)"),
    (
        "cache holds W.T",
        lambda: chk_bp.check_chain_forward(_chain_forward_cache_transposed),
        r"the cache's \"weights\"\[0\] has shape \(4, 5\), expected \(5, 4\) \(the transpose",
    ),
    (
        "cache keys",
        lambda: chk_bp.check_chain_forward(_chain_forward_cache_keys),
        r"missing \['activations'\], unexpected \['acts'\]",
    ),
    (
        "dWs / N",
        lambda: chk_bp.check_chain_backward(_chain_backward_dw_mean, n=3),
        r"times 1/N \(N = 3\)",
    ),
    (
        "|scale| ** depth",
        lambda: chk_bp.check_output_scale(_output_scale_abs, [(-2.0, 5)]),
        r"opposite sign",
    ),
    (
        "|scale| ** depth beyond float64",
        lambda: chk_bp.check_output_scale(_output_scale_abs, [(-1e10, 41)]),
        r"odd power of a negative scale is negative",
    ),
]


# ----------------------------------------------------------------------------- lesson 02
def _relu_grad_mask(x):
    return x > 0


def _sigmoid_transposed(x):
    return ref_act.sigmoid(x).T


def _tanh_grad_sign(x):
    return np.tanh(x) ** 2 - 1.0


def _prelu_forward_float32(x, alpha):
    out, cache = ref_prelu.prelu_forward(x, alpha)
    return out.astype(np.float32), cache


def _prelu_backward_dx_transposed(dout, cache):
    dx, dalpha = ref_prelu.prelu_backward(dout, cache)
    return dx.T, dalpha


def _dead_fraction_percent(h):
    return 100.0 * float((h <= 0).all(axis=0).mean())


LESSON_02 = [
    ("bool mask", lambda: chk_act.check_activation(_relu_grad_mask, "relu_grad"), r"a boolean mask"),
    (
        "transposed",
        lambda: chk_act.check_activation(_sigmoid_transposed, "sigmoid"),
        r"shape \(7, 3\), expected \(3, 7\) \(the transpose",
    ),
    ("sign", lambda: chk_act.check_activation(_tanh_grad_sign, "tanh_grad"), r"opposite sign"),
    (
        "prelu float32",
        lambda: chk_prelu.check_prelu_forward(_prelu_forward_float32, N=6, D=4),
        r"out has dtype float32",
    ),
    (
        "prelu dx transposed",
        lambda: chk_prelu.check_prelu_backward(
            ref_prelu.prelu_forward, _prelu_backward_dx_transposed, N=6, D=4
        ),
        r"\(the transpose of that shape",
    ),
    (
        "percentage",
        lambda: chk_act.check_dead_fraction(_dead_fraction_percent, n=6, units=10),
        r"times 100: a percentage where a fraction was asked",
    ),
]


# ----------------------------------------------------------------------------- lesson 04
def _bn_forward_running_float32(x, gamma, beta, running_mean, running_var, **kwargs):
    out, cache, mean, var = ref_bn.batchnorm_forward(x, gamma, beta, running_mean, running_var, **kwargs)
    return out, cache, mean, var.astype(np.float32)


def _bn_backward_dbeta_mean(dout, cache):
    dx, dgamma, dbeta = ref_bn.batchnorm_backward(dout, cache)
    return dx, dgamma, dbeta / len(dout)


def _bn_forward_eval_batch_cache(x, gamma, beta, running_mean, running_var, *, training, **kwargs):
    """Eval output right, but the cache holds the batch's x_hat and inv_std (as in training)."""
    out, cache, mean, var = ref_bn.batchnorm_forward(
        x, gamma, beta, running_mean, running_var, training=training, **kwargs
    )
    if not training:
        cache = ref_bn.batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, **kwargs)[
            1
        ]
    return out, cache, mean, var


def _ln_forward_eps_subtracted(x, gamma, beta, eps=1e-5):
    with np.errstate(invalid="ignore"):
        inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) - eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def _ln_backward_dgamma_sign(dout, cache):
    dx, dgamma, dbeta = ref_ln.layernorm_backward(dout, cache)
    return dx, -dgamma, dbeta


LESSON_04 = [
    (
        "running var float32",
        lambda: chk_bn.running_stats(_bn_forward_running_float32, N=4, D=3),
        r"new_running_var has dtype float32",
    ),
    (
        "dbeta / N",
        lambda: chk_bn.backward_training(ref_bn.batchnorm_forward, _bn_backward_dbeta_mean, N=4, D=3),
        r"times 1/N \(N = 4\)",
    ),
    (
        "eval cache of the batch",
        lambda: chk_bn.backward_eval(_bn_forward_eval_batch_cache, ref_bn.batchnorm_backward, N=4, D=3),
        r"in eval mode the cache must hold x_hat of the running statistics",
    ),
    (
        "sqrt(var - eps)",
        lambda: chk_ln.check_layernorm_forward(_ln_forward_eps_subtracted, N=4, D=5),
        r"has nan at index \(0, 0\) where the answer is finite",
    ),
    (
        "dgamma sign",
        lambda: chk_ln.check_layernorm_backward(ref_ln.layernorm_forward, _ln_backward_dgamma_sign),
        r"opposite sign",
    ),
]


@pytest.mark.parametrize(
    ("check", "message"),
    [pytest.param(check, message, id=label) for label, check, message in LESSON_01 + LESSON_02 + LESSON_04],
)
def test_unlisted_wrong_answer_is_named(check, message):
    """Does a wrong answer that the catalog does not list fail with a message naming how it differs?"""
    with pytest.raises(CheckFailure, match=message):
        check()


def test_the_right_answers_pass_the_same_checks():
    """Do gradlib's own functions pass every check the wrong answers above fail (so those fail for cause)?"""
    chk_bp.check_affine_backward(ref_layers.affine_backward)
    chk_bp.check_affine_forward(ref_layers.affine_forward)
    chk_bp.check_chain_forward(ref_chain.chain_forward)
    chk_bp.check_chain_backward(ref_chain.chain_backward, n=3)
    chk_bp.check_output_scale(ref_chain.output_scale, [(-2.0, 5), (-1e10, 41)])
    for name in ("relu_grad", "sigmoid", "tanh_grad"):
        chk_act.check_activation(getattr(ref_act, name), name)
    chk_prelu.check_prelu_forward(ref_prelu.prelu_forward, N=6, D=4)
    chk_prelu.check_prelu_backward(ref_prelu.prelu_forward, ref_prelu.prelu_backward, N=6, D=4)
    chk_act.check_dead_fraction(chk_act.dead_fraction_reference, n=6, units=10)
    chk_bn.running_stats(ref_bn.batchnorm_forward, N=4, D=3)
    chk_bn.backward_training(ref_bn.batchnorm_forward, ref_bn.batchnorm_backward, N=4, D=3)
    chk_bn.backward_eval(ref_bn.batchnorm_forward, ref_bn.batchnorm_backward, N=4, D=3)
    chk_ln.check_layernorm_forward(ref_ln.layernorm_forward, N=4, D=5)
    chk_ln.check_layernorm_backward(ref_ln.layernorm_forward, ref_ln.layernorm_backward)


# ----------------------------------------------------------------------------- the hints are true
def _overflow_missing_negative_inf(scale, dtype):
    """Stops at +inf only: a product that reaches -inf goes on to +inf one layer later."""
    p, s, depth = np.dtype(dtype).type(1), np.dtype(dtype).type(scale), 0
    with np.errstate(over="ignore", invalid="ignore"):
        while p != np.inf:
            p, depth = p * s, depth + 1
    return depth


def test_a_missed_negative_inf_is_not_called_off_by_one():
    """Is a negative scale whose -inf is missed told about -inf, and is that depth's product really -inf?"""
    scale, depth = -3.0, ref_chain.first_overflow_depth(-3.0, np.float32)
    product = torch.tensor(1.0, dtype=torch.float32)
    for _ in range(depth):
        product = product * scale
    assert product.item() == -math.inf  # torch's float32 agrees: at that depth the product is -inf
    with pytest.raises(CheckFailure) as info:
        chk_bp.check_first_overflow_depth(_overflow_missing_negative_inf, [(scale, np.float32)])
    assert f"at depth {depth} the product is -inf" in str(info.value)
    assert "off by one" not in str(info.value)


def _overflow_unrounded_scale(scale, dtype):
    """Multiplies by the float64 scale and rounds each product to dtype: the scale itself is never rounded."""
    p, depth = np.dtype(dtype).type(1), 0
    with np.errstate(over="ignore"):
        while np.isfinite(p):
            p, depth = np.dtype(dtype).type(float(p) * scale), depth + 1
    return depth


def test_a_scale_the_dtype_rounds_is_named_with_its_rounded_value():
    """Is 1.01 in float16 named with the value float16 stores (torch's rounding), not as off by one?"""
    stored = torch.tensor(1.01, dtype=torch.float16).item()
    assert stored != 1.01 and abs(stored - 1.01) < 2.0**-10  # the nearest float16: 1 + 10/1024
    with pytest.raises(CheckFailure) as info:
        chk_bp.check_first_overflow_depth(_overflow_unrounded_scale, [(1.01, np.float16)])
    assert f"it is {stored:.6g}" in str(info.value)
    chk_bp.check_first_overflow_depth(ref_chain.first_overflow_depth, [(1.01, np.float16)])


def test_the_eval_cache_hint_describes_the_batch_statistics():
    """Is the eval-mode dx that the hint blames exactly torch's training-mode gradient for that batch?"""
    inp = chk_bn.make_inputs(4, 3, seed=0)
    layer = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(inp["gamma"]))
        layer.bias.copy_(torch.from_numpy(inp["beta"]))
    x = torch.from_numpy(inp["x"].copy()).requires_grad_(True)
    layer.train()(x).backward(torch.from_numpy(inp["dout"]))
    wrong = ref_bn.batchnorm_backward(
        inp["dout"],
        _bn_forward_eval_batch_cache(
            *(inp[k] for k in ("x", "gamma", "beta", "running_mean", "running_var")), training=False
        )[1],
    )[0]
    np.testing.assert_allclose(wrong, x.grad.numpy(), rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------------------- lesson 05
def _global_clip_eps_inside(grads, max_norm):
    """The global norm computed as sqrt(sum of squares + 1e-6): close to the answer, but not torch's."""
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(np.sum(a**2) for a in arrays)))
    factor = min(1.0, max_norm / float(np.sqrt(total**2 + 1e-6)))
    clipped = [a * factor for a in arrays]
    return (
        dict(zip(grads, clipped, strict=True)) if isinstance(grads, dict) else type(grads)(clipped)
    ), total


def test_an_eps_inside_the_global_norm_is_named_not_told_it_rescaled_up():
    """Is an eps inside the global norm's square root named as such (and not 'you rescaled them up')?"""
    from gradlib.checks import clip as chk_clip

    with pytest.raises(CheckFailure, match="eps inside the square root") as info:
        chk_clip.global_clipped(_global_clip_eps_inside, container="list", max_norm=1.0, seed=4)
    assert "rescaled them up" not in str(info.value)
