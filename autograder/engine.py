"""Grade a batch of submissions with nbgrader, each in a sandbox, in parallel worker processes.

The parent process (:func:`grade`) prepares the course once (nbgrader ``generate_assignment`` into a
template gradebook), finds the submissions, hands one job per student x assignment to an
:class:`~autograder.executor.Executor`, and is the only writer of the real gradebook: workers grade into
private scratch copies of the template gradebook and return a :class:`~autograder.results.SubmissionResult`.

A worker (:func:`grade_job`) runs nbgrader's own autograde preprocessors on a copy of each notebook
(sanitize: ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells with missing cells added back,
CheckCellMetadata; then Execute with the kernel in a bubblewrap sandbox, LimitOutput, SaveAutoGrades),
then the clean-room re-check of :mod:`autograder.integrity` decides the points and flags tampering.
Each worker forks its kernels and clean-room processes from two preloaded :class:`~autograder.sandbox.Zygote`
fork servers, reset after every notebook.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib
import json
import logging
import multiprocessing.util
import os
import pkgutil
import shutil
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from autograder import build, gradebook_lock, sandbox
from autograder.results import CSV_COLUMNS, CellResult, SubmissionResult, save_results
from autograder.submissions import Submission, discover

__all__ = [
    "GradeOptions",
    "Job",
    "NotebookRun",
    "PreparedCourse",
    "grade",
    "grade_job",
    "prepare_course",
    "write_csv",
]

#: Output a notebook may produce while graded (all cells together); more fails the submission.
MAX_OUTPUT_BYTES = 8 * 1024**2
#: Kernel start failures (e.g. ``ZMQError: Address already in use``) are retried this many times.
KERNEL_START_RETRIES = 2


@dataclass
class GradeOptions:
    """Settings of one ``autograder grade`` run (the command-line options)."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: int = 30
    notebook_timeout: int = 300
    memory: int = sandbox.GIB * 2
    isolate: bool = True
    db_url: str | None = None
    course: Path = build.REPO
    assignments: list[str] | None = None
    max_output: int = MAX_OUTPUT_BYTES
    clean_room: bool = True


@dataclass
class PreparedCourse:
    """The course as nbgrader generated it: a template gradebook and the release notebooks."""

    root: Path
    template_db: Path
    notebooks: dict[str, list[str]]
    alembic_version: str


@dataclass
class Job:
    """One student x assignment for a worker: notebook name -> path of the submitted file."""

    student_id: str
    assignment: str
    notebooks: dict[str, str]
    out: str


@dataclass
class NotebookRun:
    """What one notebook's nbgrader pass produced (inside a worker)."""

    cells: list[CellResult]
    problem: str = ""
    flags: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------------
# nbgrader set-up


@functools.lru_cache(maxsize=1)
def _alembic_version() -> str:
    from nbgrader import api

    return api.get_alembic_version()


def _quiet_sqlalchemy() -> None:
    """Nbgrader's remove-then-add of a submission makes SQLAlchemy warn about autoflush; it is harmless."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)


def _cache_alembic(version: str) -> None:
    """Nbgrader runs ``alembic heads`` in a subprocess whenever it creates a gradebook: run it once."""
    from nbgrader import api

    api.get_alembic_version = lambda: version


def _api(root: Path, db_url: str):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = build.load_config(root)
    cfg.CourseDirectory.db_url = db_url
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def _generate(root: Path, assignment: str, db_url: str) -> None:
    result = _api(root, db_url).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log')}")


def prepare_course(course: Path, assignments: list[str], work: Path, db_urls: list[str]) -> PreparedCourse:
    """Generate ``assignments`` from ``course/solutions`` into a template gradebook and into ``db_urls``."""
    version = _alembic_version()
    _cache_alembic(version)
    root = work / "course"
    for name in assignments:
        build.notebooks(name, course)  # validates the name
        shutil.copytree(Path(course) / "solutions" / name, root / "solutions" / name, dirs_exist_ok=True)
    template = root / "gradebook.db"
    for name in assignments:
        _generate(root, name, "sqlite:///" + str(template))
    for url in db_urls:
        fresh = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
        if fresh is not None and not fresh.exists():
            shutil.copyfile(template, fresh)  # same content as generating again, without the ~5 s
            continue
        with gradebook_lock.held_url(url):  # another run may be setting up the same database server
            for name in assignments:
                _generate(root, name, url)
    notebooks = {
        name: sorted(p.stem for p in (root / "course" / name).glob("*.ipynb")) for name in assignments
    }
    return PreparedCourse(root, template, notebooks, version)


# --------------------------------------------------------------------------------------------------
# Worker side

_WORKER: dict = {}


def init_worker(course: PreparedCourse, options: GradeOptions, work: str) -> None:
    """Per-process set-up: cached alembic version, a private copy of the template gradebook."""
    _cache_alembic(course.alembic_version)
    _quiet_sqlalchemy()
    warnings.filterwarnings("ignore", module="nbformat")  # ids nbformat fixes are checked by integrity
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # nbclient's poller after a kernel death
    own = Path(tempfile.mkdtemp(prefix=f"worker-{os.getpid()}-", dir=work))
    shutil.copy(course.template_db, own / "gradebook.db")
    _WORKER.update(course=course, options=options, dir=own, db_url="sqlite:///" + str(own / "gradebook.db"))
    _warm_imports()
    _start_zygotes()


def _start_zygotes() -> None:
    """Start this worker's two fork servers, for kernels and clean rooms (see :class:`sandbox.Zygote`).

    Only when bubblewrap isolates; otherwise every kernel and clean room is a fresh process.
    """
    from autograder import integrity

    options: GradeOptions = _WORKER["options"]
    if not (options.isolate and sandbox.bwrap_available()[0]):
        return
    policy = sandbox.SandboxPolicy(memory=options.memory, cpu_seconds=options.notebook_timeout, isolate=True)
    if sandbox.KERNEL_ZYGOTE is None:
        if "kernel_root" not in _WORKER:  # kernels' socket paths live under it: keep it short
            _WORKER["kernel_root"] = _short_tmp()
            multiprocessing.util.Finalize(
                None,
                shutil.rmtree,
                args=(_WORKER["kernel_root"],),
                kwargs={"ignore_errors": True},
                exitpriority=1,
            )
        root = _WORKER["kernel_root"]
        env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": f"{root}/mpl"}
        sandbox.KERNEL_ZYGOTE = _zygote(root, policy, "kernel", env)
    if options.clean_room and integrity.ZYGOTE is None:
        home = _WORKER["dir"] / "clean-room"
        home.mkdir(exist_ok=True)
        integrity.ZYGOTE = _zygote(home, policy, "student", integrity.clean_room_env(home))


def _zygote(root: Path, policy: sandbox.SandboxPolicy, kind: str, env: dict) -> sandbox.Zygote | None:
    """Start one zygote; after a failed start this worker stops trying and starts every process fresh."""
    if _WORKER.get(f"no {kind} zygote"):
        return None
    zygote = sandbox.Zygote(root, policy, _WORKER["dir"] / f"zygote-{kind}.log", kind=kind, env=env)
    if zygote.alive:
        return zygote
    zygote.close()
    _WORKER[f"no {kind} zygote"] = True
    return None


def _reset_zygotes() -> None:
    """After a notebook: clear both zygotes' sandboxes; replace a zygote that died or stopped answering."""
    from autograder import integrity

    for owner, name in ((sandbox, "KERNEL_ZYGOTE"), (integrity, "ZYGOTE")):
        zygote = getattr(owner, name)
        if zygote is not None and not zygote.reset():
            zygote.close()
            setattr(owner, name, None)
    _start_zygotes()


def _warm_imports() -> None:
    """Import what the clean-room harness needs before it is forked from this worker, once per worker.

    The harness runs the instructor's test cells, which import gradlib's checks and, for the torch
    oracles, torch (~2 s); imported here, every fork starts with them loaded. Student code never runs
    in this process.
    """
    import numpy  # noqa: F401

    import gradlib.checks
    from autograder import integrity  # noqa: F401

    for info in pkgutil.iter_modules(gradlib.checks.__path__):
        importlib.import_module(f"gradlib.checks.{info.name}")
    with contextlib.suppress(ImportError):
        import torch  # noqa: F401


def _short_tmp() -> Path:
    """A scratch dir with a short path (Unix socket paths are limited to ~100 bytes)."""
    base = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="ag-", dir=base if len(base) < 40 else "/tmp"))


def _worker_config(scratch: Path, nbdir: Path, options: GradeOptions):
    cfg = build.load_config(_WORKER["dir"])
    cfg.CourseDirectory.db_url = _WORKER["db_url"]
    cfg.OverwriteCells.add_missing_cells = True
    cfg.Execute.timeout = options.cell_timeout
    cfg.Execute.kernel_manager_class = sandbox.SandboxedKernelManager
    cfg.Execute.startup_timeout = 60
    cfg.Execute.shutdown_kernel = "immediate"  # the sandbox is torn down anyway; saves ~0.4 s
    cfg.SandboxedKernelManager.scratch = str(scratch)
    cfg.SandboxedKernelManager.notebook_dir = str(nbdir)
    cfg.SandboxedKernelManager.memory = options.memory
    cfg.SandboxedKernelManager.cpu_seconds = options.notebook_timeout * 2
    cfg.SandboxedKernelManager.isolate = options.isolate
    cfg.SandboxedKernelManager.extra_env = [f"MPLCONFIGDIR={scratch}/mpl", f"IPYTHONDIR={scratch}/ipython"]
    return cfg


class _OutputTooLarge(RuntimeError):
    pass


def _capped_execute_class(limit: int):
    from nbgrader.preprocessors import Execute

    class CappedExecute(Execute):
        """nbgrader's Execute, refusing a notebook whose outputs exceed ``limit`` bytes in total."""

        _seen = 0

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            self._seen += len(str(content.get("text", ""))) + len(str(content.get("data", "")))
            if self._seen > limit:
                raise _OutputTooLarge(f"the notebook printed more than {limit / 1024**2:.0f} MB of output")
            return super().output(outs, msg, display_id, cell_index)

    return CappedExecute


def _resources(job: Job, notebook: str, nbdir: Path) -> dict:
    return {
        "unique_key": notebook,
        "output_files_dir": f"{notebook}_files",
        "metadata": {"path": str(nbdir)},
        "nbgrader": {
            "student": job.student_id,
            "assignment": job.assignment,
            "notebook": notebook,
            "db_url": _WORKER["db_url"],
        },
    }


def _fresh_submission(job: Job) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(_WORKER["db_url"]) as gb:
        gb.update_or_create_student(job.student_id)
        try:
            gb.remove_submission(job.assignment, job.student_id)
        except MissingEntry:
            pass
        gb.add_submission(job.assignment, job.student_id)


def _sanitize(nb, resources, cfg):
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    for cls in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata):
        nb, resources = cls(config=cfg)(nb, resources)
        if cls is DeduplicateIds:
            # DeduplicateIds leaves ``nbgrader: {}`` on a duplicate, which OverwriteCells' add_missing_cells
            # then fails on (KeyError: 'grade_id'); a cell without nbgrader metadata means the same.
            for cell in nb.cells:
                if cell.metadata.get("nbgrader") == {}:
                    del cell.metadata["nbgrader"]
    return nb, resources


def _execute(nb, resources, cfg, options: GradeOptions):
    """Nbgrader's autograde preprocessors; the kernel is killed when the whole-notebook timeout passes."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

    executor = _capped_execute_class(options.max_output)(config=cfg)
    timed_out = threading.Event()

    def watchdog():
        km = getattr(executor, "km", None)
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None:
            timed_out.set()
            sandbox.kill_tree(process.pid)

    timer = threading.Timer(options.notebook_timeout, watchdog)
    timer.start()
    old = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        nb, resources = executor(nb, resources)
    except Exception as exc:
        if timed_out.is_set():
            raise RuntimeError(
                f"the notebook ran longer than the whole-notebook limit of {options.notebook_timeout} s "
                "and was stopped"
            ) from exc
        raise
    finally:
        timer.cancel()
        if old is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = old
    for cls in (IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, CheckCellMetadata):
        nb, resources = cls(config=cfg)(nb, resources)
    return nb, resources


def _error_text(cell) -> str:
    """``Name: message`` of the cell's last error, else its stderr; never the cell's source."""
    for out in reversed(cell.get("outputs", [])):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
    return stderr.strip().splitlines()[-1][:300] if stderr.strip() else ""


def _kernel_cells(nb, job: Job, notebook: str) -> list[CellResult]:
    from nbgrader.api import Gradebook

    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    cells = []
    with Gradebook(_WORKER["db_url"]) as gb:
        sub = gb.find_submission_notebook(notebook, job.assignment, job.student_id)
        for grade in sorted(sub.grades, key=lambda g: g.name):
            if grade.cell_type != "code":
                continue  # manually graded written answers are not autograded
            score = grade.auto_score or 0.0
            passed = score >= grade.max_score
            message = "" if passed else _error_text(by_id.get(grade.name, {}))
            cells.append(CellResult(notebook, grade.name, score, grade.max_score, passed, None, message))
    return cells


def _tests(job: Job, notebook: str) -> list[tuple[str, str]]:
    """(grade_id, source) of the notebook's autograder test cells, from the gradebook, in notebook order."""
    from nbgrader.api import Gradebook

    release = _WORKER["course"].root / "course" / job.assignment / f"{notebook}.ipynb"
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(release, 4).cells]
    with Gradebook(_WORKER["db_url"]) as gb:
        nb = gb.find_notebook(notebook, job.assignment)
        tests = [
            (g.name, gb.find_source_cell(g.name, notebook, job.assignment).source) for g in nb.grade_cells
        ]
        tests = [
            (gid, src)
            for gid, src in tests
            if gb.find_grade_cell(gid, notebook, job.assignment).cell_type == "code"
        ]
    return sorted(tests, key=lambda t: order.index(t[0]) if t[0] in order else len(order))


def _is_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(s in text for s in ("Address already in use", "Kernel died before replying", "kernel_info"))


def _run_notebook(job: Job, notebook: str, source: Path, options: GradeOptions) -> NotebookRun:
    from autograder import integrity

    start = time.perf_counter()
    # the kernel's scratch (sockets, HOME, the notebook copy) must lie inside the kernel zygote's sandbox
    zygote = sandbox.KERNEL_ZYGOTE
    scratch = Path(tempfile.mkdtemp(prefix="job-", dir=zygote.scratch)) if zygote else _short_tmp()
    clean = room = None
    try:
        nbdir = scratch / "nb"
        nbdir.mkdir()
        shutil.copyfile(source, nbdir / f"{notebook}.ipynb")
        submitted = nbformat.read(nbdir / f"{notebook}.ipynb", as_version=4)
        release = nbformat.read(_WORKER["course"].root / "course" / job.assignment / f"{notebook}.ipynb", 4)
        raw_ids = [c.get("id") for c in json.loads(source.read_text(encoding="utf-8"))["cells"]]
        flags = [f"{notebook}: {flag}" for flag in integrity.static_flags(submitted, release, raw_ids)]
        if options.clean_room:
            # The clean room runs meanwhile, in its own sandbox and scratch dir (the kernel cannot see it).
            room = _short_tmp()
            policy = sandbox.SandboxPolicy(
                memory=options.memory, cpu_seconds=options.notebook_timeout, isolate=options.isolate
            )
            clean = integrity.start_recheck(
                submitted,
                release,
                _tests(job, notebook),
                scratch=room,
                policy=policy,
                cell_timeout=options.cell_timeout,
                deadline=time.monotonic() + options.notebook_timeout,
            )
        _fresh_submission(job)
        cfg = _worker_config(scratch, nbdir, options)
        for attempt in range(KERNEL_START_RETRIES + 1):
            nb = nbformat.read(nbdir / f"{notebook}.ipynb", as_version=4)
            resources = _resources(job, notebook, nbdir)
            nb, resources = _sanitize(nb, resources, cfg)
            try:
                nb, resources = _execute(nb, resources, cfg, options)
                break
            except Exception as exc:
                if attempt == KERNEL_START_RETRIES or not _is_start_failure(exc):
                    raise
                shutil.copyfile(source, nbdir / f"{notebook}.ipynb")
        dest = Path(job.out) / "autograded" / job.student_id / job.assignment
        dest.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest / f"{notebook}.ipynb")
        cells = _kernel_cells(nb, job, notebook)
        strays = sandbox.STRAY_PROCESSES.pop(str(scratch), 0)
        if strays:
            flags.append(f"{notebook}: left {strays} process(es) running after its cells finished")
        if clean is not None:
            flags += integrity.finish_recheck(clean, cells)
        return NotebookRun(cells, flags=flags, seconds=time.perf_counter() - start)
    finally:
        if clean is not None:
            clean.cancel()
        _reset_zygotes()
        for path in (scratch, room):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)


def _failure_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    name = type(exc).__name__
    if name == "CellTimeoutError":
        return "a cell ran past the cell timeout and ignored the interrupt (does it catch KeyboardInterrupt?)"
    if name == "DeadKernelError":
        return "the kernel died while running the notebook (os._exit, a crash or the memory limit)"
    if isinstance(exc, _OutputTooLarge):
        return str(exc)
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, _OutputTooLarge):
        return str(cause)
    return f"{name}: {text}"[:300]


def grade_job(job: Job) -> SubmissionResult:
    """Grade one student x assignment in this worker process (never raises)."""
    options: GradeOptions = _WORKER["options"]
    start = time.perf_counter()
    result = SubmissionResult(job.student_id, job.assignment, 0.0, 0.0, "graded")
    result.sandbox = sandbox.describe(sandbox.SandboxPolicy(memory=options.memory, isolate=options.isolate))
    flags: list[str] = []
    for notebook, source in sorted(job.notebooks.items()):
        try:
            run = _run_notebook(job, notebook, Path(source), options)
        except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
            reason = f"{notebook}: {_failure_reason(exc)}"
            if os.environ.get("AUTOGRADER_DEBUG"):
                reason += "\n" + traceback.format_exc()
            shutil.rmtree(Path(job.out) / "autograded" / job.student_id / job.assignment, ignore_errors=True)
            return replace(result, status="failed", reason=reason, seconds=time.perf_counter() - start)
        result.cells += run.cells
        flags += run.flags
    result.score = sum(c.points for c in result.cells)
    result.max_score = sum(c.max_points for c in result.cells)
    if flags:
        result.status, result.reason = "flagged", "; ".join(flags)
    result.seconds = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------------------------------
# Parent side


def _record(gb, result: SubmissionResult) -> None:
    """Write one result to the real gradebook; a failed grading leaves no scores behind."""
    with gradebook_lock.held(gb):  # other runs may write the same PostgreSQL gradebook
        _write_result(gb, result)


def _write_result(gb, result: SubmissionResult) -> None:
    from nbgrader.api import MissingEntry

    _quiet_sqlalchemy()
    gb.update_or_create_student(result.student_id)
    try:
        gb.remove_submission(result.assignment, result.student_id)
    except MissingEntry:
        pass
    if result.status == "failed":
        return
    gb.add_submission(result.assignment, result.student_id)
    for cell in result.cells:
        grade = gb.find_grade(cell.grade_id, cell.notebook, result.assignment, result.student_id)
        grade.auto_score = cell.points
        grade.needs_manual_grade = False
    for nb in gb.find_submission(result.assignment, result.student_id).notebooks:
        nb.flagged = result.status == "flagged"
    gb.db.commit()


def write_csv(results: list[SubmissionResult], path: Path) -> None:
    """``grades.csv``: one row per student x assignment, sorted, in :data:`CSV_COLUMNS` order."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in sorted(results, key=lambda r: (r.student_id, r.assignment)):
            writer.writerow(r.csv_row())


def _failed(sub: Submission, max_score: float, how: str) -> SubmissionResult:
    return SubmissionResult(
        sub.student_id, sub.assignment, 0.0, max_score, "failed", sub.problem, sandbox=how
    )


def _max_scores(db_url: str, assignments: list[str]) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {
            a: sum(
                g.max_score
                for nb in gb.find_assignment(a).notebooks
                for g in nb.grade_cells
                if g.cell_type == "code"
            )
            for a in assignments
        }


def grade(
    submissions: Path,
    out: Path,
    options: GradeOptions | None = None,
    *,
    executor_factory: Callable | None = None,
    progress: Callable[[SubmissionResult, int, int], None] | None = None,
) -> list[SubmissionResult]:
    """Grade everything under ``submissions``; write ``out/grades.csv``, ``results.json``, the gradebook.

    ``progress(result, done, total)`` is called in the parent after each submission is recorded.
    """
    from nbgrader.api import Gradebook

    from autograder.executor import LocalExecutor

    options = options or GradeOptions()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db_url = options.db_url or "sqlite:///" + str(out / "gradebook.db")
    names = options.assignments or build.assignments(options.course)
    with tempfile.TemporaryDirectory(prefix="autograder-grade-") as tmp:
        work = Path(tmp)
        course = prepare_course(options.course, names, work, [db_url])
        subs = discover(Path(submissions), course.notebooks, work)
        max_scores = _max_scores("sqlite:///" + str(course.template_db), names)
        how = sandbox.describe(sandbox.SandboxPolicy(memory=options.memory, isolate=options.isolate))
        results = [_failed(s, max_scores[s.assignment], how) for s in subs if s.problem]
        jobs = [
            Job(s.student_id, s.assignment, {k: str(v) for k, v in s.notebooks.items()}, str(out))
            for s in subs
            if not s.problem
        ]
        total = len(subs)
        make = executor_factory or LocalExecutor
        course_id = build.load_config(course.root).CourseDirectory.course_id
        with Gradebook(db_url, course_id=course_id) as gb:
            for done, r in enumerate(results, 1):
                _record(gb, r)
                shutil.rmtree(out / "autograded" / r.student_id / r.assignment, ignore_errors=True)
                if progress:
                    progress(r, done, total)
            if jobs:
                with make(
                    workers=options.workers, initializer=init_worker, initargs=(course, options, tmp)
                ) as ex:
                    for result in _complete(ex.map(grade_job, jobs), jobs, max_scores, how):
                        _record(gb, result)
                        results.append(result)
                        if progress:
                            progress(result, len(results), total)
    results.sort(key=lambda r: (r.student_id, r.assignment))
    write_csv(results, out / "grades.csv")
    save_results(results, out / "results.json")
    return results


def _complete(outcomes: Iterator, jobs: list[Job], max_scores: dict[str, float], how: str):
    """Results from the executor; a job whose worker crashed becomes a failed result, never a hole."""
    for job, outcome in outcomes:
        if isinstance(outcome, BaseException):
            outcome = SubmissionResult(
                job.student_id,
                job.assignment,
                0.0,
                max_scores[job.assignment],
                "failed",
                f"internal error while grading: {type(outcome).__name__}: {outcome}"[:300],
                sandbox=how,
            )
        if outcome.status == "failed":
            outcome.max_score = max_scores[job.assignment]
        yield outcome
