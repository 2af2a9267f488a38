"""A small, deterministic trainer: SGD with momentum, optional clipping, and per-layer records.

Shapes: ``N`` examples, ``D`` inputs, ``C`` outputs, ``L`` hidden layers, ``T`` steps. Each step draws
a minibatch (or uses the full batch), runs :class:`gradlib.mlp.MLP` forward and backward, optionally
clips the gradients, and applies PyTorch's SGD with momentum (dampening 0)::

    v = momentum * v + g          p = p - lr * v

Every step records the loss, each weight matrix's gradient norm ``||dW_k||`` (before clipping), the
global gradient norm, the mean and std of every hidden layer's activation output ``f_k`` and the
update:data ratio ``||lr * v_k|| / ||W_k||`` (healthy training sits near 1e-3).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradlib import _validate, losses
from gradlib import clip as gclip
from gradlib.mlp import MLP

__all__ = ["CLIP_MODES", "LOSSES", "History", "sgd_momentum_step", "train", "train_step"]

#: Clipping modes :func:`train` accepts (None means no clipping).
CLIP_MODES = ("value", "norm", "global_norm")
#: Loss names :func:`train` accepts.
LOSSES = ("softmax_ce", "mse")


@dataclass
class History:
    """What :func:`train` recorded, one row per step (rows after a divergence are NaN).

    Introduced in lesson 06 (residual connections); its records are read in lesson 07 (diagnosis).

    Attributes:
        loss: (T,) training loss on each step's minibatch, before the update.
        grad_norms: (T, L + 1) ``||dW_k||`` of every weight matrix, before clipping.
        total_grad_norm: (T,) global norm of all parameter gradients, before clipping.
        act_mean: (T, L) mean of each hidden layer's activation output f_k.
        act_std: (T, L) std of each hidden layer's activation output f_k.
        update_ratio: (T, L + 1) ``||lr * v_k|| / ||W_k||`` for every weight matrix.
        layer_names: the weight names, ``["W1", ..., "W{L+1}"]``.
        params: the parameters after the last step.
        state: the BatchNorm running statistics after the last step.
        diverged_at: first step whose loss was not finite, or None.
    """

    loss: np.ndarray
    grad_norms: np.ndarray
    total_grad_norm: np.ndarray
    act_mean: np.ndarray
    act_std: np.ndarray
    update_ratio: np.ndarray
    layer_names: list[str]
    params: dict = field(repr=False)
    state: dict = field(repr=False)
    diverged_at: int | None = None

    def as_dict(self) -> dict:
        """Return the records as a plain dict (arrays are not copied)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def sgd_momentum_step(
    params: dict, grads: dict, velocity: dict, *, lr: float, momentum: float = 0.9
) -> tuple[dict, dict]:
    """One step of SGD with momentum, PyTorch convention: ``v = mu v + g``, ``p = p - lr v``.

    Introduced in lesson 06 (residual connections); lesson 05 writes its own sgd_step.

    Args:
        params: parameter arrays by name.
        grads: gradients with the same keys and shapes.
        velocity: previous velocities (missing keys count as zeros, as on the first step).
        lr: learning rate > 0.
        momentum: momentum mu in [0, 1).

    Returns:
        ``(new_params, new_velocity)``, new dicts of new arrays.

    Raises:
        ValueError: if a gradient is missing, or lr / momentum are out of range.
    """
    lr = _validate.number(lr, "lr", above=0)
    momentum = _validate.number(momentum, "momentum", at_least=0, below=1)
    new_params, new_velocity = {}, {}
    for key, p in params.items():
        if key not in grads:
            raise ValueError(f"grads has no {key!r}; it has {sorted(grads)}")
        v = grads[key] if key not in velocity else momentum * velocity[key] + grads[key]
        new_velocity[key] = v
        new_params[key] = p - lr * v
    return new_params, new_velocity


def _clip(grads: dict, mode: str | None, clip_value: float | None) -> dict:
    """Clip ``grads`` with the chosen mode (None: unchanged)."""
    if mode is None:
        return grads
    if mode == "value":
        return gclip.clip_by_value(grads, clip_value)
    if mode == "norm":
        return gclip.clip_by_norm(grads, clip_value)
    return gclip.clip_by_global_norm(grads, clip_value)[0]


def train_step(
    model: MLP,
    params: dict,
    state: dict,
    velocity: dict,
    x: np.ndarray,
    y: np.ndarray,
    *,
    lr: float,
    momentum: float = 0.9,
    loss: str = "softmax_ce",
    clip: str | None = None,
    clip_value: float | None = None,
) -> tuple[dict, dict, dict, dict]:
    """Forward, loss, backward, optional clipping, SGD-momentum update on one minibatch.

    Introduced in lesson 06 (residual connections); lesson 05 writes its own sgd_step.

    Args:
        model: the architecture.
        params: parameters (see :meth:`gradlib.mlp.MLP.init_params`).
        state: BatchNorm running statistics ({} without BatchNorm).
        velocity: momentum buffers ({} on the first step).
        x: inputs, shape (B, D).
        y: int labels (B,) for "softmax_ce", or targets (B, C) for "mse".
        lr: learning rate > 0.
        momentum: momentum in [0, 1).
        loss: "softmax_ce" or "mse".
        clip: None, "value", "norm" (each array) or "global_norm".
        clip_value: the clipping threshold (required when ``clip`` is set).

    Returns:
        ``(new_params, new_state, new_velocity, info)`` where ``info`` has ``"loss"``,
        ``"grads"`` (before clipping), ``"clipped"`` and ``"cache"`` (the forward cache).

    Raises:
        ValueError: on an unknown loss or clip mode or a missing clip_value.
    """
    _validate.choice(loss, "loss", LOSSES)
    _validate.choice(clip, "clip", (None, *CLIP_MODES))
    if clip == "value":
        _validate.number(clip_value, "clip_value", at_least=0)
    elif clip is not None:
        _validate.number(clip_value, "clip_value", above=0)
    out, cache, new_state = model.forward(params, x, state, training=True)
    value, dout = losses.softmax_cross_entropy(out, y) if loss == "softmax_ce" else losses.mse(out, y)
    grads = model.backward(dout, cache)
    clipped = _clip(grads, clip, clip_value)
    new_params, new_velocity = sgd_momentum_step(params, clipped, velocity, lr=lr, momentum=momentum)
    info = {"loss": value, "grads": grads, "clipped": clipped, "cache": cache}
    return new_params, new_state, new_velocity, info


def _norm(a: np.ndarray) -> float:
    """L2 norm of an array as a float."""
    return float(np.sqrt(np.sum(a * a)))


def train(
    model: MLP,
    params: dict,
    x: np.ndarray,
    y: np.ndarray,
    *,
    steps: int,
    lr: float,
    rng: np.random.Generator,
    momentum: float = 0.9,
    batch_size: int | None = None,
    loss: str = "softmax_ce",
    clip: str | None = None,
    clip_value: float | None = None,
    state: dict | None = None,
) -> History:
    """Train ``model`` for ``steps`` SGD-momentum steps and record per-layer health statistics.

    Deterministic given ``rng`` (used only to draw minibatches, without replacement within a step).
    Training stops at the first non-finite loss; the remaining rows stay NaN.

    Introduced in lesson 06 (residual connections); its records are read in lesson 07 (diagnosis).

    Args:
        model: the architecture.
        params: initial parameters (not modified).
        x: inputs, shape (N, D).
        y: int labels (N,) for "softmax_ce", or targets (N, C) for "mse".
        steps: number of steps T >= 1.
        lr: learning rate > 0.
        rng: random generator for the minibatches.
        momentum: momentum in [0, 1).
        batch_size: minibatch size B (None: the full batch every step).
        loss: "softmax_ce" or "mse".
        clip: None, "value", "norm" or "global_norm".
        clip_value: the clipping threshold (required when ``clip`` is set).
        state: initial BatchNorm running statistics (None: fresh).

    Returns:
        A :class:`History`.

    Raises:
        ValueError: on bad steps, batch_size, loss, clip mode or clip_value.
        TypeError: if ``rng`` is not a Generator.
    """
    steps = _validate.integer(steps, "steps", at_least=1)
    rng = _validate.generator(rng)
    x, y = np.asarray(x), np.asarray(y)
    N = x.shape[0]
    if batch_size is not None:
        _validate.integer(batch_size, "batch_size (or None)", at_least=1, at_most=N)
    names = [f"W{k}" for k in range(1, model.n_layers + 1)]
    rec = {
        "loss": np.full(steps, np.nan),
        "grad_norms": np.full((steps, len(names)), np.nan),
        "total_grad_norm": np.full(steps, np.nan),
        "act_mean": np.full((steps, model.depth), np.nan),
        "act_std": np.full((steps, model.depth), np.nan),
        "update_ratio": np.full((steps, len(names)), np.nan),
    }
    state = model.init_state() if state is None else state
    velocity, diverged = {}, None
    with np.errstate(all="ignore"):  # an exploding run is recorded, not warned about
        for t in range(steps):
            idx = slice(None) if batch_size is None else rng.choice(N, batch_size, replace=False)
            new_params, state, velocity, info = train_step(
                model, params, state, velocity, x[idx], y[idx], lr=lr, momentum=momentum,
                loss=loss, clip=clip, clip_value=clip_value,
            )  # fmt: skip
            _record(rec, t, info, params, velocity, names, lr)
            params = new_params
            if not np.isfinite(info["loss"]):
                diverged = t
                break
    return History(**rec, layer_names=names, params=params, state=state, diverged_at=diverged)


def _record(rec: dict, t: int, info: dict, params: dict, velocity: dict, names, lr) -> None:
    """Fill row ``t`` of the records from one step's results."""
    grads = info["grads"]
    rec["loss"][t] = info["loss"]
    rec["grad_norms"][t] = [_norm(grads[n]) for n in names]
    rec["total_grad_norm"][t] = gclip.global_norm(grads)
    f = info["cache"]["record"]["f"]
    rec["act_mean"][t] = [a.mean() for a in f]
    rec["act_std"][t] = [a.std() for a in f]
    rec["update_ratio"][t] = [lr * _norm(velocity[n]) / _norm(params[n]) for n in names]
