"""Canvas and Moodle: read their submission downloads, write what an instructor uploads to them.

Canvas's "Download Submissions" names each file ``login_userid_submissionid_filename`` (``login_LATE_...``
when it came in after the due date; a resubmitted file gets ``-1``, ``-2``... before its extension).
Moodle's "Download all submissions" names each file ``Full Name_participantid_assignsubmission_file_filename``
or puts the files in one folder per student named ``Full Name_participantid_assignsubmission_file_``.

:func:`discover` turns such a download (folder or zip) into one :class:`~autograder.submissions.Submission`
per student x assignment, the student being the LMS's own number (Canvas user id, Moodle participant id);
:func:`collect` copies it into nbgrader's ``<student>/<assignment>/<notebook>.ipynb`` layout, with an
``lms.json`` that remembers each student's name and file prefix. :func:`release_to` writes the student
notebooks as files and zips to attach to an LMS assignment; :func:`feedback_zips` writes one feedback zip
per student and, for Canvas and Moodle, one zip named the way their bulk feedback upload expects.
Nothing here modifies a download.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.submissions import Submission, check_notebook, extract_zip

__all__ = [
    "LMS_FILE",
    "LmsFile",
    "collect",
    "discover",
    "feedback_zips",
    "identify",
    "notebook_of",
    "release_to",
    "scan",
]

#: Written beside a collected LMS download: student id -> platform, name, prefix, file, late.
LMS_FILE = "lms.json"

_CANVAS = re.compile(r"^(?P<login>[^_/]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<filename>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<filename>.*)$")
# What browsers and LMSs append to a file name uploaded twice: "-1" (Canvas), " (1)", "-Copy1" (Jupyter).
_VERSION = re.compile(r"^(?P<stem>.+?)(?:-(?P<canvas>\d+)|\s*\((?P<browser>\d+)\)|-Copy(?P<copy>\d+))$")


@dataclass(frozen=True)
class LmsFile:
    """One file of an LMS download and who sent it.

    Attributes:
        path: where the file is in the (extracted) download.
        platform: ``canvas`` or ``moodle``.
        student_id: Canvas user id or Moodle participant id (the roster's key for that LMS).
        name: Canvas login (lowercased name) or Moodle full name.
        filename: the file name the student uploaded, without the LMS prefix.
        prefix: the LMS prefix; a feedback file named ``prefix + anything`` goes back to this submission.
        late: Canvas marked the submission late.
        version: the resubmission number Canvas or a browser appended (0 for the first upload).
    """

    path: Path
    platform: str
    student_id: str
    name: str
    filename: str
    prefix: str
    late: bool = False
    version: int = 0


def _version(stem: str) -> tuple[str, int]:
    match = _VERSION.match(stem)
    if match is None:
        return stem, 0
    number = match["canvas"] or match["browser"] or match["copy"]
    return match["stem"], int(number)


def identify(path: Path, root: Path | None = None) -> LmsFile | None:
    """Who sent ``path``, read from its Canvas or Moodle name (or its Moodle folder); None if neither."""
    path = Path(path)
    if match := _MOODLE.match(path.name):
        prefix = path.name[: len(path.name) - len(match["filename"])]
        return LmsFile(path, "moodle", match["pid"], match["name"], match["filename"], prefix)
    parent = path.parent
    if (root is None or parent != Path(root)) and (match := _MOODLE.match(parent.name)):
        if match["filename"] == "":
            return LmsFile(path, "moodle", match["pid"], match["name"], path.name, parent.name)
    if match := _CANVAS.match(path.name):
        prefix = path.name[: len(path.name) - len(match["filename"])]
        stem, version = _version(Path(match["filename"]).stem)
        filename = stem + Path(match["filename"]).suffix
        return LmsFile(
            path, "canvas", match["uid"], match["login"], filename, prefix, bool(match["late"]), version
        )
    return None


def notebook_of(filename: str, expected: dict[str, list[str]]) -> tuple[str, str] | None:
    """The (assignment, notebook) an uploaded file name stands for, or None.

    Accepts the notebook's own name with what a re-upload appends (``-1``, `` (1)``, ``-Copy1``).
    """
    path = Path(filename)
    if path.suffix != ".ipynb":
        return None
    stem, _ = _version(path.stem)
    hits = [(a, nb) for a, names in expected.items() for nb in names if nb in (stem, path.stem)]
    return hits[0] if len(hits) == 1 else None


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith((".", "__MACOSX")) for part in p.relative_to(root).parts)
    )


def _unpacked(path: Path, scratch: Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise ValueError(f"LMS download {str(path)!r} does not exist")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"LMS download {str(path)!r} is a file but not a zip archive")
        return extract_zip(path, scratch / "lms-download")
    return path


def _newest(files: list[LmsFile]) -> LmsFile:
    return max(files, key=lambda f: (f.version, f.path.stat().st_mtime_ns, f.path.name))


def _pick(
    student: str, files: list[LmsFile], expected: dict[str, list[str]], parse: bool = True
) -> list[Submission]:
    """One submission per assignment this student's files name; the newest upload of each notebook wins."""
    found: dict[tuple[str, str], list[LmsFile]] = {}
    strays = []
    for f in files:
        if (hit := notebook_of(f.filename, expected)) is None:
            strays.append(f)
        else:
            found.setdefault(hit, []).append(f)
    subs: dict[str, Submission] = {}
    for (assignment, nb), versions in sorted(found.items()):
        sub = subs.setdefault(assignment, Submission(student, assignment))
        newest = _newest(versions)
        sub.notebooks[nb] = newest.path
        if problem := check_notebook(newest.path, parse=parse):
            sub.problem = "; ".join(filter(None, [sub.problem, problem]))
    for assignment, sub in subs.items():
        missing = [nb for nb in expected[assignment] if nb not in sub.notebooks]
        if missing:
            sub.problem = "; ".join(
                filter(None, [sub.problem, f"missing notebook {', '.join(missing)}.ipynb"])
            )
    if not subs and strays and len(expected) == 1:
        (assignment,) = expected
        names = ", ".join(f.filename for f in strays)
        kind = (
            "renamed notebook"
            if any(f.filename.endswith(".ipynb") for f in strays)
            else "not a notebook file"
        )
        want = ", ".join(f"{nb}.ipynb" for nb in expected[assignment])
        subs[assignment] = Submission(student, assignment, problem=f"{kind}: {names} (expected {want})")
    return list(subs.values())


def scan(path: Path, scratch: Path) -> tuple[list[LmsFile], list[Path]]:
    """The LMS-named files of a download (folder or zip, extracted into ``scratch``) and the other files."""
    root = _unpacked(path, scratch)
    named, other = [], []
    for file in _files(root):
        hit = identify(file, root)
        (named if hit else other).append(hit or file)
    return named, other


def discover(
    path: Path, expected: dict[str, list[str]], scratch: Path, *, parse: bool = True
) -> list[Submission] | None:
    """Submissions in a Canvas or Moodle download, one per student x assignment; None if it is neither.

    ``expected`` maps assignment -> notebook names. A student's file whose name matches no notebook is a
    "renamed notebook" problem when the download is for one assignment. Every student gets a row for every
    assignment anyone submitted ("nothing submitted" otherwise), as in ``submissions.discover``, which
    also says what ``parse`` does.
    """
    named, _ = scan(path, scratch)
    return _submissions(named, expected, parse) if named else None


def _submissions(
    named: list[LmsFile], expected: dict[str, list[str]], parse: bool = True
) -> list[Submission]:
    by_student: dict[str, list[LmsFile]] = {}
    for f in named:
        by_student.setdefault(f.student_id, []).append(f)
    subs = [
        s for student, files in sorted(by_student.items()) for s in _pick(student, files, expected, parse)
    ]
    assignments = sorted({s.assignment for s in subs})
    have = {(s.student_id, s.assignment) for s in subs}
    for student in sorted(by_student):
        for assignment in assignments:
            if (student, assignment) not in have:
                subs.append(Submission(student, assignment, problem=f"nothing submitted for {assignment}"))
    return sorted(subs, key=lambda s: (s.student_id, s.assignment))


def _record(files: list[LmsFile]) -> dict:
    newest = _newest(files)
    return {k: v for k, v in asdict(newest).items() if k != "path"} | {"file": newest.path.name}


def collect(download: Path, dest: Path, expected: dict[str, list[str]]) -> list[Submission]:
    """Copy a Canvas or Moodle download into nbgrader's layout under ``dest`` (``<student>/<assignment>/``).

    Every notebook found is copied, a broken one too, and a student without one gets what they sent
    under its own name, so that grading reports each as failed and says why; ``dest/lms.json``
    records each student's LMS name and prefix for :func:`feedback_zips` and the export. Returns the
    submissions, with their problems; raises ValueError when the download holds no Canvas or Moodle file.
    """
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="autograder-lms-") as tmp:
        named, _ = scan(download, Path(tmp))
        if not named:
            raise ValueError(
                f"{download} holds no Canvas (login_userid_submissionid_file) or Moodle "
                "(Name_id_assignsubmission_file_...) file names"
            )
        subs = _submissions(named, expected)
        by_student: dict[str, list[LmsFile]] = {}
        for f in named:
            by_student.setdefault(f.student_id, []).append(f)
        for sub in subs:
            folder = dest / sub.student_id / sub.assignment
            folder.mkdir(parents=True, exist_ok=True)
            for nb, src in sub.notebooks.items():
                shutil.copyfile(src, folder / f"{nb}.ipynb")
            if not sub.notebooks:  # keep what they sent, so grading reports it (renamed, not a notebook)
                for f in by_student[sub.student_id]:
                    if notebook_of(f.filename, expected) is None:
                        shutil.copyfile(f.path, folder / f.filename)
        record = {student: _record(files) for student, files in sorted(by_student.items())}
    dest.mkdir(parents=True, exist_ok=True)
    (dest / LMS_FILE).write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    return [
        Submission(
            s.student_id,
            s.assignment,
            {nb: dest / s.student_id / s.assignment / f"{nb}.ipynb" for nb in s.notebooks},
            s.problem,
        )
        for s in subs
    ]


def release_to(dest: Path, assignments: list[str], release_dir: Path) -> list[Path]:
    """Write each assignment's student notebooks for an LMS: ``dest/<assignment>/`` and a zip of it.

    Attach the notebook (or the zip, for a multi-notebook assignment) to the LMS assignment; students must
    upload the notebook under its own name (the LMS adds its prefix).
    """
    written = []
    for assignment in assignments:
        source = Path(release_dir) / assignment
        notebooks = sorted(source.glob("*.ipynb"))
        if not notebooks:
            raise ValueError(
                f"assignment {assignment!r} has no release notebook in {source} (run autograder build)"
            )
        folder = Path(dest) / assignment
        folder.mkdir(parents=True, exist_ok=True)
        archive = Path(dest) / f"{assignment}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for nb in notebooks:
                shutil.copyfile(nb, folder / nb.name)
                zf.write(nb, f"{assignment}/{nb.name}")
                written.append(folder / nb.name)
        written.append(archive)
    return written


def _feedback_pages(out: Path, student: str, assignments: list[str]) -> list[Path]:
    from autograder.feedback import FEEDBACK_DIR, _safe_component

    base = Path(out) / FEEDBACK_DIR / _safe_component(student)
    return sorted(p for a in assignments for p in (base / _safe_component(a)).glob("*.html"))


def feedback_zips(
    out: Path, dest: Path, assignments: list[str], lms_record: Path | None = None
) -> list[Path]:
    """Zip each student's feedback pages from a grading run ``out`` into ``dest/<student>.zip``.

    With the ``lms.json`` that :func:`collect` wrote, also ``dest/canvas-feedback.zip`` or
    ``dest/moodle-feedback.zip``: every page renamed with its student's LMS prefix, which Canvas's
    "Re-Upload Submissions" and Moodle's "Upload multiple feedback files in a zip" attach to that student's
    submission. Only the student's own pages go in their zip.
    """
    from autograder.feedback import FEEDBACK_DIR

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = Path(out) / FEEDBACK_DIR
    students = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    record = json.loads(Path(lms_record).read_text(encoding="utf-8")) if lms_record else {}
    written: list[Path] = []
    bulk: dict[str, list[tuple[Path, str]]] = {}
    for student in students:
        pages = _feedback_pages(out, student, assignments)
        if not pages:
            continue
        archive = dest / f"{student}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for page in pages:
                zf.write(page, f"{page.parent.name}/{page.name}")
        written.append(archive)
        if info := record.get(student):
            for page in pages:
                name = f"{info['prefix']}{page.parent.name}-{page.stem}-feedback.html"
                bulk.setdefault(info["platform"], []).append((page, name))
    for platform, entries in sorted(bulk.items()):
        archive = dest / f"{platform}-feedback.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for page, name in entries:
                zf.write(page, name)
        written.append(archive)
    return written
