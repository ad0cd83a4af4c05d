"""Stream positions: a replay "from" a position sets the group just before it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_common.errors import InvalidInput
from mdm_distribution.adapters.streams import before

MAX_SEQ = 2**64 - 1


def key(position: str) -> tuple[int, int]:
    ms, seq = position.split("-")
    return int(ms), int(seq)


@given(st.integers(0, 2**48), st.integers(0, MAX_SEQ))
def test_nothing_lies_between_the_position_before_and_the_position(ms: int, seq: int) -> None:
    earlier = key(before(f"{ms}-{seq}"))
    assert earlier < (ms, seq) or (ms, seq) == (0, 0)
    # The id right after `earlier` in the stream's order is the position itself.
    following = (earlier[0], earlier[1] + 1) if earlier[1] < MAX_SEQ else (earlier[0] + 1, 0)
    assert following == (ms, seq) or (ms, seq) == (0, 0)


def test_a_position_without_a_sequence_means_its_first_entry() -> None:
    assert before("1733550000000") == f"1733549999999-{MAX_SEQ}"
    assert before("0") == "0-0"


@pytest.mark.parametrize("odd", ["", "abc", "1-2-3", "-5", "1--1", "\uff11\uff12", "1" * 21])
def test_anything_else_is_refused(odd: str) -> None:
    with pytest.raises(InvalidInput):
        before(odd)
