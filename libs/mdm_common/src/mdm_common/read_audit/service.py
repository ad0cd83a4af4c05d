"""A subgraph's read audit: the buffered log, its store and its GraphQL extension."""

from __future__ import annotations

from datetime import datetime

from mdm_common.errors import InvalidInput
from mdm_common.graph import GraphClient
from mdm_common.read_audit import store
from mdm_common.read_audit.edge import ReadAuditing
from mdm_common.read_audit.log import ReadAuditLog
from mdm_common.read_audit.records import ReadAudit

MAX_AUDIT_PAGE = 500


class ReadAudits:
    """Built once per process in the service's ``app.py``; started and stopped with it."""

    SCHEMA = store.SCHEMA

    def __init__(self, graph: GraphClient, *, capacity: int = 10_000) -> None:
        self.store = store.GraphReadAuditStore(graph)
        self.log = ReadAuditLog(self.store, capacity=capacity)

    def extension(self) -> ReadAuditing:
        return ReadAuditing(log=self.log)

    def start(self) -> None:
        self.log.start()

    async def stop(self) -> None:
        await self.log.stop()

    async def reads(
        self, *, person_id: str | None, reader: str | None, since: datetime | None, first: int
    ) -> list[ReadAudit]:
        """The audit asked by person and/or reader, newest first; includes every read
        accepted before the question (the buffer is written first)."""
        reader = reader or None
        checked_query(person_id=person_id, reader=reader, first=first)
        await self.log.flush()
        return await self.store.reads(person_id=person_id, reader=reader, since=since, limit=first)


def checked_query(*, person_id: str | None, reader: str | None, first: int) -> None:
    """The audit queries ask by person, by reader or both, a bounded page at a time."""
    if person_id is None and not reader:
        raise InvalidInput("Give personId, reader or both.", field="personId")
    if not 1 <= first <= MAX_AUDIT_PAGE:
        raise InvalidInput(f"first must be 1-{MAX_AUDIT_PAGE}.", field="first")
