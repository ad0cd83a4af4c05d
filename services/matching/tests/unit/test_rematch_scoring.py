"""A batch job's partitions scored column-wise: together they score every candidate
pair once, and propose exactly the pairs ``Scorer.score`` puts at or above the
review threshold, with the same scores."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.model import Parameters, Score, Scorer, default_parameters
from mdm_matching.domain.rematch_scoring import (
    id_hash,
    partition_of,
    partitions_of,
    score_partition_pairs,
)


def _trained_like() -> Parameters:
    return dataclasses.replace(
        default_parameters(),
        tf={"given": {"anna": 0.01, "paul": 0.002}, "family": {"mueller": 0.05}},
        rare_tf={"given": 0.0001, "family": 0.0002},
    )


@given(
    ids=st.lists(st.tuples(st.text(min_size=1), st.text(min_size=1)), min_size=1),
    partitions=st.integers(min_value=1, max_value=64),
)
def test_many_pairs_hash_to_the_partition_one_pair_does(
    ids: list[tuple[str, str]], partitions: int
) -> None:
    left = np.array([id_hash(a) for a, _ in ids], dtype=np.uint64)
    right = np.array([id_hash(b) for _, b in ids], dtype=np.uint64)
    found = partitions_of(left, right, partitions).tolist()
    assert found == [partition_of(a, b, partitions) for a, b in ids]
    assert all(0 <= p < partitions for p in found)


def test_pairs_spread_over_the_partitions() -> None:
    ids = [f"p-{i:05d}" for i in range(400)]
    counts = np.bincount([partition_of(a, b, 4) for a in ids[:100] for b in ids[100:]], minlength=4)
    assert counts.min() > 0.2 * counts.sum()  # 10,000 pairs, about a quarter each


@given(
    data=st.data(),
    partitions=st.integers(min_value=1, max_value=5),
    review_at=st.sampled_from([0.01, 0.5, 0.9]),
    parameters=st.sampled_from([default_parameters(), _trained_like()]),
)
@settings(max_examples=60, deadline=None)
def test_the_partitions_score_every_pair_once_as_the_scorer_does(
    data: st.DataObject,
    tricky_records: Any,
    partitions: int,
    review_at: float,
    parameters: Parameters,
) -> None:
    records = data.draw(tricky_records)
    scorer = Scorer(parameters)
    by_id = {r.id: r for r in records}
    pairs = list(blocking.candidate_pairs(records))
    expected = [scorer.score(by_id[a], by_id[b]) for a, b in pairs]
    expected = [s for s in expected if s.probability >= review_at]

    scored, proposed = 0, []
    for number in range(partitions):
        found = score_partition_pairs(
            records,
            scorer,
            partitions=partitions,
            number=number,
            review_at=review_at,
            max_block=blocking.DEFAULT_MAX_BLOCK,
        )
        assert all(partition_of(s.left, s.right, partitions) == number for s in found.proposals)
        scored += found.scored
        proposed.extend(found.proposals)
    assert scored == len(pairs)
    assert sorted(proposed, key=_pair) == sorted(expected, key=_pair)


def _pair(score: Score) -> tuple[str, str]:
    return score.left, score.right


def test_no_records_no_pairs() -> None:
    found = score_partition_pairs(
        [], Scorer(default_parameters()), partitions=2, number=0, review_at=0.5, max_block=10
    )
    assert found.scored == 0
    assert found.proposals == []
