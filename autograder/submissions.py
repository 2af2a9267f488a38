"""Find and check submissions: nbgrader's layout, or an LMS folder or zip of ``<student>_<assignment>.ipynb``.

:func:`discover` returns one :class:`Submission` per student x assignment. A submission that cannot be
graded carries a ``problem`` (empty file, invalid JSON, nbformat 5, not a notebook, missing or renamed
notebook, a file too large); the engine reports it as ``failed`` with that reason and grades the rest.
Nothing here writes to the submissions: a zip is extracted into a scratch directory, and the engine
grades copies.

A notebook's JSON is parsed by :func:`parse_notebook`. Collecting parses it to tell the instructor at once
which files are not notebooks; grading does not (``discover(..., parse=False)`` runs only the checks on
the bytes, which cap what parsing can cost), and the worker that grades a notebook parses it, once, and
fails it with the same reason.
"""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = [
    "MAX_NOTEBOOK_BYTES",
    "NotebookProblem",
    "Submission",
    "check_notebook",
    "discover",
    "extract_zip",
    "parse_notebook",
]

#: Larger notebook files are refused (a notebook with huge stored outputs, or not a notebook at all).
MAX_NOTEBOOK_BYTES = 50 * 1024**2
#: Notebooks with more cells are refused before they are parsed (the longest lesson has ~50).
MAX_CELLS = 2000
#: JSON nested deeper than this is refused before it is parsed (a notebook needs fewer than 10 levels).
MAX_NESTING = 64
# possessive quantifiers: an unterminated string (a file cut off half-way) fails in linear time instead
# of backtracking through every way of splitting it
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_MAX_ZIP_BYTES = 2 * 1024**3


@dataclass
class Submission:
    """One student x assignment: the notebook files found (name without ``.ipynb`` -> path)."""

    student_id: str
    assignment: str
    notebooks: dict[str, Path] = field(default_factory=dict)
    problem: str = ""


def _nesting(raw: bytes) -> int:
    """How deeply the JSON text ``raw`` nests arrays and objects, in one linear pass without recursion."""
    depth = deepest = 0
    for bracket in _JSON_STRING.sub(b'""', raw).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
    return deepest


class NotebookProblem(ValueError):
    """A file that cannot be graded as an nbformat 4 notebook; the message names the file and says why."""


def check_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES, *, parse: bool = True) -> str:
    """Why ``path`` cannot be graded as an nbformat 4 notebook; empty when it can.

    Never raises for a bad file, and never follows a symbolic link; size, cell count and nesting depth
    are capped before the JSON is parsed, in time linear in the file's size. With ``parse=False`` only
    those checks of the bytes run, and :func:`parse_notebook` finds the rest where the notebook is graded.
    """
    if path.is_symlink():
        return f"{path.name} is a symbolic link, not a notebook"
    try:
        raw = _checked_bytes(path, max_bytes)
        if parse:
            parse_notebook(raw, path.name)
    except NotebookProblem as exc:
        return str(exc)
    except (OSError, RecursionError, MemoryError) as exc:
        return f"{path.name} could not be read as a notebook ({type(exc).__name__}: {str(exc)[:200]})"
    return ""


def _checked_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size == 0:
        raise NotebookProblem(f"{path.name} is an empty file")
    if size > max_bytes:
        raise NotebookProblem(
            f"{path.name} is {size / 1024**2:.0f} MB, over the {max_bytes / 1024**2:.0f} MB limit"
        )
    raw = path.read_bytes()
    if raw[:5] == b"%PDF-" or raw[:2] == b"PK" or b"\x00" in raw[:4096]:
        raise NotebookProblem(f"{path.name} is not a notebook (binary file: {raw[:4]!r}...)")
    if (cells := raw.count(b'"cell_type"')) > MAX_CELLS:
        raise NotebookProblem(f"{path.name} has {cells} cells, over the limit of {MAX_CELLS}")
    if _nesting(raw) > MAX_NESTING:
        raise NotebookProblem(
            f"{path.name} nests JSON more than {MAX_NESTING} levels deep; a notebook needs fewer than 10"
        )
    return raw


def parse_notebook(raw: bytes, name: str) -> tuple[nbformat.NotebookNode, list]:
    """The notebook ``name`` (a file name, for messages) from its bytes, and its cell ids as written.

    The node is what ``nbformat.reads(text, as_version=4)`` returns, validated: duplicate or missing cell
    ids are repaired, as ``reads`` does (the ids as written are returned for the integrity checks).
    Call it on bytes that passed :func:`check_notebook`'s checks, which bound the parse's cost.

    Raises:
        NotebookProblem: the bytes are not UTF-8 JSON, not a notebook, not nbformat 4, or not valid.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = f"{name} is not valid JSON ({exc}); is it a notebook saved by Jupyter?"
        raise NotebookProblem(why) from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise NotebookProblem(f"{name} is JSON but not a notebook (no 'cells' and 'nbformat')")
    version = data.get("nbformat")
    if version != 4:
        raise NotebookProblem(f"{name} has nbformat {version!r}; only nbformat 4 notebooks can be graded")
    try:
        nb = notebook_node(data)  # new objects: validating repairs them, not ``data``
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate or missing cell ids: repaired, integrity's business
            nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any schema problem is a reason to refuse the file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookProblem(f"{name} is not a valid notebook: {first[:200]}") from None
    return nb, [c.get("id") for c in data["cells"]]


def notebook_node(data: dict) -> nbformat.NotebookNode:
    """What ``nbformat.reads(text, as_version=4)`` makes of an nbformat 4 notebook, from its parsed JSON."""
    try:
        return nbformat.v4.to_notebook_json(data)
    except AttributeError as exc:  # as nbformat.reader.reads reports a malformed notebook
        raise nbformat.ValidationError(
            f"The notebook is invalid and is missing an expected key: {exc}"
        ) from None


def extract_zip(archive: Path, dest: Path) -> Path:
    """Extract ``archive`` into ``dest`` (refusing paths that escape it or a huge total); return dest."""
    with zipfile.ZipFile(archive) as zf:
        total = sum(info.file_size for info in zf.infolist())
        if total > _MAX_ZIP_BYTES:
            raise ValueError(f"{archive} unpacks to {total / 1024**3:.1f} GiB; refusing more than 2 GiB")
        for info in zf.infolist():
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise ValueError(f"{archive} member {info.filename!r} points outside the archive")
        zf.extractall(dest)
    return dest


def _ignored(name: str) -> bool:
    """Hidden files and folders, and the ``__MACOSX`` folder macOS adds to zips, are never submissions."""
    return name.startswith((".", "__MACOSX"))


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not _ignored(p.name))


def _is_nbgrader_layout(root: Path) -> bool:
    return any(sub.is_dir() for child in _entries(root) if child.is_dir() for sub in _entries(child))


def _single_top_dir(root: Path) -> Path:
    """A zip often holds one folder with everything inside: descend into it."""
    entries = _entries(root)
    if len(entries) == 1 and entries[0].is_dir() and not _is_nbgrader_layout(root):
        return entries[0]
    return root


def _check_folder(sub: Submission, folder: Path, expected: list[str], parse: bool) -> Submission:
    files = [p for p in _entries(folder) if p.is_file() or p.is_symlink()]
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    problems = []
    for name in expected:
        path = folder / f"{name}.ipynb"
        if path.is_file() or path.is_symlink():
            if problem := check_notebook(path, parse=parse):
                problems.append(problem)
            else:  # a refused file (a link, too deep, too many cells) is never read again, even for feedback
                sub.notebooks[name] = path
        elif notebooks:
            found = ", ".join(p.name for p in notebooks)
            problems.append(f"renamed notebook: expected {name}.ipynb, found {found}")
        else:
            found = ", ".join(p.name for p in files) or "nothing"
            problems.append(f"missing notebook {name}.ipynb (found {found})")
    sub.problem = "; ".join(problems)
    return sub


def _nbgrader_layout(root: Path, expected: dict[str, list[str]], parse: bool) -> list[Submission]:
    subs = []
    for student in (p for p in _entries(root) if p.is_dir()):
        for folder in (p for p in _entries(student) if p.is_dir() and p.name in expected):
            sub = Submission(student.name, folder.name)
            if student.is_symlink() or folder.is_symlink():
                link = student if student.is_symlink() else folder
                sub.problem = f"{link.name} is a symbolic link, not a notebook folder"
                subs.append(sub)
                continue
            subs.append(_check_folder(sub, folder, expected[folder.name], parse))
    return subs


def _lms_layout(root: Path, expected: dict[str, list[str]], parse: bool) -> list[Submission]:
    names = sorted(expected, key=len, reverse=True)
    pattern = re.compile(
        r"^(?P<student>.+?)_(?P<assignment>" + "|".join(map(re.escape, names)) + r")(?P<rest>.*)$"
    )
    subs: dict[tuple[str, str], Submission] = {}
    found = (p for p in root.rglob("*") if not any(_ignored(part) for part in p.relative_to(root).parts))
    for path in sorted(p for p in found if p.is_file() or p.is_symlink()):
        match = pattern.match(path.name)
        if match is None:
            continue
        key = (match["student"], match["assignment"])
        sub = subs.setdefault(key, Submission(*key))
        if len(expected[key[1]]) != 1:
            sub.problem = f"{key[1]} has several notebooks; submit it in nbgrader's folder layout"
        elif match["rest"] == ".ipynb":
            sub.problem = check_notebook(path, parse=parse)
            if not sub.problem:
                sub.notebooks[expected[key[1]][0]] = path
        elif not sub.notebooks:
            kind = "renamed notebook" if path.suffix == ".ipynb" else "not a notebook file"
            sub.problem = f"{kind}: {path.name} (expected {key[0]}_{key[1]}.ipynb)"
    return [subs[key] for key in sorted(subs)]


def discover(
    path: Path, expected: dict[str, list[str]], scratch: Path, *, parse: bool = True
) -> list[Submission]:
    """Submissions under ``path`` for the assignments in ``expected`` (assignment -> notebook names).

    ``path`` is nbgrader's ``<student>/<assignment>/<notebook>.ipynb`` tree, a folder of
    ``<student>_<assignment>.ipynb`` files, a Canvas or Moodle submissions download (:mod:`autograder.lms`),
    or a zip of any of these (extracted into ``scratch``). Every
    student found gets a row for every assignment anyone submitted: one they did not submit gets the
    problem "nothing submitted". With ``parse=False`` a notebook's JSON is not parsed here
    (:func:`check_notebook`): grading parses it where it grades it.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"submissions {str(path)!r} do not exist")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"submissions {str(path)!r} is a file but not a zip archive")
        path = _single_top_dir(extract_zip(path, scratch / "unzipped"))
    if _is_nbgrader_layout(path):
        subs = _nbgrader_layout(path, expected, parse)
    else:
        from autograder import lms  # Canvas and Moodle downloads name files their own way

        found = lms.discover(path, expected, scratch, parse=parse)
        subs = found if found is not None else _lms_layout(path, expected, parse)
    students = sorted({s.student_id for s in subs})
    have = {(s.student_id, s.assignment) for s in subs}
    for student in students:
        for assignment in sorted({a for _, a in have}):
            if (student, assignment) not in have:
                subs.append(Submission(student, assignment, problem=f"nothing submitted for {assignment}"))
    return sorted(subs, key=lambda s: (s.student_id, s.assignment))
