"""The clean room: re-run the instructor's tests against the student's functions across a process boundary.

A grading worker forks a *harness* (:mod:`.harness`) that no student code ever touches. The harness starts
a sandboxed *student process* (:mod:`.server`), which runs the student's setup and answer cells, reports
what its tamper probes saw (:mod:`.tamper`), then serves calls to the student's functions. The harness runs
each test cell with the student's functions replaced by proxies (:mod:`.client`); values cross as plain
data, in the named messages of :mod:`.wire`. A worker keeps a preloaded fork server per kind of process
(:mod:`.zygote`, the sandboxed end of :class:`autograder.sandbox.Zygote`).

The sandbox mounts this folder, and no other part of ``autograder``, read-only: the modules that run
inside it (``wire``, ``procfs``, ``tamper``, ``server``, ``zygote``, ``__main__``) import only the standard
library, numpy and each other (relatively), and what the student's notebook itself needs. ``client`` and
``harness`` run in the worker and may import the rest of ``autograder``.
"""

#: The folder the sandbox mounts; ``python -I <BOOT> ...`` starts a student process or a zygote.
from pathlib import Path as _Path

PACKAGE_DIR = _Path(__file__).resolve().parent
BOOT = PACKAGE_DIR / "__main__.py"
