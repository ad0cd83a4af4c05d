"""The receiving end of the outbox: a task does its work once per message.

The outbox may deliver an event twice (the relay died between sending and marking
it sent; the broker redelivered a message whose worker was killed). Each message
carries a stable id (:func:`mdm_common.events.message_id`); a task remembers the ids
it finished in its service's graph and skips a message it has finished before.
Tasks stay idempotent as well: a worker killed after its work committed and before
the id was remembered does the work again, to the same effect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from mdm_common.graph import GraphClient, Transaction

T = TypeVar("T")

PROCESSED_MESSAGE = "ProcessedMessage"

SCHEMA = (
    f"CREATE CONSTRAINT processed_message_id IF NOT EXISTS "
    f"FOR (m:{PROCESSED_MESSAGE}) REQUIRE m.id IS UNIQUE",
)


class InboxStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def seen(self, message_id: str) -> bool:
        rows = await self._tx.run(
            "inbox_seen",
            f"MATCH (m:{PROCESSED_MESSAGE} {{id: $id}}) RETURN m.id AS id LIMIT 1",
            id=message_id,
        )
        return bool(rows)

    async def seen_many(self, message_ids: Sequence[str]) -> set[str]:
        """Those of ``message_ids`` processed before."""
        rows = await self._tx.run(
            "inbox_seen_many",
            f"MATCH (m:{PROCESSED_MESSAGE}) WHERE m.id IN $ids RETURN m.id AS id",
            ids=list(message_ids),
        )
        return {row["id"] for row in rows}

    async def remember_many(self, message_ids: Sequence[str], *, now: datetime) -> None:
        await self._tx.run(
            "inbox_remember_many",
            f"UNWIND $ids AS id MERGE (m:{PROCESSED_MESSAGE} {{id: id}}) ON CREATE SET m.at = $now",
            ids=list(message_ids),
            now=now,
        )

    async def remember(self, message_id: str, *, now: datetime) -> None:
        await self._tx.run(
            "inbox_remember",
            f"MERGE (m:{PROCESSED_MESSAGE} {{id: $id}}) ON CREATE SET m.at = $now",
            id=message_id,
            now=now,
        )

    async def prune(self, *, before: datetime, limit: int) -> int:
        rows = await self._tx.run(
            "inbox_prune",
            f"MATCH (m:{PROCESSED_MESSAGE}) WHERE m.at < $before "
            "WITH m LIMIT $limit DETACH DELETE m RETURN count(*) AS n",
            before=before,
            limit=limit,
        )
        return int(rows[0]["n"]) if rows else 0


async def once(
    graph: GraphClient, message_id: str | None, work: Callable[[], Awaitable[T]]
) -> T | None:
    """Run ``work`` unless the message ``message_id`` was processed before (then
    ``None``); remember it once the work is done."""
    if message_id is None:
        return await work()
    if await graph.read(lambda tx: InboxStore(tx).seen(message_id)):
        return None
    result = await work()
    now = datetime.now(UTC)
    await graph.write(lambda tx: InboxStore(tx).remember(message_id, now=now))
    return result


async def fresh(graph: GraphClient, message_ids: Sequence[str]) -> set[str]:
    """Those of ``message_ids`` not processed before. A task that remembers them in
    its own write transaction (:meth:`InboxStore.remember_many`) commits its work and
    the record of it together."""
    if not message_ids:
        return set()
    return set(message_ids) - await graph.read(lambda tx: InboxStore(tx).seen_many(message_ids))


async def once_each(
    graph: GraphClient, message_ids: Sequence[str], work: Callable[[set[str]], Awaitable[T]]
) -> T:
    """:func:`once` for many messages handled together: ``work`` gets the ids of those
    not processed before (it may get none); all are remembered once it is done."""
    fresh_ids = await fresh(graph, message_ids)
    result = await work(fresh_ids)
    if fresh_ids:
        now = datetime.now(UTC)
        await graph.write(lambda tx: InboxStore(tx).remember_many(sorted(fresh_ids), now=now))
    return result
