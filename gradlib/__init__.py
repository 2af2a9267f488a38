"""gradlib: exact reference implementations for the vanishing/exploding-gradients course.

Every module holds one concept (activations, initializers, layers, BatchNorm, clipping, gradient checks,
diagnostics, figures, ...). Submodules are imported on first use, so ``import gradlib`` stays cheap and a
notebook only pays for what it touches::

    import gradlib
    gradlib.init.he_normal((300, 100), rng=np.random.default_rng(0))

Conventions shared by every module: numpy, float64 by default; a weight matrix has shape
``(fan_in, fan_out)`` and is used as ``x @ W + b``; ``x`` is ``(N, D)``; random functions take a keyword
``rng: np.random.Generator``; no function modifies its inputs; bad input raises ``ValueError`` or
``TypeError`` naming the bad value and the allowed options.
"""

from __future__ import annotations

import importlib

__all__ = [
    "activations",
    "batchnorm",
    "chain",
    "checks",
    "clip",
    "data",
    "diagnostic_figures",
    "diagnostics",
    "figures",
    "gradcheck",
    "init",
    "layers",
    "losses",
    "mlp",
    "precision",
    "runtime",
    "stats",
    "torch_hooks",
    "train",
]

__version__ = "0.1.0"


def __getattr__(name: str):
    """Import a submodule the first time it is used as an attribute."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gradlib' has no attribute {name!r}")
