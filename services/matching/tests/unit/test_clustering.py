"""Clustering scored columns: the groups of clustering the pairs' ``Score`` objects."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.batch_blocking import candidate_arrays
from mdm_matching.domain.engine.batch_comparisons import BatchComparisons
from mdm_matching.domain.engine.batch_scoring import BatchScorer
from mdm_matching.domain.engine.clustering import cluster, cluster_scored
from mdm_matching.domain.engine.columns import RecordTable
from mdm_matching.domain.engine.model import Scorer, default_parameters


@given(
    data=st.data(),
    thresholds=st.sampled_from([(0.99, 0.5), (0.5, 0.2), (0.9, 0.9), (0.2, 0.5)]),
    prior=st.sampled_from([1e-4, 1e-2]),
    kept_only=st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_the_groups_of_clustering_the_scores(
    data: st.DataObject,
    tricky_records: Any,
    thresholds: tuple[float, float],
    prior: float,
    kept_only: bool,
) -> None:
    records = data.draw(tricky_records)
    accept, keep = thresholds
    scorer = Scorer(dataclasses.replace(default_parameters(), prior=prior))
    table = RecordTable.of(records)
    pairs = candidate_arrays(records, rules=blocking.RULES, max_block=200, rank=table.rank)
    batch = BatchScorer(scorer, BatchComparisons(table))
    # Pairs below ``keep`` may be left out: they are scored again where asked.
    scored = batch.score_all(pairs, keep_at_least=keep if kept_only else None)
    found = cluster_scored(
        scored,
        ids=[r.id for r in records],
        rank=table.rank,
        accept=accept,
        keep=keep,
        score_pair=lambda a, b: scorer.score(records[a], records[b]),
    )
    by_id = {r.id: r for r in records}
    scores = [
        scorer.score(records[a], records[b]) for a, b in zip(pairs.left, pairs.right, strict=True)
    ]
    expected = cluster(
        scores, accept=accept, keep=keep, score_pair=lambda a, b: scorer.score(by_id[a], by_id[b])
    )
    assert sorted(sorted(g) for g in found) == sorted(sorted(g) for g in expected)
