"""Incremental and resumable grading: which submissions a run may take from ``OUT``'s earlier results.

Every result a run finishes is appended to ``OUT/journal.jsonl`` by the parent, one JSON line per
student x assignment, flushed and fsync'd before the next result is taken, together with its key:

    key = sha256(grader fingerprint, release fingerprint of the assignment, scoring options,
                 notebook names and the submitted bytes)

- the grader fingerprint: the source of ``autograder/`` and ``gradlib/`` (the test cells' checks) and the
  versions of Python, nbgrader, NumPy and torch;
- the release fingerprint: the assignment's ``solutions/`` (release and hidden tests) and the release
  nbgrader generated from it;
- the scoring options: every :class:`~autograder.options.GradeOptions` field but those that cannot change
  a score (:data:`NOT_SCORING`).

A later run into the same ``OUT`` (:class:`Ledger`) reuses a journaled result whose key is unchanged and
whose autograded notebooks are still in ``OUT`` byte for byte; it grades the rest. A run killed at any
point, even by SIGKILL, loses at most the submissions in flight: each journaled line was written after
the gradebook and the autograded notebooks, a torn last line is dropped when the journal is read, and
``grades.csv`` / ``results.json`` are only ever replaced whole (:func:`write_atomic`). A result that
failed for an internal reason (a worker that crashed) is never reused. ``--force`` (``Ledger(force=True)``)
re-grades everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path

from autograder.options import GradeOptions
from autograder.results import CellResult, SubmissionResult

__all__ = [
    "JOURNAL",
    "NOT_SCORING",
    "Ledger",
    "grader_fingerprint",
    "read_journal",
    "scoring_options",
    "write_atomic",
]

#: The journal's file name inside ``OUT``.
JOURNAL = "journal.jsonl"
#: Journal format; a line of another version is not reused.
VERSION = 1
#: GradeOptions fields that cannot change a score (every other field is part of the key).
NOT_SCORING = frozenset({"workers", "db_url", "course", "assignments"})
#: A failed result with this reason came from the grading machinery, not the submission: never reused.
INTERNAL = "internal error while grading"

_PACKAGES = ("nbgrader", "numpy", "torch", "nbclient", "ipykernel")
_REPO = Path(__file__).resolve().parent.parent


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree_digest(h, root: Path, pattern: str = "*") -> None:
    """Feed every file under ``root`` matching ``pattern`` (relative name and bytes) into ``h``, sorted."""
    for path in sorted(p for p in Path(root).rglob(pattern) if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode() + b"\0" + _sha(path.read_bytes()).encode() + b"\0")


def grader_fingerprint(repo: Path = _REPO) -> str:
    """The grader's version: its source (``autograder/``, ``gradlib/``) and the packages that score."""
    h = hashlib.sha256(f"python {sys.version_info[:3]}\0".encode())
    for name in _PACKAGES:
        try:
            h.update(f"{name} {metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name} absent\0".encode())
    for package in ("autograder", "gradlib"):
        _tree_digest(h, Path(repo) / package, "*.py")
    return h.hexdigest()


def scoring_options(options: GradeOptions) -> dict:
    """The options that can change a score, by name (JSON-ready)."""
    return {f.name: getattr(options, f.name) for f in fields(options) if f.name not in NOT_SCORING}


def release_fingerprint(course_root: Path, assignment: str) -> str:
    """The assignment's solutions and generated release inside a prepared course (``PreparedCourse.root``)."""
    h = hashlib.sha256(assignment.encode() + b"\0")
    for part in ("solutions", "course"):
        h.update(part.encode() + b"\0")
        _tree_digest(h, Path(course_root) / part / assignment)
    return h.hexdigest()


def submission_key(base: str, notebooks: dict[str, bytes]) -> str:
    """The key of one submission: ``base`` (grader, release, options) and each notebook's name and bytes."""
    h = hashlib.sha256(base.encode() + b"\0")
    for name, raw in sorted(notebooks.items()):
        h.update(name.encode() + b"\0" + _sha(raw).encode() + b"\0")
    return h.hexdigest()


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` whole or not at all: ``write(temp)`` in the same folder, fsync, ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _result(raw: dict) -> SubmissionResult:
    return SubmissionResult(**{**raw, "cells": [CellResult(**c) for c in raw.get("cells", [])]})


def read_journal(path: Path) -> dict[tuple[str, str], dict]:
    """The journal's entries, the last per (student, assignment); unreadable (torn) lines are skipped."""
    entries: dict[tuple[str, str], dict] = {}
    try:
        lines = Path(path).read_bytes().split(b"\n")
    except FileNotFoundError:
        return entries
    for line in lines:
        try:
            entry = json.loads(line)
            result = entry["result"]
            key = (result["student_id"], result["assignment"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a killed run, or not ours
        if isinstance(entry, dict) and entry.get("v") == VERSION:
            entries[key] = entry
    return entries


@dataclass
class Ledger:
    """One run's view of ``OUT``'s journal: what may be reused, what was graded, appending as it goes.

    Made by the caller (``Ledger(out, force=...)``), bound to the prepared course by the engine
    (:meth:`open`); afterwards ``reused`` and ``graded`` count this run's submissions.
    """

    out: Path
    force: bool = False
    grader: str = ""  # the grader's fingerprint (default: grader_fingerprint())
    reused: int = 0
    graded: int = 0
    _entries: dict[tuple[str, str], dict] = field(default_factory=dict, repr=False)
    _bases: dict[str, str] = field(default_factory=dict, repr=False)
    _keys: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _db_url: str = ""
    _journal: object = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        """``OUT/journal.jsonl``."""
        return Path(self.out) / JOURNAL

    def open(self, course_root: Path, assignments: Iterable[str], options: GradeOptions, db_url: str) -> None:
        """Fingerprint the release of each assignment; read the journal and rewrite it without torn lines."""
        grader = self.grader or grader_fingerprint()
        scoring = json.dumps(scoring_options(options), sort_keys=True, default=str)
        self._bases = {
            a: _sha(f"{grader}\0{release_fingerprint(course_root, a)}\0{scoring}".encode())
            for a in assignments
        }
        self._db_url = db_url
        self._entries = read_journal(self.path)
        self._rewrite(self._entries.values())
        self._journal = open(self.path, "ab")  # noqa: SIM115 - closed by close()

    def _rewrite(self, entries: Iterable[dict]) -> None:
        lines = b"".join(json.dumps(e, sort_keys=True).encode() + b"\n" for e in entries)
        write_atomic(self.path, lambda tmp: tmp.write_bytes(lines))

    def split(
        self, subs: list, read: Callable[[object], dict[str, bytes]]
    ) -> tuple[list, list[SubmissionResult]]:
        """``subs`` -> (those to grade, the results reused for the others); counts both.

        ``read(sub)`` gives a submission's notebook name -> bytes.
        """
        todo, reused = [], []
        for sub in subs:
            key = submission_key(self._bases[sub.assignment], read(sub))
            self._keys[(sub.student_id, sub.assignment)] = key
            entry = self._entries.get((sub.student_id, sub.assignment))
            if not self.force and entry is not None and self._reusable(entry, key):
                reused.append(_result(entry["result"]))
            else:
                todo.append(sub)
        self.reused, self.graded = len(reused), len(todo)
        return todo, reused

    def _reusable(self, entry: dict, key: str) -> bool:
        result = entry["result"]
        if entry.get("key") != key or result.get("reason", "").startswith(INTERNAL):
            return False
        folder = Path(self.out) / "autograded" / result["student_id"] / result["assignment"]
        for name, digest in entry.get("autograded", {}).items():
            path = folder / name
            if not path.is_file() or _sha(path.read_bytes()) != digest:
                return False
        return True

    def recorded(self, result: SubmissionResult) -> bool:
        """Whether a reused result is already in this run's gradebook (journaled with the same one)."""
        entry = self._entries.get((result.student_id, result.assignment), {})
        return entry.get("db") == self._db_url

    def append(self, result: SubmissionResult, autograded: dict[str, bytes]) -> None:
        """Journal one finished result (after the gradebook and ``OUT/autograded`` hold it): write, fsync."""
        ident = (result.student_id, result.assignment)
        entry = {
            "v": VERSION,
            "key": self._keys.get(ident, ""),
            "db": self._db_url,
            "autograded": {name: _sha(raw) for name, raw in sorted(autograded.items())},
            "result": asdict(result),
        }
        self._entries[ident] = entry
        self._journal.write(json.dumps(entry, sort_keys=True).encode() + b"\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def close(self) -> None:
        """Close the journal (compacted: one line per student x assignment)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
            self._rewrite(self._entries.values())

    def summary(self) -> str:
        """``N graded, M reused from OUT's earlier results`` (the terminal's line)."""
        how = " (--force)" if self.force else ""
        return f"{self.graded} graded{how}, {self.reused} reused unchanged from {self.path}"
