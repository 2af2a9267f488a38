"""Claims of lesson 06 (residual connections)."""

from __future__ import annotations

import numpy as np

from claims import Claim

LESSON = "06-residual"


def _random_products(seed: int = 0, dim: int = 64, depth: int = 50, s: float = 0.2):
    """Section 1's experiment: gradient norms through random plain and residual blocks."""
    rng = np.random.default_rng(seed)
    jacobians = [s * rng.standard_normal((dim, dim)) / np.sqrt(dim) for _ in range(depth)]
    g_plain = g_res = rng.standard_normal(dim)
    plain, res = [np.linalg.norm(g_plain)], [np.linalg.norm(g_res)]
    for J in jacobians:
        g_plain = J.T @ g_plain
        g_res = g_res + J.T @ g_res
        plain.append(np.linalg.norm(g_plain))
        res.append(np.linalg.norm(g_res))
    return np.array(plain), np.array(res)


def _plain_falls_by_about_s():
    for seed in range(5):
        plain, _ = _random_products(seed)
        per_block = np.exp(np.mean(np.diff(np.log(plain))))
        assert 0.15 < per_block < 0.25, f"seed {seed}: plain product falls by {per_block:.3f} per block"


CLAIMS = [
    Claim(LESSON, "cell-005", "The plain product falls by about 0.2 per block", _plain_falls_by_about_s),
]
