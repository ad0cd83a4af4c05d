"""Cypher for held records: what retention duties keep of an erased person, restricted.

    (:HeldRecord {key: "<source>|<sourceId>", personId, heldUntil: "YYYY-MM-DD",
                  categories, holds: [json], requestId, heldAt, ...the record's kept values})

A held record is not a ``SourceRecord`` and has no edge to a person: nothing that
builds golden records, searches, matches or exports reads its label.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.graph_mapping import record_from, record_props
from mdm_profile.domain.holds import HeldRecord, HoldReason

HELD_RECORD = "HeldRecord"

SCHEMA = (
    f"CREATE CONSTRAINT held_record_key IF NOT EXISTS "
    f"FOR (h:{HELD_RECORD}) REQUIRE h.key IS UNIQUE",
    f"CREATE INDEX held_record_person IF NOT EXISTS FOR (h:{HELD_RECORD}) ON (h.personId)",
    f"CREATE INDEX held_record_until IF NOT EXISTS FOR (h:{HELD_RECORD}) ON (h.heldUntil)",
)
_HOLD_FIELDS = ("personId", "heldUntil", "categories", "holds", "requestId", "heldAt", "key")


def _props(held: HeldRecord) -> dict[str, Any]:
    reasons = [
        json.dumps(
            {
                "duty": r.duty,
                "name": r.name,
                "legalReference": r.legal_reference,
                "until": r.until.isoformat(),
            },
            separators=(",", ":"),
        )
        for r in held.reasons
    ]
    return {
        **{k: v for k, v in record_props(held.record).items() if v is not None},
        "personId": held.person_id,
        "heldUntil": held.until.isoformat(),
        "categories": list(held.categories),
        "holds": reasons,
        "requestId": held.request_id,
        "heldAt": held.held_at,
    }


def _held(props: dict[str, Any]) -> HeldRecord:
    values = {k: v for k, v in props.items() if k not in _HOLD_FIELDS}
    reasons = tuple(
        HoldReason(r["duty"], r["name"], r["legalReference"], date.fromisoformat(r["until"]))
        for r in map(json.loads, props.get("holds") or ())
    )
    return HeldRecord(
        person_id=props["personId"],
        record=record_from(values),
        categories=tuple(props.get("categories") or ()),
        reasons=reasons,
        request_id=props["requestId"],
        held_at=as_utc(props["heldAt"]),
    )


class GraphHoldStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def save(self, held: Sequence[HeldRecord]) -> None:
        if not held:
            return
        await self._tx.run(
            "holds.save",
            f"UNWIND $rows AS row MERGE (h:{HELD_RECORD} {{key: row.key}}) "
            "ON CREATE SET h += row.props",
            rows=[{"key": x.key, "props": _props(x)} for x in held],
        )

    async def of_persons(self, person_ids: Sequence[str]) -> list[HeldRecord]:
        rows = await self._tx.run(
            "holds.of_persons",
            f"UNWIND $ids AS id MATCH (h:{HELD_RECORD} {{personId: id}}) "
            "RETURN h {.*} AS h ORDER BY h.key",
            ids=list(person_ids),
        )
        return [_held(row["h"]) for row in rows]

    async def expired(self, today: date, *, limit: int) -> list[HeldRecord]:
        rows = await self._tx.run(
            "holds.expired",
            f"MATCH (h:{HELD_RECORD}) WHERE h.heldUntil < $today "
            "RETURN h {.*} AS h ORDER BY h.heldUntil, h.key LIMIT $limit",
            today=today.isoformat(),
            limit=limit,
        )
        return [_held(row["h"]) for row in rows]

    async def delete(self, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        rows = await self._tx.run(
            "holds.delete",
            f"UNWIND $keys AS key MATCH (h:{HELD_RECORD} {{key: key}}) DETACH DELETE h "
            "RETURN count(*) AS n",
            keys=list(keys),
        )
        return int(rows[0]["n"]) if rows else 0
