"""Cypher for the retention job: its runs and the evidence of every removal.

(:RetentionRun {id, startedAt, startedBy, status, cursor, checked, purged, ...})
(:RetentionPurge {key: "<runId>|<personId>", runId, personId, categories,
                  standings: [json], decidedAt, status, personIds, detail, doneAt})
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.retention import PurposeStanding, Standing
from mdm_consent.domain.retention_runs import Purge, PurgeStatus, RetentionRun, RunStatus

RUN = "RetentionRun"
PURGE = "RetentionPurge"

SCHEMA = (
    f"CREATE CONSTRAINT retention_run_id IF NOT EXISTS FOR (r:{RUN}) REQUIRE r.id IS UNIQUE",
    f"CREATE CONSTRAINT retention_purge_key IF NOT EXISTS FOR (p:{PURGE}) REQUIRE p.key IS UNIQUE",
    f"CREATE INDEX retention_purge_person IF NOT EXISTS FOR (p:{PURGE}) ON (p.personId)",
)


class GraphRetentionStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def save_run(self, run: RetentionRun) -> None:
        await self._tx.run(
            "retention.save_run",
            f"MERGE (r:{RUN} {{id: $id}}) SET r += $props",
            id=run.id,
            props={
                "startedAt": run.started_at, "startedBy": run.started_by,
                "status": run.status.value, "cursor": run.cursor, "checked": run.checked,
                "purged": run.purged, "finishedAt": run.finished_at, "error": run.error,
            },
        )  # fmt: skip

    async def get_run(self, run_id: str) -> RetentionRun | None:
        rows = await self._tx.run(
            "retention.get_run", f"MATCH (r:{RUN} {{id: $id}}) RETURN r {{.*}} AS r", id=run_id
        )
        return _run(rows[0]["r"]) if rows else None

    async def running(self) -> RetentionRun | None:
        rows = await self._tx.run(
            "retention.running",
            f"MATCH (r:{RUN} {{status: $status}}) RETURN r {{.*}} AS r LIMIT 1",
            status=RunStatus.RUNNING.value,
        )
        return _run(rows[0]["r"]) if rows else None

    async def runs(self, *, limit: int) -> list[RetentionRun]:
        rows = await self._tx.run(
            "retention.runs",
            f"MATCH (r:{RUN}) RETURN r {{.*}} AS r ORDER BY r.startedAt DESC, r.id LIMIT $limit",
            limit=limit,
        )
        return [_run(row["r"]) for row in rows]

    async def record_purges(
        self, purges: Sequence[Purge], *, replace_existing: bool = False
    ) -> list[Purge]:
        """Store evidence; without ``replace_existing`` an existing entry is kept and
        returned instead of the new one (a page done again)."""
        if not purges:
            return []
        keep = "" if replace_existing else "ON CREATE "
        rows = await self._tx.run(
            "retention.record_purges",
            f"UNWIND $rows AS row MERGE (p:{PURGE} {{key: row.key}}) {keep}SET p += row.props "
            "RETURN p {.*} AS p",
            rows=[{"key": p.key, "props": _purge_props(p)} for p in purges],
        )  # fmt: skip
        return [_purge(row["p"]) for row in rows]

    async def purges_of(self, person_id: str) -> list[Purge]:
        rows = await self._tx.run(
            "retention.purges_of",
            f"MATCH (p:{PURGE}) WHERE p.personId = $personId OR $personId IN p.personIds "
            "RETURN p {.*} AS p ORDER BY p.decidedAt",
            personId=person_id,
        )
        return [_purge(row["p"]) for row in rows]


def _time(value: Any) -> datetime | None:
    return as_utc(value) if value is not None else None


def _run(r: dict[str, Any]) -> RetentionRun:
    return RetentionRun(
        id=r["id"], started_at=as_utc(r["startedAt"]), started_by=r["startedBy"],
        status=RunStatus(r["status"]), cursor=r.get("cursor") or "",
        checked=int(r.get("checked") or 0), purged=int(r.get("purged") or 0),
        finished_at=_time(r.get("finishedAt")), error=r.get("error"),
    )  # fmt: skip


def _purge_props(p: Purge) -> dict[str, Any]:
    return {
        "runId": p.run_id, "personId": p.person_id, "categories": list(p.categories),
        "standings": [json.dumps({"p": s.purpose, "s": s.standing.value,
                                  "t": s.since.isoformat() if s.since else None},
                                 separators=(",", ":")) for s in p.standings],
        "decidedAt": p.decided_at, "status": p.status.value, "personIds": list(p.person_ids),
        "detail": p.detail, "doneAt": p.done_at, "released": p.released,
        "phoneProofUntil": p.phone_proof_until.isoformat() if p.phone_proof_until else None,
    }  # fmt: skip


def _purge(p: dict[str, Any]) -> Purge:
    standings = tuple(
        PurposeStanding(
            v["p"], Standing(v["s"]), datetime.fromisoformat(v["t"]) if v["t"] else None
        )
        for v in map(json.loads, p.get("standings") or ())
    )
    return Purge(
        run_id=p["runId"], person_id=p["personId"], categories=tuple(p["categories"]),
        standings=standings, decided_at=as_utc(p["decidedAt"]), status=PurgeStatus(p["status"]),
        person_ids=tuple(p.get("personIds") or ()), detail=p.get("detail") or "",
        done_at=_time(p.get("doneAt")), released=bool(p.get("released")),
        phone_proof_until=date.fromisoformat(p["phoneProofUntil"]) if p.get("phoneProofUntil")
        else None,
    )  # fmt: skip
