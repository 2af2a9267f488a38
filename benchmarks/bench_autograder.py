"""Throughput of ``autograder grade`` against plain sequential ``nbgrader autograde``, on the same notebooks.

The same class (``--students`` students x every assignment, honest submissions: correct answers, right
alternatives, common mistakes, half-done notebooks) is graded twice in one run:

1. ``nbgrader autograde <assignment> --create --force``, once per assignment with all its students in
   one command, in an nbgrader course directory (``source/``, ``submitted/``, a SQLite gradebook), as an
   instructor runs it. The releases are generated beforehand and not timed.
2. ``autograder grade SUBMISSIONS --out OUT``: default workers (one per core), sandbox on, clean-room
   re-check on, everything timed (including its own nbgrader set-up).

Printed: wall time and notebooks per minute of each, the throughput ratio, the median seconds per
notebook (autograder: per job, from ``results.json``, also by assignment; nbgrader: wall time / notebooks),
the peak memory of each grading process and kernel (VmHWM sampled from /proc while they run), and
whether both gave every submission the same score.

Usage: ``python benchmarks/bench_autograder.py [--students 20] [--workers N]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.cleanroom.procfs import descendants, process_state

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class PeakMemory:
    """Samples VmHWM (peak resident memory) of every descendant of a process, by role, from /proc."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peaks: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in [self.pid, *descendants(self.pid)]:
                hwm, role = _vm_hwm(pid), _role(pid, self.pid)
                if hwm and role:
                    self.peaks[pid] = (role, max(hwm, self.peaks.get(pid, ("", 0))[1]))
            self._stop.wait(self.interval)

    def peak(self, role: str) -> tuple[int, int]:
        """(number of processes, largest peak in bytes) of one role."""
        values = [v for r, v in self.peaks.values() if r == role]
        return len(values), max(values, default=0)


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_WRAPPERS = ("bwrap", "/usr/bin/bwrap", "prlimit")


def _cmdline(pid: int) -> str:
    """The command line of ``pid``; "" when it cannot be read (gone, or another namespace's bwrap)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _role(pid: int, main: int) -> str:
    """main, worker, harness, kernel, clean-room process, their zygotes, or "" (helpers, bwrap).

    A forked kernel or clean-room process has its zygote's command line; it is told apart by its parent.
    Its resident memory includes the pages it still shares with the zygote.
    """
    state = process_state(pid)
    if state is None:
        return ""
    ppid = state[1]
    cmd, parent = _cmdline(pid), _cmdline(ppid)
    if pid == main:
        return "main"
    if cmd.startswith(_WRAPPERS):
        return ""
    if "--zygote" in cmd:  # a zygote's parent is bwrap (its argv holds the zygote's); a fork's is the zygote
        kernel = cmd.rstrip().endswith("kernel")
        if parent.startswith(_WRAPPERS):
            return "kernel zygote" if kernel else "clean-room zygote"
        return "kernel" if kernel else "clean-room process"
    if "ipykernel" in cmd:
        return "kernel"
    if "cleanroom/__main__.py" in cmd:
        return "clean-room process"
    if "spawn_main" in cmd:
        return "worker" if ppid == main else "harness"
    return ""


def _make_class(students: int, dest: Path, release: Path) -> int:
    """Honest submissions for every assignment; return the number of notebooks."""
    from autograder import demo

    kits = demo.load_kits(release)
    makers = [demo.correct, demo.mistakes, demo.alternative, demo.mistakes, demo.half_done]
    count = 0
    for i in range(students):
        for kit in kits:
            folder = dest / f"student{i + 1:02d}" / kit.assignment
            folder.mkdir(parents=True, exist_ok=True)
            for name, raw in makers[i % len(makers)](kit, i).items():
                (folder / name).write_bytes(raw)
                count += 1
    return count


def _nbgrader_course(root: Path, names: list[str], submissions: Path) -> None:
    shutil.copytree(REPO / "solutions", root / "source", ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(submissions, root / "submitted")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root}/gradebook.db'\n"
        "c.CourseDirectory.include = ['*.ipynb']\n"
        "c.Execute.timeout = 30\n",
        encoding="utf-8",
    )
    for name in names:
        _run([str(BIN / "nbgrader"), "generate_assignment", name, "--force"], root)


def _run(cmd: list[str], cwd: Path) -> tuple[float, PeakMemory]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    with open(cwd / "bench.log", "ab") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        with PeakMemory(proc.pid) as memory:
            code = proc.wait()
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}; see {cwd / 'bench.log'}")
    return time.perf_counter() - start, memory


def _nbgrader_scores(root: Path, names: list[str]) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        for name in names:
            for sub in gb.assignment_submissions(name):
                scores[(sub.student.id, name)] = sum(
                    g.auto_score or 0.0 for nb in sub.notebooks for g in nb.grades if g.cell_type == "code"
                )
    return scores


def _per_assignment(results: list[dict]) -> str:
    """``name median`` per assignment, of the jobs that did not fail, in assignment order."""
    seconds: dict[str, list[float]] = {}
    for r in results:
        if r["status"] != "failed":
            seconds.setdefault(r["assignment"], []).append(r["seconds"])
    return ", ".join(f"{name} {statistics.median(v):.2f}" for name, v in sorted(seconds.items()))


def _mib(n: int) -> str:
    return f"{n / 1024**2:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    """Run both graders on the same class and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="autograder workers (default: its own)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    args = parser.parse_args(argv)

    from autograder import build, engine

    names = build.assignments()
    work = Path(tempfile.mkdtemp(prefix="bench-autograder-"))
    try:
        prepared = engine.prepare_course(REPO, names, work / "prep", [])
        submissions = work / "submissions"
        notebooks = _make_class(args.students, submissions, prepared.root / "course")
        print(f"{args.students} students x {len(names)} assignments = {notebooks} notebooks")

        nbg = work / "nbgrader"
        nbg.mkdir()
        _nbgrader_course(nbg, names, submissions)
        nb_seconds, nb_mem = 0.0, []
        for name in names:
            seconds, memory = _run([str(BIN / "nbgrader"), "autograde", name, "--create", "--force"], nbg)
            nb_seconds += seconds
            nb_mem.append(memory)
            print(f"  nbgrader autograde {name}: {seconds:.1f} s", flush=True)

        out = work / "autograder-out"
        cmd = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        ag_seconds, ag_mem = _run(cmd, work)
        results = json.loads((out / "results.json").read_text())
        print(f"  autograder grade: {ag_seconds:.1f} s", flush=True)

        per_notebook = statistics.median(r["seconds"] for r in results if r["status"] != "failed")
        ours = {(r["student_id"], r["assignment"]): r["score"] for r in results}
        theirs = _nbgrader_scores(nbg, names)
        differ = sorted(k for k in ours if abs(ours[k] - theirs.get(k, -1)) > 1e-9)
        statuses = {s: sum(r["status"] == s for r in results) for s in ("graded", "flagged", "failed")}

        print()
        print(f"{'':28} {'nbgrader autograde':>20} {'autograder grade':>18}")
        print(f"{'wall time (s)':28} {nb_seconds:20.1f} {ag_seconds:18.1f}")
        rate = (notebooks / nb_seconds * 60, notebooks / ag_seconds * 60)
        print(f"{'notebooks per minute':28} {rate[0]:20.1f} {rate[1]:18.1f}")
        print(f"{'median s per notebook':28} {nb_seconds / notebooks:20.2f} {per_notebook:18.2f}")
        print(f"{'  (nbgrader: wall / notebooks; autograder: per job, parallel)':s}")
        nb_main = max(m.peak("main")[1] for m in nb_mem)
        nb_kernel = max(m.peak("kernel")[1] for m in nb_mem)
        print(f"{'peak memory, main process':28} {_mib(nb_main):>20} {_mib(ag_mem.peak('main')[1]):>18}")
        count, worker = ag_mem.peak("worker")
        print(f"{'peak memory per worker':28} {'-':>20} {_mib(worker):>18}  ({count} workers)")
        print(f"{'peak memory per kernel':28} {_mib(nb_kernel):>20} {_mib(ag_mem.peak('kernel')[1]):>18}")
        for role in ("clean-room process", "kernel zygote", "clean-room zygote"):
            count, peak = ag_mem.peak(role)
            if count:
                print(f"{'peak memory, ' + role:28} {'-':>20} {_mib(peak):>18}")
        print(f"\nthroughput ratio (autograder / nbgrader): {nb_seconds / ag_seconds:.2f}x  (target >= 2.5x)")
        print(f"autograder statuses: {statuses}")
        print("median s per job, by assignment: " + _per_assignment(results))
        print(f"scores that differ between the two: {len(differ)} of {len(ours)}")
        for key in differ[:10]:
            print(f"  {key}: nbgrader {theirs.get(key)}, autograder {ours[key]}")
        print(f"cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
