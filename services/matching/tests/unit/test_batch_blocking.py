"""Candidate pairs as arrays: the pairs, their order and the counts of a remembered set."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.batch_blocking import (
    DuplicateIdsError,
    candidate_arrays,
    candidate_chunks,
    id_ranks,
)
from mdm_matching.domain.engine.blocking import BlockingRule, BlockingStats
from mdm_matching.domain.engine.features import MatchRecord, make_record

# A rule with several keys per record, overlapping between records: a pair shares
# several blocks of one rule.
LETTERS = BlockingRule("letters of the given name", keys=lambda r: sorted(set(r.given)))
RULE_SETS = [blocking.RULES, (*blocking.RULES[:3], LETTERS), (LETTERS, blocking.RULES[0])]


def _reference(
    records: list[MatchRecord], rules: tuple[BlockingRule, ...], max_block: int
) -> tuple[list[tuple[str, str]], BlockingStats]:
    stats = BlockingStats()
    pairs = list(blocking._pairs_remembered(records, rules=rules, max_block=max_block, stats=stats))
    return pairs, stats


@given(
    data=st.data(),
    rules=st.sampled_from(RULE_SETS),
    max_block=st.sampled_from([2, 3, 5, 200]),
    pairs_at_once=st.sampled_from([1, 3, 1 << 22]),
)
@settings(max_examples=200, deadline=None)
def test_the_pairs_and_their_order_are_those_of_a_remembered_set(
    data: st.DataObject,
    tricky_records: Any,
    rules: tuple[BlockingRule, ...],
    max_block: int,
    pairs_at_once: int,
) -> None:
    records = data.draw(tricky_records)
    stats = BlockingStats()
    chunks = list(
        candidate_chunks(
            records, rules=rules, max_block=max_block, stats=stats, pairs_at_once=pairs_at_once
        )
    )
    found = [
        (records[a].id, records[b].id)
        for chunk in chunks
        for a, b in zip(chunk.left.tolist(), chunk.right.tolist(), strict=True)
    ]
    expected, expected_stats = _reference(records, rules, max_block)
    assert found == expected
    assert stats == expected_stats


def test_all_at_once_equals_the_chunks() -> None:
    records = [
        make_record(f"r{i}", given=g, family="Kessel", postal_code="10115")
        for i, g in enumerate(["Anna", "Anne", "Paul", "Paula", "Anna"])
    ]
    whole = candidate_arrays(records, rules=blocking.RULES, max_block=200, rank=id_ranks(records))
    parts = list(candidate_chunks(records, rules=blocking.RULES, max_block=200, pairs_at_once=1))
    assert len(parts) > 1
    assert whole.left.tolist() == np.concatenate([p.left for p in parts]).tolist()
    assert whole.right.tolist() == np.concatenate([p.right for p in parts]).tolist()


def test_no_records_no_pairs() -> None:
    stats = BlockingStats()
    assert len(candidate_arrays([], rules=blocking.RULES, max_block=200, stats=stats)) == 0
    assert stats == BlockingStats()


def test_an_id_twice_is_refused() -> None:
    twice = [make_record("a", given="Anna"), make_record("a", given="Anna")]
    with pytest.raises(DuplicateIdsError):
        candidate_arrays(twice, rules=blocking.RULES, max_block=200)
