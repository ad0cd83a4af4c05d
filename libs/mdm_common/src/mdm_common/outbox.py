"""The transactional outbox: events stored with the change they report, relayed after.

A unit of work (:mod:`mdm_common.unit_of_work`) writes the events a change produced
as ``OutboxEvent`` nodes in the change's own transaction: both commit, or neither.
The :class:`Relay` publishes pending events to the broker and marks them sent. While
the broker is down they stay pending and go out, oldest first, once it is back. A
crash between publishing and marking sends an event twice; consumers drop the
duplicate by its id (:mod:`mdm_common.worker`).

Each service's subgraph runs a relay in the background: it sends what its own
requests committed at once and sweeps up, every second, whatever anyone else (a
worker that could not reach the broker, a process that died after its commit) left
pending in the service's database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from mdm_common.graph import GraphClient, Transaction, as_utc
from mdm_common.inbox import InboxStore

log = logging.getLogger(__name__)
V = TypeVar("V")

OUTBOX_EVENT = "OutboxEvent"
PRUNE_INTERVAL_S = 3600.0

SCHEMA = (
    f"CREATE CONSTRAINT outbox_event_id IF NOT EXISTS "
    f"FOR (e:{OUTBOX_EVENT}) REQUIRE e.id IS UNIQUE",
    # The relay asks for pending events only: an index keeps that independent of
    # how many were sent before.
    f"CREATE INDEX outbox_event_pending IF NOT EXISTS FOR (e:{OUTBOX_EVENT}) ON (e.pending)",
)


@dataclass(frozen=True)
class OutboxEvent:
    """One event as stored: ``ids`` are the event's fields (ids only, never personal
    data); ``seq`` orders the events of one transaction; ``trace`` is the W3C trace
    context of the change, so the receiving task continues its trace."""

    id: str
    name: str
    ids: dict[str, str]
    created_at: datetime
    seq: int = 0
    trace: dict[str, str] = field(default_factory=dict)


class _Distinct(Generic[V]):
    """The distinct values of one statement, each sent once and referred to by index."""

    def __init__(self) -> None:
        self.values: list[V] = []
        self._index: dict[V, int] = {}

    def ref(self, value: V) -> int:
        if value not in self._index:
            self._index[value] = len(self.values)
            self.values.append(value)
        return self._index[value]


class OutboxStore:
    """The Cypher of the outbox, inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, events: Sequence[OutboxEvent]) -> None:
        # The events of one transaction share a timestamp and a trace context: each
        # distinct one is sent once and the rows refer to it by index (the driver
        # encodes a datetime slowly, and a batch of 500 ingested records has 500 events).
        times, traces = _Distinct[datetime](), _Distinct[str]()
        await self._tx.run(
            "outbox_add",
            f"UNWIND $events AS e CREATE (:{OUTBOX_EVENT} {{id: e.id, name: e.name, "
            "payload: e.payload, trace: $traces[e.trace], createdAt: $times[e.createdAt], "
            "seq: e.seq, pending: true})",
            events=[
                {
                    "id": e.id,
                    "name": e.name,
                    "payload": json.dumps(e.ids, sort_keys=True),
                    "trace": traces.ref(json.dumps(e.trace)),
                    "createdAt": times.ref(e.created_at),
                    "seq": e.seq,
                }
                for e in events
            ],
            times=times.values,
            traces=traces.values,
        )

    async def pending(
        self, *, limit: int, created_before: datetime | None = None, ids: Sequence[str] = ()
    ) -> list[OutboxEvent]:
        """Pending events, oldest first: those of ``ids``, or all created before a time."""
        if ids:
            rows = await self._tx.run(
                "outbox_pending_by_id",
                f"UNWIND $ids AS id MATCH (e:{OUTBOX_EVENT} {{id: id}}) WHERE e.pending = true "
                "RETURN e.id AS id, e.name AS name, e.payload AS payload, e.trace AS trace, "
                "e.createdAt AS createdAt, e.seq AS seq",
                ids=list(ids),
            )
        else:
            rows = await self._tx.run(
                "outbox_pending",
                f"MATCH (e:{OUTBOX_EVENT}) WHERE e.pending = true AND e.createdAt < $before "
                "RETURN e.id AS id, e.name AS name, e.payload AS payload, e.trace AS trace, "
                "e.createdAt AS createdAt, e.seq AS seq ORDER BY createdAt, seq LIMIT $limit",
                before=created_before or datetime.now(UTC),
                limit=limit,
            )
        events = [
            OutboxEvent(
                id=r["id"],
                name=r["name"],
                ids=json.loads(r["payload"]),
                created_at=as_utc(r["createdAt"]),
                seq=r["seq"],
                trace=json.loads(r["trace"] or "{}"),
            )
            for r in rows
        ]
        return sorted(events, key=lambda e: (e.created_at, e.seq))[:limit]

    async def mark_sent(self, ids: Sequence[str], *, now: datetime) -> None:
        await self._tx.run(
            "outbox_mark_sent",
            f"UNWIND $ids AS id MATCH (e:{OUTBOX_EVENT} {{id: id}}) "
            "SET e.pending = false, e.sentAt = $now",
            ids=list(ids),
            now=now,
        )

    async def count_pending(self) -> int:
        rows = await self._tx.run(
            "outbox_count_pending",
            f"MATCH (e:{OUTBOX_EVENT}) WHERE e.pending = true RETURN count(e) AS n",
        )
        return int(rows[0]["n"])

    async def prune(self, *, sent_before: datetime, limit: int) -> int:
        """Forget up to ``limit`` events sent before a time; returns how many."""
        rows = await self._tx.run(
            "outbox_prune",
            f"MATCH (e:{OUTBOX_EVENT}) WHERE e.pending = false AND e.sentAt < $before "
            "WITH e LIMIT $limit DETACH DELETE e RETURN count(*) AS n",
            before=sent_before,
            limit=limit,
        )
        return int(rows[0]["n"]) if rows else 0


class Publisher(Protocol):
    """Sends events to the broker; raises when it cannot (the events stay pending)."""

    def publish(self, events: Sequence[OutboxEvent]) -> None: ...


@dataclass(frozen=True)
class RelayPolicy:
    sweep_interval_s: float = 1.0
    # A sweep leaves the newest events to the process that wrote them (it sends them
    # right after its commit), so an event is seldom sent twice.
    grace_s: float = 2.0
    batch: int = 500
    keep_sent: timedelta = timedelta(days=7)
    max_backoff_s: float = 10.0


class Relay:
    """Publishes one service's pending outbox events and marks them sent."""

    def __init__(
        self, graph: GraphClient, publisher: Publisher, *, policy: RelayPolicy | None = None
    ) -> None:
        self._graph = graph
        self._publisher = publisher
        self.policy = policy or RelayPolicy()
        self._committed: list[OutboxEvent] = []
        self._wake = asyncio.Event()
        self._last_prune = 0.0
        self._task: asyncio.Task[None] | None = None

    async def flush(self, ids: Sequence[str] = ()) -> int:
        """Send pending events now: those of ``ids``, else everything older than the
        grace period. Returns how many were sent; raises when the broker or the graph
        cannot be reached (the events stay pending)."""
        sent = 0
        while True:
            batch = await self._send_batch(ids)
            sent += batch
            if ids or batch < self.policy.batch:
                return sent

    async def _send_batch(self, ids: Sequence[str]) -> int:
        created_before = datetime.now(UTC) - timedelta(seconds=self.policy.grace_s)
        events = await self._graph.read(
            lambda tx: OutboxStore(tx).pending(
                limit=self.policy.batch, ids=ids, created_before=created_before
            )
        )
        if not ids:
            # A transaction slower than the grace period hands its events over after
            # they became old enough to be swept: they go the committed way, once.
            queued = {e.id for e in self._committed}
            events = [e for e in events if e.id not in queued]
        await self._send(events)
        return len(events)

    async def _send(self, events: Sequence[OutboxEvent]) -> None:
        if not events:
            return
        await asyncio.to_thread(self._publisher.publish, events)
        now = datetime.now(UTC)
        sent = [e.id for e in events]
        await self._graph.write(lambda tx: OutboxStore(tx).mark_sent(sent, now=now))

    async def committed(self, events: Sequence[OutboxEvent]) -> None:
        """After a commit in this process: send these events soon, in the background.

        They are sent as committed, without reading them back: only this relay sweeps
        this database, and its sweep leaves events younger than the grace period to
        the process that wrote them."""
        if len(self._committed) < self.policy.batch:
            self._committed.extend(events)
        # Beyond one batch (the broker has been away a while) the sweep finds them:
        # the list does not grow with an outage.
        self._wake.set()

    async def send_now(self, events: Sequence[OutboxEvent]) -> None:
        """After a commit where no relay runs in the background (a worker): send these
        events now; if that fails they stay pending for the subgraph's relay."""
        try:
            await self._send(events)
        except Exception as exc:
            log.warning("events left pending for the relay: %s", type(exc).__name__)

    async def run(self) -> None:
        """Forever: send what this process committed, sweep up the rest, prune.

        A cycle that fails (broker or graph down) is tried again with a growing,
        jittered pause; nothing is dropped meanwhile."""
        while True:
            try:
                async with asyncio.timeout(self.policy.sweep_interval_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
            async for attempt in AsyncRetrying(
                wait=wait_exponential_jitter(
                    multiplier=0.2, max=self.policy.max_backoff_s, jitter=0.2
                ),
                retry=retry_if_exception_type(Exception),
                before_sleep=_log_retry,
            ):
                with attempt:
                    await self._cycle()

    async def _cycle(self) -> None:
        self._wake.clear()
        events, self._committed = self._committed, []
        # If sending fails they stay pending in the graph, and the sweep sends them.
        await self._send(events)
        await self.flush()
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_prune > PRUNE_INTERVAL_S:
            self._last_prune = loop.time()
            await self._prune()

    async def start(self) -> None:
        """Run in the background of the serving process (a subgraph's start-up)."""
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _prune(self) -> None:
        """Forget events sent, and messages processed, longer ago than kept."""
        before = datetime.now(UTC) - self.policy.keep_sent
        limit = self.policy.batch
        while await self._graph.write(
            lambda tx: OutboxStore(tx).prune(sent_before=before, limit=limit)
        ):
            pass
        while await self._graph.write(lambda tx: InboxStore(tx).prune(before=before, limit=limit)):
            pass


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "outbox relay: %s (attempt %d); events stay pending",
        type(error).__name__,
        state.attempt_number,
    )


# Told the events a write just committed (a subgraph's relay sends them in the
# background, a worker at once).
AfterCommit = Callable[[Sequence[OutboxEvent]], Awaitable[None]]
