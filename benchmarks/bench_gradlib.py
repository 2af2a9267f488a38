"""Time gradlib against PyTorch CPU on the same shapes, in one process, and print the ratios.

    .venv/bin/python benchmarks/bench_gradlib.py [--threads N] [--repeats R]

Both sides run in float64 with the same number of threads (numpy's BLAS through environment
variables set before numpy is imported, torch through ``torch.set_num_threads``); the default is one
thread, because on a small shared machine torch's OpenMP threads slow down badly when another process
takes a core. Each figure is the median of R timed repeats after two warm-up runs, with gradlib and
torch alternating so that changes in machine load affect both. Targets: MLP forward+backward <= 1.3x torch,
BatchNorm forward+backward <= 1.5x torch.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=15)
    return parser.parse_args()


ARGS = _parse()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gradlib.batchnorm import batchnorm_backward, batchnorm_forward  # noqa: E402
from gradlib.mlp import MLP  # noqa: E402

TARGETS = {"MLP forward+backward": 1.3, "BatchNorm forward+backward": 1.5}


def median_times(fns, repeats: int) -> list[float]:
    """Median wall time of each function; the functions alternate so load drift hits both alike."""
    for fn in fns:
        fn()
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [statistics.median(ts) for ts in times]


def mlp_pair(batch=256, width=512, depth=10):
    rng = np.random.default_rng(0)
    model = MLP(width, width, depth=depth, width=width, activation="relu")
    params = model.init_params(rng=rng)
    x = rng.normal(size=(batch, width))
    dout = rng.normal(size=(batch, width))

    def run_gradlib():
        out, cache, _ = model.forward(params, x)
        model.backward(dout, cache)

    Wt = [torch.from_numpy(params[f"W{k}"]).requires_grad_(True) for k in range(1, depth + 2)]
    bt = [torch.from_numpy(params[f"b{k}"]).requires_grad_(True) for k in range(1, depth + 2)]
    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)

    def run_torch():
        a = xt
        for W, b in zip(Wt[:-1], bt[:-1], strict=True):
            a = torch.relu(torch.addmm(b, a, W))
        out = torch.addmm(bt[-1], a, Wt[-1])
        grads = torch.autograd.grad(out, Wt + bt, dt)
        return grads

    return run_gradlib, run_torch


def bn_pair(n=4096, d=1024):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    gamma, beta = rng.normal(1, 0.1, d), rng.normal(0, 0.1, d)
    rm, rv = np.zeros(d), np.ones(d)
    dout = rng.normal(size=(n, d))

    def run_gradlib():
        _, cache, _, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=True)
        batchnorm_backward(dout, cache)

    xt = torch.from_numpy(x).requires_grad_(True)
    gt = torch.from_numpy(gamma).requires_grad_(True)
    bt = torch.from_numpy(beta).requires_grad_(True)
    rmt, rvt = torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)
    dt = torch.from_numpy(dout)

    def run_torch():
        out = torch.nn.functional.batch_norm(xt, rmt, rvt, gt, bt, True, 0.1, 1e-5)
        return torch.autograd.grad(out, (xt, gt, bt), dt)

    return run_gradlib, run_torch


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"threadpoolctl not installed; BLAS threads requested via env = {ARGS.threads}"
    pools = threadpool_info()
    return "; ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in pools) or "none"


def main() -> int:
    torch.set_num_threads(ARGS.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"threads: torch.get_num_threads() = {torch.get_num_threads()}; numpy: {blas_info()}")
    print(f"dtype: float64 on both sides; median of {ARGS.repeats} repeats\n")
    cases = {
        "MLP forward+backward": ("batch 256, width 512, depth 10, relu", mlp_pair()),
        "BatchNorm forward+backward": ("4096 x 1024, training mode", bn_pair()),
    }
    ok = True
    for name, (shape, (run_gradlib, run_torch)) in cases.items():
        t_g, t_t = median_times([run_gradlib, run_torch], ARGS.repeats)
        ratio = t_g / t_t
        target = TARGETS[name]
        verdict = "ok" if ratio <= target else "ABOVE TARGET"
        ok &= ratio <= target
        print(f"{name} ({shape}):")
        print(f"  gradlib {t_g * 1e3:8.2f} ms   torch {t_t * 1e3:8.2f} ms   ratio {ratio:.2f}x")
        print(f"  target <= {target}x: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
