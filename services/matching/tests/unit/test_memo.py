"""Value pairs decided once: the decisions are those of ``decide``, however kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine.memo import PairMemo, each


def _decide(x: int, y: int) -> int:
    return (3 * x + y) % 7 - 1


# A table for all pairs, for some, for none (sorted keys).
@pytest.mark.parametrize("dense_pairs", [1 << 20, 12, 0])
@given(calls=st.lists(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 12)), max_size=30)))
@settings(max_examples=100)
def test_decisions_are_those_of_decide(
    dense_pairs: int, calls: list[list[tuple[int, int]]]
) -> None:
    asked: list[tuple[int, int]] = []

    def counted(x: int, y: int) -> int:
        asked.append((x, y))
        return _decide(x, y)

    remembered = PairMemo(each(counted), left_values=10, right_values=13, dense_pairs=dense_pairs)
    for pairs in calls:
        x = np.array([a for a, _ in pairs], dtype=np.int64)
        y = np.array([b for _, b in pairs], dtype=np.int64)
        assert remembered(x, y).tolist() == [_decide(a, b) for a, b in pairs]
    assert len(asked) == len(set(asked))  # each distinct pair decided once
    assert set(asked) == {pair for pairs in calls for pair in pairs}
