"""The instructor's pipeline: build the release, grade submissions in a sandbox, report honestly."""

import os
import sys

__all__ = ["build"]

# nbgrader runs helper programs (``alembic``) by name; make the ones installed beside this interpreter
# findable even when its virtual environment is not activated (``.venv/bin/python -m autograder``).
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
