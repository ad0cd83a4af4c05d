"""The windows a page by score walks cover its key range exactly, in page order."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.adapters.review_store import _Range, _score_windows, score_value
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
