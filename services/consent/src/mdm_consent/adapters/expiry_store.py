"""Cypher for the expiry job: its runs, the persons it pages through, and which of
the EXPIRED events it would write are recorded already.

(:ExpiryRun {id, startedAt, startedBy, status, cursor, pages, checked, expired, finishedAt,
              error})

The EXPIRED events themselves are appended by the consent store like every event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_common.keyset import any_key_reader, in_window, keyset_page, window_params
from mdm_consent.adapters.graph_store import CONSENT_EVENT, CONSENT_STATE
from mdm_consent.domain.expiry_runs import ExpiryRun
from mdm_consent.domain.retention_runs import RunStatus

RUN = "ExpiryRun"

SCHEMA = (f"CREATE CONSTRAINT expiry_run_id IF NOT EXISTS FOR (r:{RUN}) REQUIRE r.id IS UNIQUE",)


class GraphExpiryStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def save_run(self, run: ExpiryRun) -> None:
        await self._tx.run(
            "expiry.save_run",
            f"MERGE (r:{RUN} {{id: $id}}) SET r += $props",
            id=run.id,
            props={
                "startedAt": run.started_at,
                "startedBy": run.started_by,
                "status": run.status.value,
                "cursor": run.cursor,
                "pages": run.pages,
                "checked": run.checked,
                "expired": run.expired,
                "finishedAt": run.finished_at,
                "error": run.error,
            },
        )

    async def get_run(self, run_id: str) -> ExpiryRun | None:
        rows = await self._tx.run(
            "expiry.get_run", f"MATCH (r:{RUN} {{id: $id}}) RETURN r {{.*}} AS r", id=run_id
        )
        return _run(rows[0]["r"]) if rows else None

    async def running(self) -> ExpiryRun | None:
        rows = await self._tx.run(
            "expiry.running",
            f"MATCH (r:{RUN} {{status: $status}}) RETURN r {{.*}} AS r LIMIT 1",
            status=RunStatus.RUNNING.value,
        )
        return _run(rows[0]["r"]) if rows else None

    async def runs(self, *, limit: int) -> list[ExpiryRun]:
        rows = await self._tx.run(
            "expiry.runs",
            f"MATCH (r:{RUN}) RETURN r {{.*}} AS r ORDER BY r.startedAt DESC, r.id LIMIT $limit",
            limit=limit,
        )
        return [_run(row["r"]) for row in rows]

    async def persons_after(self, purposes: Sequence[str], *, after: str, limit: int) -> list[str]:
        if not purposes:
            return []
        # Every event with a purpose extends its person's state for it (graph_store.append).
        # Read in windows of the id range (mdm_common.keyset); the purposes are asked
        # after the range, or the graph server would read all states of a purpose.

        async def window(lower: str, strict: bool, upper: str, n: int) -> list[str]:
            rows = await self._tx.run(
                "expiry.persons_after",
                f"MATCH (s:{CONSENT_STATE}) WHERE {in_window('s', 'personId')} "
                "WITH s WHERE s.purpose IN $purposes "
                "RETURN DISTINCT s.personId AS personId ORDER BY personId LIMIT $limit",
                **window_params(lower, strict, upper),
                purposes=list(purposes),
                limit=n,
            )
            return [r["personId"] for r in rows]

        any_person = any_key_reader(self._tx, "expiry.any_person_from", CONSENT_STATE, "personId")
        return await keyset_page(
            after=after, limit=limit, read_window=window, any_key_from=any_person
        )

    async def recorded(self, event_ids: Sequence[str]) -> set[str]:
        if not event_ids:
            return set()
        rows = await self._tx.run(
            "expiry.recorded",
            f"UNWIND $ids AS id MATCH (c:{CONSENT_EVENT} {{id: id}}) RETURN c.id AS id",
            ids=list(dict.fromkeys(event_ids)),
        )
        return {r["id"] for r in rows}


def _time(value: Any) -> datetime | None:
    return as_utc(value) if value is not None else None


def _run(r: dict[str, Any]) -> ExpiryRun:
    return ExpiryRun(
        id=r["id"],
        started_at=as_utc(r["startedAt"]),
        started_by=r["startedBy"],
        status=RunStatus(r["status"]),
        cursor=r.get("cursor") or "",
        pages=int(r.get("pages") or 0),
        checked=int(r.get("checked") or 0),
        expired=int(r.get("expired") or 0),
        finished_at=_time(r.get("finishedAt")),
        error=r.get("error"),
    )
