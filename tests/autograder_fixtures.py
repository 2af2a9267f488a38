"""A tiny nbgrader course and a class of student submissions for the grading-engine tests.

``toy_course`` writes ``solutions/01-toy/01-toy.ipynb`` with :mod:`autograder.authoring` and generates the
release with real nbgrader; :func:`student_notebook` turns the release into a submission by replacing
answer cells (and optionally adding or editing other cells).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from autograder import authoring, build

ASSIGNMENT = "01-toy"

SETUP = "import numpy as np\nfrom gradlib.checks import core"

DOUBLE = """
def double(x):
    ### BEGIN SOLUTION
    return 2.0 * np.asarray(x, dtype=float)
    ### END SOLUTION
"""

TOTAL = """
def total(x):
    ### BEGIN SOLUTION
    return float(np.sum(x))
    ### END SOLUTION
"""

TEST_DOUBLE = """
# double: values on a visible and a hidden input
import numpy as np
from gradlib.checks import core
core.assert_close(core.call(double, np.arange(3.0), name="double"), np.array([0.0, 2.0, 4.0]), name="double")
### BEGIN HIDDEN TESTS
got = core.call(double, np.array([-1.5, 7.0]), name="double")
core.assert_close(got, np.array([-3.0, 14.0]), name="double")
### END HIDDEN TESTS
print("double: ok")
"""

TEST_TOTAL = """
# total: sum of a vector, compared with numpy's testing helper
import numpy as np
np.testing.assert_allclose(total(np.array([1.0, 2.0, 3.5])), 6.5)
### BEGIN HIDDEN TESTS
np.testing.assert_allclose(total(np.array([-4.0, 1.0])), -3.0)
### END HIDDEN TESTS
print("total: ok")
"""

MAX_SCORE = 3.0


def _solution():
    return authoring.notebook(
        [
            authoring.markdown("# Toy assignment"),
            authoring.code(SETUP),
            authoring.answer("double", DOUBLE),
            authoring.test("double_values", 2, TEST_DOUBLE),
            authoring.answer("total", TOTAL),
            authoring.test("total_value", 1, TEST_TOTAL),
            authoring.code("print('experiment:', total(double([1.0, 2.0])))"),
        ]
    )


def make_course(root: Path) -> Path:
    """Write the toy course under ``root`` and generate its release with nbgrader; return ``root``."""
    folder = root / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(_solution(), folder / f"{ASSIGNMENT}.ipynb")
    build.generate(ASSIGNMENT, root=root)
    return root


def release(course: Path):
    """The generated student release notebook."""
    return nbformat.read(course / "course" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def student_notebook(course: Path, answers: dict[str, str] | None = None, *, edit=None):
    """The release with answer cells replaced (grade_id -> source); ``edit(nb)`` may change it further.

    Answers not given are the solution's (a correct submission).
    """
    nb = copy.deepcopy(release(course))
    given = {"double": DOUBLE, "total": TOTAL, **(answers or {})}
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in given:
            cell.source = given[gid].replace("### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
    if edit is not None:
        edit(nb)
    return nb


def write_nbgrader_layout(root: Path, students: dict[str, object]) -> Path:
    """``root/<student>/01-toy/01-toy.ipynb`` for each student; values are notebooks, bytes or str."""
    for student, content in students.items():
        folder = root / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{ASSIGNMENT}.ipynb"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, tuple):  # (file name, notebook): a renamed file
            nbformat.write(content[1], folder / content[0])
        elif content is not None:
            nbformat.write(content, path)
        else:
            folder.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def toy_course(tmp_path_factory) -> Path:
    """The toy course (solutions/ and the nbgrader-generated course/), built once per session."""
    return make_course(tmp_path_factory.mktemp("toy-course"))


# ----------------------------------------------------------------------------------------------
# One class of submissions covering every case, graded once per test session.

WRONG_TOTAL = "def total(x):\n    return 0.0\n"
WRONG_DOUBLE = "def double(x):\n    return 3.0 * np.asarray(x, dtype=float)\n"


def _add_cell(source: str, after: str = "total"):
    """An edit that inserts a student code cell right after the answer cell ``after``."""

    def edit(nb):
        index = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == after)
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))

    return edit


def _edit_test(grade_id: str, source: str | None = None, points: float | None = None):
    def edit(nb):
        index = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == grade_id)
        if source is None and points is None:
            del nb.cells[index]
            return
        if source is not None:
            nb.cells[index].source = source
        if points is not None:
            nb.cells[index].metadata.nbgrader["points"] = points

    return edit


def _duplicate_answer(nb):
    index = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == "double")
    twin = copy.deepcopy(nb.cells[index])
    twin.source = WRONG_DOUBLE
    nb.cells.insert(index + 1, twin)


PATCH_NUMPY = "import numpy\nnumpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
PATCH_GRADLIB = "import gradlib.checks.core as _core\n_core.assert_close = lambda *args, **kwargs: 0.0\n"
PATCH_BUILTINS = """
import builtins, types
_real_import = builtins.__import__
_fake = types.SimpleNamespace(
    testing=types.SimpleNamespace(assert_allclose=lambda *a, **k: None), array=lambda x: x
)
def _sneaky_import(name, *args, **kwargs):
    return _fake if name == "numpy" else _real_import(name, *args, **kwargs)
builtins.__import__ = _sneaky_import
"""
TRANSFORMER = """
def _skip_tests(lines):
    return ["pass\\n"] if lines and lines[0].startswith("# total") else lines
get_ipython().input_transformers_cleanup.append(_skip_tests)
"""
HIDE_TRACEBACKS = "get_ipython().showtraceback = lambda *args, **kwargs: None\n"
DETACHED = """
import subprocess
subprocess.Popen(["sh", "-c", "sleep 3; echo late > late.txt"], start_new_session=True)
"""
WARNING_DOUBLE = """
import warnings
def double(x):
    warnings.warn("double: a harmless warning on stderr")
    return 2.0 * np.asarray(x, dtype=float)
"""
SPY_DOUBLE = """
import os
def double(x):
    # full marks only if the course or the gradebook is readable from the kernel
    seen = any(os.path.exists(p) for p in SECRETS)
    return (2.0 if seen else 3.0) * np.asarray(x, dtype=float)
"""
EXIT_DOUBLE = "import os\nos._exit(1)\n"
SWALLOW_DOUBLE = """
import time
while True:
    try:
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass
"""
HUGE_DOUBLE = "print('x' * 12_000_000)\n" + DOUBLE


def class_submissions(course: Path, secrets: list[str]) -> dict[str, object]:
    """Student id -> what they hand in (a notebook, raw bytes/str, a renamed file, or None)."""
    nb5 = nbformat.writes(student_notebook(course)).replace('"nbformat": 4', '"nbformat": 5')
    spy = "SECRETS = " + repr(secrets) + "\n" + SPY_DOUBLE
    return {
        "alice": student_notebook(course),
        "bob": student_notebook(course, {"double": WRONG_DOUBLE}),
        "blank": release(course),
        "warner": student_notebook(course, {"double": WARNING_DOUBLE}),
        "np_patcher": student_notebook(course, {"total": WRONG_TOTAL + PATCH_NUMPY}),
        "gl_patcher": student_notebook(course, {"double": WRONG_DOUBLE + PATCH_GRADLIB}),
        "bi_patcher": student_notebook(course, {"total": WRONG_TOTAL}, edit=_add_cell(PATCH_BUILTINS)),
        "transformer": student_notebook(course, {"total": WRONG_TOTAL}, edit=_add_cell(TRANSFORMER)),
        "tb_hider": student_notebook(course, {"total": WRONG_TOTAL + HIDE_TRACEBACKS}),
        "test_editor": student_notebook(
            course, {"total": WRONG_TOTAL}, edit=_edit_test("total_value", "print('total: ok')")
        ),
        "test_deleter": student_notebook(course, {"total": WRONG_TOTAL}, edit=_edit_test("total_value")),
        "points_changer": student_notebook(course, edit=_edit_test("double_values", points=100)),
        "duplicator": student_notebook(course, edit=_duplicate_answer),
        "detacher": student_notebook(course, {"total": TOTAL + DETACHED}),
        "spy": student_notebook(course, {"double": spy}),
        "dave_empty": b"",
        "erin_json": "{not json",
        "nb5": nb5,
        "pdf": b"%PDF-1.4\n%binary\x00\x01",
        "renamed": ("Copy of 01-toy.ipynb", student_notebook(course)),
        "missing": None,
        "exiter": student_notebook(course, {"double": EXIT_DOUBLE + DOUBLE}),
        "swallower": student_notebook(course, {"double": SWALLOW_DOUBLE + DOUBLE}),
        "huge": student_notebook(course, {"double": HUGE_DOUBLE}),
    }


def write_class(root: Path, course: Path, secrets: list[str]) -> Path:
    """Write :func:`class_submissions` in nbgrader's layout (``missing`` gets a folder without notebook)."""
    subs = class_submissions(course, secrets)
    write_nbgrader_layout(root, subs)
    (root / "missing" / ASSIGNMENT / "notes.txt").write_text("I could not finish.")
    return root
