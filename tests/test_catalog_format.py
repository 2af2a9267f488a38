"""The catalog of wrong and right answers: every file parses and names real exercises and test cells."""

from __future__ import annotations

from collections import Counter

import pytest

from autograder import build, selfcheck
from autograder.selfcheck import CatalogError, load_catalog, parse_entry

ASSIGNMENTS = build.assignments()


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_catalog_files_parse_and_name_real_cells(name):
    """Does every catalog file of the assignment parse and name an answer cell and real test cells?"""
    load_catalog(name)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_exercise_has_wrong_and_right_answers(name):
    """Does every graded exercise have >= 2 wrong answers to catch and >= 2 right answers to accept?"""
    counts = Counter((e.exercise, e.kind) for e in load_catalog(name))
    answers, _ = selfcheck.notebook_cells(name)
    short = [
        f"{ex}: {counts[(ex, 'wrong')]} wrong, {counts[(ex, 'right')]} right"
        for ex in answers
        if counts[(ex, "wrong")] < 2 or counts[(ex, "right")] < 2
    ]
    assert not short, f"{name} exercises short of catalog entries: {short}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_right_answers_differ_from_the_solution(name):
    """Is every right answer different code from the solution (not a copy that proves nothing)?"""
    import json

    from autograder.authoring import solution_answers

    answers = {}
    for nb in build.notebooks(name):
        path = build.REPO / "solutions" / name / f"{nb}.ipynb"
        answers.update(solution_answers(json.loads(path.read_text())))
    copies = [
        e.name
        for e in load_catalog(name)
        if e.kind == "right" and _code(e.source) == _code(answers[e.exercise])
    ]
    assert not copies


def _code(source: str) -> str:
    lines = [line.split("#")[0].rstrip() for line in source.splitlines()]
    return "\n".join(line for line in lines if line.strip())


_GOOD = """# kind: wrong
# exercise: double
# mistake: adds instead of multiplying
# caught_by: double_values
# message: doubled
def double(x):
    return x + 2
"""


def _catalog(tmp_path, text, name="double__plus.py"):
    folder = tmp_path / "catalog" / "00-demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return tmp_path / "catalog"


_SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"


@pytest.fixture
def course(tmp_path):
    import nbformat

    from autograder import authoring

    folder = tmp_path / "solutions" / "00-demo"
    folder.mkdir(parents=True)
    nb = authoring.notebook(
        [
            authoring.code("import numpy as np"),
            authoring.answer(
                "double", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
            ),
            authoring.test("double_values", 2, "# double_values\nassert double(2) == 4\nprint('ok')"),
        ]
    )
    nbformat.write(nb, folder / "00-demo.ipynb")
    return tmp_path


def test_a_good_entry_is_read_in_full(course, tmp_path):
    """Are kind, exercise, mistake, caught_by, message and the source read from a good entry?"""
    (entry,) = load_catalog("00-demo", course, _catalog(tmp_path, _GOOD))
    assert (entry.kind, entry.exercise, entry.caught_by, entry.message) == (
        "wrong",
        "double",
        ("double_values",),
        "doubled",
    )
    assert entry.mistake == "adds instead of multiplying" and "return x + 2" in entry.source


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (("# exercise: double", "# exercise: triple"), "'triple'"),
        (("# caught_by: double_values", "# caught_by: double_values, double_shape"), "'double_shape'"),
        (("# kind: wrong", "# kind: wrongish"), "'wrongish'"),
        (("# message: doubled", "# mesage: doubled"), "'mesage'"),
        (("def double(x):", "def doubel(x):"), "'double'"),
        (("# caught_by: double_values\n", ""), "caught_by"),
        (("return x + 2", "return x +"), "not valid Python"),
    ],
)
def test_bad_headers_are_rejected_naming_the_problem(course, tmp_path, edit, named):
    """Is a malformed entry (unknown exercise/test cell/kind/key, no def, no caught_by) an error naming it?"""
    catalog = _catalog(tmp_path, _GOOD.replace(*edit))
    with pytest.raises(CatalogError) as info:
        load_catalog("00-demo", course, catalog)
    assert named in str(info.value) and "double__plus.py" in str(info.value)


def test_right_entries_carry_no_mistake(tmp_path):
    """Is a right entry with a caught_by line rejected?"""
    path = tmp_path / "double__ok.py"
    path.write_text(_GOOD.replace("# kind: wrong", "# kind: right"))
    with pytest.raises(CatalogError, match="right entry"):
        parse_entry(path, "00-demo")
