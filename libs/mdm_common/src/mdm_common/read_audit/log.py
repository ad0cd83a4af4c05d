"""The buffered read-audit log: a read waits for no write, yet no read goes unaudited.

A request hands its one record to :meth:`ReadAuditLog.submit` (an append to an
in-process buffer, microseconds); a background task writes the buffer in batches,
each batch one graph transaction. The price of not waiting is a rule: while the
audit cannot be written (the buffer is full, or the last write failed and is being
retried) every read is refused with ``UNAVAILABLE`` instead of being served
unaudited. Records that failed to be written stay in the buffer and are retried, in
order, until they are written; a process that stops writes what is left first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from mdm_common.errors import Unavailable
from mdm_common.read_audit.records import ReadAudit

log = logging.getLogger(__name__)


class AuditUnavailable(Unavailable):
    """The read audit cannot be written now; the read is refused."""


class AuditWriter(Protocol):
    async def write(self, records: Sequence[ReadAudit]) -> None:
        """Store the records in one transaction, idempotently (a retry may repeat it)."""
        ...


class ReadAuditLog:
    """Buffers read-audit records and writes them in batches in the background."""

    def __init__(
        self,
        writer: AuditWriter,
        *,
        capacity: int = 10_000,
        batch_size: int = 500,
        batch_persons: int = 5_000,
        linger_s: float = 0.2,
        write_timeout_s: float = 5.0,
        max_backoff_s: float = 2.0,
    ) -> None:
        self._writer = writer
        self._capacity = capacity
        self._batch_size = batch_size
        self._batch_persons = batch_persons
        self._linger_s = linger_s
        self._write_timeout_s = write_timeout_s
        self._max_backoff_s = max_backoff_s
        self._pending: deque[ReadAudit] = deque()
        self._failing = False
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def writable(self) -> bool:
        """False while the buffer is full or the last write failed."""
        return not self._failing and len(self._pending) < self._capacity

    def check(self) -> None:
        """Raise :class:`AuditUnavailable` unless a record can be accepted now."""
        if self._failing:
            raise AuditUnavailable("The read audit cannot be written; try again.")
        if len(self._pending) >= self._capacity:
            raise AuditUnavailable("The read audit is behind; try again.")

    def submit(self, record: ReadAudit) -> None:
        """Accept one record for writing, or raise :class:`AuditUnavailable`."""
        self.check()
        self._pending.append(record)
        self._wake.set()

    async def flush(self) -> None:
        """Write everything accepted so far; raise :class:`AuditUnavailable` if that fails.

        The audit queries call it first, so that a reader sees every read accepted
        before its question."""
        while self._pending:
            await self._write_batch()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="read-audit-log")

    async def stop(self) -> None:
        """Stop the background writer and write what is left (logged if that fails)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except AuditUnavailable:
            log.error("read audit: %d records could not be written at shutdown", self.pending)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            # Let the records of concurrent requests gather into one transaction.
            await asyncio.sleep(self._linger_s)
            try:
                await self.flush()
            except AuditUnavailable:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
            else:
                backoff = 0.1

    async def _write_batch(self) -> None:
        async with self._lock:
            batch = self._next_batch()
            if not batch:
                return
            try:
                await asyncio.wait_for(self._writer.write(batch), self._write_timeout_s)
            except Exception as exc:
                if not self._failing:
                    log.error(
                        "read audit: writing %d records failed (%s)", len(batch), type(exc).__name__
                    )
                self._failing = True
                raise AuditUnavailable("The read audit cannot be written; try again.") from exc
            for _ in batch:
                self._pending.popleft()
            if self._failing:
                log.info("read audit: writing again")
            self._failing = False

    def _next_batch(self) -> list[ReadAudit]:
        """The oldest records, at most ``batch_size`` of them naming at most
        ``batch_persons`` persons (one record at least): a record of a bulk read names
        hundreds, and a transaction must stay well within the write deadline."""
        batch: list[ReadAudit] = []
        persons = 0
        for record in self._pending:
            persons += len(record.person_ids)
            if batch and (len(batch) == self._batch_size or persons > self._batch_persons):
                break
            batch.append(record)
        return batch
