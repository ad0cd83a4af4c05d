"""Training column-wise: the parameters of comparing the pairs one by one."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.batch_blocking import candidate_arrays
from mdm_matching.domain.engine.batch_comparisons import UNKNOWN
from mdm_matching.domain.engine.comparisons import COMPARISONS, Vector, compare
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.learning import Patterns, default_sessions, estimate_u, train
from mdm_matching.domain.engine.parameters import default_parameters


def _u_one_by_one(records: list[MatchRecord], samples: int) -> list[list[float]]:
    """``estimate_u`` as it was written pair by pair."""
    rng = random.Random(1)  # noqa: S311 - test data
    counts = [Counter[int]() for _ in COMPARISONS]
    n = len(records)
    for _ in range(samples):
        i, j = rng.randrange(n), rng.randrange(n)
        if i == j:
            continue
        for index, level in enumerate(compare(records[i], records[j])):
            if level is not None:
                counts[index][level] += 1
    u: list[list[float]] = []
    for comparison, counter in zip(COMPARISONS, counts, strict=True):
        total = sum(counter.values())
        if not total:
            u.append(default_parameters().u[len(u)])
            continue
        floor = 1 / (total + 1)
        row = [max(counter[level] / total, floor) for level in range(len(comparison.levels))]
        u.append([v / sum(row) for v in row])
    return u


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_u_is_that_of_the_random_pairs_one_by_one(data: st.DataObject, tricky_records: Any) -> None:
    records = data.draw(tricky_records)
    assert estimate_u(records, samples=3000) == _u_one_by_one(records, 3000)


def _records_pairs(records: list[MatchRecord]) -> list[tuple[MatchRecord, MatchRecord]]:
    by_id = {r.id: r for r in records}
    return [(by_id[a], by_id[b]) for a, b in blocking.candidate_pairs(records)]


@given(data=st.data(), without_births=st.booleans())
@settings(max_examples=60, deadline=None)
def test_candidate_pairs_as_positions_train_as_pairs_of_records(
    data: st.DataObject, tricky_records: Any, without_births: bool
) -> None:
    records = data.draw(tricky_records)
    if without_births:  # no birth-date session: the prior comes from all candidate pairs
        records = [dataclasses.replace(r, birth=None) for r in records]
    pairs = candidate_arrays(records, rules=blocking.RULES, max_block=blocking.DEFAULT_MAX_BLOCK)
    sessions = default_sessions()
    # Without its rule, a session's pairs are compared one by one.
    one_by_one = [dataclasses.replace(session, rule=None) for session in sessions]
    as_positions = train(records, pairs, sessions=sessions, u_samples=2000)
    as_records = train(records, _records_pairs(records), sessions=one_by_one, u_samples=2000)
    assert as_positions == as_records


@given(
    st.lists(
        st.lists(st.tuples(*(st.sampled_from([None, 0, 1, 2]) for _ in COMPARISONS)), min_size=1),
        min_size=1,
    )
)
def test_patterns_are_counted_in_the_order_they_first_occur(chunks: list[list[Vector]]) -> None:
    patterns = Patterns()
    for vectors in chunks:
        levels = np.array(
            [[UNKNOWN if v is None else v for v in vector] for vector in vectors], dtype=np.int8
        )
        patterns.add(levels)
    expected = Counter(vector for vectors in chunks for vector in vectors)
    counted = patterns.counted()
    assert counted == expected
    assert list(counted) == list(expected)
