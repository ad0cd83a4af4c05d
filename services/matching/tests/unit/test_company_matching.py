"""Which company pairs a steward sees (``company_matching.worth_review``); the matching
itself runs against the real graph in tests/integration/test_company_matching.py."""

from __future__ import annotations

import pytest

from mdm_matching.domain.company_matching import worth_review
from mdm_matching.domain.engine.companies.comparisons import (
    BRANCH_AND_HEAD,
    BRANCHES_DIFFER,
    REGISTERS_DIFFER,
    VAT_IDS_DIFFER,
)
from mdm_matching.domain.engine.model import Score
from mdm_matching.domain.online import Policy


def score(probability: float, *conflicts: str) -> Score:
    return Score("a", "b", 0.0, probability, (), conflicts)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (score(0.9), True),  # uncertain
        (score(0.4), False),  # below the review threshold
        (score(1.0, VAT_IDS_DIFFER), True),  # a source's typo in a VAT id, or two firms
        (score(1.0, BRANCH_AND_HEAD), False),  # a branch is not its head office
        (score(1.0, BRANCHES_DIFFER), False),
        (score(1.0, VAT_IDS_DIFFER, REGISTERS_DIFFER), False),  # clearly two legal entities
    ],
)
def test_which_company_pairs_a_steward_sees(found: Score, expected: bool) -> None:
    assert worth_review(found, Policy(review_at=0.5)) is expected
