"""gradlib: exact reference implementations for the vanishing/exploding-gradients course.

Every module holds one concept (activations, initializers, layers, BatchNorm, clipping, gradient checks,
diagnostics, figures, ...). Submodules are imported on first use, so ``import gradlib`` stays cheap and a
notebook only pays for what it touches::

    import gradlib
    gradlib.init.he_normal((300, 100), rng=np.random.default_rng(0))

Conventions shared by every module:

- numpy arrays; a weight matrix has shape ``(fan_in, fan_out)`` and is used as ``x @ W + b``; ``x`` is
  ``(N, D)``; random functions take a keyword ``rng: np.random.Generator``; no function modifies its
  inputs.
- dtypes: a floating array keeps its dtype (float32 in, float32 out, as in PyTorch; mixed dtypes promote
  as in NumPy); integer and bool arrays become float64; new arrays (initializers, data sets) are
  float64.
- bad input: a wrong type (``"0.1"`` for a number, ``2.5`` for an integer, a seed for a Generator)
  raises ``TypeError``; a wrong value (out of range, not one of the options, a wrong shape) raises
  ``ValueError``; the message names the bad value and what is allowed. The checks live in
  ``gradlib._validate``.
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
