"""Cypher for the read audit of a subgraph: one ``PersonDataRead`` node per person read
per request, in the service's own database; the nodes of one request share its
``auditId``. Indexed by person and by reader, the two ways compliance asks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import GraphClient, Transaction, as_utc
from mdm_common.read_audit.records import ReadAudit

PERSON_DATA_READ = "PersonDataRead"

SCHEMA = (
    f"CREATE CONSTRAINT person_data_read_key IF NOT EXISTS "
    f"FOR (a:{PERSON_DATA_READ}) REQUIRE a.key IS UNIQUE",
    f"CREATE INDEX person_data_read_person IF NOT EXISTS "
    f"FOR (a:{PERSON_DATA_READ}) ON (a.personId)",
    f"CREATE INDEX person_data_read_reader IF NOT EXISTS FOR (a:{PERSON_DATA_READ}) ON (a.reader)",
)


class GraphReadAuditStore:
    """Writes batches (for :class:`~mdm_common.read_audit.log.ReadAuditLog`) and answers
    the audit queries."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def write(self, records: Sequence[ReadAudit]) -> None:
        rows = [
            {
                "key": f"{r.id}|{person_id}",
                "auditId": r.id,
                "reader": r.reader,
                "roles": list(r.roles),
                "operation": r.operation,
                "fields": list(r.fields),
                "personId": person_id,
                "at": r.at,
            }
            for r in records
            for person_id in r.person_ids
        ]

        async def work(tx: Transaction) -> None:
            # MERGE on the key: the driver may run the transaction again after a
            # failed commit, and the batch must not be written twice.
            await tx.run(
                "read_audit.write",
                f"UNWIND $rows AS row MERGE (a:{PERSON_DATA_READ} {{key: row.key}}) "
                "SET a.auditId = row.auditId, a.reader = row.reader, a.roles = row.roles, "
                "a.operation = row.operation, a.fields = row.fields, "
                "a.personId = row.personId, a.at = row.at",
                rows=rows,
            )

        await self._graph.write(work)

    async def reads(
        self, *, person_id: str | None, reader: str | None, since: datetime | None, limit: int
    ) -> list[ReadAudit]:
        """Reads of a person's data (and by a reader, if given), or by a reader; newest
        first. One entry per record and person. The pattern names the indexed key."""
        if person_id is not None:
            match = f"MATCH (a:{PERSON_DATA_READ} {{personId: $personId}}) "
            also = "($reader IS NULL OR a.reader = $reader)"
        elif reader is not None:
            match = f"MATCH (a:{PERSON_DATA_READ} {{reader: $reader}}) "
            also = "true"
        else:
            raise ValueError("a person or a reader is required")

        async def work(tx: Transaction) -> list[dict[str, Any]]:
            return await tx.run(
                "read_audit.reads",
                f"{match}WHERE {also} AND ($since IS NULL OR a.at >= $since) "
                "RETURN a {.*} AS a ORDER BY a.at DESC, a.key LIMIT $limit",
                personId=person_id,
                reader=reader,
                since=since,
                limit=limit,
            )

        return [_record(row["a"]) for row in await self._graph.read(work)]


def _record(a: dict[str, Any]) -> ReadAudit:
    return ReadAudit(
        id=a["auditId"],
        reader=a["reader"],
        roles=tuple(a["roles"]),
        operation=a["operation"],
        person_ids=(a["personId"],),
        at=as_utc(a["at"]),
        fields=tuple(a.get("fields") or ()),
    )
