"""Cypher for the read audit of a subgraph, in the service's own database; indexed by
person and by reader, the two ways compliance asks (docs/decisions/0011).

A request's record is stored per person, except where it read many persons whose ids
lie close together (a reconciling service paging through all persons in id order, a
client reading back a sorted list): there it is stored per id prefix.

- ``PersonDataRead {key, auditId, personId, reader, roles, operation, fields, at}``:
  one node per person and request (``key`` is ``auditId|personId``);
- ``PersonDataReadGroup {key, auditId, prefix, personIds, reader, roles, operation,
  fields, at}``: one node per request and id prefix (the id's first
  :data:`PREFIX_LENGTH` characters) under which it read at least :data:`GROUP_AT_LEAST`
  persons (``key`` is ``auditId|prefix``), listing their ids.

Asked by person, a group is found by the person's prefix (indexed) and its list; both
kinds answer as one entry per request and person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from mdm_common.graph import GraphClient, Transaction, as_utc
from mdm_common.read_audit.records import ReadAudit

PERSON_DATA_READ = "PersonDataRead"
PERSON_DATA_READ_GROUP = "PersonDataReadGroup"
PREFIX_LENGTH = 2
# Fewer persons of a request under one prefix are stored one node each: a person's
# own entries stay an index lookup, and every group holds a worthwhile list.
GROUP_AT_LEAST = 8

SCHEMA = (
    f"CREATE CONSTRAINT person_data_read_key IF NOT EXISTS "
    f"FOR (a:{PERSON_DATA_READ}) REQUIRE a.key IS UNIQUE",
    f"CREATE INDEX person_data_read_person IF NOT EXISTS "
    f"FOR (a:{PERSON_DATA_READ}) ON (a.personId)",
    f"CREATE INDEX person_data_read_reader IF NOT EXISTS FOR (a:{PERSON_DATA_READ}) ON (a.reader)",
    f"CREATE CONSTRAINT person_data_read_group_key IF NOT EXISTS "
    f"FOR (g:{PERSON_DATA_READ_GROUP}) REQUIRE g.key IS UNIQUE",
    f"CREATE INDEX person_data_read_group_prefix IF NOT EXISTS "
    f"FOR (g:{PERSON_DATA_READ_GROUP}) ON (g.prefix)",
    f"CREATE INDEX person_data_read_group_reader IF NOT EXISTS "
    f"FOR (g:{PERSON_DATA_READ_GROUP}) ON (g.reader)",
)

_FIELDS = (
    "a.auditId = row.auditId, a.reader = row.reader, a.roles = row.roles, "
    "a.operation = row.operation, a.fields = row.fields, a.at = $times[row.at]"
)


@dataclass(frozen=True)
class Layout:
    """How one record is stored: the persons stored one node each, and the groups
    (prefix, ids in order)."""

    single: tuple[str, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]


def layout(record: ReadAudit) -> Layout:
    single: list[str] = []
    groups: list[tuple[str, tuple[str, ...]]] = []
    ordered = sorted(set(record.person_ids))
    for prefix, members in groupby(ordered, key=lambda person_id: person_id[:PREFIX_LENGTH]):
        ids = tuple(members)
        if len(ids) >= GROUP_AT_LEAST:
            groups.append((prefix, ids))
        else:
            single.extend(ids)
    return Layout(tuple(single), tuple(groups))


class GraphReadAuditStore:
    """Writes batches (for :class:`~mdm_common.read_audit.log.ReadAuditLog`) and answers
    the audit queries."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def write(self, records: Sequence[ReadAudit]) -> None:
        # One row per record, its persons a list the statement unwinds: the request's
        # values (and its one timestamp, slow for the driver to encode) travel once.
        times = sorted({r.at for r in records})
        index = {at: i for i, at in enumerate(times)}
        singles: list[dict[str, Any]] = []
        groups: list[dict[str, Any]] = []
        for r in records:
            shape = layout(r)
            common: dict[str, Any] = {
                "auditId": r.id,
                "reader": r.reader,
                "roles": list(r.roles),
                "operation": r.operation,
                "fields": list(r.fields),
                "at": index[r.at],
            }
            if shape.single:
                singles.append({**common, "personIds": list(shape.single)})
            groups.extend(
                {**common, "prefix": prefix, "personIds": list(ids)} for prefix, ids in shape.groups
            )

        async def work(tx: Transaction) -> None:
            # MERGE on the key: the driver may run the transaction again after a
            # failed commit, and the batch must not be written twice.
            if singles:
                await tx.run(
                    "read_audit.write",
                    "UNWIND $rows AS row UNWIND row.personIds AS personId "
                    f"MERGE (a:{PERSON_DATA_READ} {{key: row.auditId + '|' + personId}}) "
                    f"SET {_FIELDS}, a.personId = personId",
                    rows=singles,
                    times=times,
                )
            if groups:
                await tx.run(
                    "read_audit.write_groups",
                    "UNWIND $rows AS row "
                    f"MERGE (a:{PERSON_DATA_READ_GROUP} {{key: row.auditId + '|' + row.prefix}}) "
                    f"SET {_FIELDS}, a.prefix = row.prefix, a.personIds = row.personIds",
                    rows=groups,
                    times=times,
                )

        await self._graph.write(work)

    async def reads(
        self, *, person_id: str | None, reader: str | None, since: datetime | None, limit: int
    ) -> list[ReadAudit]:
        """Reads of a person's data (and by a reader, if given), or by a reader; newest
        first. One entry per record and person. The patterns name the indexed keys."""
        if person_id is not None:
            single = f"MATCH (a:{PERSON_DATA_READ} {{personId: $personId}}) "
            group = (
                f"MATCH (a:{PERSON_DATA_READ_GROUP} {{prefix: $prefix}}) "
                "WHERE $personId IN a.personIds AND "
            )
            also = "($reader IS NULL OR a.reader = $reader)"
        elif reader is not None:
            single = f"MATCH (a:{PERSON_DATA_READ} {{reader: $reader}}) "
            group = f"MATCH (a:{PERSON_DATA_READ_GROUP} {{reader: $reader}}) WHERE "
            also = "true"
        else:
            raise ValueError("a person or a reader is required")
        params = {
            "personId": person_id,
            "prefix": (person_id or "")[:PREFIX_LENGTH],
            "reader": reader,
            "since": since,
            "limit": limit,
        }
        newest = "ORDER BY a.at DESC, a.key LIMIT $limit"

        async def work(tx: Transaction) -> list[ReadAudit]:
            # Each kind's newest ``limit`` (a group holds at least one entry), then the
            # newest ``limit`` of both.
            singles = await tx.run(
                "read_audit.reads",
                f"{single}WHERE {also} AND ($since IS NULL OR a.at >= $since) "
                f"RETURN a {{.*}} AS a {newest}",
                **params,
            )
            groups = await tx.run(
                "read_audit.read_groups",
                f"{group}{also} AND ($since IS NULL OR a.at >= $since) "
                f"RETURN a {{.*}} AS a {newest}",
                **params,
            )
            entries = [_record(row["a"], row["a"]["personId"]) for row in singles]
            for row in groups:
                named = [person_id] if person_id is not None else row["a"]["personIds"]
                entries.extend(_record(row["a"], pid) for pid in named)
            # As one statement would order them: newest first, then by key.
            entries.sort(key=lambda e: f"{e.id}|{e.person_ids[0]}")
            entries.sort(key=lambda e: e.at, reverse=True)
            return entries[:limit]

        return await self._graph.read(work)


def _record(a: dict[str, Any], person_id: str) -> ReadAudit:
    return ReadAudit(
        id=a["auditId"],
        reader=a["reader"],
        roles=tuple(a["roles"]),
        operation=a["operation"],
        person_ids=(person_id,),
        at=as_utc(a["at"]),
        fields=tuple(a.get("fields") or ()),
    )
