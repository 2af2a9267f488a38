"""Scale-out figures: the Dask executor against the local one, its per-job overhead, PostgreSQL writes.

In one run, on this machine, with servers started here (``tests/servers.py``: a ``dask scheduler`` and
``autograder worker`` processes on 127.0.0.1, a PostgreSQL server on a Unix socket):

1. One class (``--students`` copies of an assignment's solution) is graded three times: by the local
   process pool (``--workers``, default 2), then on the cluster with 1 and with 2 Dask workers. Printed:
   wall time, notebooks per minute, and whether every run gave the same ``grades.csv``.
2. Per-job overhead of the cluster path: ``--jobs`` jobs that do nothing (``repr`` of the job) but carry a
   notebook's bytes both ways through :class:`autograder.cluster.DaskExecutor`, 2 workers.
3. Gradebook write time: ``--writes`` results recorded one by one (the parent's ``_record``) into a
   SQLite and into a PostgreSQL gradebook.
4. A projection: wall time for 500, 2,000 and 10,000 students x 8 lessons on 1, 8 and 32 two-core
   worker machines, from the measured per-notebook cost, per-job overhead and gradebook write time.

Usage: ``python benchmarks/bench_cluster.py [--assignment 01-backprop] [--students 6] [--jobs 200]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import servers  # noqa: E402

from autograder import build, cluster, engine  # noqa: E402
from autograder.results import CellResult, SubmissionResult  # noqa: E402

LESSONS = 8
MACHINES = (1, 8, 32)
STUDENTS = (500, 2000, 10000)


def _class(assignment: str, students: int, root: Path) -> Path:
    """``root/<student>/<assignment>/<notebook>.ipynb``: the instructor's solution for every student."""
    for i in range(students):
        dest = root / f"student{i:03d}" / assignment
        dest.mkdir(parents=True)
        for notebook in (REPO / "solutions" / assignment).glob("*.ipynb"):
            shutil.copy(notebook, dest / notebook.name)
    return root


def _timed_grade(subs: Path, out: Path, options: engine.GradeOptions, factory=None) -> tuple[float, str]:
    start = time.perf_counter()
    results = engine.grade(subs, out, options, executor_factory=factory)
    _timed_grade.job_seconds = [r.seconds for r in results]
    return time.perf_counter() - start, (out / "grades.csv").read_text()


def _worker_count(address: str, n: int):
    from distributed import Client

    client = Client(address, set_as_default=False)
    return client, lambda: len(client.scheduler_info(n_workers=-1)["workers"]) >= n


def _overhead(address: str, notebook: Path, jobs: int, work: Path) -> float:
    """Seconds per job of the cluster path for jobs that do nothing, 2 workers."""
    data = notebook.read_bytes()
    fake = [engine.Job(f"s{i}", "bench", {"nb": data}) for i in range(jobs)]
    executor = cluster.DaskExecutor(address)
    with executor:
        start = time.perf_counter()
        for _ in executor.map(repr, fake):
            pass
        return (time.perf_counter() - start) / jobs


def _write_time(url: str, assignment: str, course: Path, work: Path, writes: int) -> float:
    """Seconds per result written into the gradebook at ``url`` (after nbgrader set it up)."""
    from nbgrader.api import Gradebook

    prepared = engine.prepare_course(course, [assignment], work, [url])
    template = "sqlite:///" + str(prepared.template_db)
    with Gradebook(template) as gb:
        cells = [
            CellResult(nb.name, g.name, g.max_score, g.max_score, True)
            for nb in gb.find_assignment(assignment).notebooks
            for g in nb.grade_cells
            if g.cell_type == "code"
        ]
    course_id = build.load_config(prepared.root).CourseDirectory.course_id
    with Gradebook(url, course_id=course_id) as gb:
        start = time.perf_counter()
        for i in range(writes):
            result = SubmissionResult(f"w{i:04d}", assignment, 0.0, 0.0, "graded", cells=list(cells))
            engine._record(gb, result)
        return (time.perf_counter() - start) / writes


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def projection(per_notebook: float, overhead: float, write: float, fixed: float) -> str:
    """A Markdown table: set-up + max(notebooks x (cost + overhead) / processes, notebooks x write)."""
    lines = ["| students x 8 lessons | notebooks | " + " | ".join(f"{m} x 2 cores" for m in MACHINES) + " |"]
    lines.append("|---|---:|" + "---:|" * len(MACHINES))
    for students in STUDENTS:
        n = students * LESSONS
        cells = []
        for machines in MACHINES:
            grading = n * (per_notebook + overhead) / (2 * machines)
            parent = n * write
            wall = fixed + max(grading, parent)
            cells.append(_hours(wall) + (" (gradebook-bound)" if parent > grading else ""))
        lines.append(f"| {students:,} | {n:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="01-backprop")
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="local executor processes (default 2)")
    parser.add_argument("--jobs", type=int, default=200, help="no-op jobs for the overhead (default 200)")
    parser.add_argument("--writes", type=int, default=100, help="gradebook writes timed (default 100)")
    args = parser.parse_args(argv)

    base = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    subs = _class(args.assignment, args.students, base / "submitted")
    n = args.students * len(list((REPO / "solutions" / args.assignment).glob("*.ipynb")))
    options = engine.GradeOptions(assignments=[args.assignment], workers=args.workers)
    times, csvs = {}, {}
    times["local"], csvs["local"] = _timed_grade(subs, base / "out-local", options)
    with servers.dask_scheduler(base / "scheduler") as (_, address):
        client, count = _worker_count(address, 1)
        with servers.grading_worker(address, base / "w1", "w1", count):
            times["dask, 1 worker"], csvs["dask1"] = _timed_grade(
                subs, base / "out-dask1", options, cluster.factory(address)
            )
            client.close()
            client, count = _worker_count(address, 2)
            with servers.grading_worker(address, base / "w2", "w2", count):
                times["dask, 2 workers"], csvs["dask2"] = _timed_grade(
                    subs, base / "out-dask2", options, cluster.factory(address)
                )
                job_seconds = sorted(_timed_grade.job_seconds)
                notebook = next((REPO / "course" / args.assignment).glob("*.ipynb"))
                overhead = _overhead(address, notebook, args.jobs, base)
        client.close()
    with servers.postgres_server() as pg:
        write_pg = _write_time(pg.create_database("bench"), args.assignment, REPO, base / "pg", args.writes)
    write_sqlite = _write_time(
        "sqlite:///" + str(base / "bench.db"), args.assignment, REPO, base / "sqlite", args.writes
    )

    print(f"class: {args.students} x {args.assignment} = {n} notebooks")
    for name, seconds in times.items():
        print(f"{name:16} {seconds:7.1f} s  {60 * n / seconds:6.1f} notebooks/min")
    print(f"same grades.csv in every run: {len(set(csvs.values())) == 1}")
    print(f"cluster overhead per job (no-op job carrying a notebook, 2 workers): {overhead * 1000:.1f} ms")
    print(
        f"gradebook write per result: SQLite {write_sqlite * 1e3:.1f} ms, PostgreSQL {write_pg * 1e3:.1f} ms"
    )
    per_notebook = job_seconds[len(job_seconds) // 2] / max(1, n // args.students)  # median, per notebook
    fixed = max(0.0, times["dask, 2 workers"] - n * per_notebook / 2)
    print(
        f"per-notebook cost on a Dask worker (median job): {per_notebook:.2f} s; fixed set-up {fixed:.0f} s"
    )
    print(projection(per_notebook, overhead, write_pg, fixed))
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
