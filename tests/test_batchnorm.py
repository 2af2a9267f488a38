"""gradlib.batchnorm against torch.nn.BatchNorm1d (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradlib.batchnorm import batchnorm_backward, batchnorm_forward, keras_momentum, torch_momentum


def _torch_bn(D, gamma, beta, momentum=0.1, eps=1e-5):
    bn = torch.nn.BatchNorm1d(D, momentum=momentum, eps=eps).double()
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    return bn


def _params(D, rng):
    return rng.normal(1.0, 0.5, D), rng.normal(0.0, 0.5, D)


def _num_grad(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        fp = f(x)
        x[idx] = old - h
        fm = f(x)
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * h)
    return grad


def _rel(a, b):
    return np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b)))


@pytest.mark.parametrize("N", [2, 3, 4, 64])
def test_forward_matches_torch(N):
    """Does training-mode forward match BatchNorm1d output and running stats for N = 2, 3, 4, 64?"""
    rng = np.random.default_rng(N)
    D = 5
    x = rng.normal(3.0, 2.0, (N, D))
    gamma, beta = _params(D, rng)
    bn = _torch_bn(D, gamma, beta).train()
    expected = bn(torch.from_numpy(x)).detach().numpy()
    out, _, rm, rv = batchnorm_forward(x, gamma, beta, np.zeros(D), np.ones(D), training=True)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12, atol=1e-15)


def test_running_stats_over_several_steps_and_eval():
    """Do running stats track BatchNorm1d over 7 steps with momentum 0.3, and eval mode match?"""
    rng = np.random.default_rng(0)
    D = 4
    gamma, beta = _params(D, rng)
    bn = _torch_bn(D, gamma, beta, momentum=0.3, eps=1e-3).train()
    rm, rv = np.zeros(D), np.ones(D)
    for step in range(7):
        x = rng.normal(step, 1.0 + step, (3 + step, D))
        bn(torch.from_numpy(x))
        _, _, rm, rv = batchnorm_forward(x, gamma, beta, rm, rv, training=True, momentum=0.3, eps=1e-3)
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), rtol=1e-12)
    bn.eval()
    x = rng.normal(0, 3, (6, D))
    out, _, rm2, rv2 = batchnorm_forward(x, gamma, beta, rm, rv, training=False, momentum=0.3, eps=1e-3)
    np.testing.assert_allclose(out, bn(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_array_equal(rm2, rm)
    np.testing.assert_array_equal(rv2, rv)
    assert rm2 is not rm and rv2 is not rv


def test_eval_batch_of_one_works_and_training_raises():
    """Does eval mode accept N = 1 while training mode raises a ValueError naming N=1?"""
    rng = np.random.default_rng(1)
    D = 3
    x = rng.normal(size=(1, D))
    gamma, beta = np.ones(D), np.zeros(D)
    rm, rv = rng.normal(size=D), rng.uniform(0.5, 2, D)
    out, _, _, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=False)
    np.testing.assert_allclose(out, (x - rm) / np.sqrt(rv + 1e-5))
    with pytest.raises(ValueError, match="N=1"):
        batchnorm_forward(x, gamma, beta, rm, rv, training=True)


def test_inputs_are_not_modified():
    """Does the forward/backward pair leave every input array untouched?"""
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=(5, 3)), *(rng.normal(size=3) for _ in range(3)), np.ones(3)]
    copies = [a.copy() for a in arrays]
    out, cache, _, _ = batchnorm_forward(*arrays, training=True)
    dout = rng.normal(size=out.shape)
    dcopy = dout.copy()
    batchnorm_backward(dout, cache)
    for a, c in zip(arrays + [dout], copies + [dcopy], strict=True):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("N", [2, 3, 16])
@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_autograd(N, training):
    """Does batchnorm_backward match torch autograd for dx, dgamma, dbeta in both modes?"""
    rng = np.random.default_rng(10 + N)
    D = 4
    x = rng.normal(1.0, 2.0, (N, D))
    gamma, beta = _params(D, rng)
    rm, rv = rng.normal(size=D), rng.uniform(0.5, 2.0, D)
    dout = rng.normal(size=(N, D))
    bn = _torch_bn(D, gamma, beta)
    with torch.no_grad():
        bn.running_mean.copy_(torch.from_numpy(rm))
        bn.running_var.copy_(torch.from_numpy(rv))
    bn.train(training)
    xt = torch.from_numpy(x).requires_grad_(True)
    bn(xt).backward(torch.from_numpy(dout))
    _, cache, _, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=training)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_backward_matches_numerical_gradient():
    """Is the backward within relative error 1e-7 of centered differences for x, gamma and beta?"""
    rng = np.random.default_rng(3)
    N, D = 6, 3
    x = rng.normal(size=(N, D))
    gamma, beta = _params(D, rng)
    dout = rng.normal(size=(N, D))
    rm, rv = np.zeros(D), np.ones(D)

    def loss(x_, g_, b_):
        return float(np.sum(batchnorm_forward(x_, g_, b_, rm, rv, training=True)[0] * dout))

    _, cache, _, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=True)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    assert _rel(dx, _num_grad(lambda v: loss(v, gamma, beta), x)) < 1e-7
    assert _rel(dgamma, _num_grad(lambda v: loss(x, v, beta), gamma.copy())) < 1e-7
    assert _rel(dbeta, _num_grad(lambda v: loss(x, gamma, v), beta.copy())) < 1e-7


def test_gradient_identities_per_feature():
    """With gamma = 1, are sum(dx) = 0 and sum(dx * x_hat) = 0 for every feature?"""
    # sum(dx * x_hat) = 0 is exact only as eps -> 0 (off by about eps / var), so eps is tiny here
    rng = np.random.default_rng(4)
    N, D = 32, 6
    x = rng.normal(2.0, 3.0, (N, D))
    ones, zeros = np.ones(D), np.zeros(D)
    _, cache, _, _ = batchnorm_forward(x, ones, zeros, zeros, ones, training=True, eps=1e-15)
    dx, _, _ = batchnorm_backward(rng.normal(size=(N, D)), cache)
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose((dx * cache["x_hat"]).sum(axis=0), 0, atol=1e-12)
    assert np.abs(dx).max() > 1e-3  # a zero gradient would pass the identities


def test_integer_input_gives_float64():
    """Are integer inputs (and lists of them) computed in float64?"""
    x = np.array([[1, 2], [3, 5], [0, 1]])
    out, _, rm, _ = batchnorm_forward(x, [1, 1], [0, 0], [0, 0], [1, 1], training=True)
    assert out.dtype == np.float64 and rm.dtype == np.float64


@pytest.mark.parametrize("training", [True, False])
def test_float32_stays_float32_and_matches_torch(training):
    """Does float32 in give float32 out, forward and backward, within float32 rounding of torch's float32?"""
    rng = np.random.default_rng(4)
    N, D = 32, 5
    x = rng.normal(2.0, 3.0, (N, D)).astype(np.float32)
    gamma, beta = (p.astype(np.float32) for p in _params(D, rng))
    rm, rv = np.full(D, 0.5, np.float32), np.full(D, 2.0, np.float32)
    dout = rng.normal(size=(N, D)).astype(np.float32)
    out, cache, new_m, new_v = batchnorm_forward(x, gamma, beta, rm, rv, training=training)
    grads = batchnorm_backward(dout, cache)
    assert all(a.dtype == np.float32 for a in (out, new_m, new_v, *grads))

    bn = torch.nn.BatchNorm1d(D)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
        bn.running_mean.copy_(torch.from_numpy(rm))
        bn.running_var.copy_(torch.from_numpy(rv))
    bn.train(training)
    t = torch.from_numpy(x).requires_grad_()
    t_out = bn(t)
    t_out.backward(torch.from_numpy(dout))
    expected = [t_out, bn.running_mean, bn.running_var, t.grad, bn.weight.grad, bn.bias.grad]
    # float32 keeps 24 bits: sums over N = 32 terms lose a few more, so allow 1e-5 relative to the scale
    for got, want in zip((out, new_m, new_v, *grads), expected, strict=True):
        want = want.detach().numpy()
        assert want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_momentum_conventions():
    """Is PyTorch momentum 0.1 Keras 0.9, and Keras's default 0.99 PyTorch 0.01?"""
    assert keras_momentum(0.1) == pytest.approx(0.9)
    assert torch_momentum(0.99) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="1.5"):
        keras_momentum(1.5)


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"x": np.ones(4)}, ValueError, "(4,)"),
        ({"gamma": np.ones(2)}, ValueError, "gamma"),
        ({"running_var": np.ones((3, 1))}, ValueError, "(3, 1)"),
        ({"momentum": 1.5}, ValueError, "1.5"),
        ({"momentum": -0.1}, ValueError, "-0.1"),
        ({"eps": 0.0}, ValueError, "0.0"),
        ({"training": "yes"}, TypeError, "'yes'"),
    ],
)
def test_bad_input_raises_naming_value(kwargs, exc, text):
    """Do wrong shapes and hyperparameters raise with the bad value in the message?"""
    args = {
        "x": np.ones((4, 3)),
        "gamma": np.ones(3),
        "beta": np.zeros(3),
        "running_mean": np.zeros(3),
        "running_var": np.ones(3),
        "training": True,
    }
    args.update(kwargs)
    with pytest.raises(exc) as info:
        batchnorm_forward(**args)
    assert text in str(info.value)


def test_backward_rejects_wrong_dout_shape():
    """Does backward raise naming the shapes when dout does not match the output?"""
    _, cache, _, _ = batchnorm_forward(
        np.ones((4, 3)) * np.arange(4)[:, None],
        np.ones(3),
        np.zeros(3),
        np.zeros(3),
        np.ones(3),
        training=True,
    )
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        batchnorm_backward(np.ones((4, 2)), cache)
