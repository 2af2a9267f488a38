"""The claims registry: every statement a lesson makes about an experiment, checked by running it.

A *claim* ties a sentence of a lesson to the experiment that backs it. It has four parts:

- ``lesson``: the assignment folder, e.g. ``"06-residual"``;
- ``cell``: the id of the notebook cell that makes the claim (``solutions/<lesson>/<lesson>.ipynb``);
- ``text``: the claim as quoted from that cell. Runs of whitespace (line breaks included) are compared as
  one space, so re-wrapping a paragraph does not break it, but any change to the words does;
- ``check``: a function without arguments that runs the experiment the sentence describes (with gradlib,
  the same seeds and sizes as the lesson) and raises ``AssertionError`` with the measured numbers when the
  sentence is false.

``tests/test_claims.py`` runs two tests per claim, both marked ``claims``: the quoted text still appears in
that cell (so prose cannot drift away from its check unnoticed), and the check passes (so a change to
gradlib that makes the prose false fails the suite).

**Adding claims for a lesson.** Each lesson has its own module here, ``tests/claims/lessonNN.py``
(``lesson03.py``, ``lesson06.py``, ...), which defines a module-level list ``CLAIMS`` of :class:`Claim`.
Every module in this package whose name starts with ``lesson`` is collected automatically; nothing else
needs to be edited. A minimal module::

    import numpy as np
    from claims import Claim
    from gradlib import activations

    def _dead_fraction_range():
        measured = [...]                      # run the lesson's experiment, its seeds and sizes
        assert 0.25 <= min(measured) and max(measured) <= 0.70, f"dead fractions {measured}"

    CLAIMS = [
        Claim("02-activations", "cell-017", "between 27 % and 69 % of the units die", _dead_fraction_range),
    ]

Guidelines: quote the smallest phrase that carries the number or the qualitative statement; derive any
range you assert from the experiment's seeds (run several when the lesson states a range) rather than
copying one printed value; keep each check to a few seconds on one core. Prose that no experiment can
check is rewritten until one can, or says plainly that it is an illustration.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Claim", "all_claims", "cell_source", "normalize"]

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Claim:
    """One sentence of a lesson and the experiment that checks it."""

    lesson: str
    cell: str
    text: str
    check: Callable[[], None]

    @property
    def id(self) -> str:
        """A readable test id: ``06-residual/cell-018/<first words of the claim>``."""
        words = re.sub(r"[^\w.%×-]+", "-", normalize(self.text))[:48].strip("-")
        return f"{self.lesson}/{self.cell}/{words}"


def normalize(text: str) -> str:
    """Collapse every run of whitespace to one space (line wraps do not matter, words do)."""
    return re.sub(r"\s+", " ", text).strip()


@cache
def _cells(lesson: str) -> dict[str, str]:
    path = REPO / "solutions" / lesson / f"{lesson}.ipynb"
    if not path.exists():
        raise ValueError(f"lesson {lesson!r} has no notebook at {path}")
    nb = json.loads(path.read_text())
    return {c["id"]: "".join(c["source"]) for c in nb["cells"]}


def cell_source(lesson: str, cell: str) -> str:
    """The source of cell ``cell`` in the solution notebook of ``lesson``, whitespace-normalized."""
    cells = _cells(lesson)
    if cell not in cells:
        raise ValueError(f"{lesson} has no cell {cell!r}; its cells are {sorted(cells)}")
    return normalize(cells[cell])


def all_claims() -> list[Claim]:
    """Every ``CLAIMS`` entry of every ``lesson*`` module in this package, in module order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("lesson"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.extend(module.CLAIMS)
    return found
