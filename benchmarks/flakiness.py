"""Measure how often a statistical test cell fails a correct answer.

For every assignment, the setup and answer cells of the solution notebook are executed in-process. Every
answer function that takes ``rng`` is wrapped: for run ``i``, the generator the check passes is moved (in
place, same object) to a state derived from ``seed_i`` and its own state, so the checks see 1,000
different, independent streams whatever seeds they chose, while "same seed, same numbers" and "pass the
generator on" still hold. A test cell counts as statistical when an answer function received
an ``rng`` while it ran. Each statistical test cell is then executed ``--runs`` times (default 1,000) in a
fresh copy of the namespace and its failures are counted.

Printed per test cell: runs, failures, the empirical 95 % upper bound on the false-failure rate
(Clopper-Pearson; with 0 failures in n runs it is 1 - 0.05**(1/n), about 3/n) and the design bound: the
union over every ``gradlib.stats.z_for`` call the cell made of ``false_rate / comparisons`` (the largest
over the runs), i.e. what the tolerances were built for; "none" when the cell computed no tolerance with
``gradlib.stats``. 1,000 runs cannot show a rate of 1e-6; they catch a tolerance that is wrong by
orders of magnitude, a check that depends on the draw order, and a check that is not seed-independent.

Usage: ``python benchmarks/flakiness.py [--runs 1000] [--workers 2] [ASSIGNMENT ...]``
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import inspect
import io
import json
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("NBGRADER_EXECUTION", "autograde")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder import build  # noqa: E402

SEED_BASE = 20_250_000


@dataclass
class CellOutcome:
    """Failures of one test cell over ``runs`` runs."""

    assignment: str
    grade_id: str
    runs: int
    failures: int
    design_bound: float | None
    seconds: float
    first_failure: str = ""

    @property
    def empirical_bound(self) -> float:
        """One-sided 95 % Clopper-Pearson upper bound on the failure probability."""
        return _clopper_pearson_upper(self.failures, self.runs)


def _clopper_pearson_upper(k: int, n: int, alpha: float = 0.05) -> float:
    """Largest p with P(Binomial(n, p) <= k) >= alpha (bisection)."""
    if k >= n:
        return 1.0
    if k == 0:
        return 1.0 - alpha ** (1.0 / n)

    def cdf(p: float) -> float:
        return sum(
            math.exp(_log_binom(n, i) + i * math.log(p) + (n - i) * math.log1p(-p)) for i in range(k + 1)
        )

    lo, hi = k / n, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > alpha else (lo, mid)
    return hi


def _log_binom(n: int, i: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)


def _cells(assignment: str) -> list[dict]:
    path = Path(os.environ.get("FLAKINESS_ROOT", REPO)) / "solutions" / assignment / f"{assignment}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell: dict) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell("".join(cell["source"]))


class _Stream:
    """The run's seed, mixed into every generator an answer function receives."""

    seed: int = 0
    used: bool = False


def _reseed(rng: np.random.Generator, seed: int) -> None:
    """Move ``rng`` to a state derived from (run seed, its current state), keeping the same object.

    The same object keeps identity checks ("pass the generator on") true; generators in the same state
    still end in the same state, so reproducibility checks ("same seed, same numbers") hold; every run
    seed gives the check a different, independent stream.
    """
    bits = rng.bit_generator
    digest = hashlib.sha256(repr(bits.state).encode()).digest()
    mixed = np.random.SeedSequence([seed, int.from_bytes(digest[:8], "little")])
    bits.state = type(bits)(mixed).state


def _wrap(fn, stream: type[_Stream]):
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind_partial(*args, **kwargs)
        rng = bound.arguments.get("rng")
        if isinstance(rng, np.random.Generator):
            _reseed(rng, stream.seed)
            stream.used = True
        return fn(*args, **kwargs)

    return wrapper


def _namespace(assignment: str) -> tuple[dict, list[dict]]:
    """Execute the setup and answer cells; return the namespace (rng-wrapped) and the test cells."""
    cells = [c for c in _cells(assignment) if c["cell_type"] == "code"]
    ns: dict = {"__name__": "__main__"}
    exec(compile(_source(cells[0]), f"<{assignment} setup>", "exec"), ns)  # noqa: S102
    for cell in cells[1:]:
        if _meta(cell).get("solution"):
            exec(compile(_source(cell), f"<{assignment} {_meta(cell)['grade_id']}>", "exec"), ns)  # noqa: S102
            name = _meta(cell)["grade_id"]
            fn = ns.get(name)
            if callable(fn) and "rng" in inspect.signature(fn).parameters:
                ns[name] = _wrap(fn, _Stream)
    tests = [c for c in cells if _meta(c).get("grade") and not _meta(c).get("solution")]
    return ns, tests


class _Budget:
    """Records ``false_rate / comparisons`` for every tolerance the checks compute."""

    total = 0.0
    calls = 0


def _instrument_z_for() -> None:
    import gradlib.checks
    import gradlib.stats as stats

    original = stats.z_for
    if getattr(original, "_counted", False):  # once per process: worker processes run many cells
        return

    @functools.wraps(original)
    def z_for(false_rate=stats.DEFAULT_FALSE_RATE, comparisons=1):
        _Budget.total += false_rate / comparisons
        _Budget.calls += 1
        return original(false_rate, comparisons)

    z_for._counted = True
    stats.z_for = z_for
    for name, module in list(sys.modules.items()):
        if name.startswith("gradlib.") and getattr(module, "z_for", None) is original:
            module.z_for = z_for
    del gradlib


def _run_once(ns: dict, code, seed: int) -> str | None:
    _Stream.seed = seed
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(code, dict(ns))  # noqa: S102
    except BaseException as exc:  # noqa: BLE001 - any failure of the cell counts
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    if out.getvalue() and "Warning" in out.getvalue():
        return "wrote a warning"
    return None


def measure(assignment: str, grade_id: str, runs: int) -> CellOutcome:
    """Run one test cell ``runs`` times on the solution with independent random streams."""
    ns, tests = _namespace(assignment)
    _instrument_z_for()
    cell = next(c for c in tests if _meta(c)["grade_id"] == grade_id)
    code = compile(_source(cell), f"<{grade_id}>", "exec")
    failures, first, design, counted = 0, "", 0.0, False
    start = time.perf_counter()
    for i in range(runs):
        _Budget.total, _Budget.calls = 0.0, 0
        problem = _run_once(ns, code, SEED_BASE + i)
        design, counted = max(design, _Budget.total), counted or _Budget.calls > 0
        if problem is not None:
            failures += 1
            first = first or f"seed {SEED_BASE + i}: {problem}"
    seconds = time.perf_counter() - start
    return CellOutcome(assignment, grade_id, runs, failures, design if counted else None, seconds, first)


def statistical_cells(assignment: str) -> list[str]:
    """Test cells during which an answer function received an ``rng``."""
    ns, tests = _namespace(assignment)
    found = []
    for cell in tests:
        _Stream.used = False
        _run_once(ns, compile(_source(cell), "<probe>", "exec"), SEED_BASE - 2)
        if _Stream.used:
            found.append(_meta(cell)["grade_id"])
    return found


def _measure_args(args: tuple[str, str, int]) -> CellOutcome:
    return measure(*args)


def main(argv: list[str] | None = None) -> int:
    """Measure every statistical test cell; exit 1 if any failed a correct answer."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="*", help="assignments (default: all)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--root", type=Path, default=REPO, help="course root holding solutions/")
    args = parser.parse_args(argv)
    os.environ["FLAKINESS_ROOT"] = str(args.root)  # read by the worker processes
    names = args.assignment or build.assignments(args.root)
    with ProcessPoolExecutor(args.workers) as pool:
        found = dict(zip(names, pool.map(statistical_cells, names), strict=True))
        jobs = [(a, g, args.runs) for a in names for g in found[a]]
        outcomes = list(pool.map(_measure_args, jobs))
    head = ("assignment", "test cell", "runs", "fails", "95% bound", "design", "s")
    print(f"{head[0]:16} {head[1]:34} {head[2]:>6} {head[3]:>6} {head[4]:>10} {head[5]:>9} {head[6]:>6}")
    for o in outcomes:
        design = f"{o.design_bound:.1e}" if o.design_bound is not None else "none"
        print(
            f"{o.assignment:16} {o.grade_id:34} {o.runs:6d} {o.failures:6d} "
            f"{o.empirical_bound:10.1e} {design:>9} {o.seconds:6.1f}"
        )
        if o.first_failure:
            print(f"    first failure: {o.first_failure}")
    for name in names:
        if not found[name]:
            print(f"{name}: no statistical test cells")
    failed = sum(o.failures for o in outcomes)
    print(
        f"\n{len(outcomes)} statistical test cells, {failed} failures in {sum(o.runs for o in outcomes)} runs"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
