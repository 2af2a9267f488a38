"""Release, collect and return through nbgrader's exchange, with nbgrader's own Python API.

The course root is nbgrader's course directory: ``course/<assignment>/`` is the release that
``release_assignment`` copies to ``<exchange>/<course_id>/outbound/``; ``collect`` copies the newest
submission of each student from ``inbound/`` to ``submitted/<student>/<assignment>/`` with its
``timestamp.txt``; :func:`return_feedback` puts ``autograder grade``'s feedback pages where nbgrader's
``release_feedback`` expects them (``feedback/<student>/<assignment>/``, beside the submission's timestamp
and secret) and releases them, so each student fetches their own feedback from the Assignment List.

Settings come from nbgrader's own configuration: this repository's ``nbgrader_config.py`` (folder names),
then every ``nbgrader_config.py`` on Jupyter's config path (``/etc/jupyter``, ``~/.jupyter``, the
current folder) as ``nbgrader`` reads them, then the command line. Due dates are nbgrader's: the course
gradebook's assignment due date, in UTC, set from any time zone with ``collect --due``.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from traitlets.config import Config

from autograder import build

__all__ = [
    "COLLECTED_FILE",
    "Course",
    "Collected",
    "collect",
    "course",
    "default_exchange_root",
    "load_user_config",
    "lateness",
    "release",
    "return_feedback",
    "set_due",
]

#: Written into the course root by :func:`collect`: one row per collected submission and its lateness.
COLLECTED_FILE = "collected.csv"


@dataclass
class Course:
    """An nbgrader course on an exchange: its folders, its id, the exchange root and the loaded config."""

    root: Path
    course_id: str
    exchange: Path
    config: Config

    @property
    def release_dir(self) -> Path:
        """``<root>/course``: the student notebooks, one folder per assignment."""
        return self.root / self.config.CourseDirectory.release_directory

    @property
    def submitted_dir(self) -> Path:
        """``<root>/submitted``: what :func:`collect` copied from the exchange."""
        return self.root / self.config.CourseDirectory.get("submitted_directory", "submitted")

    @property
    def feedback_dir(self) -> Path:
        """``<root>/feedback``: what nbgrader's ``release_feedback`` releases."""
        return self.root / self.config.CourseDirectory.get("feedback_directory", "feedback")

    @property
    def db_url(self) -> str:
        """The course gradebook (due dates live there)."""
        return self.config.CourseDirectory.db_url

    def api(self):
        """An ``NbGraderAPI`` for this course."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        return NbGraderAPI(coursedir=CourseDirectory(config=self.config), config=self.config)


def _user_configs() -> list[Path]:
    """``nbgrader_config.py`` files nbgrader would read, lowest priority first."""
    from jupyter_core.paths import jupyter_config_path

    folders = [Path(p) for p in reversed(jupyter_config_path())] + [Path.cwd()]
    return [f / "nbgrader_config.py" for f in folders if (f / "nbgrader_config.py").is_file()]


def load_user_config(path: Path) -> Config:
    """One ``nbgrader_config.py`` as a traitlets Config."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def course(
    root: Path | None = None,
    *,
    exchange: Path | None = None,
    course_id: str | None = None,
    config_files: list[Path] | None = None,
) -> Course:
    """The course, from nbgrader's config files with ``root``, ``exchange`` and ``course_id`` overriding them.

    Raises ValueError when no course id is configured anywhere; the exchange root defaults to nbgrader's.
    """
    cfg = Config()
    for path in _user_configs() if config_files is None else config_files:
        cfg.merge(load_user_config(Path(path)))
    configured_root = cfg.CourseDirectory.get("root")
    root = Path(root or configured_root or build.REPO).resolve()
    base = build.load_config(root)
    base.CourseDirectory.db_url = "sqlite:///" + str(root / "gradebook.db")
    # The build copies notebooks only; the exchange must move timestamp.txt and submission_secret.txt too.
    base.CourseDirectory.include = ["*"]
    base.merge(cfg)
    base.CourseDirectory.root = str(root)
    if "db_url" not in cfg.CourseDirectory:
        base.CourseDirectory.db_url = "sqlite:///" + str(root / "gradebook.db")
    if course_id is not None:
        base.CourseDirectory.course_id = course_id
    if exchange is not None:
        base.Exchange.root = str(exchange)
    cid = base.CourseDirectory.get("course_id", "")
    if not cid:
        raise ValueError(
            "no course id: pass --course-id or set c.CourseDirectory.course_id in nbgrader_config.py"
        )
    if "root" not in base.Exchange:
        base.Exchange.root = default_exchange_root()
    return Course(root, cid, Path(base.Exchange.root), base)


def default_exchange_root() -> str:
    """The exchange root nbgrader uses when none is configured (``/srv/nbgrader/exchange``)."""
    from nbgrader.exchange.abc.exchange import Exchange

    return Exchange.root.default_value


def _check(result: dict, what: str) -> str:
    if not result or not result.get("success"):
        log = (result or {}).get("log", "") + (result or {}).get("error", "")
        raise RuntimeError(f"nbgrader {what} failed:\n{log.strip()}")
    return result.get("log", "")


def release(c: Course, assignments: list[str], *, force: bool = False) -> list[Path]:
    """``nbgrader release_assignment`` for each assignment; returns the released folders in the exchange."""
    c.config.ExchangeReleaseAssignment.force = force
    for name in assignments:
        if not any((c.release_dir / name).glob("*.ipynb")):
            raise ValueError(
                f"assignment {name!r} has no release in {c.release_dir / name} (run autograder build)"
            )
    released = []
    for name in assignments:
        _check(c.api().release_assignment(name), f"release_assignment {name}")
        released.append(c.exchange / c.course_id / "outbound" / name)
    return released


def set_due(c: Course, assignment: str, due: str) -> datetime:
    """Store ``due`` (``2026-12-01 17:00:00 Europe/Berlin``) in the course gradebook; return it in UTC."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    try:
        when = parse_utc(due)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"due date {due!r} is not a date nbgrader can read ({exc})") from exc
    if len(due.split(" ")) == 3 and when is not None:
        from dateutil.tz import gettz

        zone = due.split(" ")[2]
        if not zone.lstrip("+-").isdigit() and gettz(zone) is None:
            raise ValueError(
                f"due date {due!r}: time zone {zone!r} is unknown (use e.g. Europe/Berlin or UTC)"
            )
    with Gradebook(c.db_url, c.course_id) as gb:
        gb.update_or_create_assignment(assignment, duedate=when)
    return when


def _due(c: Course, assignment: str) -> datetime | None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(c.db_url, c.course_id) as gb:
        try:
            return gb.find_assignment(assignment).duedate
        except MissingEntry:
            return None


@dataclass
class Collected:
    """One collected submission: who, when (UTC), the due date (UTC) and how late."""

    student_id: str
    assignment: str
    timestamp: datetime | None
    duedate: datetime | None
    seconds_late: float


def lateness(c: Course, assignment: str) -> list[Collected]:
    """Every collected submission of ``assignment``, with its ``timestamp.txt`` against the due date."""
    from nbgrader.utils import parse_utc

    due = _due(c, assignment)
    rows = []
    for folder in sorted(c.submitted_dir.glob(f"*/{assignment}")):
        stamp = folder / "timestamp.txt"
        when = parse_utc(stamp.read_text().strip()) if stamp.is_file() and stamp.read_text().strip() else None
        late = max(0.0, (when - due).total_seconds()) if when and due else 0.0
        rows.append(Collected(folder.parent.name, assignment, when, due, late))
    return rows


def _write_collected(c: Course, rows: list[Collected]) -> Path:
    path = c.root / COLLECTED_FILE
    keep = []
    names = {r.assignment for r in rows}
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            keep = [r for r in csv.DictReader(fh) if r["assignment"] not in names]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["student_id", "assignment", "timestamp", "duedate", "seconds_late"])
        for r in keep:
            writer.writerow(
                [r["student_id"], r["assignment"], r["timestamp"], r["duedate"], r["seconds_late"]]
            )
        for r in rows:
            iso = [t.isoformat() + "Z" if t else "" for t in (r.timestamp, r.duedate)]
            writer.writerow([r.student_id, r.assignment, *iso, f"{r.seconds_late:g}"])
    return path


def collect(
    c: Course, assignments: list[str], *, due: str | None = None
) -> tuple[list[Collected], list[str]]:
    """``nbgrader collect`` (newest submission per student, timestamps kept) and each one's lateness.

    Returns the collected submissions and nbgrader's warnings (a submission owned by someone other than
    the student it names is one). Writes ``<root>/collected.csv``.
    """
    rows, warnings = [], []
    for name in assignments:
        if due is not None:
            set_due(c, name, due)
        log = _check(c.api().collect(name, update=True), f"collect {name}")
        warnings += [
            line.strip() for line in log.splitlines() if "cheating attempt" in line or "owned by" in line
        ]
        rows += lateness(c, name)
    _write_collected(c, rows)
    return rows, warnings


def return_feedback(c: Course, assignments: list[str], out: Path) -> tuple[list[str], list[str]]:
    """Release the feedback pages of a grading run ``out`` with ``nbgrader release_feedback``.

    Each page goes to ``<root>/feedback/<student>/<assignment>/`` with the submission's ``timestamp.txt``
    and ``submission_secret.txt``, which nbgrader uses to name the released file, so that only the student
    who submitted can fetch it. Returns the students released and the ones skipped, with why.
    """
    from autograder.feedback import FEEDBACK_DIR

    released, skipped = [], []
    for name in assignments:
        for folder in sorted((Path(out) / FEEDBACK_DIR).glob(f"*/{name}")):
            student = folder.parent.name
            pages = sorted(folder.glob("*.html"))
            submitted = c.submitted_dir / student / name
            secret = submitted / "submission_secret.txt"
            if not pages or not secret.is_file():
                why = "no feedback page" if not pages else f"no {secret} (not collected from the exchange)"
                skipped.append(f"{student} ({name}): {why}")
                continue
            dest = c.feedback_dir / student / name
            dest.mkdir(parents=True, exist_ok=True)
            for page in pages:
                shutil.copyfile(page, dest / page.name)
            for meta in ("timestamp.txt", "submission_secret.txt"):
                shutil.copyfile(submitted / meta, dest / meta)
            released.append(f"{student} ({name})")
        _check(c.api().release_feedback(name), f"release_feedback {name}")
    return released, skipped
