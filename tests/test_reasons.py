"""autograder.reasons: failure and flag reasons grouped by cause, and one sentence for the student."""

from __future__ import annotations

import pytest

from autograder.reasons import causes, student_sentence


def _keys(status: str, reason: str) -> list[str]:
    return [c.key for c in causes(status, reason)]


@pytest.mark.parametrize(
    ("reason", "key"),
    [
        ("tampering: replaced gradlib.checks.core.call", "replaced-functions"),
        ("tampering: deleted numpy.testing.assert_allclose", "replaced-functions"),
        ("tampering: rewrote gradlib.checks.init.check_init_std", "replaced-functions"),
        ("tampering: installed an input transformer", "installed-hooks"),
        ("tampering: installed a showtraceback hook", "installed-hooks"),
        ("tampering: started 2 thread(s)", "left-processes"),
        ("tampering: started 1 background process(es)", "left-processes"),
        ("xavier_uniform_std passed in the kernel but fails the clean-room re-check", "kernel-only-pass"),
        ("points of he_normal_std changed from 2 to 200", "edited-cells"),
        ("duplicated cell ids: a, b", "edited-cells"),
        ("something nobody foresaw", "other-flag"),
    ],
)
def test_each_engine_flag_has_its_cause(reason, key):
    """Does every kind of flag the engine writes map to its cause?"""
    assert _keys("flagged", reason) == [key]


def test_a_long_flag_list_collapses_to_its_distinct_causes():
    """Do 158 replaced functions and a hook make two causes, in the order they first appear?"""
    reason = "; ".join(
        [f"tampering: replaced gradlib.checks.core.f{i}" for i in range(158)]
        + ["tampering: installed an AST transformer"]
    )
    assert _keys("flagged", reason) == ["replaced-functions", "installed-hooks"]


@pytest.mark.parametrize(
    ("reason", "key"),
    [
        ("01-backprop: 01-backprop.ipynb is not valid JSON (line 3 (char 9))", "invalid-notebook"),
        ("invalid JSON: Expecting value", "invalid-notebook"),
        ("01-backprop: nbformat 5 is not supported", "nbformat"),
        (
            "01-backprop: the kernel died while running the notebook (os._exit, a crash or the memory limit)",
            "dead-kernel",
        ),
        ("01-backprop: a cell ran past the cell timeout and ignored the interrupt", "timeout"),
    ],
)
def test_failures_group_by_what_went_wrong_not_by_notebook(reason, key):
    """Are failed reasons grouped by what went wrong, whatever notebook or detail they name?"""
    assert _keys("failed", reason) == [key]


def test_unknown_failures_group_by_their_exception_name():
    """Do unforeseen failures group by the exception's name, not by their whole message?"""
    a = causes("failed", "01-backprop: TypeError: cannot pickle 'socket' object")
    b = causes("failed", "02-activations: TypeError: unsupported operand")
    assert a == b and a[0].label == "TypeError"


def test_student_sentence_is_one_short_sentence_without_the_details():
    """Does a flagged student read one sentence naming what was detected, not the list?"""
    reason = "; ".join(f"tampering: replaced gradlib.checks.core.f{i}" for i in range(158))
    sentence = student_sentence("flagged", reason)
    assert "replaced functions that the tests call" in sentence
    assert "f157" not in sentence and len(sentence) < 300
    assert student_sentence("graded", "") == "" and causes("graded", "") == []
