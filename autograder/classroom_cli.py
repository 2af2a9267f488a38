"""Command line of the classroom loop: ``release``, ``collect``, ``return``, ``export`` and ``doctor``.

Two channels: nbgrader's exchange on a JupyterHub (the default), or an LMS (``release --to DIR``,
``collect --from-lms DOWNLOAD``, ``return --to DIR``). :func:`register` adds the subcommands to
``autograder``'s parser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def _course(args: argparse.Namespace):
    from autograder import exchange

    return exchange.course(
        Path(args.course) if args.course else None,
        exchange=Path(args.exchange) if args.exchange else None,
        course_id=args.course_id,
    )


def _course_root(args: argparse.Namespace) -> Path:
    from autograder import build

    return Path(args.course).resolve() if args.course else build.REPO


def _expected(root: Path, assignments: list[str]) -> dict[str, list[str]]:
    release = root / "course"
    found = {a: sorted(p.stem for p in (release / a).glob("*.ipynb")) for a in assignments}
    if missing := [a for a, nbs in found.items() if not nbs]:
        raise ValueError(f"no release notebooks for {', '.join(missing)} in {release} (run autograder build)")
    return found


def _cmd_release(args: argparse.Namespace) -> int:
    if args.to:
        from autograder import lms

        written = lms.release_to(Path(args.to), args.assignment, _course_root(args) / "course")
        for path in written:
            print(f"wrote {path}")
        print("attach each notebook (or zip) to the LMS assignment; students upload the notebook unrenamed")
        return 0
    from autograder import exchange

    course = _course(args)
    try:
        for path in exchange.release(course, args.assignment, force=args.force):
            print(f"released {path.name} to {path}")
    except RuntimeError as exc:
        print(f"autograder: {exc}\nrun `autograder doctor` to check the exchange", file=sys.stderr)
        return 1
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    if args.from_lms:
        from autograder import lms

        root = _course_root(args)
        dest = root / "submitted"
        subs = lms.collect(Path(args.from_lms), dest, _expected(root, args.assignment))
        for s in subs:
            print(f"{'problem' if s.problem else 'ok':8} {s.student_id} {s.assignment} {s.problem}")
        print(f"collected {sum(not s.problem for s in subs)} of {len(subs)} into {dest}; grade with:")
        print(f"  autograder grade {dest} --out OUT")
        return 0
    from autograder import exchange

    course = _course(args)
    try:
        rows, warnings = exchange.collect(course, args.assignment, due=args.due)
    except RuntimeError as exc:
        print(f"autograder: {exc}\nrun `autograder doctor` to check the exchange", file=sys.stderr)
        return 1
    for r in rows:
        late = f"LATE by {r.seconds_late / 3600:.2f} h" if r.seconds_late > 0 else "on time"
        when = f"{r.timestamp.isoformat()}Z" if r.timestamp else "no timestamp"
        print(f"{r.student_id} {r.assignment} submitted {when} {late if r.duedate else ''}".rstrip())
    for w in warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    print(f"collected {len(rows)} into {course.submitted_dir}")
    print(f"submission times and lateness: {course.root / exchange.COLLECTED_FILE}")
    return 0


def _cmd_return(args: argparse.Namespace) -> int:
    if args.to:
        from autograder import lms

        record = _course_root(args) / "submitted" / lms.LMS_FILE
        written = lms.feedback_zips(
            Path(args.out), Path(args.to), args.assignment, record if record.is_file() else None
        )
        for path in written:
            print(f"wrote {path}")
        return 0
    from autograder import exchange

    course = _course(args)
    try:
        released, skipped = exchange.return_feedback(course, args.assignment, Path(args.out))
    except RuntimeError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 1
    print(f"released feedback to {len(released)}: {', '.join(released)}")
    for s in skipped:
        print(f"SKIPPED {s}", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder import export

    grades = export.read_grades(Path(args.grades))
    roster = export.read_roster(Path(args.roster), args.format) if args.roster else None
    late = export.read_late(Path(args.late)) if args.late else None
    out = Path(args.to) if args.to else Path(args.grades).with_name(f"{args.format}-import.csv")
    report = export.export(grades, args.format, out, roster, late=late, penalty=args.late_penalty)
    print("\n".join(report.lines()))
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from autograder import doctor

    course = _course(args)
    configs = [Path(p) for p in args.student_config] if args.student_config else None
    findings = doctor.diagnose(course, args.assignment, configs)
    print(doctor.format_findings(findings))
    bad = sum(not f.ok for f in findings)
    print(f"{bad} problem{'s' * (bad != 1)} found" if bad else "everything checked is in order")
    return 1 if bad else 0


def _course_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--course", default=None, help="course root holding course/ and solutions/ (default: this repo)"
    )
    p.add_argument(
        "--exchange", default=None, help="exchange root (default: c.Exchange.root from nbgrader_config.py)"
    )
    p.add_argument("--course-id", default=None, help="course id (default: c.CourseDirectory.course_id)")


def register(sub) -> None:
    """Add ``release``, ``collect``, ``return``, ``export`` and ``doctor`` to ``autograder``'s subparsers."""
    p = sub.add_parser("release", help="release assignments to nbgrader's exchange, or write them for an LMS")
    p.add_argument("assignment", nargs="+")
    p.add_argument("--to", default=None, help="write DIR/<assignment>/ and DIR/<assignment>.zip for an LMS")
    p.add_argument("--force", action="store_true", help="replace an assignment already released")
    _course_options(p)
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("collect", help="collect submissions from the exchange (or an LMS download)")
    p.add_argument("assignment", nargs="+")
    p.add_argument(
        "--due", default=None, help='set the due date first, e.g. "2026-12-01 17:00:00 Europe/Berlin"'
    )
    p.add_argument("--from-lms", default=None, help="a Canvas or Moodle submissions download (folder or zip)")
    _course_options(p)
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser(
        "return", help="release feedback through the exchange, or zip it per student for an LMS"
    )
    p.add_argument("assignment", nargs="+")
    p.add_argument("--out", required=True, help="the grading output folder (autograder grade --out)")
    p.add_argument(
        "--to", default=None, help="write one feedback zip per student (and the LMS's bulk zip) here"
    )
    _course_options(p)
    p.set_defaults(func=_cmd_return)

    p = sub.add_parser("export", help="write a gradebook import file for Canvas, Moodle or as CSV")
    p.add_argument("--format", required=True, choices=("canvas", "moodle", "csv"))
    p.add_argument("--roster", default=None, help="the LMS's own gradebook/participants export (CSV)")
    p.add_argument("--grades", required=True, help="grades.csv from autograder grade")
    p.add_argument("--to", default=None, help="output file (default: <format>-import.csv beside grades.csv)")
    p.add_argument("--late", default=None, help="collected.csv from autograder collect (seconds late)")
    p.add_argument("--late-penalty", default="none", choices=("none", "zero"), help="nbgrader's late policy")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("doctor", help="check the exchange's permissions and the nbgrader config")
    p.add_argument("assignment", nargs="*", help="assignments whose release to check")
    p.add_argument(
        "--student-config", action="append", help="the nbgrader_config.py students' servers read (repeatable)"
    )
    _course_options(p)
    p.set_defaults(func=_cmd_doctor)
