"""Grade a batch of submissions with nbgrader, each in a sandbox, in parallel worker processes.

Owns the grading run: :class:`GradeOptions` (from :mod:`autograder.options`), preparing the course, the
worker context (:class:`Worker`), grading one :class:`Job`, and recording results. The path of one
submission, hop by hop, is drawn in ``autograder/README.md``.

The parent process (:func:`grade`) prepares the course once (nbgrader ``generate_assignment`` into a
template gradebook), finds the submissions, and hands one :class:`Job` per student x assignment, carrying
the submitted bytes, to an :class:`~autograder.executor.Executor`. It alone writes ``OUT`` and the real
gradebook, from the :class:`GradedJob` values the workers return.

A worker process holds one :class:`Worker`, made by :func:`init_worker`: the course, the options, a
private copy of the template gradebook, and two preloaded :class:`~autograder.sandbox.Zygote` fork servers
(kernels, clean-room processes) reset after every notebook. :func:`grade_job` parses each notebook once,
runs nbgrader's own autograde preprocessors (``Autograde.sanitize_preprocessors`` and
``autograde_preprocessors``) with the kernel in a sandbox, and meanwhile the clean room
(:mod:`autograder.cleanroom`), whose verdict decides the points (:func:`autograder.integrity.apply_verdict`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
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

from autograder import build, gradebook_lock, integrity, kernel, sandbox
from autograder import scratch as tmpfs
from autograder.cleanroom import harness
from autograder.cleanroom.client import clean_room_env
from autograder.feedback import save_release
from autograder.ledger import Ledger, write_atomic
from autograder.options import GradeOptions
from autograder.results import CellResult, SubmissionResult, failed_result, save_results, write_csv
from autograder.submissions import NotebookProblem, discover, parse_notebook

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
MAX_OUTPUT_BYTES = GradeOptions.max_output
#: Kernel start failures (e.g. ``ZMQError: Address already in use``) are retried this many times.
KERNEL_START_RETRIES = 2


def sandbox_text(options: GradeOptions) -> str:
    """How student code is isolated in a run with ``options``: one line, copied into every result."""
    return sandbox.describe(sandbox.SandboxPolicy(memory=options.memory, isolate=options.isolate))


@dataclass
class PreparedCourse:
    """The course as nbgrader generated it: a template gradebook and the release notebooks."""

    root: Path
    template_db: Path
    notebooks: dict[str, list[str]]
    alembic_version: str


@dataclass
class Job:
    """One student x assignment for a worker, carrying its data: notebook name -> the submitted bytes.

    The release it is graded against is ``assignment`` in the run's :class:`PreparedCourse`, which every
    worker received once (``init_worker``). Picklable, and needs no shared filesystem.
    """

    student_id: str
    assignment: str
    notebooks: dict[str, bytes]


@dataclass(frozen=True)
class GradedJob:
    """What a worker returns for a :class:`Job`: the result and the autograded notebooks' bytes.

    The parent alone writes them (``OUT/autograded/<student>/<assignment>/``) and the gradebook.
    """

    result: SubmissionResult
    autograded: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class NotebookRun:
    """What one notebook's grading produced (inside a worker)."""

    cells: list[CellResult]
    flags: list[str]
    autograded: bytes


# --------------------------------------------------------------------------------------------------
# nbgrader set-up


@functools.lru_cache(maxsize=1)
def _alembic_version() -> str:
    """The gradebook schema's head revision: ``nbgrader.api.get_alembic_version`` without its subprocess."""
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    return ScriptDirectory.from_config(config).get_current_head()


def _quiet_sqlalchemy() -> None:
    """Nbgrader's remove-then-add of a submission makes SQLAlchemy warn about autoflush; it is harmless."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)


def _cache_alembic(version: str) -> None:
    """Nbgrader runs ``alembic heads`` in a subprocess whenever it creates a gradebook: run it once."""
    from nbgrader import api

    api.get_alembic_version = lambda: version


def _generate(root: Path, assignment: str, db_url: str) -> None:
    api = build.nbgrader_api(root, db_url)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log')}")
    _drop_stray_course(db_url, api.coursedir.course_id)


_DELETE_UNUSED_COURSE = (
    "DELETE FROM course WHERE id = :id AND NOT EXISTS (SELECT 1 FROM assignment WHERE course_id = :id)"
)


def _drop_stray_course(db_url: str, course_id: str) -> None:
    """Delete the course row nbgrader 0.9.6's ``SaveCells`` adds by opening ``Gradebook(db_url)``.

    Without a course id, ``Gradebook`` adds its default course (``default_course``), so every generated
    gradebook gains that course next to ``course_id``. It is deleted unless it is ``course_id`` or an
    assignment belongs to it (only ``assignment`` refers to ``course``).
    """
    import inspect

    from nbgrader.api import Gradebook
    from sqlalchemy import create_engine, text

    stray = inspect.signature(Gradebook).parameters["course_id"].default
    if stray == course_id:
        return
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(_DELETE_UNUSED_COURSE), {"id": stray})
    finally:
        engine.dispose()


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

#: This process's worker context, made by :func:`init_worker` (the executor's initializer).
_WORKER: Worker | None = None


class Worker:
    """What one grading worker process holds for all its jobs; made once per process, passed explicitly.

    Attributes:
        course: the prepared course (release notebooks, template gradebook).
        options: the run's options.
        dir: the worker's private directory (its copy of the template gradebook, logs, clean-room home).
        db_url: the private gradebook nbgrader's preprocessors read and write.
        policy: the sandbox of every kernel and clean-room process.
        zygotes: kind (``"kernel"``, ``"student"``) -> the running :class:`~autograder.sandbox.Zygote`, or
            None: that kind of process starts fresh (no bubblewrap, or its zygote failed to start once).
    """

    def __init__(self, course: PreparedCourse, options: GradeOptions, work: Path):
        self.course, self.options = course, options
        self.dir = Path(tempfile.mkdtemp(prefix=f"worker-{os.getpid()}-", dir=work))
        shutil.copy(course.template_db, self.dir / "gradebook.db")
        self.db_url = "sqlite:///" + str(self.dir / "gradebook.db")
        self.policy = sandbox.SandboxPolicy(
            memory=options.memory, cpu_seconds=options.notebook_timeout, isolate=options.isolate
        )
        self.zygotes: dict[str, sandbox.Zygote | None] = {"kernel": None, "student": None}
        self._given_up: set[str] = set()
        self._kernel_root: Path | None = None
        #: Why a scratch folder could not be a sized tmpfs ("" when every mount worked): it stays on disk.
        self.scratch_problem = ""

    def _note_scratch(self, why: str) -> None:
        if why and not self.scratch_problem:
            self.scratch_problem = why

    def sandbox_text(self) -> str:
        """How this worker isolates student code: the run's line, and a scratch folder left on disk."""
        how = sandbox_text(self.options)
        if self.scratch_problem:
            how += f"; scratch folder on disk, not a sized tmpfs ({self.scratch_problem})"
        return how

    @property
    def kernel_zygote(self) -> sandbox.Zygote | None:
        """The zygote kernels are forked from, or None."""
        return self.zygotes["kernel"]

    @property
    def student_zygote(self) -> sandbox.Zygote | None:
        """The zygote clean-room student processes are forked from, or None."""
        return self.zygotes["student"]

    def start_zygotes(self, warm: bool = False) -> None:
        """Start the missing zygotes, only when bubblewrap isolates (else every process is fresh).

        ``warm``: meanwhile import what the clean-room harness needs in this process (:func:`_warm_imports`).

        After a zygote of one kind fails to start, this worker stops trying that kind.
        """
        missing = set()  # the kinds to start now: none where every process starts fresh
        if sandbox.isolates(self.policy):
            missing = {kind for kind, z in self.zygotes.items() if z is None and kind not in self._given_up}
            if not self.options.clean_room:
                missing.discard("student")
        wanted = {}  # kind -> (scratch root, environment)
        if "kernel" in missing:
            root = self._short_kernel_root()
            self._note_scratch(tmpfs.mount_tmpfs(root, self.options.memory // 2))  # files count as memory
            env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": f"{root}/mpl"}
            wanted["kernel"] = (root, env)
        if "student" in missing:
            home = self.dir / "clean-room"
            home.mkdir(exist_ok=True)
            self._note_scratch(tmpfs.mount_tmpfs(home, self.options.memory // 2))
            wanted["student"] = (home, clean_room_env(home))
        # Each zygote spends its start importing torch in its own process: start them side by side, and
        # wait for them after this process's own imports. (Started from this thread: the children of a
        # worker die with the thread that forked them, PR_SET_PDEATHSIG, and this thread holds the mounts.)
        started = {
            kind: sandbox.Zygote(
                root, self.policy, self.dir / f"zygote-{kind}.log", kind=kind, env=env, wait=False
            )
            for kind, (root, env) in wanted.items()
        }
        if warm:
            _warm_imports()
        for kind, zygote in started.items():
            if zygote.wait_ready():
                self.zygotes[kind] = zygote
            else:
                zygote.close()
                self._given_up.add(kind)

    def _short_kernel_root(self) -> Path:
        """Kernels' socket paths live under it: a short path (Unix socket paths are limited to ~100 bytes)."""
        if self._kernel_root is None:
            self._kernel_root = _short_tmp()
            multiprocessing.util.Finalize(
                self, shutil.rmtree, args=(self._kernel_root,), kwargs={"ignore_errors": True}, exitpriority=1
            )
        return self._kernel_root

    def reset_zygotes(self) -> None:
        """After a notebook: clear the zygotes' sandboxes; replace a zygote that died or stopped answering."""
        for kind, zygote in self.zygotes.items():
            if zygote is not None and not zygote.reset():
                zygote.close()
                self.zygotes[kind] = None
        self.start_zygotes()

    def close(self) -> None:
        """Stop the zygotes (a worker process reused for another run calls this first)."""
        for kind, zygote in self.zygotes.items():
            if zygote is not None:
                with contextlib.suppress(Exception):
                    zygote.close()
            self.zygotes[kind] = None

    def release(self, assignment: str, notebook: str) -> Path:
        """The release notebook a submission is graded against."""
        return self.course.root / "course" / assignment / f"{notebook}.ipynb"


def init_worker(course: PreparedCourse, options: GradeOptions, work: str) -> None:
    """The executor's initializer: make this process's :class:`Worker` (closing an earlier run's)."""
    global _WORKER
    _cache_alembic(course.alembic_version)
    _quiet_sqlalchemy()
    warnings.filterwarnings("ignore", module="nbformat")  # ids nbformat fixes are checked by integrity
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # nbclient's poller after a kernel death
    close_worker()
    _WORKER = Worker(course, options, Path(work))
    _WORKER.start_zygotes(warm=True)


def close_worker() -> None:
    """Stop this process's worker context, if any (its zygotes)."""
    global _WORKER
    if _WORKER is not None:
        _WORKER.close()
    _WORKER = None


def _warm_imports() -> None:
    """Import what the clean-room harness needs before it is forked from this worker, once per worker.

    The harness runs the instructor's test cells, which import gradlib's checks and, for the torch
    oracles, torch (~2 s); imported here, every fork starts with them loaded. Student code never runs
    in this process.
    """
    import numpy  # noqa: F401

    import gradlib.checks
    from autograder.cleanroom import harness  # noqa: F401

    for info in pkgutil.iter_modules(gradlib.checks.__path__):
        importlib.import_module(f"gradlib.checks.{info.name}")
    with contextlib.suppress(ImportError):
        import torch  # noqa: F401


def _short_tmp() -> Path:
    """A scratch dir with a short path (Unix socket paths are limited to ~100 bytes)."""
    base = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="ag-", dir=base if len(base) < 40 else "/tmp"))


def _worker_config(worker: Worker, scratch: Path, nbdir: Path):
    options = worker.options
    cfg = build.load_config(worker.dir)
    cfg.CourseDirectory.db_url = worker.db_url
    cfg.OverwriteCells.add_missing_cells = True
    cfg.Execute.timeout = options.cell_timeout
    # after a cell's reply, its last output may lag on a busy machine: wait as long as a cell may run
    # (nbclient's default, 4 s, failed honest notebooks under load)
    cfg.Execute.iopub_timeout = options.cell_timeout
    cfg.Execute.kernel_manager_class = kernel.SandboxedKernelManager
    cfg.Execute.startup_timeout = 60
    cfg.Execute.shutdown_kernel = "immediate"  # the sandbox is torn down anyway; saves ~0.4 s
    cfg.SandboxedKernelManager.scratch = str(scratch)
    cfg.SandboxedKernelManager.notebook_dir = str(nbdir)
    cfg.SandboxedKernelManager.memory = options.memory
    cfg.SandboxedKernelManager.cpu_seconds = options.kernel_cpu_seconds
    cfg.SandboxedKernelManager.isolate = options.isolate
    cfg.SandboxedKernelManager.zygote = worker.kernel_zygote
    cfg.SandboxedKernelManager.extra_env = [f"MPLCONFIGDIR={scratch}/mpl", f"IPYTHONDIR={scratch}/ipython"]
    return cfg


class _OutputTooLarge(RuntimeError):
    pass


class _ScratchFull(RuntimeError):
    pass


def _grading_execute_class(limit: int):
    from nbgrader.preprocessors import Execute

    class GradingExecute(Execute):
        """nbgrader's Execute: refuses over ``limit`` bytes of output; remembers its kernel manager."""

        _seen = 0
        #: The kernel manager of the last run (nbclient forgets it at shutdown): its ``strays`` count.
        last_km = None

        def create_kernel_manager(self):
            self.last_km = super().create_kernel_manager()
            return self.last_km

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            self._seen += len(str(content.get("text", ""))) + len(str(content.get("data", "")))
            if self._seen > limit:
                raise _OutputTooLarge(f"the notebook printed more than {limit / 1024**2:.0f} MB of output")
            return super().output(outs, msg, display_id, cell_index)

    return GradingExecute


def _resources(worker: Worker, job: Job, notebook: str, nbdir: Path) -> dict:
    return {
        "unique_key": notebook,
        "output_files_dir": f"{notebook}_files",
        "metadata": {"path": str(nbdir)},
        "nbgrader": {
            "student": job.student_id,
            "assignment": job.assignment,
            "notebook": notebook,
            "db_url": worker.db_url,
        },
    }


def _replace_submission(gb, assignment: str, student: str, *, add: bool = True) -> None:
    """Remove the student's earlier submission of ``assignment`` from ``gb``; add an empty one if ``add``."""
    from nbgrader.api import MissingEntry

    gb.update_or_create_student(student)
    with contextlib.suppress(MissingEntry):
        gb.remove_submission(assignment, student)
    if add:
        gb.add_submission(assignment, student)


def _fresh_submission(worker: Worker, job: Job) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(worker.db_url) as gb:
        _replace_submission(gb, job.assignment, job.student_id)


def _nbgrader_preprocessors(kind: str) -> list:
    """The preprocessor list of nbgrader's ``Autograde`` converter: ``sanitize`` or ``autograde``."""
    from nbgrader.converters import Autograde

    return list(Autograde.class_traits()[f"{kind}_preprocessors"].default())


def _sanitize(nb, resources, cfg):
    from nbgrader.preprocessors import DeduplicateIds

    for cls in _nbgrader_preprocessors("sanitize"):
        nb, resources = cls(config=cfg)(nb, resources)
        if cls is DeduplicateIds:
            # DeduplicateIds leaves ``nbgrader: {}`` on a duplicate, which OverwriteCells' add_missing_cells
            # then fails on (KeyError: 'grade_id'); a cell without nbgrader metadata means the same.
            for cell in nb.cells:
                if cell.metadata.get("nbgrader") == {}:
                    del cell.metadata["nbgrader"]
    return nb, resources


def _execute(nb, resources, cfg, options: GradeOptions):
    """Nbgrader's autograde preprocessors; the kernel is killed when the whole-notebook timeout passes.

    Returns the notebook, the resources, and the number of processes the kernel left running.
    """
    from nbgrader.preprocessors import AssignLatePenalties, Execute
    from nbgrader.utils import setenv

    executor = _grading_execute_class(options.max_output)(config=cfg)
    timed_out = threading.Event()

    def watchdog():
        if executor.last_km is not None and executor.last_km.kill_tree():
            timed_out.set()

    timer = threading.Timer(options.notebook_timeout, watchdog)
    timer.start()
    try:
        with setenv(NBGRADER_EXECUTION="autograde"):
            nb, resources = executor(nb, resources)
    except Exception as exc:
        if timed_out.is_set():
            raise RuntimeError(
                f"the notebook ran longer than the whole-notebook limit of {options.notebook_timeout} s "
                "and was stopped"
            ) from exc
        if getattr(executor.last_km, "interrupts", 0):
            # nbgrader's Execute interrupts a cell at its timeout and goes on with an error in its place; an
            # exception after that means the kernel never came back from the interrupt.
            raise RuntimeError(
                f"a cell ran past the cell timeout of {options.cell_timeout} s and ignored the interrupt "
                "(does it catch KeyboardInterrupt?)"
            ) from exc
        raise
    finally:
        timer.cancel()
    # nbgrader's list after Execute (which ran above, capped and watched), without AssignLatePenalties:
    # this run knows no submission times; late penalties are applied at export, from collect's timestamps.
    after = _nbgrader_preprocessors("autograde")
    for cls in after[after.index(Execute) + 1 :]:
        if cls is not AssignLatePenalties:
            nb, resources = cls(config=cfg)(nb, resources)
    return nb, resources, (executor.last_km.strays or 0) if executor.last_km is not None else 0


def _error_text(cell) -> str:
    """``Name: message`` of the cell's last error, else its stderr; never the cell's source."""
    for out in reversed(cell.get("outputs", [])):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
    return stderr.strip().splitlines()[-1][:300] if stderr.strip() else ""


def _kernel_cells(worker: Worker, nb, job: Job, notebook: str) -> list[CellResult]:
    from nbgrader.api import Gradebook

    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    cells = []
    with Gradebook(worker.db_url) as gb:
        sub = gb.find_submission_notebook(notebook, job.assignment, job.student_id)
        for grade in sorted(sub.grades, key=lambda g: g.name):
            if grade.cell_type != "code":
                continue  # manually graded written answers are not autograded
            score = grade.auto_score or 0.0
            passed = score >= grade.max_score
            message = "" if passed else _error_text(by_id.get(grade.name, {}))
            cells.append(CellResult(notebook, grade.name, score, grade.max_score, passed, None, message))
    return cells


def _tests(worker: Worker, release, job: Job, notebook: str) -> list[tuple[str, str]]:
    """(grade_id, source) of the notebook's autograder test cells, from the gradebook, in notebook order."""
    from nbgrader.api import Gradebook

    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells]
    with Gradebook(worker.db_url) as gb:
        nb = gb.find_notebook(notebook, job.assignment)
        tests = [
            (g.name, gb.find_source_cell(g.name, notebook, job.assignment).source)
            for g in nb.grade_cells
            if g.cell_type == "code"
        ]
    return sorted(tests, key=lambda t: order.index(t[0]) if t[0] in order else len(order))


def _is_start_failure(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(s in text for s in ("Address already in use", "Kernel died before replying", "kernel_info"))


def _run_notebook(worker: Worker, job: Job, notebook: str, raw: bytes) -> NotebookRun:
    options = worker.options
    # the kernel's scratch (sockets, HOME, the notebook copy) must lie inside the kernel zygote's sandbox
    zygote = worker.kernel_zygote
    scratch = Path(tempfile.mkdtemp(prefix="job-", dir=zygote.scratch)) if zygote else _short_tmp()
    clean = room = None
    try:
        nbdir = scratch / "nb"
        nbdir.mkdir()
        submitted, raw_ids = parse_notebook(raw, f"{notebook}.ipynb")  # the one parse of the submission
        (nbdir / f"{notebook}.ipynb").write_bytes(raw)
        release = nbformat.read(worker.release(job.assignment, notebook), as_version=4)
        flags = [f"{notebook}: {flag}" for flag in integrity.static_flags(submitted, release, raw_ids)]
        if options.clean_room:
            # The clean room runs meanwhile, in its own sandbox and scratch dir (the kernel cannot see it).
            room = _short_tmp()
            clean = harness.start(
                submitted,
                release,
                _tests(worker, release, job, notebook),
                scratch=room,
                policy=worker.policy,
                cell_timeout=options.cell_timeout,
                deadline=time.monotonic() + options.notebook_timeout,
                zygote=worker.student_zygote,
            )
        _fresh_submission(worker, job)
        cfg = _worker_config(worker, scratch, nbdir)
        for attempt in range(KERNEL_START_RETRIES + 1):
            resources = _resources(worker, job, notebook, nbdir)
            nb, resources = _sanitize(copy.deepcopy(submitted), resources, cfg)
            try:
                nb, resources, strays = _execute(nb, resources, cfg, options)
                break
            except Exception as exc:
                if attempt == KERNEL_START_RETRIES or not _is_start_failure(exc):
                    raise
                (nbdir / f"{notebook}.ipynb").write_bytes(raw)
        if zygote is not None and tmpfs.is_full(zygote.scratch):
            raise _ScratchFull(
                f"the notebook filled its scratch folder ({options.memory // 2 / 1024**3:g} GiB, half "
                "the memory limit)"
            )
        cells = _kernel_cells(worker, nb, job, notebook)
        if strays:
            flags.append(f"{notebook}: left {strays} process(es) running after its cells finished")
        if clean is not None:
            raised = integrity.raised_in_kernel(nb)
            cells, clean_flags = integrity.apply_verdict(cells, clean.result(), raised)
            flags += clean_flags
        return NotebookRun(cells, flags, nbformat.writes(nb).encode("utf-8"))
    finally:
        if clean is not None:
            clean.cancel()
        worker.reset_zygotes()
        for path in (scratch, room):
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)


def _failure_reason(exc: BaseException) -> str:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    text = str(exc).strip().splitlines()
    text = text[0] if text else ""
    if isinstance(exc, CellTimeoutError) and "IOPub" in str(exc):
        # the cell had finished; its output did not arrive in time (never quote str(exc): it shows the cell)
        return (
            "a cell finished but its output did not arrive in time (IOPub timeout; the machine was "
            "overloaded or the notebook stopped the kernel's messages); grade it again"
        )
    if isinstance(exc, CellTimeoutError):
        return "a cell ran past the cell timeout and ignored the interrupt (does it catch KeyboardInterrupt?)"
    if isinstance(exc, DeadKernelError):
        return "the kernel died while running the notebook (os._exit, a crash or the memory limit)"
    for err in (exc, exc.__cause__ or exc.__context__):
        if isinstance(err, (_OutputTooLarge, _ScratchFull)):
            return str(err)
    return f"{type(exc).__name__}: {text}"  # its whole first line, never cut mid-line (as feedback_message)


def grade_job(job: Job) -> GradedJob:
    """Grade one student x assignment in this worker process (never raises for a bad submission).

    The result's ``max_score`` is left to the parent (:func:`grade`), which knows the assignment's.
    """
    worker = _WORKER
    if worker is None:
        raise RuntimeError("grade_job runs in a worker process set up by init_worker")
    start = time.perf_counter()
    how = worker.sandbox_text()
    cells: list[CellResult] = []
    flags: list[str] = []
    autograded: dict[str, bytes] = {}
    for notebook, raw in sorted(job.notebooks.items()):
        try:
            run = _run_notebook(worker, job, notebook, raw)
        except NotebookProblem as exc:  # not a notebook after all: the message names the file
            failed = failed_result(job.student_id, job.assignment, 0.0, str(exc), how)
            return GradedJob(replace(failed, seconds=time.perf_counter() - start))
        except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
            reason = f"{notebook}: {_failure_reason(exc)}"
            if os.environ.get("AUTOGRADER_DEBUG"):
                reason += "\n" + traceback.format_exc()
            failed = failed_result(job.student_id, job.assignment, 0.0, reason, how)
            return GradedJob(replace(failed, seconds=time.perf_counter() - start))
        cells += run.cells
        flags += run.flags
        autograded[f"{notebook}.ipynb"] = run.autograded
    result = SubmissionResult(
        job.student_id,
        job.assignment,
        sum(c.points for c in cells),
        sum(c.max_points for c in cells),
        "flagged" if flags else "graded",
        "; ".join(flags),
        cells,
        time.perf_counter() - start,
        how,
    )
    return GradedJob(result, autograded)


# --------------------------------------------------------------------------------------------------
# Parent side


def _record(gb, result: SubmissionResult) -> None:
    """Write one result to the real gradebook; a failed grading leaves no scores behind."""
    with gradebook_lock.held(gb):  # other runs may write the same PostgreSQL gradebook
        _write_result(gb, result)


def _write_result(gb, result: SubmissionResult) -> None:
    _quiet_sqlalchemy()
    _replace_submission(gb, result.assignment, result.student_id, add=result.status != "failed")
    if result.status == "failed":
        return
    for cell in result.cells:
        grade = gb.find_grade(cell.grade_id, cell.notebook, result.assignment, result.student_id)
        grade.auto_score = cell.points
        grade.needs_manual_grade = False
    for nb in gb.find_submission(result.assignment, result.student_id).notebooks:
        nb.flagged = result.status == "flagged"
    gb.db.commit()


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
    ledger: Ledger | None = None,
) -> list[SubmissionResult]:
    """Grade everything under ``submissions``; write ``out/grades.csv``, ``results.json``, the gradebook.

    ``progress(result, done, total)`` is called in the parent after each submission is recorded.
    Unchanged submissions reuse ``out``'s journaled results (``ledger``, default ``Ledger(out)``).
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
        save_release(course.root / "course", names, out)  # what feedback shows as the test code
        subs = discover(Path(submissions), course.notebooks, work, parse=False)  # workers parse
        max_scores = _max_scores("sqlite:///" + str(course.template_db), names)
        how = sandbox_text(options)
        results = [
            failed_result(s.student_id, s.assignment, max_scores[s.assignment], s.problem, how)
            for s in subs
            if s.problem
        ]
        book = ledger or Ledger(out)
        book.open(course.root, names, options, db_url)
        graded, reused = book.split([s for s in subs if not s.problem], _submitted)
        jobs = (Job(s.student_id, s.assignment, _submitted(s)) for s in graded)
        total = len(subs)
        make = executor_factory or LocalExecutor
        course_id = build.load_config(course.root).CourseDirectory.course_id
        with Gradebook(db_url, course_id=course_id) as gb:
            for done, r in enumerate(results, 1):
                _record(gb, r)
                _write_autograded(out, GradedJob(r))
                if progress:
                    progress(r, done, total)
            for r in reused:  # unchanged since a journaled run: its row, notebooks and scores stand
                if not book.recorded(r):
                    _record(gb, r)
                results.append(r)
                if progress:
                    progress(r, len(results), total)
            if graded:
                # no more workers than jobs: a late submission alone starts one worker and its zygotes
                workers = min(options.workers, len(graded))
                with make(workers=workers, initializer=init_worker, initargs=(course, options, tmp)) as ex:
                    for done in _complete(ex.map(grade_job, jobs), max_scores, how):
                        _record(gb, done.result)
                        _write_autograded(out, done)
                        book.append(done.result, done.autograded)
                        results.append(done.result)
                        if progress:
                            progress(done.result, len(results), total)
    results.sort(key=lambda r: (r.student_id, r.assignment))
    write_atomic(out / "grades.csv", functools.partial(write_csv, results))
    write_atomic(out / "results.json", functools.partial(save_results, results))
    book.close()
    return results


def _submitted(sub) -> dict[str, bytes]:
    return {k: p.read_bytes() for k, p in sub.notebooks.items()}


def _complete(outcomes: Iterator, max_scores: dict[str, float], how: str) -> Iterator[GradedJob]:
    """What the executor returns; a job whose worker crashed becomes a failed result, never a hole.

    Every result's ``max_score`` is the assignment's, from the gradebook (its one source).
    """
    for job, outcome in outcomes:
        if isinstance(outcome, BaseException):
            reason = f"internal error while grading: {type(outcome).__name__}: {outcome}"[:300]
            outcome = GradedJob(failed_result(job.student_id, job.assignment, 0.0, reason, how))
        yield replace(outcome, result=replace(outcome.result, max_score=max_scores[job.assignment]))


def _write_autograded(out: Path, done: GradedJob) -> None:
    """``OUT/autograded/<student>/<assignment>/``: the executed notebooks, or nothing for a failed one."""
    dest = out / "autograded" / done.result.student_id / done.result.assignment
    shutil.rmtree(dest, ignore_errors=True)
    if done.result.status == "failed" or not done.autograded:
        return
    dest.mkdir(parents=True)
    for name, data in done.autograded.items():
        (dest / name).write_bytes(data)
