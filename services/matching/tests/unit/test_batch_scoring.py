"""Scores column-wise: every pair's weight, probability, vetoes and explanation are
those of ``Scorer.score`` pair by pair."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine.batch_blocking import CandidatePairs
from mdm_matching.domain.engine.batch_comparisons import BatchComparisons
from mdm_matching.domain.engine.batch_scoring import BatchScorer, at_least
from mdm_matching.domain.engine.columns import RecordTable
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Parameters, Scorer, default_parameters, probability_of


def _trained_like() -> Parameters:
    """Name frequencies as a trained model has them (the guards then know the names)."""
    return dataclasses.replace(
        default_parameters(),
        tf={
            "given": {"anna": 0.01, "paul": 0.002, "paula": 0.001, "maria": 0.004},
            "family": {"mueller": 0.05, "kessel": 0.0001},
        },
        rare_tf={"given": 0.0001, "family": 0.0002},
    )


PARAMETERS = [default_parameters(), _trained_like()]


def _pairs(records: list[MatchRecord]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [
        (a, b)
        for a in range(len(records))
        for b in range(len(records))
        if records[a].id < records[b].id
    ]
    return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])


@pytest.mark.parametrize("parameters", PARAMETERS)
@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_every_score_is_that_of_the_scorer(
    parameters: Parameters, data: st.DataObject, tricky_records: Any
) -> None:
    records = data.draw(tricky_records)
    scorer = Scorer(parameters)
    batch = BatchScorer(scorer, BatchComparisons(RecordTable.of(records)))
    left, right = _pairs(records)
    scored = batch.score(left, right)
    found = [batch.score_of(scored, i) for i in range(len(scored))]
    expected = [scorer.score(records[a], records[b]) for a, b in zip(left, right, strict=True)]
    assert found == expected
    assert scored.vetoed.tolist() == [s.vetoed for s in expected]


@given(
    weights=st.lists(st.floats(min_value=-80, max_value=80), min_size=1),
    at=st.integers(min_value=0),
)
def test_at_least_a_probability_as_python_computes_it(weights: list[float], at: int) -> None:
    # Thresholds exactly at a pair's probability, where the last bit decides.
    threshold = probability_of(weights[at % len(weights)])
    for limit in (threshold, 0.5, 0.99, np.nextafter(threshold, 1.0)):
        found = at_least(np.array(weights), float(limit)).tolist()
        assert found == [probability_of(w) >= limit for w in weights]


@given(data=st.data(), keep=st.sampled_from([0.0, 0.01, 0.5, 0.99, 1.0]))
@settings(max_examples=60, deadline=None)
def test_only_the_pairs_kept_are_kept(
    data: st.DataObject, tricky_records: Any, keep: float
) -> None:
    records = data.draw(tricky_records)
    batch = BatchScorer(Scorer(_trained_like()), BatchComparisons(RecordTable.of(records)))
    left, right = _pairs(records)
    everything = batch.score(left, right)
    pairs = CandidatePairs(left.astype(np.int32), right.astype(np.int32))
    kept = batch.score_all(pairs, keep_at_least=keep)
    mask = everything.at_least(keep)
    assert kept.left.tolist() == everything.left[mask].tolist()
    assert kept.weight.tolist() == everything.weight[mask].tolist()
    assert kept.conflicts.tolist() == everything.conflicts[mask].tolist()
    assert kept.levels.tolist() == everything.levels[mask].tolist()
