"""The instructor's pipeline: build the release, grade submissions in a sandbox, report honestly."""

import os
import sys

__all__ = ["build"]

# nbgrader runs helper programs (``alembic``) by name; make the ones installed beside this interpreter
# findable even when its virtual environment is not activated (``.venv/bin/python -m autograder``).
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

# jsonschema (imported by nbformat) checks the "iri" string formats with rfc3987_syntax when it is installed
# (jupyter_events depends on it). Importing it compiles about 40 grammars, 1.7 s in every grading process,
# for formats no notebook schema uses; without it jsonschema leaves those two formats unchecked.
sys.modules.setdefault("rfc3987_syntax", None)
