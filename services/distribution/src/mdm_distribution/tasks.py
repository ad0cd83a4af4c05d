"""Celery tasks of the distribution service: the events that change what subscribers
must be told, handled in passes.

Run a worker with ``celery -A mdm_distribution.tasks worker -Q distribution``. Task
arguments are ids only, never personal data. A task takes the change events waiting
behind it (``mdm_common.waiting_events``) and distributes them all in one pass: one
read of the golden records, one contact check per subscriber purpose, one transaction
that also remembers the messages as processed (the inbox).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from mdm_common import inbox
from mdm_common.contracts import NONE, Event
from mdm_common.events import make_celery
from mdm_common.graph import GraphClient
from mdm_common.subgraph_client import SubgraphClient
from mdm_common.waiting_events import WaitingEvent, WaitingEvents
from mdm_common.worker import RELIABLE_TASK, WorkerGraph, instrument_worker, message_id, run
from mdm_distribution.adapters.consent_client import ConsentChecks
from mdm_distribution.adapters.profile_client import ProfileRecords
from mdm_distribution.adapters.transactions import SCHEMA, GraphTransactions
from mdm_distribution.domain.distribute import distribute
from mdm_distribution.domain.models import Cause
from mdm_distribution.domain.ports import ContactChecks, GoldenRecords
from mdm_distribution.domain.stores import Stores
from mdm_distribution.domain.transactions import Transactions
from mdm_distribution.exporting import jobs
from mdm_distribution.exporting.sources import ServiceSource
from mdm_distribution.settings import DistributionSettings

log = logging.getLogger(__name__)

settings = DistributionSettings()
celery = make_celery(
    "distribution",
    settings.broker_url,
    visibility_timeout_s=settings.broker_visibility_timeout_s,
    restore_interval_s=settings.broker_restore_interval_s,
)
instrument_worker(celery, service_name="distribution-worker")

# The change events a pass takes, with the ids each carries.
CHANGES = {
    "distribution.on_person_changed": ("person_id",),
    "distribution.on_person_merged": ("survivor_id", "merged_id", "merge_id"),
    "distribution.on_person_unmerged": ("survivor_id", "merged_id", "merge_id"),
    "distribution.on_person_erased": ("person_id",),
    "distribution.on_consent_changed": ("person_id", "purpose", "channel", "change"),
}
BACKFILL_PAGE = 500


def cause_of(task: str, ids: dict[str, str]) -> Cause:
    if task == "distribution.on_person_merged":
        return Cause("MERGED", ids["survivor_id"], other_id=ids["merged_id"])
    if task == "distribution.on_person_unmerged":
        return Cause("UNMERGED", ids["survivor_id"], other_id=ids["merged_id"])
    if task == "distribution.on_person_erased":
        return Cause("ERASED", ids["person_id"])
    if task == "distribution.on_consent_changed":
        return Cause(
            "CONSENT",
            ids["person_id"],
            purpose=_named(ids.get("purpose")),
            channel=_named(ids.get("channel")),
            change=_named(ids.get("change")),
        )
    return Cause("CHANGED", ids["person_id"])


def _named(value: str | None) -> str | None:
    """An event field's value; None where the event names none (``contracts.NONE``)."""
    return None if value in (None, "", NONE) else value


class _Clients:
    """The other services, reached from one worker process (made on first use)."""

    def __init__(self) -> None:
        self._records: ProfileRecords | None = None
        self._checks: ConsentChecks | None = None

    def records(self) -> ProfileRecords:
        if self._records is None:
            secret = settings.gateway_secret.get_secret_value().encode()
            self._records = ProfileRecords(SubgraphClient(settings.profile_url, secret=secret))
        return self._records

    def checks(self) -> ConsentChecks:
        if self._checks is None:
            secret = settings.gateway_secret.get_secret_value().encode()
            self._checks = ConsentChecks(SubgraphClient(settings.consent_url, secret=secret))
        return self._checks


_graph = WorkerGraph(settings, celery, SCHEMA)
_clients = _Clients()
_waiting = WaitingEvents(celery, "distribution", CHANGES)


async def _transactions() -> GraphTransactions:
    return GraphTransactions(
        await _graph.connect(),
        stream_prefix=settings.stream_prefix,
        after_commit=_graph.after_commit,
    )


def _pass(task: str, **ids: str) -> None:
    """Distribute this event and those of its kinds waiting behind it, in one pass."""
    taken = _waiting.take(settings.events_per_pass - 1)
    events: list[tuple[str | None, Cause]] = [(message_id(), cause_of(task, ids))]
    events += [(e.message_id, _cause(e)) for e in taken]

    async def handle() -> None:
        distributed = await distribute_once(
            await _graph.connect(),
            events,
            transactions=await _transactions(),
            records=_clients.records(),
            checks=_clients.checks(),
            now=datetime.now(UTC),
        )
        if distributed is not None:
            log.info("%d changes distributed: %d messages", *distributed)

    try:
        run(handle())
    except BaseException:
        _waiting.give_back(taken)
        raise
    _waiting.done(taken)


async def distribute_once(
    graph: GraphClient,
    events: Sequence[tuple[str | None, Cause]],
    *,
    transactions: Transactions,
    records: GoldenRecords,
    checks: ContactChecks,
    now: datetime,
) -> tuple[int, int] | None:
    """Distribute the causes of the messages (``(message id, cause)``) not processed
    before, and remember those messages in the pass's own transaction: the pass and the
    record that it was done commit together. How many changes and messages; None when
    every message was a duplicate."""
    new = await inbox.fresh(graph, [mid for mid, _ in events if mid is not None])
    # A message without an id (a direct call) is always new.
    causes = [cause for mid, cause in events if mid is None or mid in new]
    if not causes:
        return None

    async def remember(stores: Stores) -> None:
        await stores.inbox.remember_many(sorted(new), now=now)

    result = await distribute(
        causes,
        transactions=transactions,
        records=records,
        checks=checks,
        now=now,
        and_then=remember,
    )
    return len(causes), len(result.messages)


def _cause(event: WaitingEvent) -> Cause:
    return cause_of(event.task, event.ids)


@celery.task(name="distribution.on_person_changed", **RELIABLE_TASK)
def on_person_changed(person_id: str) -> None:
    """A golden record was created or changed, or its processing restricted or freed."""
    _pass("distribution.on_person_changed", person_id=person_id)


@celery.task(name="distribution.on_person_merged", **RELIABLE_TASK)
def on_person_merged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    _pass(
        "distribution.on_person_merged",
        survivor_id=survivor_id,
        merged_id=merged_id,
        merge_id=merge_id,
    )


@celery.task(name="distribution.on_person_unmerged", **RELIABLE_TASK)
def on_person_unmerged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    _pass(
        "distribution.on_person_unmerged",
        survivor_id=survivor_id,
        merged_id=merged_id,
        merge_id=merge_id,
    )


@celery.task(name="distribution.on_person_erased", **RELIABLE_TASK)
def on_person_erased(person_id: str) -> None:
    """Every subscriber that ever received the person is told (Art. 19)."""
    _pass("distribution.on_person_erased", person_id=person_id)


@celery.task(name="distribution.on_consent_changed", **RELIABLE_TASK)
def on_consent_changed(person_id: str, purpose: str, channel: str, change: str) -> None:
    _pass(
        "distribution.on_consent_changed",
        person_id=person_id,
        purpose=purpose,
        channel=channel,
        change=change,
    )


@celery.task(name="distribution.backfill_page", **RELIABLE_TASK)
def backfill_page(subscriber_id: str, after: str = "") -> None:
    """A new subscriber receives the persons its purpose allows now: a page of the
    profile's ids at a time, each page handing on to the next in its transaction."""

    async def handle() -> None:
        ids = await _clients.records().active_ids(after=after or None, first=BACKFILL_PAGE)
        if not ids:
            return

        async def queue_next(stores: Stores) -> None:
            if len(ids) == BACKFILL_PAGE:
                stores.events.record(
                    Event.DISTRIBUTION_BACKFILL_PAGE_QUEUED,
                    subscriber_id=subscriber_id,
                    after=ids[-1],
                )

        await distribute(
            [Cause("CHANGED", i) for i in ids],
            transactions=await _transactions(),
            records=_clients.records(),
            checks=_clients.checks(),
            now=datetime.now(UTC),
            and_then=queue_next,
        )
        log.info("backfill of subscriber %s: a page of %d persons", subscriber_id, len(ids))

    run(_graph.once(handle))


@celery.task(name="distribution.export_page", **RELIABLE_TASK)
def export_page(job_id: str) -> None:
    """The export job's next page: a part file, then the job advanced and its next page
    queued in one transaction (``mdm_distribution.exporting.jobs``)."""

    async def handle() -> None:
        source = ServiceSource(_clients.records(), _clients.checks())
        job = await jobs.run_page(
            job_id, source=source, transactions=await _transactions(), now=datetime.now(UTC)
        )
        log.info("export %s: %d of %d persons written", job_id, job.written, job.scanned)

    run(_graph.once(handle))


@celery.task(name="distribution.on_purpose_changed", **RELIABLE_TASK)
def on_purpose_changed(purpose: str) -> None:
    """A purpose's terms or notice changed: the persons are checked again for its
    subscribers, all of them, a page at a time (the backfill's pages)."""

    async def handle() -> None:
        transactions = await _transactions()
        found = await transactions.read(lambda s: s.subscribers.all())
        concerned = [s for s in found if s.purpose == purpose]

        async def queue(stores: Stores) -> None:
            stores.events.record(
                Event.DISTRIBUTION_BACKFILL_REQUESTED, subscriber_id=concerned[0].id
            )

        if concerned:
            await transactions.write(queue)
        log.info("purpose changed: %d subscribers to check again", len(concerned))

    run(_graph.once(handle))
