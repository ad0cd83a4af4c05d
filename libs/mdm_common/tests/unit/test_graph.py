from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from neo4j.time import DateTime

from mdm_common.graph import as_utc


class TestAsUtc:
    @given(st.datetimes(timezones=st.just(UTC)))
    def test_aware_values_keep_their_instant(self, value: datetime) -> None:
        assert as_utc(value) == value
        assert as_utc(value).tzinfo is UTC

    @given(st.datetimes())
    def test_naive_values_are_read_as_utc(self, value: datetime) -> None:
        assert as_utc(value) == value.replace(tzinfo=UTC)

    def test_other_zones_are_converted(self) -> None:
        berlin = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        assert as_utc(berlin) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)

    def test_driver_values(self) -> None:
        assert as_utc(DateTime(2026, 1, 2, 3, 4, 5)) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def test_rejects_non_datetimes(self) -> None:
        with pytest.raises(TypeError):
            as_utc("2026-01-01")
