"""Cypher for webhook deliveries that failed every attempt.

    (:WebhookDeadLetter {id, subscriberId, position, eventId, type, attempts,
                         lastStatus, lastError, failedAt, replayedAt})

A dead letter names the stream entry (``position``), not the event's data: a replay
reads the entry again from the subscriber's stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc

DEAD_LETTER = "WebhookDeadLetter"

SCHEMA = (
    f"CREATE CONSTRAINT webhook_dead_letter_id IF NOT EXISTS "
    f"FOR (d:{DEAD_LETTER}) REQUIRE d.id IS UNIQUE",
    f"CREATE INDEX webhook_dead_letter_subscriber IF NOT EXISTS "
    f"FOR (d:{DEAD_LETTER}) ON (d.subscriberId)",
)


@dataclass(frozen=True)
class DeadLetter:
    id: str
    subscriber_id: str
    position: str
    event_id: str
    type: str
    attempts: int
    last_status: int | None
    last_error: str
    failed_at: datetime
    replayed_at: datetime | None = None


def _dead_letter(row: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        id=row["id"],
        subscriber_id=row["subscriberId"],
        position=row["position"],
        event_id=row["eventId"],
        type=row["type"],
        attempts=int(row["attempts"]),
        last_status=row.get("lastStatus"),
        last_error=row["lastError"],
        failed_at=as_utc(row["failedAt"]),
        replayed_at=as_utc(row["replayedAt"]) if row.get("replayedAt") else None,
    )


class GraphDeadLetterStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, letter: DeadLetter) -> None:
        await self._tx.run(
            "dead_letter.add",
            f"MERGE (d:{DEAD_LETTER} {{id: $id}}) SET d += $props",
            id=letter.id,
            props={
                "subscriberId": letter.subscriber_id,
                "position": letter.position,
                "eventId": letter.event_id,
                "type": letter.type,
                "attempts": letter.attempts,
                "lastStatus": letter.last_status,
                "lastError": letter.last_error,
                "failedAt": letter.failed_at,
            },
        )

    async def get(self, letter_id: str) -> DeadLetter | None:
        rows = await self._tx.run(
            "dead_letter.get",
            f"MATCH (d:{DEAD_LETTER} {{id: $id}}) RETURN d {{.*}} AS d",
            id=letter_id,
        )
        return _dead_letter(rows[0]["d"]) if rows else None

    async def of_subscriber(
        self, subscriber_id: str, *, open_only: bool, first: int
    ) -> list[DeadLetter]:
        rows = await self._tx.run(
            "dead_letter.of_subscriber",
            f"MATCH (d:{DEAD_LETTER} {{subscriberId: $id}}) "
            "WHERE NOT $open OR d.replayedAt IS NULL "
            "RETURN d {.*} AS d ORDER BY d.failedAt DESC LIMIT $first",
            id=subscriber_id,
            open=open_only,
            first=first,
        )
        return [_dead_letter(r["d"]) for r in rows]

    async def replayed(self, letter_id: str, *, now: datetime) -> None:
        await self._tx.run(
            "dead_letter.replayed",
            f"MATCH (d:{DEAD_LETTER} {{id: $id}}) SET d.replayedAt = $now",
            id=letter_id,
            now=now,
        )
