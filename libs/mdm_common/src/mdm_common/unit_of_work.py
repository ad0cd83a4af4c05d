"""The one unit of work of every service: a change and its events in one transaction.

A request or a task owns the transaction; domain code never commits. Whatever the
work records on its :class:`~mdm_common.contracts.EventRecorder` is written to the
outbox (:mod:`mdm_common.outbox`) in that same transaction, so a change and the news
of it commit together or not at all, and the events reach the broker after the
commit even when the broker is down at that moment.

A write that fails on a uniqueness constraint because a concurrent request created
the same thing first (two identical ingests at once) is run again: the second
attempt sees the first one's commit and updates instead of creating. The caller
never sees such a transient conflict.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

from celery import Celery
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from mdm_common.contracts import EventRecorder
from mdm_common.errors import WriteConflict
from mdm_common.events import BrokerPublisher, PendingEvents
from mdm_common.graph import GraphClient, Transaction
from mdm_common.inbox import SCHEMA as INBOX_SCHEMA
from mdm_common.outbox import SCHEMA as OUTBOX_SCHEMA
from mdm_common.outbox import AfterCommit, OutboxEvent, OutboxStore, Relay

T = TypeVar("T")
S = TypeVar("S")

# Constraints and indexes of the outbox and the inbox, in every service's database.
SCHEMA = OUTBOX_SCHEMA + INBOX_SCHEMA

# Attempts of a write that keeps meeting a concurrent writer's unique key.
CONFLICT_ATTEMPTS = 4


async def _leave_pending(events: Sequence[OutboxEvent]) -> None:
    """Events stay in the outbox for the service's relay to send."""


class UnitOfWork:
    """Runs reads and writes against one service's graph; writes carry their events.

    ``after_commit`` is told the events each write committed: a subgraph
    hands them to its background relay, a worker sends them at once.
    """

    def __init__(self, graph: GraphClient, *, after_commit: AfterCommit | None = None) -> None:
        self.graph = graph
        self._after_commit = after_commit or _leave_pending

    async def read(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        return await self.graph.read(work)

    async def write(self, work: Callable[[Transaction, EventRecorder], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction with its events; the driver may run it
        more than once (transient errors), so it must have no other side effects."""
        stored: list[OutboxEvent] = []

        async def attempt(tx: Transaction) -> T:
            events = PendingEvents()
            result = await work(tx, events)
            # Only the attempt that commits counts: each one starts from nothing.
            stored[:] = events.to_store(datetime.now(UTC))
            if stored:
                await OutboxStore(tx).add(stored)
            return result

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(WriteConflict),
            stop=stop_after_attempt(CONFLICT_ATTEMPTS),
            wait=wait_random(0.005, 0.05),
            reraise=True,
        )
        result: T = await retrying(self.graph.write, attempt)
        if stored:
            await self._after_commit(list(stored))
        return result


class _NoEvents:
    """The recorder of a read transaction: reads announce nothing."""

    def record(self, event: str, **ids: str) -> None:
        raise RuntimeError(f"event {event} recorded in a read transaction")


class StoreTransactions(Generic[S]):
    """A service's unit of work handing the use case the stores of its transaction
    (``stores_of`` builds them, with the transaction's event recorder), not the
    transaction itself."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        stores_of: Callable[[Transaction, EventRecorder], S],
    ) -> None:
        self.unit_of_work = unit_of_work
        self._stores_of = stores_of

    async def read(self, work: Callable[[S], Awaitable[T]]) -> T:
        return await self.unit_of_work.read(lambda tx: work(self._stores_of(tx, _NoEvents())))

    async def write(self, work: Callable[[S], Awaitable[T]]) -> T:
        return await self.unit_of_work.write(lambda tx, events: work(self._stores_of(tx, events)))


def relay_for(graph: GraphClient, celery: Celery) -> Relay:
    """The relay of a service's outbox, publishing through its Celery app.

    A subgraph runs it in the background and hands it what it committed
    (``after_commit=relay.committed``); a worker sends right after each commit
    (``after_commit=relay.send_now``) and leaves what fails to the subgraph's relay.
    """
    return Relay(graph, BrokerPublisher(celery))
