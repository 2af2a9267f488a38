"""Checks for lesson 04 (batch normalization): a student's forward and backward pass against the oracle.

The forward checks compare with ``torch.nn.BatchNorm1d`` in float64 (output and running statistics);
the backward checks compare with :mod:`gradlib.batchnorm` given the same ``x``, ``gamma``, ``beta`` and
``dout``, so a backward pass that only agrees with its own (wrong) forward pass does not pass. Every
check returns the worst relative error or raises :class:`~gradlib.checks.core.CheckFailure` naming the
mistake when a known one explains the result (unbiased variance, missing eps, Keras momentum, running
statistics ignored, mean and variance treated as constants in the backward pass, ...).

The inputs are built so that the mistakes show: features with different means and scales, one feature
whose variance (about 1e-6) is smaller than ``eps`` (so a missing ``eps`` changes it a lot), and batch
sizes as small as 2 (where dividing by ``N - 1`` doubles the variance).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradlib import batchnorm as ref
from gradlib.checks import core
from gradlib.checks.core import CheckFailure, as_array, assert_close, assert_unchanged, call, match_mistake
from gradlib.checks.diagnosis import check_dtype

__all__ = [
    "backward_eval",
    "backward_training",
    "batch_of_one",
    "forward_eval",
    "forward_training",
    "make_inputs",
    "running_stats",
]

_RTOL = 1e-6
_ATOL = 1e-9


def make_inputs(N: int, D: int, *, seed: int) -> dict[str, np.ndarray]:
    """Return ``x`` (N, D), ``gamma``, ``beta``, ``running_mean``, ``running_var`` (D,) and ``dout``.

    Features get different means and scales; feature 0 has a standard deviation of about 1e-3 (a
    variance below the default eps), so that forgetting ``eps`` is visible.

    Args:
        N: batch size.
        D: number of features.
        seed: seed of the generator the values are drawn from.

    Returns:
        A dict of fresh float64 arrays.
    """
    rng = np.random.default_rng(seed)
    loc = rng.uniform(-3.0, 3.0, D)
    scale = rng.uniform(0.5, 3.0, D)
    scale[0] = 1e-3
    x = loc + scale * rng.standard_normal((N, D))
    return {
        "x": x,
        "gamma": rng.uniform(0.5, 2.0, D) * rng.choice([-1.0, 1.0], D),
        "beta": rng.normal(0.0, 1.0, D),
        "running_mean": rng.normal(0.0, 1.0, D),
        "running_var": rng.uniform(0.5, 2.0, D),
        "dout": rng.normal(0.0, 1.0, (N, D)),
    }


def _torch_bn(inp: dict, *, training: bool, momentum: float, eps: float):
    """Run ``torch.nn.BatchNorm1d`` (float64) on ``inp``; return (out, running_mean, running_var)."""
    import torch

    D = inp["x"].shape[1]
    bn = torch.nn.BatchNorm1d(D, momentum=momentum, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(inp["gamma"]))
        bn.bias.copy_(torch.from_numpy(inp["beta"]))
        bn.running_mean.copy_(torch.from_numpy(inp["running_mean"]))
        bn.running_var.copy_(torch.from_numpy(inp["running_var"]))
        bn.train(training)
        out = bn(torch.from_numpy(inp["x"])).numpy().copy()
    return out, bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()


def _call_forward(fn: Callable, inp: dict, *, training: bool, momentum: float, eps: float):
    """Call the student's forward on copies, check inputs are untouched; return its 4 results."""
    args = [inp[k].copy() for k in ("x", "gamma", "beta", "running_mean", "running_var")]
    before = [a.copy() for a in args]
    result = call(fn, *args, training=training, momentum=momentum, eps=eps, name="batchnorm_forward")
    names = ("x", "gamma", "beta", "running_mean", "running_var")
    for name, b, a in zip(names, before, args, strict=True):
        assert_unchanged(b, a, name=name)
    if not isinstance(result, tuple) or len(result) != 4:
        raise CheckFailure(
            "batchnorm_forward must return a tuple (out, cache, new_running_mean, new_running_var), "
            f"got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple) else "")
        )
    for label, value in zip(
        ("out", "new_running_mean", "new_running_var"), (result[0], *result[2:]), strict=True
    ):
        check_dtype(value, name=label)
    return result


def _normalize(x, mean, var, gamma, beta, eps, *, eps_outside=False):
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return gamma * (x - mean) / std + beta


def _forward_mistakes(inp: dict, eps: float) -> dict:
    """Training-mode outputs that known mistakes produce."""
    x, g, b = inp["x"], inp["gamma"], inp["beta"]
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    var1 = x.var(axis=0, ddof=1)
    rm, rv = inp["running_mean"], inp["running_var"]
    return {
        "you normalized with the unbiased variance (divide by N - 1); normalize with the biased "
        "batch variance (divide by N)": lambda: _normalize(x, mu, var1, g, b, eps),
        "you forgot eps: use sqrt(var + eps)": lambda: _normalize(x, mu, var, g, b, 0.0),
        "you added eps to the standard deviation; add it to the variance: sqrt(var + eps)": lambda: (
            _normalize(x, mu, var, g, b, eps, eps_outside=True)
        ),
        "you used the running statistics in training mode; training normalizes with the batch mean "
        "and variance": lambda: _normalize(x, rm, rv, g, b, eps),
        "you divided by the variance instead of its square root": lambda: g * (x - mu) / (var + eps) + b,
        "you swapped gamma and beta": lambda: _normalize(x, mu, var, b, g, eps),
        "you forgot gamma and beta (out = gamma * x_hat + beta)": lambda: _normalize(
            x, mu, var, 1.0, 0.0, eps
        ),
        "you computed the statistics over features (axis=1); BatchNorm uses each feature's statistics "
        "over the batch (axis=0)": lambda: _normalize(
            x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), g, b, eps
        ),
    }


def _compare(name: str, got, expected, mistakes: dict, context: str, n: int | None = None) -> float:
    """Return the relative error of got vs expected, or raise naming the mistake when one matches.

    ``n`` is the batch size, so that a factor N or 1/N is named when no known mistake matches.
    """
    try:
        return assert_close(got, expected, name=name, rtol=_RTOL, atol=_ATOL, n=n)
    except CheckFailure as exc:
        msg = f"{exc} ({context})"
        with np.errstate(all="ignore"):
            mistake = match_mistake(got, mistakes)
        if mistake:
            msg += f": {mistake}"
        raise CheckFailure(msg) from None


def forward_training(
    batchnorm_forward: Callable, *, N: int, D: int, momentum: float = 0.1, eps: float = 1e-5, seed: int = 0
) -> float:
    """Check a training-mode forward output against ``torch.nn.BatchNorm1d``.

    Args:
        batchnorm_forward: the student's function.
        N: batch size (2..4 reveals the unbiased variance).
        D: number of features.
        momentum: PyTorch-convention momentum passed through.
        eps: eps passed through.
        seed: seed of the inputs.

    Returns:
        The relative error of ``out``.

    Raises:
        CheckFailure: naming the mistake when a known one explains the output.
    """
    inp = make_inputs(N, D, seed=seed)
    expected, _, _ = _torch_bn(inp, training=True, momentum=momentum, eps=eps)
    out, *_ = _call_forward(batchnorm_forward, inp, training=True, momentum=momentum, eps=eps)
    out = as_array(out, name="out", shape=(N, D))
    ctx = f"training mode, N={N}, D={D}, eps={eps:g}"
    return _compare("out", out, expected, _forward_mistakes(inp, eps), ctx)


def _running_mistakes(inp: dict, momentum: float, which: str) -> dict:
    """New running statistics that known mistakes produce (``which`` is 'mean' or 'var')."""
    x, m = inp["x"], momentum
    old = inp["running_mean"] if which == "mean" else inp["running_var"]
    N = x.shape[0]
    batch = x.mean(axis=0) if which == "mean" else x.var(axis=0, ddof=1)
    mistakes = {
        "momentum applied the Keras way round: PyTorch's momentum weighs the NEW batch value, "
        "new = (1 - momentum) * old + momentum * batch": lambda: m * old + (1 - m) * batch,
        "the running statistics were not updated: return the new values in training mode": lambda: old,
        "you returned the batch statistic itself instead of the moving average": lambda: batch,
    }
    if which == "var":
        mistakes = {
            "the running variance used the biased variance (divide by N); PyTorch updates it with the "
            "unbiased variance (divide by N - 1)": lambda: (1 - m) * old + m * batch * (N - 1) / N,
            **mistakes,
            "you averaged the standard deviation instead of the variance": lambda: (
                (1 - m) * old + m * np.sqrt(batch)
            ),
        }
    return mistakes


def running_stats(
    batchnorm_forward: Callable, *, N: int, D: int, momentum: float = 0.1, eps: float = 1e-5, seed: int = 0
) -> float:
    """Check the new running mean and variance of a training step against ``torch.nn.BatchNorm1d``.

    Args:
        batchnorm_forward: the student's function.
        N: batch size.
        D: number of features.
        momentum: PyTorch-convention momentum.
        eps: eps passed through.
        seed: seed of the inputs.

    Returns:
        The worst relative error of the two running statistics.

    Raises:
        CheckFailure: naming the mistake (Keras momentum, biased variance, no update, ...).
    """
    inp = make_inputs(N, D, seed=seed)
    _, exp_mean, exp_var = _torch_bn(inp, training=True, momentum=momentum, eps=eps)
    _, _, new_mean, new_var = _call_forward(batchnorm_forward, inp, training=True, momentum=momentum, eps=eps)
    ctx = f"training mode, N={N}, momentum={momentum:g}"
    errors = []
    for which, got, expected in (("mean", new_mean, exp_mean), ("var", new_var, exp_var)):
        got = as_array(got, name=f"new_running_{which}", shape=(D,))
        mistakes = _running_mistakes(inp, momentum, which)
        errors.append(_compare(f"new_running_{which}", got, expected, mistakes, ctx))
    return max(errors)


def forward_eval(
    batchnorm_forward: Callable, *, N: int, D: int, momentum: float = 0.1, eps: float = 1e-5, seed: int = 0
) -> float:
    """Check eval mode: normalize with the running statistics and return them unchanged.

    Args:
        batchnorm_forward: the student's function.
        N: batch size (1 must work in eval mode).
        D: number of features.
        momentum: passed through (must not matter in eval mode).
        eps: eps passed through.
        seed: seed of the inputs.

    Returns:
        The relative error of ``out``.

    Raises:
        CheckFailure: naming the mistake (batch statistics in eval mode, running stats changed, ...).
    """
    inp = make_inputs(N, D, seed=seed)
    expected, _, _ = _torch_bn(inp, training=False, momentum=momentum, eps=eps)
    out, _, new_mean, new_var = _call_forward(
        batchnorm_forward, inp, training=False, momentum=momentum, eps=eps
    )
    out = as_array(out, name="out", shape=(N, D))
    x, g, b = inp["x"], inp["gamma"], inp["beta"]
    rm, rv = inp["running_mean"], inp["running_var"]
    mistakes = {
        "eval mode must normalize with the running statistics, not the batch statistics": lambda: _normalize(
            x, x.mean(axis=0), x.var(axis=0), g, b, eps
        ),
        "you forgot eps: use sqrt(running_var + eps)": lambda: _normalize(x, rm, rv, g, b, 0.0),
        "you normalized with the running statistics updated by this batch; eval mode uses them as "
        "they are": lambda: _normalize(
            x,
            (1 - momentum) * rm + momentum * x.mean(axis=0),
            (1 - momentum) * rv + momentum * x.var(axis=0, ddof=1 if N > 1 else 0),
            g,
            b,
            eps,
        ),
        "you added eps to the standard deviation; add it to the variance: sqrt(running_var + eps)": lambda: (
            _normalize(x, rm, rv, g, b, eps, eps_outside=True)
        ),
        "you swapped gamma and beta": lambda: _normalize(x, rm, rv, b, g, eps),
    }
    error = _compare("out", out, expected, mistakes, f"eval mode, N={N}, D={D}")
    for which, got in (("mean", new_mean), ("var", new_var)):
        got = as_array(got, name=f"new_running_{which}", shape=(D,))
        if not np.array_equal(got, inp[f"running_{which}"]):
            raise CheckFailure(
                f"new_running_{which} changed in eval mode: eval mode must return the running "
                "statistics unchanged (only training updates them)"
            )
    return error


def batch_of_one(batchnorm_forward: Callable, *, D: int, seed: int = 0) -> None:
    """Check that training with N=1 raises ValueError and eval with N=1 works.

    Args:
        batchnorm_forward: the student's function.
        D: number of features.
        seed: seed of the inputs.

    Raises:
        CheckFailure: if training with one example does not raise ValueError, or eval mode fails.
    """
    inp = make_inputs(1, D, seed=seed)
    args = [inp[k].copy() for k in ("x", "gamma", "beta", "running_mean", "running_var")]
    with np.errstate(all="ignore"):
        core.expect_value_error(
            batchnorm_forward,
            *args,
            training=True,
            name="batchnorm_forward",
            what="training mode with a batch of 1",
            why="like torch.nn.BatchNorm1d, since the batch variance of one example is 0 and its unbiased "
            "variance is undefined",
        )
    forward_eval(batchnorm_forward, N=1, D=D, seed=seed)


def _backward_mistakes(inp: dict, eps: float) -> dict:
    """Training-mode dx values that known mistakes produce."""
    x, g, dout = inp["x"], inp["gamma"], inp["dout"]
    N = x.shape[0]
    mu = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    full = g * inv_std / N * (N * dout - dbeta - x_hat * dgamma)
    return {
        "you treated the batch mean and variance as constants (dx = dout * gamma / std); they depend "
        "on x, so the gradient must also flow through them": lambda: dout * g * inv_std,
        "you treated the batch variance as a constant (only the path through the mean is there)": lambda: (
            g * inv_std * (dout - dbeta / N)
        ),
        "you treated the batch mean as a constant (only the path through the variance is there)": lambda: (
            g * inv_std * (dout - x_hat * dgamma / N)
        ),
        "dx is missing the factor gamma": lambda: full / g,
        "dx uses the unbiased variance (N - 1) somewhere; the forward divides by N": lambda: (
            g / np.sqrt(x.var(axis=0, ddof=1) + eps) / N * (N * dout - dbeta - x_hat * dgamma)
        ),
    }


def _call_backward(forward: Callable, backward: Callable, inp: dict, *, training: bool, eps: float):
    args = [inp[k].copy() for k in ("x", "gamma", "beta", "running_mean", "running_var")]
    result = call(forward, *args, training=training, eps=eps, name="batchnorm_forward")
    if not isinstance(result, tuple) or len(result) != 4:
        raise CheckFailure(
            "batchnorm_forward must return (out, cache, new_running_mean, new_running_var) so that "
            "batchnorm_backward can be checked with its cache"
        )
    dout = inp["dout"].copy()
    grads = call(backward, dout, result[1], name="batchnorm_backward")
    assert_unchanged(inp["dout"], dout, name="dout")
    if not isinstance(grads, tuple) or len(grads) != 3:
        raise CheckFailure("batchnorm_backward must return a tuple (dx, dgamma, dbeta)")
    for label, value in zip(("dx", "dgamma", "dbeta"), grads, strict=True):
        check_dtype(value, name=label)
    N, D = inp["x"].shape
    shapes = ((N, D), (D,), (D,))
    names = ("dx", "dgamma", "dbeta")
    return result[0], [as_array(v, name=n, shape=s) for v, n, s in zip(grads, names, shapes, strict=True)]


def _backward(forward, backward, *, N, D, eps, seed, training):
    inp = make_inputs(N, D, seed=seed)
    out, cache, _, _ = ref.batchnorm_forward(
        inp["x"], inp["gamma"], inp["beta"], inp["running_mean"], inp["running_var"],
        training=training, eps=eps,
    )  # fmt: skip
    exp_dx, exp_dgamma, exp_dbeta = ref.batchnorm_backward(inp["dout"], cache)
    student_out, (dx, dgamma, dbeta) = _call_backward(forward, backward, inp, training=training, eps=eps)
    mode = "training" if training else "eval"
    try:
        assert_close(student_out, out, name="out", rtol=_RTOL, atol=_ATOL)
    except CheckFailure as exc:
        raise CheckFailure(
            f"batchnorm_backward is checked with the cache of your batchnorm_forward, whose {mode}-mode "
            f"output is wrong ({exc}): fix batchnorm_forward first"
        ) from None
    ctx = f"{mode} mode, N={N}, D={D}"
    dout = inp["dout"]
    errors = [_compare("dbeta", dbeta, exp_dbeta, {"you swapped dgamma and dbeta": exp_dgamma}, ctx, N)]
    dgamma_mistakes = {
        "you swapped dgamma and dbeta": exp_dbeta,
        "dgamma must use the normalized input: dgamma = sum(dout * x_hat, axis=0), not dout * x": lambda: (
            dout * inp["x"]
        ).sum(axis=0),
        "dgamma must use the normalized input x_hat, not the output gamma * x_hat + beta": lambda: (
            dout * out
        ).sum(axis=0),
    }
    if not training:
        batch_x_hat = ref.batchnorm_forward(
            inp["x"],
            inp["gamma"],
            inp["beta"],
            inp["running_mean"],
            inp["running_var"],
            training=True,
            eps=eps,
        )[1]["x_hat"]
        dgamma_mistakes["you used the batch's x_hat: in eval mode the cache must hold x_hat of the running "
                        "statistics, (x - running_mean) / sqrt(running_var + eps)"] = lambda: (
            (dout * batch_x_hat).sum(axis=0)
        )  # fmt: skip
    errors.append(_compare("dgamma", dgamma, exp_dgamma, dgamma_mistakes, ctx, N))
    if training:
        dx_mistakes = _backward_mistakes(inp, eps)
    else:
        train_cache = ref.batchnorm_forward(
            inp["x"], inp["gamma"], inp["beta"], inp["running_mean"], inp["running_var"],
            training=True, eps=eps,
        )[1]  # fmt: skip
        eval_inv_std = 1.0 / np.sqrt(inp["running_var"] + eps)
        eval_x_hat = (inp["x"] - inp["running_mean"]) * eval_inv_std
        batch_inv_std = train_cache["inv_std"]
        dx_mistakes = {
            "you computed the training-mode gradient from the batch's x_hat and 1/sqrt(var + eps): in eval "
            "mode the cache must hold those of the running statistics, x_hat = (x - running_mean) / "
            "sqrt(running_var + eps), and dx = dout * gamma / sqrt(running_var + eps) has no paths through "
            "the batch mean and variance": lambda: ref.batchnorm_backward(dout, train_cache)[0],
            "dx = dout * gamma * inv_std with the batch's inv_std: in eval mode the cache must hold "
            "1/sqrt(running_var + eps), the constant the forward pass normalized with": lambda: (
                dout * inp["gamma"] * batch_inv_std
            ),
            "in eval mode the running statistics are constants: dx = dout * gamma / sqrt(running_var + eps), "
            "without the mean and projection corrections of the training-mode formula": lambda: (
                exp_dx - inp["gamma"] * eval_inv_std * (exp_dbeta / N + eval_x_hat * exp_dgamma / N)
            ),
            "dx is missing the factor gamma": lambda: exp_dx / inp["gamma"],
            "you forgot eps: dx = dout * gamma / sqrt(running_var + eps)": lambda: (
                dout * inp["gamma"] / np.sqrt(inp["running_var"])
            ),
        }
    errors.append(_compare("dx", dx, exp_dx, dx_mistakes, ctx, N))
    return max(errors)


def backward_training(
    forward: Callable, backward: Callable, *, N: int, D: int, eps: float = 1e-5, seed: int = 0
) -> float:
    """Check a training-mode backward pass against gradlib's, for the same x, gamma, beta and dout.

    The student's forward makes the cache (its output must be right first); the gradients are then
    compared with the reference's gradients, not with a numerical gradient of the student's forward.

    Args:
        forward: the student's ``batchnorm_forward`` (only used to make the cache).
        backward: the student's ``batchnorm_backward``.
        N: batch size.
        D: number of features.
        eps: eps passed to the forward.
        seed: seed of the inputs.

    Returns:
        The worst relative error of dx, dgamma and dbeta.

    Raises:
        CheckFailure: naming the mistake (mean and variance treated as constants, missing gamma, ...).
    """
    return _backward(forward, backward, N=N, D=D, eps=eps, seed=seed, training=True)


def backward_eval(
    forward: Callable, backward: Callable, *, N: int, D: int, eps: float = 1e-5, seed: int = 0
) -> float:
    """Check an eval-mode backward pass, where the running statistics are constants, against gradlib's.

    Arguments and result are those of :func:`backward_training`; a failure names the mistake (the
    training formula used in eval mode, a missing gamma or eps, ...).
    """
    return _backward(forward, backward, N=N, D=D, eps=eps, seed=seed, training=False)
