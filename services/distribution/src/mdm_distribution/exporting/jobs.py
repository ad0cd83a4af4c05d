"""The export job: one page per task, each page a part file of its own, the job's
record advanced in the transaction that queues the next page.

A page run twice (a worker died between writing its part and committing) writes the
same part again under the same name: the job never holds a row twice. The parts of a
job are one dataset: ``part-00000.csv`` ... (each with its header), or Parquet files
any Parquet reader takes as one table.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from mdm_common.contracts import Event
from mdm_common.errors import NotFound
from mdm_distribution.domain.stores import Stores
from mdm_distribution.domain.transactions import Transactions
from mdm_distribution.exporting.export import (
    PAGE,
    ExportRequest,
    ExportSource,
    columns_for,
    page_rows,
)
from mdm_distribution.exporting.writers import open_rows


class JobStatus(StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"


@dataclass(frozen=True)
class ExportJob:
    id: str
    request: ExportRequest
    columns: tuple[str, ...]
    status: JobStatus
    requested_by: str
    requested_at: datetime
    directory: str
    scanned: int = 0
    written: int = 0
    parts: int = 0
    after: str | None = None
    finished_at: datetime | None = None

    def part(self, index: int) -> Path:
        return Path(self.directory) / f"part-{index:05d}{self.request.format.suffix}"


def write_part(job: ExportJob, rows: Sequence[dict[str, str | None]]) -> None:
    """The job's next part, written whole (again, if this page ran before)."""
    Path(job.directory).mkdir(parents=True, exist_ok=True)
    writer = open_rows(job.part(job.parts), job.request.format, job.columns)
    try:
        writer.write(rows)
    finally:
        writer.close()


async def start(
    request: ExportRequest,
    *,
    source: ExportSource,
    transactions: Transactions,
    exports: Path,
    by: str,
    now: datetime,
) -> ExportJob:
    """Record the job (its purpose and channel checked) and queue its first page."""
    columns = await columns_for(request, source)
    job_id = str(uuid.uuid4())
    job = ExportJob(
        id=job_id,
        request=request,
        columns=tuple(columns),
        status=JobStatus.RUNNING,
        requested_by=by,
        requested_at=now,
        directory=str((exports / job_id).resolve()),
    )

    async def work(stores: Stores) -> None:
        await stores.exports.save(job)
        stores.events.record(Event.DISTRIBUTION_EXPORT_PAGE_QUEUED, job_id=job_id)

    await transactions.write(work)
    return job


async def run_page(
    job_id: str,
    *,
    source: ExportSource,
    transactions: Transactions,
    now: datetime,
    page: int = PAGE,
) -> ExportJob:
    """The job's next page: its part written, the job advanced, the next page queued
    (or the job done), in one transaction after the part is on disk."""
    job = await transactions.read(lambda s: s.exports.get(job_id))
    if job is None:
        raise NotFound(f"No export job {job_id}.", field="id")
    if job.status is JobStatus.DONE:
        return job
    ids = await source.active_ids(after=job.after, first=page)
    rows = await page_rows(ids, source, job.request, job.columns, at=job.requested_at)
    if ids:
        await asyncio.to_thread(write_part, job, rows)
    done = len(ids) < page
    advanced = replace(
        job,
        scanned=job.scanned + len(ids),
        written=job.written + len(rows),
        parts=job.parts + (1 if ids else 0),
        after=ids[-1] if ids else job.after,
        status=JobStatus.DONE if done else JobStatus.RUNNING,
        finished_at=now if done else None,
    )

    async def work(stores: Stores) -> ExportJob:
        current = await stores.exports.get(job_id)
        if current is None or current.parts != job.parts:
            return current or advanced  # another run of this page committed first
        await stores.exports.save(advanced)
        if not done:
            stores.events.record(Event.DISTRIBUTION_EXPORT_PAGE_QUEUED, job_id=job_id)
        return advanced

    return await transactions.write(work)
