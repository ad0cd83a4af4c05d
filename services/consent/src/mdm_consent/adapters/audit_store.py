"""Cypher for the read audit: one ``ConsentReadAudit`` node per person read per request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_common.read_audit.records import ReadAudit

READ_AUDIT = "ConsentReadAudit"

SCHEMA = (
    f"CREATE CONSTRAINT consent_read_audit_key IF NOT EXISTS "
    f"FOR (a:{READ_AUDIT}) REQUIRE a.key IS UNIQUE",
    f"CREATE INDEX consent_read_audit_person IF NOT EXISTS FOR (a:{READ_AUDIT}) ON (a.personId)",
)


class GraphAuditStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, audit: ReadAudit) -> None:
        values = {
            "id": audit.id, "reader": audit.reader, "roles": list(audit.roles),
            "readOperation": audit.operation, "scope": audit.scope, "at": audit.at,
        }  # fmt: skip
        fields = ("SET a.auditId = $id, a.reader = $reader, a.roles = $roles, "
                  "a.operation = $readOperation, a.scope = $scope, a.at = $at")  # fmt: skip
        if not audit.person_ids:
            # A view that names no person (figures, records of processing): one node
            # without a personId, its key the audit id alone.
            await self._tx.run(
                "audit.record_view", f"CREATE (a:{READ_AUDIT} {{key: $id}}) {fields}", **values
            )
            return
        await self._tx.run(
            "audit.record",
            f"UNWIND $personIds AS pid CREATE (a:{READ_AUDIT} {{key: $id + '|' + pid}}) "
            f"{fields}, a.personId = pid",
            personIds=list(audit.person_ids), **values,
        )  # fmt: skip

    async def of_person(
        self, person_id: str, *, since: datetime | None, limit: int
    ) -> list[ReadAudit]:
        rows = await self._tx.run(
            "audit.of_person",
            f"MATCH (a:{READ_AUDIT} {{personId: $personId}}) "
            "WHERE $since IS NULL OR a.at >= $since "
            "RETURN a {.*} AS a ORDER BY a.at DESC, a.key LIMIT $limit",
            personId=person_id, since=since, limit=limit,
        )  # fmt: skip
        return [_audit(r["a"]) for r in rows]

    async def without_person(self, *, since: datetime | None, limit: int) -> list[ReadAudit]:
        rows = await self._tx.run(
            "audit.without_person",
            f"MATCH (a:{READ_AUDIT}) WHERE a.personId IS NULL "
            "AND ($since IS NULL OR a.at >= $since) "
            "RETURN a {.*} AS a ORDER BY a.at DESC, a.key LIMIT $limit",
            since=since, limit=limit,
        )  # fmt: skip
        return [_audit(r["a"]) for r in rows]


def _audit(a: dict[str, Any]) -> ReadAudit:
    return ReadAudit(
        id=a["auditId"],
        reader=a["reader"],
        roles=tuple(a["roles"]),
        operation=a["operation"],
        person_ids=(a["personId"],) if a.get("personId") is not None else (),
        at=as_utc(a["at"]),
        scope=a.get("scope"),
    )
