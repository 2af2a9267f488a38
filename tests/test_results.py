"""autograder.results: the records of a grading run are values, written and read back unchanged."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.results import CellResult, SubmissionResult, load_results, save_results


def _result() -> SubmissionResult:
    cells = [CellResult("01-a", "f_values", 0.0, 2.0, True, False, "f(0) is 1.0, expected 0.0")]
    return SubmissionResult("ann", "01-a", 0.0, 2.0, "flagged", "f_values passed in the kernel", cells, 1.5)


def test_results_cannot_be_changed_in_place():
    """Does assigning a field of a result or of one of its cells raise, leaving only dataclasses.replace?"""
    result = _result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.cells[0].points = 2.0
    with pytest.raises(AttributeError):
        result.cells.append(result.cells[0])  # the cells are a tuple, not a list to grow
    fixed = dataclasses.replace(result, max_score=3.0)
    assert (fixed.max_score, result.max_score) == (3.0, 2.0)


def test_results_json_round_trip(tmp_path):
    """Does results.json give back results equal to the ones written?"""
    results = [_result(), SubmissionResult("bob", "01-a", 0.0, 2.0, "failed", "nothing submitted")]
    save_results(results, tmp_path / "results.json")
    assert load_results(tmp_path / "results.json") == results


def test_a_failure_reason_is_the_errors_whole_first_line():
    """Is a submission's failure reason the error's first line, whole however long, without the rest?"""
    from autograder.engine import _failure_reason

    first = "the notebook's metadata " + "is far too long " * 30
    assert len(first) > 300
    assert _failure_reason(ValueError(first + "\nsecond line")) == f"ValueError: {first}"
