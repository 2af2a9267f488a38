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
        folder.mkdir(parents=True)
        path = folder / f"{ASSIGNMENT}.ipynb"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        elif isinstance(content, tuple):  # (file name, notebook): a renamed file
            nbformat.write(content[1], folder / content[0])
        elif content is not None:
            nbformat.write(content, path)
    return root


@pytest.fixture(scope="session")
def toy_course(tmp_path_factory) -> Path:
    """The toy course (solutions/ and the nbgrader-generated course/), built once per session."""
    return make_course(tmp_path_factory.mktemp("toy-course"))
