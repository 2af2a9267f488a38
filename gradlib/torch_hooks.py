"""Collect :class:`gradlib.diagnostics.LayerStats` from a real ``torch.nn`` model with hooks.

Taught in lesson 07 (diagnosing and fixing).

:func:`collect_stats` registers a forward hook on every leaf module, runs one forward pass on a batch,
computes the loss, and runs one backward pass; during it, a hook on each layer's output tensor records
``dLoss/d output`` (a tensor backward hook). The hooks are removed afterwards (also when something
fails), and the model's ``.grad`` fields are left untouched (the weight gradients are taken with
``torch.autograd.grad``, not ``loss.backward()``).

How modules are grouped into layers (in the order they run):

- a module with a ``weight`` parameter of 2 or more dimensions (``Linear``, ``Conv*``, ...) starts a
  new layer;
- normalization modules (``BatchNorm*``, ``LayerNorm``, ``GroupNorm``), activation modules (``Tanh``,
  ``ReLU``, ...) and ``Dropout`` that run after it belong to that layer; the layer's output is the
  output of the last of them, and the activation is named after the last activation module;
- other modules (those without parameters, e.g. ``Flatten``) are ignored.

Activations written as functions in ``forward`` (``F.relu(x)``) are invisible to module hooks: then
the layer's output is the ``Linear``'s output (the pre-activation) and its activation is ``"linear"``.
Use activation modules (``nn.ReLU()``) to get saturation and dead-unit fractions.

``import torch`` happens only here, so the numpy-only lessons never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlib.diagnostics import LayerStats, layer_stats

__all__ = ["ACTIVATION_MODULES", "collect_stats", "find_layers"]

#: torch module class name -> gradlib activation name.
ACTIVATION_MODULES = {
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "SELU": "selu",
    "GELU": "gelu",
    "SiLU": "silu",
    "Identity": "linear",
}
_FOLLOWERS = ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "Dropout")


def _weight(module: Any):
    w = getattr(module, "weight", None)
    if w is None or not hasattr(w, "dim") or w.dim() < 2 or not w.requires_grad:
        return None
    return w


def _is_follower(module: Any) -> bool:
    cls = type(module).__name__
    return cls in ACTIVATION_MODULES or any(cls.startswith(p) for p in _FOLLOWERS)


def find_layers(model: Any) -> list[tuple[str, Any]]:
    """The ``(name, module)`` pairs of ``model`` whose weight starts a layer (2-D or more weights).

    Taught in lesson 07 (diagnosing and fixing).

    Raises:
        TypeError: if ``model`` is not a ``torch.nn.Module``.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [(n, m) for n, m in model.named_modules() if _weight(m) is not None]


class _Recorder:
    """Forward hooks that group leaf modules into layers as they run."""

    def __init__(self):
        self.layers: list[dict] = []

    def hook(self, name: str, module: Any, output: Any) -> None:
        import torch

        if not isinstance(output, torch.Tensor):
            return
        if _weight(module) is not None:
            self.layers.append({"name": name, "module": module, "out": output, "activation": "linear"})
        elif self.layers and _is_follower(module):
            layer = self.layers[-1]
            layer["out"] = output
            cls = type(module).__name__
            if cls in ACTIVATION_MODULES:
                layer["activation"] = ACTIVATION_MODULES[cls]


def _to_numpy(t: Any) -> np.ndarray:
    return t.detach().to("cpu").double().numpy()


def collect_stats(
    model: Any,
    inputs: Any,
    loss_fn: Callable[[Any], Any],
    *,
    lr: float | None = None,
    keep_samples: bool = True,
) -> list[LayerStats]:
    """Per-layer statistics of a torch model on one batch, via forward and backward hooks.

    Example, for a model you brought yourself::

        stats = collect_stats(model, x_batch, lambda out: F.cross_entropy(out, y_batch), lr=0.1)
        health_report(stats)

    Taught in lesson 07 (diagnosing and fixing).

    Args:
        model: a ``torch.nn.Module`` (its train/eval mode is used as it is).
        inputs: the batch passed to ``model(inputs)`` (a tensor, or a tuple of positional arguments).
        loss_fn: maps the model's output to a scalar loss tensor.
        lr: a plain-SGD learning rate for the update:data ratio (``lr * std(grad) / std(W)``).
        keep_samples: keep flat samples of the outputs and gradients for histograms.

    Returns:
        A list of :class:`gradlib.diagnostics.LayerStats`, in the order the layers ran.

    Raises:
        TypeError: if ``model`` is not a module or the loss is not a scalar tensor.
        ValueError: if the model has no layer with a weight matrix.
    """
    import torch

    if not find_layers(model):
        raise ValueError(f"model {type(model).__name__} has no layer with a 2-D (or larger) weight")
    rec = _Recorder()
    handles = [
        m.register_forward_hook(lambda mod, _inp, out, _n=n: rec.hook(_n, mod, out))
        for n, m in model.named_modules()
        if not list(m.children())
    ]
    try:
        with torch.enable_grad():
            args = inputs if isinstance(inputs, tuple) else (inputs,)
            loss = loss_fn(model(*args))
    finally:
        for h in handles:
            h.remove()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"loss_fn must return a scalar tensor, got {type(loss).__name__} {loss!r:.60}")
    layers = [layer for layer in rec.layers if layer["out"].requires_grad]
    seen: dict[int, Any] = {}
    hooks = [
        layer["out"].register_hook(lambda g, _i=i: seen.__setitem__(_i, g.detach().clone()))
        for i, layer in enumerate(layers)
    ]
    weights = [layer["module"].weight for layer in layers]
    try:
        dWs = torch.autograd.grad(loss, weights, allow_unused=True)
    finally:
        for h in hooks:
            h.remove()
    stats = []
    for i, layer in enumerate(layers):
        out, w, dW, dout = layer["out"], weights[i], dWs[i], seen.get(i)
        stats.append(
            layer_stats(
                layer["name"],
                out=_to_numpy(out),
                dout=np.zeros(tuple(out.shape)) if dout is None else _to_numpy(dout),
                W=_to_numpy(w),
                dW=np.zeros(tuple(w.shape)) if dW is None else _to_numpy(dW),
                activation=layer["activation"],
                lr=lr,
                keep_samples=keep_samples,
            )
        )
    return stats
