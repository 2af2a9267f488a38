"""Grading on a real Dask cluster: ``dask scheduler`` and ``autograder worker`` processes on 127.0.0.1.

The suite starts the scheduler, two grading workers (each in its own working directory) and a PostgreSQL
server (``tests/servers.py``); all are stopped by process group at the end. A small class is graded on the
cluster into PostgreSQL while a third worker is killed mid-job, and once locally into SQLite: the two
``grades.csv`` must be identical. A submission that kills every worker it runs on must fail alone, and a
scheduler that disappears must end the run with an error that keeps the results already received.
"""

from __future__ import annotations

import csv
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from autograder_fixtures import (  # noqa: F401
    WRONG_DOUBLE,
    WRONG_TOTAL,
    student_notebook,
    toy_course,
    write_nbgrader_layout,
)
from servers import ServerError, dask_scheduler, grading_worker, postgres_server, serve

from autograder import cluster, engine

# One xdist worker runs the whole module (with `--dist loadgroup`), so its servers start once.
pytestmark = [
    pytest.mark.cluster,
    pytest.mark.postgres,
    pytest.mark.nbgrader,
    pytest.mark.sandbox,
    pytest.mark.xdist_group("cluster"),
]

OPTIONS = dict(workers=1, cell_timeout=10, notebook_timeout=40)

#: The answer cell of a submission that SIGKILLs the Dask worker process grading it (the outermost
#: ancestor started by multiprocessing's spawn). It can only see that process without the sandbox.
POISON = """
import os, signal
def _ancestors():
    pid = os.getppid()
    while pid > 1:
        yield pid
        with open(f"/proc/{pid}/stat") as fh:
            pid = int(fh.read().rsplit(")", 1)[1].split()[1])
_workers = [p for p in _ancestors() if b"spawn_main" in open(f"/proc/{p}/cmdline", "rb").read()]
if _workers:
    os.kill(_workers[-1], signal.SIGKILL)
def double(x):
    return 2.0 * np.asarray(x, dtype=float)
"""


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _class(course: Path, folder: Path, students: dict[str, dict | None]) -> Path:
    return write_nbgrader_layout(folder, {s: student_notebook(course, a) for s, a in students.items()})


class Cluster:
    """The running scheduler, a client for looking at it, and where the workers keep their files."""

    def __init__(self, address: str, base: Path) -> None:
        from distributed import Client

        self.address, self.base = address, base
        self.client = Client(address, set_as_default=False)

    def workers(self) -> dict[str, dict]:
        return self.client.scheduler_info(n_workers=-1)["workers"]

    def has(self, name: str):
        return lambda: any(w.get("name") == name for w in self.workers().values())

    def address_of(self, name: str) -> str:
        return next(a for a, w in self.workers().items() if w.get("name") == name)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two grading workers for this module; every process group is stopped at the end."""
    base = tmp_path_factory.mktemp("cluster")
    # Dask gives up on a job after it was running on 2 workers that died (default: 4), to keep this short.
    config = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    with dask_scheduler(base / "scheduler", config=config) as (_, address):
        running = Cluster(address, base)
        try:
            with (
                grading_worker(address, base / "w1", "w1", running.has("w1")),
                grading_worker(address, base / "w2", "w2", running.has("w2")),
            ):
                yield running
        finally:
            running.client.close()


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for this module."""
    with postgres_server() as server:
        yield server


CLASS = {"alice": None, "bob": {"total": WRONG_TOTAL}, "carol": {"double": WRONG_DOUBLE}, "dan": None}


@pytest.fixture(scope="module")
def local_run(toy_course, tmp_path_factory):  # noqa: F811
    """The class graded on this machine into SQLite, the reference: (submissions, CSV rows)."""
    base = tmp_path_factory.mktemp("local")
    subs = _class(toy_course, base / "submitted", CLASS)
    (subs / "eve" / "01-toy").mkdir(parents=True)
    (subs / "eve" / "01-toy" / "01-toy.ipynb").write_text("{ not json")
    engine.grade(subs, base / "out", engine.GradeOptions(course=toy_course, **OPTIONS))
    return subs, _rows(base / "out" / "grades.csv")


def _kill_when_busy(running: Cluster, name: str, server, seen: list[str]) -> threading.Thread:
    """Kill worker ``name``'s whole process group (nanny and worker) once it is grading a submission."""

    def watch():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with_jobs = running.client.processing()
            address = next((a for a, w in running.workers().items() if w.get("name") == name), None)
            # Only a grading job counts: the run's setup task (key "setup-…") also lands on every worker.
            grading = [k for k in with_jobs.get(address, ()) if str(k).startswith("grade-")]
            if address and grading:
                seen.extend(grading)
                server.signal(signal.SIGKILL)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def cluster_run(dask_cluster, postgres, local_run, toy_course):  # noqa: F811
    """The same class on the cluster into PostgreSQL, with a third worker killed while it grades a job."""
    subs, _ = local_run
    out = dask_cluster.base / "out"
    url = postgres.create_database("cluster")
    killed: list[str] = []
    victim_dir = dask_cluster.base / "victim"
    with grading_worker(dask_cluster.address, victim_dir, "victim", dask_cluster.has("victim")) as victim:
        watcher = _kill_when_busy(dask_cluster, "victim", victim, killed)
        used = cluster.factory(dask_cluster.address)
        options = engine.GradeOptions(course=toy_course, db_url=url, **OPTIONS)
        engine.grade(subs, out, options, executor_factory=used)
        watcher.join(timeout=5)
        assert not victim.alive()
    return out, used.executor, killed, postgres


def test_cluster_into_postgres_equals_local_sqlite(local_run, cluster_run):
    """Does a class graded on the cluster into PostgreSQL give the local SQLite run's grades.csv?"""
    out, executor, _, _ = cluster_run
    assert executor.lost is None
    assert _rows(out / "grades.csv") == local_run[1]
    assert {r["status"] for r in local_run[1].values()} >= {"graded", "failed"}
    assert len(executor.workers_used) >= 2  # the jobs were spread over the workers
    written = sorted(p.relative_to(out).parts[1] for p in (out / "autograded").rglob("*.ipynb"))
    assert written == sorted(CLASS)  # the parent wrote every autograded notebook, none for eve


def test_killed_worker_changes_nothing(local_run, cluster_run):
    """Was a worker killed while grading a job, and are its jobs in the CSV all the same?"""
    out, executor, killed, _ = cluster_run
    assert killed, "the victim worker never received a job"
    assert _rows(out / "grades.csv") == local_run[1]


def test_gradebook_holds_the_csv(cluster_run):
    """Does the PostgreSQL gradebook hold each graded student's CSV score?"""
    out, _, _, postgres = cluster_run
    text = postgres.psql(
        "SELECT sa.student_id, SUM(g.auto_score) FROM submitted_assignment sa "
        "JOIN submitted_notebook sn ON sn.assignment_id = sa.id JOIN grade g ON g.notebook_id = sn.id "
        "GROUP BY sa.student_id",
        "cluster",
    )
    stored = {s: float(v) for s, v in (line.split("|") for line in text.split())}
    expected = {s: float(r["score"]) for s, r in _rows(out / "grades.csv").items() if r["status"] != "failed"}
    assert stored == expected


def test_command_line_grades_on_the_cluster(dask_cluster, toy_course, tmp_path):  # noqa: F811
    """Does ``autograder grade --scheduler`` grade there, and say how many machines and workers did?"""
    import subprocess

    subs = _class(toy_course, tmp_path / "submitted", {"alice": None, "bob": {"total": WRONG_TOTAL}})
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(tmp_path / "out")]
    command += ["--course", str(toy_course), "--scheduler", dask_cluster.address]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "graded on 1 machine(s) by" in done.stdout
    rows = _rows(tmp_path / "out" / "grades.csv")
    assert {s: r["score"] for s, r in rows.items()} == {"alice": "3", "bob": "2"}


def test_poison_submission_fails_alone(dask_cluster, toy_course, tmp_path):  # noqa: F811
    """Does a submission that kills every worker it runs on end as one failed row, not a hang?"""
    subs = _class(
        toy_course,
        tmp_path / "submitted",
        {"alice": None, "mallory": {"double": POISON}, "bob": {"total": WRONG_TOTAL}},
    )
    used = cluster.factory(dask_cluster.address)
    # Without the sandbox the student's code can see, and kill, the worker process.
    options = engine.GradeOptions(course=toy_course, isolate=False, **OPTIONS)
    start = time.monotonic()
    results = {r.student_id: r for r in engine.grade(subs, tmp_path / "out", options, executor_factory=used)}
    assert time.monotonic() - start < 400
    assert used.executor.lost is None, used.executor.lost
    assert results["mallory"].status == "failed"
    assert "died one after another" in results["mallory"].reason
    for student in ("alice", "bob"):  # graded on the workers that replaced the dead ones
        assert results[student].status != "failed", results[student].reason
        assert results[student].cells, results[student].reason


def test_lost_scheduler_fails_the_run_and_keeps_results(toy_course, tmp_path):  # noqa: F811
    """Does a scheduler that disappears end the run with an error, keeping the results received?"""
    subs = _class(toy_course, tmp_path / "submitted", {f"s{i}": None for i in range(4)})
    with dask_scheduler(tmp_path / "scheduler") as (scheduler, address):
        running = Cluster(address, tmp_path)
        try:
            with grading_worker(address, tmp_path / "w", "only", running.has("only")):
                received = []

                def progress(result, done, total):
                    received.append(result.student_id)
                    if len(received) == 1:
                        scheduler.signal(signal.SIGKILL)

                used = cluster.factory(address, lost_after=5.0)
                options = engine.GradeOptions(course=toy_course, **OPTIONS)
                results = engine.grade(
                    subs, tmp_path / "out", options, executor_factory=used, progress=progress
                )
        finally:
            running.client.close()
    assert used.executor.lost and "lost the Dask scheduler" in used.executor.lost
    assert 1 <= len(results) < 4
    rows = _rows(tmp_path / "out" / "grades.csv")
    assert set(rows) == set(received) == {r.student_id for r in results}
    assert all(row["status"] == "graded" for row in rows.values())


def test_worker_refuses_a_machine_without_bubblewrap(tmp_path):
    """Does ``autograder worker`` stop at start-up, saying why, when bubblewrap is missing?"""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {**os.environ, "PATH": str(bin_dir)}  # no bwrap on PATH
    with pytest.raises(ServerError) as failure:  # it exits before it is ever ready
        with serve(
            [sys.executable, "-m", "autograder", "worker", "tcp://127.0.0.1:9"],
            name="no-bwrap", ready=lambda: False, log_dir=tmp_path, env=env, timeout=60,
        ):  # fmt: skip
            pass
    assert "exited with code 1" in str(failure.value)
    assert "bubblewrap" in str(failure.value)
