"""Cypher for the read audit: one ``ConsentReadAudit`` node per person read per request."""

from __future__ import annotations

from datetime import datetime

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.models import ReadAudit

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
        await self._tx.run(
            "audit.record",
            f"UNWIND $personIds AS pid CREATE (a:{READ_AUDIT} {{key: $id + '|' + pid}}) "
            "SET a.auditId = $id, a.personId = pid, a.reader = $reader, a.roles = $roles, "
            "a.operation = $readOperation, a.at = $at",
            id=audit.id, personIds=list(audit.person_ids), reader=audit.reader,
            roles=list(audit.roles), readOperation=audit.operation, at=audit.at,
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
        return [
            ReadAudit(
                id=r["a"]["auditId"],
                reader=r["a"]["reader"],
                roles=tuple(r["a"]["roles"]),
                operation=r["a"]["operation"],
                person_ids=(r["a"]["personId"],),
                at=as_utc(r["a"]["at"]),
            )
            for r in rows
        ]
