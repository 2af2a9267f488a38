"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import numpy as np
import pytest
import torch

#: Browser fixtures (chromium, tab, jupyterlab_factory, ...): see tests/browser.py.
pytest_plugins = ["browser"]

#: Seeds for seed-independence: statistical tests run once per seed and must pass for all of them.
SEEDS = (0, 1, 2)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator per test (tests never share random state)."""
    return np.random.default_rng(12345)


def to_torch(array: np.ndarray, *, grad: bool = False) -> torch.Tensor:
    """A float64 torch tensor holding a copy of ``array``, optionally requiring a gradient."""
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A float64 numpy copy of a (possibly grad-requiring) tensor."""
    return tensor.detach().cpu().numpy().astype(np.float64)


def away_from_kinks(x: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """Push values within ``margin`` of 0 outwards, so finite differences never straddle a kink."""
    x = np.array(x, dtype=np.float64)
    near = np.abs(x) < margin
    x[near] = np.where(x[near] >= 0, margin, -margin)
    return x
