"""Cypher for the messages waiting for the stream relay: an outbox of the change stream.

    (:StreamEntry {id, stream, subscriberId, personId, kind, body, createdAt, seq})

A distribution pass writes its messages here in its own transaction, as CloudEvents
JSON; the relay appends them to the subscribers' streams in the order they were
committed and deletes them. They hold personal data (the values sent) only for
those milliseconds, or while the stream's Redis is down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from mdm_common.graph import Transaction
from mdm_distribution.adapters import cloudevents
from mdm_distribution.domain.models import ChangeMessage, ChangeType

ENTRY = "StreamEntry"
VALUES, CLOSING, IDS = "values", "closing", "ids"


def kind_of(type_: ChangeType) -> str:
    """An entry with a person's values; one after which the subscriber no longer receives
    the person (stopped, merged away, erased): the person's entries with values leave the
    stream with it; or one with ids only (consent news, an unmerge)."""
    if type_ in (ChangeType.PERSON_CREATED, ChangeType.PERSON_UPDATED):
        return VALUES
    if type_ in (ChangeType.PERSON_STOPPED, ChangeType.PERSON_MERGED, ChangeType.PERSON_ERASED):
        return CLOSING
    return IDS


SCHEMA = (
    f"CREATE CONSTRAINT stream_entry_id IF NOT EXISTS FOR (e:{ENTRY}) REQUIRE e.id IS UNIQUE",
    f"CREATE INDEX stream_entry_created IF NOT EXISTS FOR (e:{ENTRY}) ON (e.createdAt)",
)


@dataclass(frozen=True)
class StreamEntry:
    id: str
    subscriber_id: str
    person_id: str
    body: bytes
    kind: str = "ids"  # VALUES, CLOSING or IDS, see :func:`kind_of`


class GraphMessageStore:
    """``stream_prefix``: the streams' key prefix (a setting). Each entry names its
    stream, and a relay takes only the entries of its prefix: two platforms (or a test
    beside the running platform) may share a database."""

    def __init__(self, tx: Transaction, *, stream_prefix: str) -> None:
        self._tx = tx
        self._prefix = stream_prefix

    async def add(self, messages: Sequence[ChangeMessage]) -> None:
        if not messages:
            return
        # Taken at the end of the attempt that commits: a later pass on the same person
        # commits later and stamps later (see domain/distribute.py).
        now = datetime.now(UTC)
        await self._tx.run(
            "stream_entry.add",
            f"UNWIND $rows AS row CREATE (:{ENTRY} {{id: row.id, stream: row.stream, "
            "subscriberId: row.subscriber, "
            "personId: row.person, kind: row.kind, body: row.body, createdAt: $now, "
            "seq: row.seq})",
            rows=[
                {
                    "id": m.id,
                    "stream": self._prefix + m.subscriber_id,
                    "subscriber": m.subscriber_id,
                    "person": m.person_id,
                    "kind": kind_of(m.type),
                    "body": cloudevents.encode(m).decode(),
                    "seq": seq,
                }
                for seq, m in enumerate(messages)
            ],
            now=now,
        )

    async def oldest(self, limit: int) -> list[StreamEntry]:
        rows = await self._tx.run(
            "stream_entry.oldest",
            f"MATCH (e:{ENTRY}) WHERE e.stream STARTS WITH $prefix "
            "RETURN e.id AS id, e.subscriberId AS subscriber, "
            "e.personId AS person, e.kind AS kind, e.body AS body, "
            "e.createdAt AS createdAt, e.seq AS seq ORDER BY createdAt, seq LIMIT $limit",
            limit=limit,
            prefix=self._prefix,
        )
        return [
            StreamEntry(r["id"], r["subscriber"], r["person"], r["body"].encode(), r["kind"])
            for r in rows
        ]

    async def remove(self, ids: Sequence[str]) -> None:
        await self._tx.run(
            "stream_entry.remove",
            f"UNWIND $ids AS id MATCH (e:{ENTRY} {{id: id}}) DELETE e",
            ids=list(ids),
        )
