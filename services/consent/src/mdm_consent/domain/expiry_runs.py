"""The expiry job: record an EXPIRED event for every grant that lapsed by its purpose's
consent validity (:mod:`mdm_consent.domain.expiry`).

A run goes through every person with events for a purpose that has a validity, a page
at a time in id order (a Celery task per page, queued again in the transaction of the
page before; scheduled daily by Celery beat, or started by a compliance officer). A
page is one write transaction: it reads the page's facts, appends the EXPIRED events
that are not recorded yet and moves the run's cursor on. Each page's message carries
the page's number: a message delivered twice finds that page done and does nothing;
and an EXPIRED event's id comes from its grant's, so a grant expires once however
often a page is done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_consent.domain.consents import append_announced
from mdm_consent.domain.expiry import expiry_event, lapsed_grants
from mdm_consent.domain.models import ConsentEvent
from mdm_consent.domain.retention_runs import RunStatus
from mdm_consent.domain.stores import Stores, Transactions

PAGE = 200
MAX_LISTED = 200


@dataclass(frozen=True)
class ExpiryRun:
    """A run of the expiry job; counts only, no personal data."""

    id: str
    started_at: datetime
    started_by: str  # the officer's subject, or "schedule"
    status: RunStatus = RunStatus.RUNNING
    cursor: str = ""  # the last person id handled
    pages: int = 0  # pages done; the next page's message carries this number
    checked: int = 0  # persons with events for a purpose with a validity
    expired: int = 0  # EXPIRED events recorded
    finished_at: datetime | None = None
    error: str | None = None


async def start(*, transactions: Transactions, started_by: str, now: datetime) -> ExpiryRun:
    """A new run; CONFLICT while another is running (two would do the same work)."""
    run = ExpiryRun(id=str(uuid.uuid4()), started_at=now, started_by=started_by)

    async def create(stores: Stores) -> ExpiryRun:
        running = await stores.expiries.running()
        if running is not None:
            raise Conflict(
                f"Expiry run {running.id} is still running.",
                details={"reason": "RUN_IN_PROGRESS", "runId": running.id},
            )
        await stores.expiries.save_run(run)
        queue_page(stores, run)
        return run

    return await transactions.write(create)


def queue_page(stores: Stores, run: ExpiryRun) -> None:
    """Ask a worker for the run's next page (in the transaction that made it due)."""
    stores.events.record(Event.EXPIRY_PAGE_QUEUED, run_id=run.id, page=str(run.pages))


async def resume(run_id: str, *, transactions: Transactions) -> ExpiryRun:
    """Queue the next page of a run still RUNNING again (its message was lost)."""

    async def requeue(stores: Stores) -> ExpiryRun:
        run = await known_run(stores, run_id)
        if run.status is not RunStatus.RUNNING:
            raise Conflict(
                f"Expiry run {run_id} is {run.status.value}.",
                field="id",
                details={"reason": "RUN_FINISHED"},
            )
        queue_page(stores, run)
        return run

    return await transactions.write(requeue)


async def known_run(stores: Stores, run_id: str) -> ExpiryRun:
    run = await stores.expiries.get_run(run_id)
    if run is None:
        raise NotFound(f"No expiry run {run_id}.", field="id")
    return run


async def run_page(
    run_id: str, *, number: int, transactions: Transactions, now: datetime, size: int = PAGE
) -> ExpiryRun:
    """Handle page ``number`` (counted from 0); the run as it stands afterwards."""

    async def work(stores: Stores) -> ExpiryRun:
        run = await known_run(stores, run_id)
        if run.status is not RunStatus.RUNNING or run.pages != number:
            return run  # finished, or this page was done by another delivery
        purposes = [p for p in await stores.purposes.all() if p.consent_validity_days]
        ids = await stores.expiries.persons_after(
            [p.code for p in purposes], after=run.cursor, limit=size
        )
        events: list[ConsentEvent] = []
        for purpose in purposes if ids else ():
            seen: set[str] = set()
            for group in (await stores.consents.facts_of(ids, purpose.code)).values():
                survivor = group.lineage.survivor_id
                if survivor in seen:
                    continue  # a merge group once per purpose
                seen.add(survivor)
                events += [
                    expiry_event(purpose, grant, survivor_id=survivor, run_id=run.id, now=now)
                    for grant in lapsed_grants(purpose, group, now)
                ]
        recorded = await stores.expiries.recorded([e.id for e in events])
        written = [e for e in {e.id: e for e in events}.values() if e.id not in recorded]
        for event in written:
            await append_announced(stores, event)
        if not ids:
            advanced = replace(run, status=RunStatus.DONE, finished_at=now)
        else:
            advanced = replace(
                run,
                cursor=ids[-1],
                pages=run.pages + 1,
                checked=run.checked + len(ids),
                expired=run.expired + len(written),
            )
        await stores.expiries.save_run(advanced)
        if advanced.status is RunStatus.RUNNING:
            queue_page(stores, advanced)
        return advanced

    return await transactions.write(work)


async def fail(run_id: str, error: str, *, transactions: Transactions, now: datetime) -> None:
    async def mark(stores: Stores) -> None:
        run = await stores.expiries.get_run(run_id)
        if run is not None and run.status is RunStatus.RUNNING:
            await stores.expiries.save_run(
                replace(run, status=RunStatus.FAILED, error=error, finished_at=now)
            )

    await transactions.write(mark)


async def runs(stores: Stores, *, first: int) -> list[ExpiryRun]:
    if not 1 <= first <= MAX_LISTED:
        raise InvalidInput(f"first must be 1-{MAX_LISTED}.", field="first")
    return await stores.expiries.runs(limit=first)
