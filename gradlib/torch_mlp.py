"""Deep fully connected ``torch.nn`` classifiers, built from a few named choices.

:func:`build_mlp` returns ``Sequential(Linear, [norm], activation, ..., Linear)``: ``depth`` hidden
layers of ``width`` units, then a linear output layer with ``num_classes`` logits. The initialization
names follow lesson 03 (weights of shape ``(out, in)`` in PyTorch's layout, fans from ``in``)::

    "torch"   PyTorch's default (kaiming_uniform_ with a = sqrt(5): U(+-1/sqrt(fan_in)))
    "small"   N(0, 0.01^2): the classic "small random numbers" that makes deep nets vanish
    "large"   N(0, 1): makes deep nets explode
    "xavier"  N(0, 2 / (fan_in + fan_out))
    "he"      N(0, 2 / fan_in)
    "lecun"   N(0, 1 / fan_in)

Biases start at 0 except with ``"torch"``. The output layer gets the same initialization as the hidden
layers. Randomness comes from a ``torch.Generator`` seeded with ``seed``; the global RNG is not touched.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["ACTIVATIONS", "INITS", "NORMS", "build_mlp"]

#: activation name -> ``torch.nn`` class name.
ACTIVATIONS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "selu": "SELU",
    "leaky_relu": "LeakyReLU",
}
#: the initializations :func:`build_mlp` knows.
INITS = ("torch", "small", "large", "xavier", "he", "lecun")
#: the normalization layers :func:`build_mlp` can insert after each hidden ``Linear``.
NORMS = (None, "batchnorm", "layernorm")


def _std(init: str, fan_in: int, fan_out: int) -> float:
    return {
        "small": 0.01,
        "large": 1.0,
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "he": math.sqrt(2.0 / fan_in),
        "lecun": math.sqrt(1.0 / fan_in),
    }[init]


def _check(depth: Any, width: Any, activation: Any, init: Any, norm: Any) -> None:
    for name, value in (("depth", depth), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    if init not in INITS:
        raise ValueError(f"init {init!r} is not one of {', '.join(INITS)}")
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of None, batchnorm, layernorm")


def build_mlp(
    depth: int,
    width: int,
    *,
    activation: str,
    init: str,
    norm: str | None = None,
    seed: int = 0,
    d_in: int = 64,
    num_classes: int = 10,
) -> Any:
    """A ``torch.nn.Sequential`` MLP with ``depth`` hidden layers (float32).

    Taught in lesson 08 (capstone).

    Args:
        depth: number of hidden layers.
        width: units per hidden layer.
        activation: one of :data:`ACTIVATIONS`.
        init: one of :data:`INITS`.
        norm: None, ``"batchnorm"`` or ``"layernorm"`` after each hidden ``Linear``.
        seed: seed of the weights.
        d_in: input features.
        num_classes: output logits.

    Returns:
        The model, in training mode.

    Raises:
        ValueError: on an unknown activation, init or norm, or a non-positive depth or width.
    """
    import torch

    _check(depth, width, activation, init, norm)
    gen = torch.Generator().manual_seed(seed)
    sizes = [d_in] + [width] * depth + [num_classes]
    modules = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        with torch.random.fork_rng(devices=[]):  # Linear's own init draws from the global RNG
            linear = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            if init == "torch":
                bound = 1.0 / math.sqrt(fan_in)
                linear.weight.uniform_(-bound, bound, generator=gen)
                linear.bias.uniform_(-bound, bound, generator=gen)
            else:
                linear.weight.normal_(0.0, _std(init, fan_in, fan_out), generator=gen)
                linear.bias.zero_()
        modules.append(linear)
        if i < depth:
            if norm == "batchnorm":
                modules.append(torch.nn.BatchNorm1d(fan_out))
            elif norm == "layernorm":
                modules.append(torch.nn.LayerNorm(fan_out))
            modules.append(getattr(torch.nn, ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)
