"""Command line: ``autograder build``, ``autograder grade``, ``autograder demo``."""

from __future__ import annotations

import argparse
import sys

from autograder import build

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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
