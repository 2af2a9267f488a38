"""Incremental grading: one late submission in a graded class of 30, against the full run.

Writes a class of 30 and grades it from scratch with ``autograder grade``, adds one late submission and
runs ``autograder grade`` again into the same folder. The class is either the tests' toy course (one
notebook, two graded cells; right, wrong and blank answers in turn), where a job costs almost nothing and
start-up is all there is, or with ``--lesson NAME`` one of the course's lessons, with the demo's students
(correct, common mistakes, alternative answers, half done). Both runs are the whole command (start-up,
nbgrader set-up, grading, feedback pages), each in a fresh process. Prints both times and their ratio;
exits 1 if the incremental run took 10 % of the full run or more, or did not reuse the 30.

    .venv/bin/python benchmarks/bench_incremental.py [--students 30] [--workers 2] [--lesson 05-clipping]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from autograder_fixtures import (  # noqa: E402
    WRONG_DOUBLE,
    WRONG_TOTAL,
    make_course,
    student_notebook,
    write_nbgrader_layout,
)

#: The incremental run must take less than this share of the full run.
TARGET = 0.10


def _answers(i: int) -> dict[str, str]:
    return [
        {},
        {"double": WRONG_DOUBLE},
        {"total": WRONG_TOTAL},
        {"double": WRONG_DOUBLE, "total": WRONG_TOTAL},
    ][i % 4]


def _lesson_class(lesson: str, students: int, work: Path) -> dict[str, dict[str, bytes]]:
    """``students`` + 1 of the demo's kinds of student for one lesson: ``{student: {file: bytes}}``."""
    from autograder import demo, engine

    prepared = engine.prepare_course(REPO, [lesson], work / "prep", [])
    kit = next(k for k in demo.load_kits(prepared.root / "course") if k.assignment == lesson)
    makers = [demo.correct, demo.mistakes, demo.alternative, demo.mistakes, demo.half_done]
    return {f"s{i:02d}": makers[i % len(makers)](kit, i) for i in range(students + 1)}


def _write(subs: Path, lesson: str, student: str, files: dict[str, bytes]) -> None:
    folder = subs / student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        (folder / name).write_bytes(raw)


def _run(subs: Path, out: Path, course: Path | None, workers: int) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out)]
    cmd += ["--course", str(course)] if course is not None else []
    start = time.perf_counter()
    done = subprocess.run([*cmd, "--workers", str(workers)], capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"autograder grade failed:\n{done.stdout}\n{done.stderr}")
    line = next((x for x in done.stdout.splitlines() if x.startswith("this run:")), "")
    return seconds, line


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when the incremental run is under :data:`TARGET` of the full run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="class size graded first (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="grading workers (default 2)")
    parser.add_argument("--lesson", default=None, help="a lesson of the course (default: the toy course)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        base = Path(tmp)
        subs = base / "submissions"
        if args.lesson is None:
            course = make_course(base / "course")
            write_nbgrader_layout(
                subs, {f"s{i:02d}": student_notebook(course, _answers(i)) for i in range(args.students)}
            )
            late_one = {"late": student_notebook(course, {"total": WRONG_TOTAL})}
        else:
            course = None
            everyone = _lesson_class(args.lesson, args.students, base)
            late_id = max(everyone)
            for student, files in everyone.items():
                if student != late_id:
                    _write(subs, args.lesson, student, files)
        full, full_line = _run(subs, base / "out", course, args.workers)
        if args.lesson is None:
            write_nbgrader_layout(subs, late_one)
        else:
            _write(subs, args.lesson, late_id, everyone[late_id])
        late, late_line = _run(subs, base / "out", course, args.workers)
    ratio = late / full
    what = args.lesson or "toy course"
    print(f"full run, {args.students} students of {what}, {args.workers} workers: {full:.1f} s ({full_line})")
    print(f"one late submission added:            {late:.1f} s ({late_line})")
    print(f"incremental / full: {ratio:.1%} (target < {TARGET:.0%})")
    expected = f"1 graded, {args.students} reused"
    if expected not in late_line:
        print(f"FAIL: the second run should say {expected!r}")
        return 1
    return 0 if ratio < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
