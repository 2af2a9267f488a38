"""Real data for the capstone: scikit-learn's handwritten digits, standardized, with a fixed split.

``sklearn.datasets.load_digits`` ships inside the scikit-learn wheel (1,797 images of 8 x 8 pixels with
values 0-16, ten classes), so nothing is downloaded. :func:`load_split` is the one function a lesson
calls: to use another data set (Fashion-MNIST with torchvision, on a machine with internet), change its
body and keep what it returns.

Shapes: ``N`` examples, ``D = 64`` features (the pixels, row by row), ``C = 10`` classes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["Split", "load_split"]


class Split(NamedTuple):
    """A standardized train/validation split (float64 features, int64 labels).

    Attributes:
        x_train: ``(N_train, D)``, every feature with mean 0 and std 1 over the training set (features
            that are constant there are only centred).
        y_train: ``(N_train,)`` class indices.
        x_val: ``(N_val, D)``, standardized with the *training* mean and std.
        y_val: ``(N_val,)`` class indices.
        num_classes: ``C``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    num_classes: int


def load_split(*, val_fraction: float = 0.25, seed: int = 0) -> Split:
    """The digits data set, shuffled with ``seed``, split and standardized with the training statistics.

    Taught in lesson 08 (capstone).

    Args:
        val_fraction: the share of examples held out for validation, in (0, 1).
        seed: seed of the shuffle; the default 0 is the course's fixed split (1,348 train, 449 val).

    Returns:
        A :class:`Split`.

    Raises:
        ValueError: if ``val_fraction`` is not strictly between 0 and 1.
    """
    if (
        isinstance(val_fraction, bool)
        or not isinstance(val_fraction, (int, float))
        or not 0 < val_fraction < 1
    ):
        raise ValueError(f"val_fraction must be a number strictly between 0 and 1, got {val_fraction!r}")
    x, y = _read_digits()
    order = np.random.default_rng(seed).permutation(len(y))
    n_val = int(round(val_fraction * len(y)))
    val, train = order[:n_val], order[n_val:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Split((x[train] - mean) / std, y[train], (x[val] - mean) / std, y[val], int(y.max()) + 1)


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images as float64 ``(N, 64)`` and their labels as int64 ``(N,)``, from scikit-learn's wheel.

    ``sklearn.datasets.load_digits`` reads ``sklearn/datasets/data/digits.csv.gz``, 65 comma-separated
    columns a row: the 64 pixels, then the label. Importing ``sklearn.datasets`` to call it costs about a
    second (it loads SciPy), most of lesson 08's data cell, so the file is read here directly, and the
    function is the fallback where a scikit-learn release keeps its data elsewhere.
    """
    spec = importlib.util.find_spec("sklearn")  # finds the package without running its __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",")
            return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)
