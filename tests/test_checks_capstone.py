"""gradlib.checks.capstone: right answers pass; each known mistake fails with a message naming it."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from last_bits import nudged_builds
from torch.nn import functional as F  # noqa: N812

from gradlib import diagnostics
from gradlib.checks import CheckFailure
from gradlib.checks import capstone as chk


def _initial(loss_fn=None, expected_fn=None):
    def initial_loss(logits, y):
        t = torch.from_numpy(logits)
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
        loss = float(F.cross_entropy(t, yt)) if loss_fn is None else loss_fn(logits, y)
        expected = math.log(logits.shape[1]) if expected_fn is None else expected_fn(logits.shape[1])
        return loss, expected

    return initial_loss


def _naive(z, y):
    p = np.exp(z)
    return float(-np.log((p / p.sum(axis=1, keepdims=True))[np.arange(len(y)), y]).mean())


@pytest.mark.parametrize(("classes", "exploding"), [(10, False), (3, False), (10, True)])
def test_initial_loss_reference_passes(classes, exploding):
    """Does the mean cross-entropy with ln(C) pass for 10 and 3 classes and for logits of about 1e8?"""
    assert chk.check_initial_loss(_initial(), num_classes=classes, exploding=exploding) > 0


@pytest.mark.parametrize(
    ("fn", "classes", "exploding", "message"),
    [
        (_initial(expected_fn=lambda c: math.log(10)), 3, False, "whatever the number of classes"),
        (_initial(expected_fn=math.log10), 10, False, "natural log"),
        (_initial(expected_fn=lambda c: -math.log(c)), 10, False, r"\+ln\(C\)"),
        (_initial(loss_fn=lambda z, y: chk._cross_entropy(z, y) * len(y)), 10, False, "sum over the batch"),
        (_initial(loss_fn=_naive), 10, True, "exp overflowed"),
        (_initial(loss_fn=lambda z, y: float(-z[np.arange(len(y)), y].mean())), 10, False, "log-sum-exp"),
        (_initial(expected_fn=lambda c: 0.0), 10, False, "expected value is 0"),
    ],
)
def test_initial_loss_mistakes_are_named(fn, classes, exploding, message):
    """Does each known initial-loss mistake (and returning 0) fail with a message naming it?"""
    with np.errstate(all="ignore"), pytest.raises(CheckFailure, match=message):
        chk.check_initial_loss(fn, num_classes=classes, exploding=exploding)


def _diagnose(stats, losses):
    if not np.all(np.isfinite(losses)):
        return "exploding"
    verdicts = [v.verdict for v in diagnostics.health_report(stats)]
    if "exploding" in verdicts:
        return "exploding"
    stuck = sum(v in ("vanishing", "saturated", "dead") for v in verdicts)
    return "vanishing" if stuck > len(verdicts) / 2 else "healthy"


@pytest.mark.parametrize("case", ["sigmoid-small", "relu-he-lr0.5", "tanh-xavier"])
def test_diagnose_reference_passes(case):
    """Does a diagnosis from the losses and health_report name each visible case right?"""
    assert chk.check_diagnose(_diagnose, case=case) == chk.CASES[case].label


def test_a_constant_diagnosis_is_caught_with_the_evidence():
    """Is 'healthy' for the vanishing network rejected, the message showing the loss and the verdicts?"""
    with pytest.raises(CheckFailure, match=r"expected 'vanishing'.*|vanishing\)"):
        chk.check_diagnose(lambda *a: "healthy", case="sigmoid-small")


def test_an_unknown_label_is_rejected():
    """Is an answer outside the three labels rejected, naming them?"""
    with pytest.raises(CheckFailure, match="'vanishing', 'exploding' or 'healthy'"):
        chk.check_diagnose(lambda *a: "sick", case="tanh-xavier")


def test_fix_reference_passes():
    """Does ReLU + He + BatchNorm at lr 0.1 clear the threshold?"""
    fix = lambda d, w: {"activation": "relu", "init": "he", "norm": "batchnorm", "lr": 0.1}  # noqa: E731
    assert chk.check_fix(fix) >= chk.ACCURACY_THRESHOLD


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"activation": "relu", "init": "he", "lr": 0.1, "depth": 1}, "do not reshape it"),
        ({"activation": "relu", "init": "he"}, "it needs activation, init and lr"),
        ({"activation": "gelu", "init": "he", "lr": 0.1}, "activation 'gelu' is not one of"),
        ({"activation": "relu", "init": "he", "lr": 0.5}, "exploded"),
        ({"activation": "sigmoid", "init": "small", "lr": 0.1}, "still vanish"),
        ({"activation": "relu", "init": "he", "lr": -0.1}, "number > 0"),
        ([("activation", "relu")], "dict of settings"),
    ],
)
def test_fix_mistakes_are_named(settings, message):
    """Is each broken, incomplete or reshaping setting rejected with the cause in the message?"""
    with np.errstate(all="ignore"), pytest.raises(CheckFailure, match=message):
        chk.check_fix(lambda d, w: settings)


def graded_calls(check: str) -> list[dict]:
    """The keyword arguments of every ``check`` call in lesson 08's test cells, hidden ones included."""
    path = Path(__file__).resolve().parents[1] / "solutions" / "08-capstone" / "08-capstone.ipynb"
    calls = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code" or not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == check:
                calls.append({k.arg: ast.literal_eval(k.value) for k in node.keywords})
    return calls


def _ids(kwargs: dict) -> str:
    return "-".join(str(v) for v in kwargs.values())


@pytest.mark.parametrize("kwargs", graded_calls("check_diagnose"), ids=_ids)
def test_every_graded_diagnose_case_shows_its_trouble(kwargs):
    """Does every network lesson 08's tests (visible and hidden) build show the trouble it is labelled with?

    A case whose network does not show its label after the check's training (an lr-0.5 ReLU network
    whose units died instead of diverging) would mark the reference diagnosis wrong.
    """
    assert chk.check_diagnose(_diagnose, **kwargs) == chk.CASES[kwargs["case"]].label


@pytest.mark.parametrize("kwargs", graded_calls("check_diagnose"), ids=_ids)
def test_every_graded_diagnose_case_shows_its_trouble_on_any_processor(kwargs, monkeypatch):
    """Does each graded network still show its trouble when the last bits of its weights change?

    Another processor rounds the last bit of the network's arithmetic differently (tests/last_bits.py). A
    case at the edge of diverging could then show another trouble on the grading machine than here, and
    mark a right diagnosis wrong; four nudged copies of each network stand for four other processors.
    """
    for k in range(1, 5):
        with nudged_builds(monkeypatch, k), np.errstate(all="ignore"):
            assert chk.check_diagnose(_diagnose, **kwargs) == chk.CASES[kwargs["case"]].label, f"nudge {k}"
