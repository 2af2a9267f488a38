"""A small, fixed training loop for ``torch.nn`` classifiers, so that runs differ only in the model.

:func:`train_classifier` trains with SGD (momentum 0.9) on minibatches drawn with replacement from the
training set by a seeded ``torch.Generator`` and returns every step's loss and the final validation
accuracy (in eval mode). An optional ``clip`` applies ``torch.nn.utils.clip_grad_norm_`` before each step.
Losses that become nan or inf are recorded as they are; training then stops (nothing can recover).

Training runs on one compute thread, whatever the machine or ``OMP_NUM_THREADS`` says. A matrix product
split over more threads adds its terms in another order; the last bits differ, and a network trained at a
learning rate on the edge of diverging amplifies them (ReLU + He at lr 0.5 with clipping at 1, from one
seed, ends at another loss on two threads than on one). On one thread a run gives the same numbers
whatever the thread count of the notebook, the grading sandbox or the tests. Another processor can still
change the last bits (MKL and PyTorch pick their kernels by instruction set), so the course prints and
grades only figures that survive such a change; ``tests/last_bits.py`` checks them for it.

The SGD step is written out (:func:`_sgd_step`) rather than taken from ``torch.optim.SGD``: it is the
same arithmetic, and the tests hold it to ``torch.optim.SGD`` to the last bit, but constructing a
``torch.optim`` optimizer imports ``torch._dynamo``, about 1.2 s on 2 cores, in every kernel that trains.

``import torch`` happens inside the functions, so importing :mod:`gradlib` never pays for it.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gradlib.digits import Split

__all__ = ["TrainResult", "accuracy", "train_classifier"]

MOMENTUM = 0.9


class TrainResult(NamedTuple):
    """What :func:`train_classifier` returns.

    Attributes:
        losses: the training loss of every step taken, float64, shape ``(steps_taken,)``.
        val_accuracy: fraction of validation examples classified right after training (0 if diverged).
        diverged: True if a loss became nan or inf.
    """

    losses: np.ndarray
    val_accuracy: float
    diverged: bool


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of ``x`` (N, D) that ``model`` (in eval mode, no gradients) puts in class ``y``.

    Taught in lesson 08 (capstone).
    """
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(torch.as_tensor(x, dtype=torch.float32))
        return float((logits.argmax(dim=1).numpy() == np.asarray(y)).mean())
    finally:
        model.train(was_training)


def _check(lr: Any, steps: Any, batch_size: Any, clip: Any) -> None:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0):
        raise ValueError(f"clip must be None or a number > 0, got {clip!r}")


def train_classifier(
    model: Any,
    data: Split,
    *,
    lr: float,
    steps: int = 150,
    batch_size: int = 128,
    seed: int = 0,
    clip: float | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` with SGD (momentum 0.9) and cross-entropy; return losses and accuracy.

    Taught in lesson 08 (capstone).

    Args:
        model: a ``torch.nn.Module`` mapping ``(B, D)`` float32 inputs to ``(B, C)`` logits; modified.
        data: the split from :func:`gradlib.digits.load_split`.
        lr: learning rate.
        steps: number of SGD steps.
        batch_size: examples per step, drawn with replacement.
        seed: seed of the minibatch draws.
        clip: max global gradient norm (``clip_grad_norm_``), or None for no clipping.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ValueError: on a non-positive ``lr``, ``steps``, ``batch_size`` or ``clip``.
    """
    import torch

    _check(lr, steps, batch_size, clip)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same numbers everywhere (module docstring)
    try:
        return _train(model, data, lr, steps, batch_size, seed, clip)
    finally:
        torch.set_num_threads(threads)


def _train(model, data: Split, lr: float, steps: int, batch_size: int, seed: int, clip) -> TrainResult:
    import torch
    from torch.nn import functional as F  # noqa: N812 - PyTorch's own convention

    x = torch.as_tensor(data.x_train, dtype=torch.float32)
    y = torch.as_tensor(data.y_train, dtype=torch.int64)
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    velocity: list[Any] = [None] * len(params)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(y), (batch_size,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            return TrainResult(np.array(losses), 0.0, True)
        for p in params:
            p.grad = None
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        _sgd_step(params, velocity, lr)
    return TrainResult(np.array(losses), accuracy(model, data.x_val, data.y_val), False)


def _sgd_step(params: list, velocity: list, lr: float) -> None:
    """One step of ``torch.optim.SGD(params, lr, momentum=MOMENTUM)``, in place.

    ``v = m v + g`` (``v = g`` on the first step), then ``p -= lr v``; ``velocity[i]`` holds parameter
    ``i``'s ``v`` between calls (None before its first). A parameter without a gradient is left alone.
    """
    import torch

    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            if velocity[i] is None:
                velocity[i] = p.grad.detach().clone()
            else:
                velocity[i].mul_(MOMENTUM).add_(p.grad)
            p.add_(velocity[i], alpha=-lr)
