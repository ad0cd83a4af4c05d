"""Cypher for subscribers.

    (:Subscriber {id, name, purpose, channel, categories, delivery, webhookUrl, paused,
                  createdAt, pausedAt, secret, previousSecret, previousSecretUntil})

The webhook secret is kept to sign deliveries; it is never read back through the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mdm_common.graph import Row, Transaction, as_utc
from mdm_distribution.adapters.message_store import ENTRY
from mdm_distribution.domain.models import Delivery, Subscriber, SubscriberSecrets

SUBSCRIBER = "Subscriber"

SCHEMA = (
    f"CREATE CONSTRAINT subscriber_id IF NOT EXISTS FOR (s:{SUBSCRIBER}) REQUIRE s.id IS UNIQUE",
    f"CREATE CONSTRAINT subscriber_name IF NOT EXISTS "
    f"FOR (s:{SUBSCRIBER}) REQUIRE s.name IS UNIQUE",
)
_FIELDS = (
    "s {.id, .name, .purpose, .channel, .categories, .delivery, .webhookUrl, .paused, "
    ".createdAt, .pausedAt, .secretRotatedAt, .removedAt} AS s"
)


def _subscriber(row: dict[str, Any]) -> Subscriber:
    return Subscriber(
        id=row["id"],
        name=row["name"],
        purpose=row["purpose"],
        channel=row["channel"],
        categories=tuple(row["categories"] or ()),
        delivery=Delivery(row["delivery"]),
        created_at=as_utc(row["createdAt"]),
        webhook_url=row.get("webhookUrl"),
        paused=bool(row.get("paused")),
        paused_at=as_utc(row["pausedAt"]) if row.get("pausedAt") else None,
        secret_rotated_at=as_utc(row["secretRotatedAt"]) if row.get("secretRotatedAt") else None,
        removed_at=as_utc(row["removedAt"]) if row.get("removedAt") else None,
    )


class GraphSubscriberStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, subscriber: Subscriber, secret: str | None) -> None:
        await self._tx.run(
            "subscriber.add",
            f"CREATE (s:{SUBSCRIBER} {{id: $id}}) SET s += $props",
            id=subscriber.id,
            props={
                "name": subscriber.name,
                "purpose": subscriber.purpose,
                "channel": subscriber.channel,
                "categories": list(subscriber.categories),
                "delivery": subscriber.delivery.value,
                "webhookUrl": subscriber.webhook_url,
                "paused": subscriber.paused,
                "createdAt": subscriber.created_at,
                "secret": secret,
            },
        )

    async def get(self, subscriber_id: str) -> Subscriber | None:
        rows = await self._tx.run(
            "subscriber.get",
            f"MATCH (s:{SUBSCRIBER} {{id: $id}}) RETURN {_FIELDS}",
            id=subscriber_id,
        )
        return _subscriber(rows[0]["s"]) if rows else None

    async def all(self, *, removed: bool = False) -> list[Subscriber]:
        """The subscribers in force, oldest first (``removed``: those removed too)."""
        rows = await self._tx.run(
            "subscriber.all",
            f"MATCH (s:{SUBSCRIBER}) WHERE $removed OR s.removedAt IS NULL RETURN {_FIELDS}",
            removed=removed,
        )
        return sorted((_subscriber(r["s"]) for r in rows), key=lambda s: (s.created_at, s.id))

    async def remove(self, subscriber_id: str, *, now: datetime) -> None:
        """Removed: its secret and its messages not yet in its stream go."""
        await self._tx.run(
            "subscriber.remove",
            f"MATCH (s:{SUBSCRIBER} {{id: $id}}) "
            "SET s.removedAt = $now, s.secret = null, s.previousSecret = null",
            id=subscriber_id,
            now=now,
        )
        await self._tx.run(
            "subscriber.remove_entries",
            f"MATCH (e:{ENTRY} {{subscriberId: $id}}) DELETE e",
            id=subscriber_id,
        )

    async def name_taken(self, name: str) -> bool:
        rows: list[Row] = await self._tx.run(
            "subscriber.name_taken",
            f"MATCH (s:{SUBSCRIBER} {{name: $name}}) RETURN s.id AS id",
            name=name,
        )
        return bool(rows)

    async def set_paused(self, subscriber_id: str, *, paused: bool, now: datetime) -> None:
        await self._tx.run(
            "subscriber.set_paused",
            f"MATCH (s:{SUBSCRIBER} {{id: $id}}) "
            "SET s.paused = $paused, s.pausedAt = CASE WHEN $paused THEN $now ELSE null END",
            id=subscriber_id,
            paused=paused,
            now=now,
        )

    async def secrets(self, subscriber_id: str) -> SubscriberSecrets | None:
        rows = await self._tx.run(
            "subscriber.secrets",
            f"MATCH (s:{SUBSCRIBER} {{id: $id}}) RETURN s.secret AS current, "
            "s.previousSecret AS previous, s.previousSecretUntil AS until, s.paused AS paused",
            id=subscriber_id,
        )
        if not rows or not rows[0]["current"]:
            return None
        row = rows[0]
        until = as_utc(row["until"]) if row["until"] else None
        return SubscriberSecrets(row["current"], row["previous"], until, bool(row["paused"]))

    async def rotate_secret(
        self, subscriber_id: str, secret: str, *, now: datetime, previous_until: datetime
    ) -> None:
        await self._tx.run(
            "subscriber.rotate_secret",
            f"MATCH (s:{SUBSCRIBER} {{id: $id}}) SET s.previousSecret = s.secret, "
            "s.previousSecretUntil = $until, s.secret = $secret, s.secretRotatedAt = $now",
            id=subscriber_id,
            secret=secret,
            until=previous_until,
            now=now,
        )
