"""Build the student release (``course/``) from the instructor notebooks (``solutions/``) with nbgrader.

``generate`` runs nbgrader's real ``generate_assignment`` in a scratch course directory and copies the
release notebooks into ``course/``; ``stale_notebooks`` does the same without copying and reports which
committed release notebooks differ; ``run_gates`` autogrades the solution (must score full marks) and the
untouched release (must score 0) with real nbgrader and real kernels.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

__all__ = [
    "CONFIG_FILE",
    "REPO",
    "GateResult",
    "assignments",
    "generate",
    "load_config",
    "nbgrader_api",
    "notebooks",
    "run_gates",
    "stale_notebooks",
]

CONFIG_FILE = Path(__file__).with_name("nbgrader_config.py")
REPO = Path(__file__).resolve().parent.parent


def load_config(root: Path, **overrides: str) -> Config:
    """Load ``nbgrader_config.py`` with the course root (and any CourseDirectory trait) overridden."""
    cfg = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    cfg.CourseDirectory.root = str(root)
    cfg.CourseDirectory.db_url = "sqlite:///" + str(Path(root) / "gradebook.db")
    for key, value in overrides.items():
        setattr(cfg.CourseDirectory, key, value)
    return cfg


def assignments(root: Path = REPO) -> list[str]:
    """Names of the assignments in ``root/solutions`` (folders holding a notebook), sorted."""
    base = Path(root) / "solutions"
    return sorted(p.name for p in base.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebooks(assignment: str, root: Path = REPO) -> list[str]:
    """Notebook names (without ``.ipynb``) of one assignment's instructor version."""
    folder = Path(root) / "solutions" / assignment
    if not folder.is_dir():
        raise ValueError(
            f"assignment {assignment!r} not found in {folder.parent}; "
            f"known: {', '.join(assignments(root)) or 'none'}"
        )
    return sorted(p.stem for p in folder.glob("*.ipynb"))


@contextmanager
def _scratch_course(assignment: str, root: Path) -> Iterator[Path]:
    notebooks(assignment, root)  # validates the name
    with tempfile.TemporaryDirectory(prefix="autograder-build-") as tmp:
        scratch = Path(tmp)
        src = scratch / "solutions" / assignment
        shutil.copytree(Path(root) / "solutions" / assignment, src)
        for junk in src.rglob(".ipynb_checkpoints"):
            shutil.rmtree(junk)
        yield scratch


def nbgrader_api(root: Path, db_url: str | None = None):
    """The ``NbGraderAPI`` of the course at ``root``, its gradebook at ``db_url`` (default: in ``root``)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = load_config(root) if db_url is None else load_config(root, db_url=db_url)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def _generate_in(scratch: Path, assignment: str) -> Path:
    result = nbgrader_api(scratch).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(
            f"nbgrader generate_assignment failed for {assignment!r}:\n"
            f"{result.get('error') or result.get('log')}"
        )
    return scratch / "course" / assignment


def generate(assignment: str, root: Path = REPO) -> list[Path]:
    """Regenerate ``course/<assignment>`` from ``solutions/<assignment>``; return the written files."""
    with _scratch_course(assignment, root) as scratch:
        built = _generate_in(scratch, assignment)
        dest = Path(root) / "course" / assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(built, dest)
    return sorted(dest.glob("*.ipynb"))


def _cells(path: Path) -> list[tuple[str, str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [
        (c["cell_type"], "".join(c["source"]), json.dumps(c.get("metadata", {}), sort_keys=True))
        for c in nb["cells"]
    ]


def _difference(built: Path, committed: Path) -> str | None:
    if not committed.exists():
        return f"{committed} is missing"
    new, old = _cells(built), _cells(committed)
    for i, (a, b) in enumerate(zip(new, old, strict=False)):
        if a != b:
            return f"{committed} differs from a fresh build at cell {i}"
    if len(new) != len(old):
        return f"{committed} has {len(old)} cells, a fresh build has {len(new)}"
    return None


def stale_notebooks(assignment: str, root: Path = REPO) -> list[str]:
    """Return one message per release notebook of ``assignment`` that is missing or out of date."""
    with _scratch_course(assignment, root) as scratch:
        built = _generate_in(scratch, assignment)
        committed = Path(root) / "course" / assignment
        problems = [
            msg
            for nb in sorted(built.glob("*.ipynb"))
            if (msg := _difference(nb, committed / nb.name)) is not None
        ]
        extra = {p.name for p in committed.glob("*.ipynb")} - {p.name for p in built.glob("*.ipynb")}
        problems += [f"{committed / name} has no source in solutions/" for name in sorted(extra)]
    return problems


@dataclass
class GateResult:
    """Scores of one assignment's solution and untouched release, graded by nbgrader."""

    assignment: str
    max_score: float
    solution_score: float
    release_score: float
    solution_seconds: float
    release_seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the solution gets full marks, the release 0, and grading raised no error."""
        return not self.problems


def _autograde(api, scratch: Path, assignment: str, student: str, folder: Path) -> float:
    dest = scratch / "submitted" / student / assignment
    shutil.copytree(folder, dest)
    start = time.perf_counter()
    result = api.autograde(assignment, student, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"autograde of {student} failed:\n{result.get('error') or result['log']}")
    return time.perf_counter() - start


def _auto_points(gb, assignment: str, student: str) -> tuple[float, float]:
    """(score, max) over the autograded test cells only; manually graded answers are left out."""
    submission = gb.find_submission(assignment, student)
    grades = [g for nb in submission.notebooks for g in nb.grades if g.auto_score is not None]
    return sum(g.auto_score for g in grades), sum(g.max_score for g in grades)


def run_gates(assignment: str, root: Path = REPO) -> GateResult:
    """Autograde the solution and the fresh release of ``assignment`` with real nbgrader."""
    with _scratch_course(assignment, root) as scratch:
        release = _generate_in(scratch, assignment)
        api = nbgrader_api(scratch)
        env = dict(os.environ)
        try:
            t_sol = _autograde(api, scratch, assignment, "solution", scratch / "solutions" / assignment)
            t_rel = _autograde(api, scratch, assignment, "release", release)
        finally:
            os.environ.clear()
            os.environ.update(env)  # nbgrader sets NBGRADER_EXECUTION in this process
        with api.gradebook as gb:
            sol = _auto_points(gb, assignment, "solution")
            rel = _auto_points(gb, assignment, "release")
    result = GateResult(assignment, sol[1], sol[0], rel[0], t_sol, t_rel)
    if result.max_score <= 0:
        result.problems.append(f"{assignment} has no graded cells")
    if result.solution_score != result.max_score:
        result.problems.append(
            f"{assignment}: solution scores {result.solution_score:g}/{result.max_score:g}"
        )
    if result.release_score != 0:
        result.problems.append(f"{assignment}: untouched release scores {result.release_score:g}, expected 0")
    return result
