"""Cypher for export jobs.

(:ExportJob {id, format, purpose, channel, changedSince, columns, status, requestedBy,
             requestedAt, directory, scanned, written, parts, after, finishedAt})
"""

from __future__ import annotations

from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_distribution.exporting.export import ExportRequest
from mdm_distribution.exporting.jobs import ExportJob, JobStatus
from mdm_distribution.exporting.writers import ExportFormat

JOB = "ExportJob"

SCHEMA = (f"CREATE CONSTRAINT export_job_id IF NOT EXISTS FOR (j:{JOB}) REQUIRE j.id IS UNIQUE",)


def _job(row: dict[str, Any]) -> ExportJob:
    return ExportJob(
        id=row["id"],
        request=ExportRequest(
            format=ExportFormat(row["format"]),
            purpose=row.get("purpose"),
            channel=row.get("channel"),
            changed_since=as_utc(row["changedSince"]) if row.get("changedSince") else None,
        ),
        columns=tuple(row["columns"]),
        status=JobStatus(row["status"]),
        requested_by=row["requestedBy"],
        requested_at=as_utc(row["requestedAt"]),
        directory=row["directory"],
        scanned=int(row["scanned"]),
        written=int(row["written"]),
        parts=int(row["parts"]),
        after=row.get("after"),
        finished_at=as_utc(row["finishedAt"]) if row.get("finishedAt") else None,
    )


class GraphExportJobStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def save(self, job: ExportJob) -> None:
        await self._tx.run(
            "export_job.save",
            f"MERGE (j:{JOB} {{id: $id}}) SET j += $props",
            id=job.id,
            props={
                "format": job.request.format.value,
                "purpose": job.request.purpose,
                "channel": job.request.channel,
                "changedSince": job.request.changed_since,
                "columns": list(job.columns),
                "status": job.status.value,
                "requestedBy": job.requested_by,
                "requestedAt": job.requested_at,
                "directory": job.directory,
                "scanned": job.scanned,
                "written": job.written,
                "parts": job.parts,
                "after": job.after,
                "finishedAt": job.finished_at,
            },
        )

    async def get(self, job_id: str) -> ExportJob | None:
        rows = await self._tx.run(
            "export_job.get", f"MATCH (j:{JOB} {{id: $id}}) RETURN j {{.*}} AS j", id=job_id
        )
        return _job(rows[0]["j"]) if rows else None

    async def latest(self, first: int) -> list[ExportJob]:
        rows = await self._tx.run(
            "export_job.latest",
            f"MATCH (j:{JOB}) RETURN j {{.*}} AS j ORDER BY j.requestedAt DESC LIMIT $first",
            first=first,
        )
        return [_job(r["j"]) for r in rows]
