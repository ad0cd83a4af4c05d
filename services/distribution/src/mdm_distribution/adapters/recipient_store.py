"""Cypher for what was distributed, per person and per subscriber.

    (:DistributedPerson {personId, digests, lockedAt})
    (:Recipient {key: "<subscriber id>|<person id>", subscriberId, personId, receiving,
                 sequence, firstSentAt, lastSentAt, stoppedAt, stopReason,
                 erasureNotifiedAt})

``digests`` (JSON) holds a digest of each attribute's value as last distributed, not
the value. A pass writes ``lockedAt`` of its persons first: the write that serialises
passes on one person. Recipients hold ids and times only: they stay after an erasure
as the record of who was told (Art. 19).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_distribution.domain.models import Recipient

PERSON = "DistributedPerson"
RECIPIENT = "Recipient"

SCHEMA = (
    f"CREATE CONSTRAINT distributed_person_id IF NOT EXISTS "
    f"FOR (p:{PERSON}) REQUIRE p.personId IS UNIQUE",
    f"CREATE CONSTRAINT recipient_key IF NOT EXISTS FOR (r:{RECIPIENT}) REQUIRE r.key IS UNIQUE",
    f"CREATE INDEX recipient_person IF NOT EXISTS FOR (r:{RECIPIENT}) ON (r.personId)",
)
_TIMES = ("firstSentAt", "lastSentAt", "stoppedAt", "erasureNotifiedAt")


def _key(subscriber_id: str, person_id: str) -> str:
    return f"{subscriber_id}|{person_id}"


class GraphRecipientStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def lock(self, person_ids: Iterable[str], *, now: datetime) -> None:
        await self._tx.run(
            "distribution.lock",
            f"UNWIND $ids AS id MERGE (p:{PERSON} {{personId: id}}) SET p.lockedAt = $now",
            ids=sorted(set(person_ids)),
            now=now,
        )

    async def states(self, person_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        rows = await self._tx.run(
            "distribution.states",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{personId: id}}) WHERE p.digests IS NOT NULL "
            "RETURN p.personId AS id, p.digests AS digests",
            ids=list(dict.fromkeys(person_ids)),
        )
        return {r["id"]: json.loads(r["digests"]) for r in rows}

    async def save_states(self, states: Mapping[str, dict[str, str] | None]) -> None:
        if not states:
            return
        await self._tx.run(
            "distribution.save_states",
            f"UNWIND $rows AS row MATCH (p:{PERSON} {{personId: row.id}}) "
            "SET p.digests = row.digests",
            rows=[
                {"id": i, "digests": json.dumps(d, sort_keys=True) if d is not None else None}
                for i, d in states.items()
            ],
        )

    async def of_persons(self, person_ids: Iterable[str]) -> dict[tuple[str, str], Recipient]:
        rows = await self._tx.run(
            "distribution.recipients",
            f"UNWIND $ids AS id MATCH (r:{RECIPIENT} {{personId: id}}) RETURN r {{.*}} AS r",
            ids=list(dict.fromkeys(person_ids)),
        )
        found = (_recipient(r["r"]) for r in rows)
        return {(r.subscriber_id, r.person_id): r for r in found}

    async def of_person(self, person_id: str) -> list[Recipient]:
        found = await self.of_persons([person_id])
        return sorted(found.values(), key=lambda r: (str(r.first_sent_at), r.subscriber_id))

    async def save(self, recipients: Iterable[Recipient]) -> None:
        rows = [
            {
                "key": _key(r.subscriber_id, r.person_id),
                "props": {
                    "subscriberId": r.subscriber_id,
                    "personId": r.person_id,
                    "receiving": r.receiving,
                    "sequence": r.sequence,
                    "stopReason": r.stop_reason,
                    "firstSentAt": r.first_sent_at,
                    "lastSentAt": r.last_sent_at,
                    "stoppedAt": r.stopped_at,
                    "erasureNotifiedAt": r.erasure_notified_at,
                },
            }
            for r in recipients
        ]
        if rows:
            await self._tx.run(
                "distribution.save_recipients",
                f"UNWIND $rows AS row MERGE (r:{RECIPIENT} {{key: row.key}}) SET r += row.props",
                rows=rows,
            )


def _recipient(row: dict[str, Any]) -> Recipient:
    times = {name: as_utc(row[name]) if row.get(name) else None for name in _TIMES}
    return Recipient(
        subscriber_id=str(row["subscriberId"]),
        person_id=str(row["personId"]),
        receiving=bool(row.get("receiving")),
        sequence=int(row.get("sequence") or 0),
        first_sent_at=times["firstSentAt"],
        last_sent_at=times["lastSentAt"],
        stopped_at=times["stoppedAt"],
        stop_reason=row.get("stopReason"),
        erasure_notified_at=times["erasureNotifiedAt"],
    )
