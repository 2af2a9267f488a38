"""Command line: ``autograder build``, ``grade``, ``worker``, ``demo`` and ``selfcheck``."""

from __future__ import annotations

import argparse
import sys

from autograder import build
from autograder.options import GIB, GradeOptions

#: The defaults the help texts show; the options themselves are left unset unless given.
_DEFAULTS = GradeOptions()

__all__ = ["main"]


def _cmd_build(args: argparse.Namespace) -> int:
    names = args.assignment or build.assignments()
    failed = False
    for name in names:
        if not args.check:
            for path in build.generate(name):
                print(f"wrote {path.relative_to(build.REPO)}")
            continue
        for problem in build.stale_notebooks(name):
            print(f"STALE  {problem} (run `autograder build {name}`)")
            failed = True
        gates = build.run_gates(name)
        for problem in gates.problems:
            print(f"FAIL   {problem}")
        failed |= not gates.ok
        print(
            f"{'ok' if gates.ok else 'FAIL':6} {name}: solution {gates.solution_score:g}/"
            f"{gates.max_score:g} in {gates.solution_seconds:.1f} s, untouched release "
            f"{gates.release_score:g} in {gates.release_seconds:.1f} s"
        )
    return 1 if failed else 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autograder import engine, sandbox
    from autograder.ledger import Ledger

    given = {
        "workers": args.workers,
        "cell_timeout": args.cell_timeout,
        "notebook_timeout": args.notebook_timeout,
        "memory": None if args.memory is None else sandbox.parse_bytes(args.memory),
        "isolate": not args.no_sandbox,
        "db_url": args.db,
        "course": None if args.course is None else Path(args.course),
        "assignments": args.assignment or None,
    }
    options = engine.GradeOptions(**{k: v for k, v in given.items() if v is not None})
    how = engine.sandbox_text(options)
    if how.startswith("NO SANDBOX"):
        print(f"WARNING: {how}", file=sys.stderr)

    from autograder import report

    cluster = None
    if args.scheduler:
        from autograder import cluster as dask_cluster

        cluster = dask_cluster.factory(args.scheduler)
    book = Ledger(Path(args.out), force=args.force)
    with report.GradingProgress() as progress:
        results = engine.grade(
            Path(args.submissions),
            Path(args.out),
            options,
            progress=progress,
            executor_factory=cluster,
            ledger=book,
        )
    counts = {s: sum(r.status == s for r in results) for s in ("graded", "flagged", "failed")}
    print(f"{len(results)} submissions: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    refused = len(results) - book.graded - book.reused
    print(f"this run: {book.summary()}" + (f", {refused} refused before grading" if refused else ""))
    if cluster is not None and cluster.executor is not None:
        used = cluster.executor
        print(f"graded on {len(used.hosts)} machine(s) by {len(used.workers_used)} Dask worker(s)")
        if used.lost:
            print(f"autograder: error: {used.lost}", file=sys.stderr)
            return 1
    print(f"wrote {Path(args.out) / 'grades.csv'}")
    release = Path(options.course) / "course"
    report.publish(results, Path(args.out), release_dir=release)
    if why := _nothing_graded(results, args.submissions):
        print(f"autograder: error: {why}", file=sys.stderr)
        return 1
    return 0


def _nothing_graded(results: list, submissions: str) -> str:
    """Why not one submission could be graded (empty when some were): a run that grades nobody fails."""
    if not results:
        return (
            f"no submissions found in {submissions}: expected nbgrader's "
            "<student>/<assignment>/<notebook>.ipynb folders or <student>_<assignment>.ipynb files "
            "(hidden files and __MACOSX/ are ignored)"
        )
    if all(r.status == "failed" for r in results):
        first = results[0]
        return (
            f"none of the {len(results)} submissions could be graded; e.g. {first.student_id} "
            f"{first.assignment}: {first.reason[:200]}"
        )
    return ""


def _cmd_worker(args: argparse.Namespace) -> int:
    from autograder import cluster

    return cluster.worker_main(args.address, args.nworkers, args.name, args.local_directory)


def _cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autograder import demo

    return demo.run_demo(Path(args.out), workers=args.workers, per_student=args.per_student or None)


def _cmd_selfcheck(args: argparse.Namespace) -> int:
    from autograder import selfcheck

    return selfcheck.main(args.assignment or None, workers=args.workers)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="regenerate course/ from solutions/ with nbgrader")
    p_build.add_argument("assignment", nargs="*", help="assignments to build (default: all)")
    p_build.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if course/ is stale, a solution is short of full marks, "
        "or an untouched release scores above 0",
    )
    p_build.set_defaults(func=_cmd_build)

    p_grade = sub.add_parser("grade", help="grade submissions in parallel, each in a sandbox")
    p_grade.add_argument(
        "submissions", help="nbgrader submitted/ tree, or a folder or zip of <student>_<assignment>.ipynb"
    )
    p_grade.add_argument("--out", required=True, help="output folder (grades.csv, results.json, gradebook)")
    p_grade.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    p_grade.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    p_grade.add_argument(
        "--cell-timeout", type=int, help=f"seconds per cell (default {_DEFAULTS.cell_timeout})"
    )
    p_grade.add_argument(
        "--notebook-timeout", type=int, help=f"seconds per notebook (default {_DEFAULTS.notebook_timeout})"
    )
    p_grade.add_argument(
        "--memory", help=f"memory limit per kernel, bytes or 2G/512M (default {_DEFAULTS.memory / GIB:g}G)"
    )
    p_grade.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default: sqlite in --out)")
    p_grade.add_argument("--no-sandbox", action="store_true", help="run student code without namespaces")
    p_grade.add_argument("--course", help="course root holding solutions/ (default: this repo)")
    p_grade.add_argument(
        "--force",
        action="store_true",
        help="re-grade every submission (default: reuse OUT's results for unchanged ones, see journal.jsonl)",
    )
    p_grade.add_argument(
        "--scheduler", help="grade on a Dask cluster: tcp://host:port or a scheduler file (default: here)"
    )
    p_grade.set_defaults(func=_cmd_grade)

    p_worker = sub.add_parser("worker", help="grading workers for a Dask scheduler (one process each)")
    p_worker.add_argument("address", help="scheduler address tcp://host:port, or a scheduler file")
    p_worker.add_argument(
        "--nworkers", type=int, default=None, help="grading processes (default: one per core)"
    )
    p_worker.add_argument("--name", default=None, help="worker name shown by the scheduler")
    p_worker.add_argument("--local-directory", default=None, help="working directory for the workers")
    p_worker.set_defaults(func=_cmd_worker)

    p_demo = sub.add_parser(
        "demo",
        help="a class of 35 through a temporary nbgrader exchange: release, submit, collect, grade, "
        "return, export for Canvas",
    )
    p_demo.add_argument("--out", default="demo-out", help="output folder (default: ./demo-out, replaced)")
    p_demo.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p_demo.add_argument(
        "--per-student",
        type=int,
        default=1,
        help="assignments each student submits (default 1, keeping the demo under 5 min on 2 cores; 0: all)",
    )
    p_demo.set_defaults(func=_cmd_demo)

    p_check = sub.add_parser("selfcheck", help="grade the catalog of wrong and right answers")
    p_check.add_argument("assignment", nargs="*", help="assignments to check (default: all)")
    p_check.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p_check.set_defaults(func=_cmd_selfcheck)

    from autograder import classroom_cli

    classroom_cli.register(sub)  # release, collect, return, export, doctor
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
