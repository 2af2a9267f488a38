"""autograder.build on a small fixture course: generation, staleness, and the grading gates."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder import authoring, build
from autograder.cli import main

pytestmark = pytest.mark.nbgrader

_ANSWER = """def double(x):
    ### BEGIN SOLUTION
    return 2 * np.asarray(x, dtype=float)
    ### END SOLUTION"""

_TEST = """# double_values: doubles a vector elementwise
from gradlib.checks import assert_close
assert_close(double([1.0, 2.0]), [2.0, 4.0], name="double")
### BEGIN HIDDEN TESTS
assert_close(double([-3.0]), [-6.0], name="double")
### END HIDDEN TESTS
print("double: ok")"""


def _course(root, answer=_ANSWER):
    folder = root / "solutions" / "00-demo"
    folder.mkdir(parents=True)
    nb = authoring.notebook(
        [
            authoring.markdown("# Demo"),
            authoring.code("import numpy as np"),
            authoring.answer("double", answer),
            authoring.test("double_values", 2, _TEST),
        ]
    )
    nbformat.write(nb, folder / "00-demo.ipynb")
    return root


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = _course(tmp_path_factory.mktemp("course"))
    build.generate("00-demo", root)
    return root


def test_generate_strips_solutions_and_hidden_tests(course):
    """Does the release hold the stub in place of the solution and no hidden test?"""
    text = (course / "course" / "00-demo" / "00-demo.ipynb").read_text()
    assert "raise NotImplementedError()" in text
    assert "BEGIN SOLUTION" not in text and "return 2 *" not in text
    assert "HIDDEN" not in text and "-6.0" not in text


def test_fresh_release_is_not_stale(course):
    """Does a release that was just built count as in sync?"""
    assert build.stale_notebooks("00-demo", course) == []


def test_edited_source_makes_release_stale(course, tmp_path):
    """Does changing the instructor notebook make the committed release stale?"""
    root = tmp_path / "c"
    shutil.copytree(course, root)
    path = root / "solutions" / "00-demo" / "00-demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "# Demo, revised"
    nbformat.write(nb, path)
    problems = build.stale_notebooks("00-demo", root)
    assert len(problems) == 1 and "cell 0" in problems[0]


def test_missing_release_is_stale(tmp_path):
    """Is a never-built release reported as missing?"""
    root = _course(tmp_path)
    assert "missing" in build.stale_notebooks("00-demo", root)[0]


def test_gates_pass_for_a_correct_course(course):
    """Does the solution get full marks and the untouched release 0?"""
    result = build.run_gates("00-demo", course)
    assert (result.solution_score, result.release_score, result.max_score) == (2, 0, 2)
    assert result.ok


def test_gates_catch_a_wrong_solution(tmp_path):
    """Does a solution that fails its hidden test fail the gate?"""
    wrong = _ANSWER.replace("return 2 * np.asarray(x, dtype=float)", "return np.abs(2 * np.asarray(x))")
    root = _course(tmp_path, answer=wrong)
    result = build.run_gates("00-demo", root)
    assert not result.ok and "solution scores 0/2" in result.problems[0]


def test_unknown_assignment_names_it(course):
    """Does an unknown assignment name raise ValueError naming it and the known ones?"""
    with pytest.raises(ValueError, match=r"'99-nope'.*00-demo"):
        build.notebooks("99-nope", course)


def test_cli_build_check_reports_unknown_assignment(capsys):
    """Does `autograder build --check` exit 2 and name an unknown assignment?"""
    assert main(["build", "--check", "99-nope"]) == 2
    assert "99-nope" in capsys.readouterr().err
