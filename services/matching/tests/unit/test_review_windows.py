"""The windows a page by score walks cover its key range exactly, in page order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.adapters.review_store import (
    _age_windows,
    _Range,
    _score_windows,
    _time_of,
    age_value,
    score_value,
)
from mdm_matching.domain.models import TaskStatus

probabilities = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(probabilities, probabilities, st.lists(probabilities, max_size=30), st.booleans())
def test_windows_partition_the_range(a: float, b: float, scores: list[float], desc: bool) -> None:
    low, high = sorted((a, b))
    part = _Range(TaskStatus.OPEN, "O" + score_value(low), "O" + score_value(high) + "~")
    windows = list(_score_windows(part, descending=desc))
    assert len(windows) <= 20  # doubling from 0.002 covers [0, 1] in 10 steps
    keys = [f"O{score_value(s)} task-{n}" for n, s in enumerate(scores)]
    for key in keys:
        inside = part.low <= key < part.high
        assert sum(1 for w in windows if w.low <= key < w.high) == (1 if inside else 0)
    ordered = windows[::-1] if desc else windows
    for before, after in pairwise(ordered):
        assert before.high == after.low


times = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    st.one_of(st.none(), times),
    st.one_of(st.none(), times),
    times,
    st.lists(times, max_size=30),
    st.booleans(),
)
def test_age_windows_partition_the_range_from_any_start(
    after: datetime | None,
    before: datetime | None,
    start: datetime,
    created: list[datetime],
    desc: bool,
) -> None:
    low = "O" + (age_value(after) if after else "")
    high = "O" + (age_value(before) if before else "~")
    part = _Range(TaskStatus.OPEN, low, high)
    windows = list(_age_windows(part, descending=desc, start=start, width=timedelta(hours=1)))
    assert len(windows) <= 40
    for n, at in enumerate(created):
        key = f"O{age_value(at)} task-{n}"
        inside = part.low <= key < part.high
        assert sum(1 for w in windows if w.low <= key < w.high) == (1 if inside else 0)
    ordered = windows[::-1] if desc else windows
    for before_w, after_w in pairwise(ordered):
        assert before_w.high == after_w.low


def test_the_time_of_an_edge() -> None:
    at = datetime(2026, 12, 5, 10, 0, 1, 234567, tzinfo=UTC)
    assert _time_of("O" + age_value(at)) == at
    assert _time_of("O" + age_value(at) + " task-id") == at
    assert _time_of("O~") is None
    assert _time_of("O") is None
