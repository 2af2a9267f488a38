"""gradlib.checks.diagnose: health_report grading on planted faults, and the fix-it training check."""

from __future__ import annotations

import dataclasses

import pytest

from gradlib import diagnostics as dg
from gradlib.checks import CheckFailure
from gradlib.checks import diagnose as chk

ALL_CASES = [
    *chk.CASES,
    "precedence",
    "non-finite",
    "boundaries",
    "non-finite, other values",
    "boundaries, other values",
]
#: The cases of lesson 07's rules test cell: visible, and hidden.
VISIBLE_RULES = (
    "precedence",
    "non-finite, other values",
    "boundaries, other values",
    "zero last gradient, other values",
)
HIDDEN_RULES = ("non-finite", "boundaries", "zero last gradient")
#: Every wrong rule the diagnosis layer knows.
WRONG_RULES = [
    dict(ref="first"),
    dict(ref="max"),
    dict(key="weight_grad_norm"),
    dict(order="gradients first"),
    dict(strict=False),
    dict(finite="none"),
    dict(finite="nan"),
]


@pytest.mark.parametrize("case", ALL_CASES)
def test_reference_passes_every_case(case):
    """Does gradlib's health_report pass every graded case?"""
    assert chk.check_health_report(dg.health_report, case) == [
        v.verdict for v in dg.health_report(chk.case_stats(case))
    ]


def test_planted_cases_show_their_fault():
    """Does each planted network actually carry the fault it is named after?"""
    for case, verdict in [
        ("saturated tanh", "saturated"),
        ("dead relu", "dead"),
        ("exploding relu", "exploding"),
        ("vanishing tanh", "vanishing"),
        ("vanishing sigmoid", "vanishing"),
    ]:
        assert verdict in [v.verdict for v in dg.health_report(chk.case_stats(case))], case
    for case in ("healthy relu", "healthy tanh"):
        assert {v.verdict for v in dg.health_report(chk.case_stats(case))} == {"healthy"}


def test_hand_made_cases_cover_every_rule():
    """Do the hand-made cases produce every verdict and sit exactly on the thresholds where intended?"""
    verdicts = {v.verdict for c in ("precedence", "non-finite") for v in dg.health_report(chk.case_stats(c))}
    assert verdicts == set(dg.VERDICTS)
    assert {v.verdict for v in dg.health_report(chk.case_stats("boundaries"))} == {"healthy"}


def _swap(verdicts_fn):
    def report(stats, *, thresholds=dg.DEFAULT_THRESHOLDS):
        return [
            dg.Verdict(s.name, v, "reason")
            for s, v in zip(stats, verdicts_fn(stats, thresholds), strict=True)
        ]

    return report


@pytest.mark.parametrize(
    ("variant", "case", "text"),
    [
        (dict(ref="first"), "vanishing sigmoid", "FIRST layer"),
        (dict(key="weight_grad_norm"), "precedence", "weight_grad_norm"),
        (dict(order="gradients first"), "precedence", "before dead/saturated"),
        (dict(strict=False), "boundaries", ">= / <="),
        (dict(strict=False), "boundaries, other values", ">= / <="),
        (dict(finite="none"), "non-finite, other values", "never checked for nan or inf"),
        (dict(finite="nan"), "non-finite, other values", "nan only"),
    ],
)
def test_known_wrong_rules_are_named(variant, case, text):
    """Is a report following a known wrong rule caught, and the rule named?"""
    wrong = _swap(lambda stats, t: chk._variant(stats, t, **variant))
    with pytest.raises(CheckFailure) as info:
        chk.check_health_report(wrong, case)
    assert text in str(info.value)


def test_ignored_thresholds_are_named():
    """Is a report that ignores custom thresholds caught and named?"""
    wrong = _swap(lambda stats, t: [v.verdict for v in dg.health_report(stats)])
    with pytest.raises(CheckFailure, match="ignored the thresholds"):
        chk.check_health_report(wrong, "half-dead relu", thresholds=chk.thresholds_variant())


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (lambda stats, **kw: None, "must return a list"),
        (lambda stats, **kw: [("x", "healthy", "r")], "entries for"),
        (lambda stats, **kw: [(s.name, "fine", "r") for s in stats], "'fine'"),
        (lambda stats, **kw: [(s.name, "healthy", "") for s in stats], "no reason"),
        (lambda stats, **kw: [("layer", "healthy", "r") for s in stats], "names layer"),
    ],
)
def test_malformed_reports_are_explained(answer, text):
    """Does a malformed report fail with a message saying what is malformed?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_health_report(answer, "healthy relu")
    assert text in str(info.value)


def _he_bn(failing):
    return {**failing, "activation": "relu", "initializer": "he_normal", "batchnorm": True}


def test_a_real_fix_passes_with_margin_and_no_fix_fails_with_margin():
    """Is a fixed config far below the threshold and an unfixed one far above, for every failure?"""
    for name in chk.FAILING:
        assert chk.check_fix_config(_he_bn, name, seed=0) < chk.LOSS_THRESHOLD / 4
        loss = chk.final_loss(chk.run_config(chk.FAILING[name], seed=0))
        assert loss > 1.5 * chk.LOSS_THRESHOLD, name


def test_run_config_is_deterministic():
    """Do two runs of the same configuration and seed give the same losses?"""
    cfg = _he_bn(chk.FAILING["deep sigmoid, Xavier init"])
    a, b = chk.run_config(cfg, seed=3, steps=5), chk.run_config(cfg, seed=3, steps=5)
    assert (a.loss == b.loss).all()


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (lambda f: dict(f), "changed nothing"),
        (lambda f: {**f, "clip": "global_norm", "clip_value": 1.0}, "Clipping alone"),
        (lambda f: {**f, "depth": 2}, "you changed depth"),
        (lambda f: {**f, "optimizer": "adam"}, "unknown keys ['optimizer']"),
        (lambda f: [f], "must return a dict"),
        (lambda f: f.update(batchnorm=True) or f, "modified the failing configuration"),
        (lambda f: {**f, "activation": "swish"}, "cannot be trained"),
    ],
)
def test_fix_config_failures_are_named(answer, text):
    """Does each non-fix fail with a message naming what is wrong?"""
    with pytest.raises(CheckFailure) as info:
        chk.check_fix_config(answer, "deep sigmoid, Xavier init")
    assert text in str(info.value)


def test_thresholds_variant_differs_from_default():
    """Is the hidden thresholds variant really different from the defaults?"""
    assert chk.thresholds_variant() != dg.DEFAULT_THRESHOLDS
    assert dataclasses.replace(chk.thresholds_variant(), dead=0.5, saturated=0.5, vanish_ratio=0.01) == (
        dg.DEFAULT_THRESHOLDS
    )


def test_unknown_case_is_named():
    """Does an unknown case name raise ValueError naming it?"""
    with pytest.raises(ValueError, match="'nope'"):
        chk.case_stats("nope")


@pytest.mark.parametrize("variant", WRONG_RULES, ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()))
def test_visible_rules_test_catches_what_the_hidden_one_grades(variant):
    """Does every wrong rule that the hidden rules cases catch also fail the visible ones (other values)?"""
    t = dg.DEFAULT_THRESHOLDS

    def caught(cases):
        return [
            c
            for c in cases
            if chk._variant(chk.case_stats(c), t, **variant) != chk._variant(chk.case_stats(c), t)
        ]

    if caught(HIDDEN_RULES):
        assert caught(VISIBLE_RULES), f"{variant} loses points only on hidden cases {caught(HIDDEN_RULES)}"
    for visible, hidden in (
        ("non-finite, other values", "non-finite"),
        ("boundaries, other values", "boundaries"),
    ):
        assert chk.case_stats(visible) != chk.case_stats(hidden)


def test_boundaries_have_layers_just_past_each_threshold():
    """Does the visible boundaries case put a layer exactly on, and one just past, every threshold?"""
    verdicts = {v.layer: v.verdict for v in dg.health_report(chk.case_stats("boundaries, other values"))}
    exact = [name for name in verdicts if "exactly" in name]
    past = [name for name in verdicts if "just" in name]
    assert len(exact) == len(past) == 5
    assert {verdicts[n] for n in exact} == {"healthy"}
    assert "healthy" not in {verdicts[n] for n in past}


def _he_only(failing):
    return {**failing, "activation": "relu", "initializer": "he_normal"}


def test_he_alone_is_told_the_steps_are_too_large():
    """Is ReLU + He without a stabilizer told that its update:data ratio grew (lr too large for it)?"""
    with pytest.raises(CheckFailure, match="Update:data rose to"):
        chk.check_fix_config(_he_only, "deep sigmoid, Xavier init", seed=0)


def test_hidden_problem_changes_catch_a_hard_coded_answer():
    """Does a changed depth/width/lr fail an answer that returns one hard-coded dict, and pass a real fix?"""
    fixed = _he_bn(chk.FAILING["deep sigmoid, Xavier init"])
    with pytest.raises(CheckFailure, match="you changed depth from 16 to 12"):
        chk.check_fix_config(
            lambda f: dict(fixed), "deep sigmoid, Xavier init", seed=3, depth=16, width=24, lr=0.05
        )
    assert (
        chk.check_fix_config(_he_bn, "deep sigmoid, Xavier init", seed=3, depth=16, width=24, lr=0.05) < 0.5
    )
    with pytest.raises(ValueError, match="activation"):
        chk.check_fix_config(_he_bn, "deep sigmoid, Xavier init", activation="relu")


def test_a_last_gradient_of_zero_follows_the_lesson_rule():
    """With the last layer's gradient std at 0, is r inf for a positive gradient and 1 for a zero one?"""
    verdicts = [v.verdict for v in dg.health_report(chk.case_stats("zero last gradient, other values"))]
    assert verdicts == ["healthy", "exploding", "healthy"]

    def divide(stats, *, thresholds=dg.DEFAULT_THRESHOLDS):
        ref = float(stats[-1].grad_std)
        return [(s.name, "healthy" if float(s.grad_std) / ref < 1 else "exploding", "r") for s in stats]

    with pytest.raises(CheckFailure, match="ZeroDivisionError"):
        chk.check_health_report(divide, "zero last gradient, other values")
