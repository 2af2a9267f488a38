"""The settings of a grading run and their defaults, defined once.

:class:`GradeOptions` is what ``autograder grade`` takes; the command line (:mod:`autograder.cli`), the
nbgrader configuration (``nbgrader_config.py``'s per-cell timeout) and the sandbox
(:class:`autograder.sandbox.SandboxPolicy`, the kernel manager's traits) take their defaults from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GIB", "GradeOptions"]

GIB = 1024**3
_REPO = Path(__file__).resolve().parent.parent


@dataclass
class GradeOptions:
    """Settings of one ``autograder grade`` run (the command-line options).

    Attributes:
        workers: grading worker processes (default: one per core).
        cell_timeout: seconds a cell may run (nbgrader's ``Execute.timeout``).
        notebook_timeout: seconds a whole notebook may run; the kernel's CPU limit is twice this.
        memory: address-space limit per kernel and clean-room process, in bytes.
        isolate: run student code in bubblewrap's namespaces (False: ``--no-sandbox``, rlimits only).
        db_url: the gradebook's SQLAlchemy URL (None: SQLite in the output folder).
        course: the course root holding ``solutions/``.
        assignments: the assignments to grade (None: all of the course's).
        max_output: bytes of output a notebook may print in all (more fails it).
        clean_room: re-check every test cell in the clean room (the points come from it).
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    cell_timeout: int = 30
    notebook_timeout: int = 300
    memory: int = 2 * GIB
    isolate: bool = True
    db_url: str | None = None
    course: Path = _REPO
    assignments: list[str] | None = None
    max_output: int = 8 * 1024**2
    clean_room: bool = True

    @property
    def kernel_cpu_seconds(self) -> int:
        """The kernel's CPU-time limit: twice the whole-notebook timeout (the wall clock stops it first)."""
        return 2 * self.notebook_timeout
