"""The buffered read-audit log: accepted records are written in batches, in order; while
they cannot be written (buffer full, last write failed) nothing more is accepted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from mdm_common.read_audit.log import AuditUnavailable, ReadAuditLog
from mdm_common.read_audit.records import ReadAudit


def record(n: int, *, persons: int = 1) -> ReadAudit:
    return ReadAudit(
        id=f"a{n}",
        reader="steward-1",
        roles=("steward",),
        operation="Q",
        person_ids=tuple(f"p{n}-{i}" for i in range(persons)),
        at=datetime.now(UTC),
    )


class Book:
    """An audit writer that keeps batches in memory and fails while ``broken``."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.broken = False

    async def write(self, records: Sequence[ReadAudit]) -> None:
        if self.broken:
            raise ConnectionError("graph down")
        self.batches.append([r.id for r in records])


class TestWriting:
    async def test_the_background_writer_writes_what_arrived_together_in_one_batch(self) -> None:
        book = Book()
        log = ReadAuditLog(book, linger_s=0.01)
        log.start()
        for n in range(3):
            log.submit(record(n))
        await asyncio.sleep(0.1)
        await log.stop()
        assert book.batches == [["a0", "a1", "a2"]]
        assert log.pending == 0

    async def test_batches_are_bounded_and_keep_the_order(self) -> None:
        book = Book()
        log = ReadAuditLog(book, batch_size=2)
        for n in range(5):
            log.submit(record(n))
        await log.flush()
        assert book.batches == [["a0", "a1"], ["a2", "a3"], ["a4"]]

    async def test_a_batch_names_a_bounded_number_of_persons(self) -> None:
        book = Book()
        log = ReadAuditLog(book, batch_persons=500)
        for n, persons in enumerate([200, 200, 200, 600, 1, 1]):
            log.submit(record(n, persons=persons))
        await log.flush()
        # A record larger than the bound goes alone, never split, never held back.
        assert book.batches == [["a0", "a1"], ["a2"], ["a3"], ["a4", "a5"]]

    async def test_stop_writes_what_is_left(self) -> None:
        book = Book()
        log = ReadAuditLog(book, linger_s=10)
        log.start()
        log.submit(record(1))
        await log.stop()
        assert book.batches == [["a1"]]


class TestRefusing:
    def test_a_full_buffer_accepts_no_more(self) -> None:
        log = ReadAuditLog(Book(), capacity=2)
        log.submit(record(1))
        log.submit(record(2))
        assert not log.writable
        with pytest.raises(AuditUnavailable):
            log.submit(record(3))

    async def test_after_a_failed_write_nothing_is_accepted_until_a_write_succeeds(
        self,
    ) -> None:
        book = Book()
        log = ReadAuditLog(book)
        log.submit(record(1))
        book.broken = True
        with pytest.raises(AuditUnavailable):
            await log.flush()
        assert not log.writable
        with pytest.raises(AuditUnavailable):
            log.submit(record(2))
        assert log.pending == 1  # kept for the next attempt

        book.broken = False
        await log.flush()
        assert log.writable
        assert book.batches == [["a1"]]

    async def test_the_background_writer_retries_until_the_store_is_back(self) -> None:
        book = Book()
        book.broken = True
        log = ReadAuditLog(book, linger_s=0.01, max_backoff_s=0.05)
        log.start()
        log.submit(record(1))
        await asyncio.sleep(0.1)
        assert not log.writable
        book.broken = False
        await asyncio.sleep(0.2)
        await log.stop()
        assert book.batches == [["a1"]]
        assert log.writable

    async def test_a_write_that_hangs_counts_as_failed(self) -> None:
        class Stalled(Book):
            async def write(self, records: Sequence[ReadAudit]) -> None:
                await asyncio.sleep(10)

        log = ReadAuditLog(Stalled(), write_timeout_s=0.05)
        log.submit(record(1))
        with pytest.raises(AuditUnavailable):
            await log.flush()
        assert not log.writable
