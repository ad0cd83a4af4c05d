"""Cleaning a batch: each record answered on its own, or all or nothing (atomic)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mdm_common.errors import InvalidInput
from mdm_profile.domain.people import clean_batch
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SOURCES = SourceRegistry({"crm": 1})
BATCH = [
    RawRecord("1", family_name="Gut"),
    RawRecord("2", email="kaputt@"),  # identifies nobody
    RawRecord("3", family_name="Mail", email="a..b@web.de"),  # kept raw, stored
    RawRecord("1", family_name="Zweimal"),
    RawRecord("x" * 200, family_name="Lang"),
]


def test_each_record_is_answered_on_its_own() -> None:
    batch = clean_batch("crm", BATCH, sources=SOURCES, now=NOW)
    assert [r.source_id for r in batch.records] == ["1", "3"]
    assert [(r.index, r.field, r.code) for r in batch.refused] == [
        (1, "record", "NOT_IDENTIFIABLE"),
        (3, "sourceId", "DUPLICATE_IN_BATCH"),
        (4, "sourceId", "INVALID"),
    ]
    assert all(len(r.source_id) <= 128 for r in batch.refused)
    assert all("kaputt" not in r.message for r in batch.refused)


def test_atomic_refuses_the_batch_naming_every_refusal() -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_batch("crm", BATCH, sources=SOURCES, now=NOW, atomic=True)
    assert [r["index"] for r in raised.value.details["rejected"]] == [1, 3, 4]


def test_strict_refuses_a_value_that_would_be_kept_raw() -> None:
    with pytest.raises(InvalidInput) as raised:
        clean_batch("crm", [BATCH[2]], sources=SOURCES, now=NOW, atomic=True, strict=True)
    assert raised.value.field == "email"
    assert "a..b" not in raised.value.message


@pytest.mark.parametrize("raws", [[], [RawRecord(str(i), family_name="A") for i in range(501)]])
def test_empty_and_oversized_batches_fail_whole(raws: list[RawRecord]) -> None:
    with pytest.raises(InvalidInput):
        clean_batch("crm", raws, sources=SOURCES, now=NOW)
