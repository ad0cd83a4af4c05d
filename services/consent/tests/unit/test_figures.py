"""Buckets and counts of the per-purpose figures (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.figures import MAX_BUCKETS, Bucket, count, spans
from mdm_consent.domain.models import EventType

T0 = datetime(2026, 1, 14, 15, 30, tzinfo=UTC)  # a Wednesday


class TestSpans:
    def test_days_weeks_and_months_start_on_calendar_boundaries(self) -> None:
        until = datetime(2026, 3, 2, tzinfo=UTC)
        assert spans(T0, T0 + timedelta(days=1), Bucket.DAY)[0][0] == datetime(
            2026, 1, 14, tzinfo=UTC
        )
        assert spans(T0, until, Bucket.WEEK)[0] == (
            datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 1, 19, tzinfo=UTC),
        )  # fmt: skip
        assert [s for s, _ in spans(T0, until, Bucket.MONTH)] == [
            datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3)
        ]

    @pytest.mark.parametrize(
        ("since", "until", "field"),
        [
            (T0, T0, "until"),
            (T0, T0 - timedelta(days=1), "until"),
            (T0.replace(tzinfo=None), T0 + timedelta(days=1), "since"),
            (T0, T0 + timedelta(days=MAX_BUCKETS + 1), "bucket"),
        ],
    )
    def test_a_bad_range_is_refused(self, since: datetime, until: datetime, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            spans(since, until, Bucket.DAY)
        assert raised.value.field == field


class TestCount:
    def test_events_count_in_their_bucket_and_only_inside_the_range(self) -> None:
        events = [
            (EventType.GRANTED, T0),
            (EventType.GRANTED, T0 + timedelta(hours=3)),
            (EventType.WITHDRAWN, T0 + timedelta(days=1)),
            (EventType.GRANTED, T0 - timedelta(minutes=1)),  # before the range
        ]
        found = count(events, since=T0, until=T0 + timedelta(days=2), bucket=Bucket.DAY)
        assert [(b.counts[EventType.GRANTED], b.counts[EventType.WITHDRAWN]) for b in found] == [
            (2, 0), (0, 1), (0, 0),
        ]  # fmt: skip
        assert set(found[0].counts) == set(EventType)
