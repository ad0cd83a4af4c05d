"""Cypher for consent events. Labels come from constants; every value is a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.models import Channel, ConsentEvent, ConsentStatus

CONSENT_EVENT = "ConsentEvent"

SCHEMA = (
    f"CREATE CONSTRAINT consent_event_id IF NOT EXISTS "
    f"FOR (c:{CONSENT_EVENT}) REQUIRE c.id IS UNIQUE",
    f"CREATE INDEX consent_event_person IF NOT EXISTS FOR (c:{CONSENT_EVENT}) ON (c.personId)",
)


class GraphConsentStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def append(self, event: ConsentEvent) -> None:
        await self._tx.run(
            "consent.append",
            f"CREATE (c:{CONSENT_EVENT} {{id: $id}}) SET c += $props",
            id=event.id,
            props={
                "personId": event.person_id,
                "purpose": event.purpose,
                "status": event.status.value,
                "channel": event.channel.value,
                "source": event.source,
                "recordedAt": event.recorded_at,
                "recordedBy": event.recorded_by,
            },
        )

    async def history_of(self, person_ids: Sequence[str]) -> dict[str, list[ConsentEvent]]:
        rows = await self._tx.run(
            "consent.history_of",
            f"MATCH (c:{CONSENT_EVENT}) WHERE c.personId IN $ids "
            "RETURN c {.*} AS c ORDER BY c.recordedAt DESC, c.id",
            ids=list(person_ids),
        )
        history: dict[str, list[ConsentEvent]] = {pid: [] for pid in person_ids}
        for row in rows:
            event = _event(row["c"])
            history.setdefault(event.person_id, []).append(event)
        return history


def _event(props: dict[str, Any]) -> ConsentEvent:
    return ConsentEvent(
        id=props["id"],
        person_id=props["personId"],
        purpose=props["purpose"],
        status=ConsentStatus(props["status"]),
        channel=Channel(props["channel"]),
        source=props["source"],
        recorded_at=as_utc(props["recordedAt"]),
        recorded_by=props["recordedBy"],
    )
