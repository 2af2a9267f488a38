"""Does every lesson still say what its experiments show? The registry lives in ``tests/claims/``."""

from __future__ import annotations

import matplotlib
import pytest
from claims import Claim, all_claims, cell_source, normalize

matplotlib.use("Agg")

CLAIMS = all_claims()
pytestmark = pytest.mark.claims


def test_registry_is_not_empty_and_ids_are_unique():
    """Does the registry hold claims, each with a distinct id?"""
    assert CLAIMS, "no claim registered in tests/claims/lesson*.py"
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids)), f"duplicate claim ids: {sorted(i for i in ids if ids.count(i) > 1)}"


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_is_still_in_its_cell(claim: Claim):
    """Does the lesson cell still contain the quoted claim, word for word?"""
    source = cell_source(claim.lesson, claim.cell)
    assert normalize(claim.text) in source, (
        f"{claim.lesson} cell {claim.cell} no longer says {claim.text!r}; update the claim and its check "
        f"together with the prose. The cell now reads:\n{source[:600]}"
    )


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_holds(claim: Claim):
    """Does the experiment behind the claim give what the lesson says?"""
    claim.check()
