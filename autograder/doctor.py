"""``autograder doctor``: check a course's nbgrader exchange and configuration, and say what to fix.

nbgrader's exchange is a shared folder whose permissions are the security model: students may create
their submission in ``inbound/`` but not list it (``drwx-wx-wx``, 2733), may list and read released
assignments in ``outbound/`` (755), and may read only the feedback file whose name they can compute
from their own submission's secret in ``feedback/`` (711). The exchange root itself must be writable by
everyone (777), and every folder above it traversable. Students' servers must read the same exchange
root and course id from a system-wide ``nbgrader_config.py``, or their Assignment List shows "exchange
directory does not exist" or no course.

Each check is a :class:`Finding`; a failed one carries the command or setting that fixes it.
"""

from __future__ import annotations

import os
import pwd
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from autograder.exchange import Course, load_user_config

__all__ = ["Finding", "diagnose", "format_findings", "student_config_files"]

_COURSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Finding:
    """One check: ``ok``, what was checked or found, and (when not ok) how to fix it."""

    ok: bool
    what: str
    fix: str = ""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _owner(path: Path) -> str:
    uid = path.stat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _check_course_id(course_id: str) -> Finding:
    if _COURSE_ID.match(course_id) and "+" not in course_id:
        return Finding(True, f"course id {course_id!r}")
    return Finding(
        False,
        f"course id {course_id!r} has characters nbgrader's exchange cannot use in folder names",
        'set c.CourseDirectory.course_id = "<letters, digits, - _ .>" in nbgrader_config.py',
    )


def _check_ancestors(root: Path) -> list[Finding]:
    found = []
    for parent in reversed(root.parents):
        if parent.exists() and not _mode(parent) & stat.S_IXOTH:
            found.append(
                Finding(
                    False,
                    f"{parent} is not traversable by other users (mode {oct(_mode(parent))}): "
                    "students cannot reach the exchange",
                    f"chmod o+x {parent}  (or put the exchange elsewhere, e.g. /srv/nbgrader/exchange)",
                )
            )
    return found


def _check_root(root: Path) -> list[Finding]:
    if not root.exists():
        return [
            Finding(
                False,
                f"exchange root {root} does not exist (students see 'exchange directory does not exist')",
                f"sudo mkdir -p {root} && sudo chmod 777 {root}",
            )
        ]
    if not root.is_dir():
        return [
            Finding(False, f"exchange root {root} is not a folder", f"remove it and: sudo mkdir -p {root}")
        ]
    found = _check_ancestors(root)
    if _mode(root) & 0o777 != 0o777:
        found.append(
            Finding(
                False,
                f"exchange root {root} has mode {oct(_mode(root))}; instructors and students must all write "
                "in it (777)",
                f"sudo chmod 777 {root}",
            )
        )
    else:
        found.append(Finding(True, f"exchange root {root} exists, mode {oct(_mode(root))}"))
    return found


def _check_dir(path: Path, want: int, why: str, *, forbid: int = 0, need: int = 0) -> Finding:
    """``path`` must have every bit of ``need`` and none of ``forbid`` (``want`` is what nbgrader sets)."""
    mode = _mode(path)
    if mode & forbid or (mode & need) != need:
        return Finding(False, f"{path} has mode {oct(mode)}: {why}", f"chmod {oct(want)[2:]} {path}")
    return Finding(True, f"{path} mode {oct(mode)}")


def _check_course_dirs(course: Course, user: str) -> list[Finding]:
    base = course.exchange / course.course_id
    if not base.is_dir():
        return [
            Finding(
                False,
                f"course {course.course_id!r} has no folder in the exchange yet: students see no assignment",
                "autograder release ASSIGNMENT",
            )
        ]
    found = [_check_dir(base, 0o755, "students must list the course", need=0o055, forbid=0o022)]
    inbound, outbound, feedback = base / "inbound", base / "outbound", base / "feedback"
    if inbound.is_dir():
        found.append(
            _check_dir(
                inbound,
                0o2733,
                "students can list each other's submissions, or cannot submit",
                forbid=stat.S_IROTH,
                need=stat.S_IWOTH | stat.S_IXOTH,
            )
        )
        if _owner(inbound) != user and not os.access(inbound, os.R_OK):
            found.append(
                Finding(
                    False,
                    f"{inbound} belongs to {_owner(inbound)}; {user} cannot read it, so collect fails",
                    f"sudo chown {user} {inbound}  (or release as {_owner(inbound)})",
                )
            )
    if outbound.is_dir():
        found.append(_check_dir(outbound, 0o755, "students cannot fetch", need=0o005, forbid=0o022))
        for assignment in sorted(p for p in outbound.iterdir() if p.is_dir()):
            unreadable = [p for p in assignment.rglob("*") if p.is_file() and not _mode(p) & stat.S_IROTH]
            if unreadable:
                found.append(
                    Finding(
                        False,
                        f"released files students cannot read: {', '.join(str(p) for p in unreadable[:3])}",
                        f"chmod -R a+rX {assignment}",
                    )
                )
    if feedback.is_dir():
        found.append(
            _check_dir(
                feedback,
                0o711,
                "students can list everyone's feedback",
                forbid=stat.S_IROTH | stat.S_IWOTH,
                need=stat.S_IXOTH,
            )
        )
    return found


def _check_release(course: Course, assignments: list[str]) -> list[Finding]:
    found = []
    for name in assignments:
        notebooks = sorted((course.release_dir / name).glob("*.ipynb"))
        if notebooks:
            found.append(Finding(True, f"release of {name}: {', '.join(p.name for p in notebooks)}"))
        else:
            found.append(
                Finding(
                    False, f"no release notebooks in {course.release_dir / name}", f"autograder build {name}"
                )
            )
    return found


def student_config_files() -> list[Path]:
    """System-wide ``nbgrader_config.py`` files every user's server reads (Jupyter's non-user config path)."""
    from jupyter_core.paths import ENV_CONFIG_PATH, SYSTEM_CONFIG_PATH

    extra = [p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    folders = [*extra, *ENV_CONFIG_PATH, *SYSTEM_CONFIG_PATH]
    return [Path(f) / "nbgrader_config.py" for f in folders if (Path(f) / "nbgrader_config.py").is_file()]


def _check_student_config(course: Course, files: list[Path]) -> list[Finding]:
    if not files:
        return [
            Finding(
                False,
                "no system-wide nbgrader_config.py: students' servers use nbgrader's defaults, not this "
                "course's exchange and id",
                "copy autograder/hub/nbgrader_config.py to /etc/jupyter/; set its course id and exchange",
            )
        ]
    from traitlets.config import Config

    merged = Config()
    for path in reversed(files):  # the first has the highest priority
        merged.merge(load_user_config(path))
    found = []
    seen_root = merged.Exchange.get("root")
    if seen_root is not None and Path(seen_root) != course.exchange:
        found.append(
            Finding(
                False,
                f"students' config ({', '.join(map(str, files))}) says exchange root {seen_root}, "
                f"the instructor's is {course.exchange}",
                f"set c.Exchange.root = {str(course.exchange)!r} in both",
            )
        )
    seen_id = merged.CourseDirectory.get("course_id")
    if seen_id not in (None, course.course_id):
        found.append(
            Finding(
                False,
                f"students' config says course id {seen_id!r}, the instructor's is {course.course_id!r}",
                f"set c.CourseDirectory.course_id = {course.course_id!r} in both",
            )
        )
    if not found:
        found.append(Finding(True, f"students' config {files[0]} agrees on the exchange and the course id"))
    return found


def _check_timezone(course: Course) -> Finding:
    from dateutil.tz import gettz

    zone = course.config.Exchange.get("timezone", "UTC")
    if gettz(zone) is None:
        return Finding(
            False, f"Exchange.timezone {zone!r} is unknown", 'set c.Exchange.timezone = "Europe/Berlin"'
        )
    return Finding(True, f"submission timestamps in time zone {zone}")


def diagnose(
    course: Course, assignments: list[str], student_configs: list[Path] | None = None
) -> list[Finding]:
    """Every check for ``course``: ids, exchange folders and permissions, release, students' config."""
    user = pwd.getpwuid(os.getuid()).pw_name
    found = [_check_course_id(course.course_id)]
    found += _check_root(course.exchange)
    if course.exchange.is_dir():
        found += _check_course_dirs(course, user)
    found += _check_release(course, assignments)
    found += _check_student_config(
        course, student_config_files() if student_configs is None else student_configs
    )
    found.append(_check_timezone(course))
    return found


def format_findings(findings: list[Finding]) -> str:
    """One line per finding (``ok`` or ``FIX``), the fix indented under each failed one."""
    lines = []
    for f in findings:
        lines.append(f"{'ok ' if f.ok else 'FIX'}  {f.what}")
        if not f.ok and f.fix:
            lines.append(f"       -> {f.fix}")
    return "\n".join(lines)
