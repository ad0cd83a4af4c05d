"""Celery tasks of the consent service: thin wrappers that call the domain.

Run a worker with ``celery -A mdm_consent.tasks worker -Q consent``. Task arguments
are ids only, never personal data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery.schedules import crontab

from mdm_common.errors import Conflict, Unavailable
from mdm_common.events import make_celery
from mdm_common.inbox import once_each
from mdm_common.subgraph_client import SubgraphClient
from mdm_common.waiting_events import WaitingEvent, WaitingEvents
from mdm_common.worker import RELIABLE_TASK, WorkerGraph, instrument_worker, message_id, run
from mdm_consent.adapters.privacy_client import PrivacyClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import expiry_runs, merges, retention_runs
from mdm_consent.settings import ConsentSettings

log = logging.getLogger(__name__)

# Celery discovers the app at import (`celery -A mdm_consent.tasks`), so the settings
# are read here, once per worker process.
settings = ConsentSettings()
celery = make_celery(
    "consent",
    settings.broker_url,
    visibility_timeout_s=settings.broker_visibility_timeout_s,
    restore_interval_s=settings.broker_restore_interval_s,
)
instrument_worker(celery, service_name="consent-worker")
# The retention job, daily (Celery beat runs inside the consent worker, see the platform).
celery.conf.beat_schedule = {
    "retention": {
        "task": "consent.retention_scheduled",
        "schedule": crontab(hour=settings.retention_hour_utc, minute=0),
    },
    # EXPIRED events for consents lapsed by their purpose's validity (docs/consent.md).
    "expiry": {
        "task": "consent.expiry_scheduled",
        "schedule": crontab(hour=settings.expiry_hour_utc, minute=0),
    },
}
celery.conf.timezone = "UTC"


class _Worker:
    """Clients of one worker process, created on first use (inside its event loop)."""

    privacy: PrivacyClient | None = None

    async def transactions(self) -> GraphTransactions:
        return GraphTransactions(await _graph.connect(), after_commit=_graph.after_commit)

    def privacy_client(self) -> PrivacyClient:
        if self.privacy is None:
            secret = settings.gateway_secret.get_secret_value().encode()
            self.privacy = PrivacyClient(
                profile=SubgraphClient(settings.profile_url, secret=secret),
                matching=SubgraphClient(settings.matching_url, secret=secret),
                distribution=SubgraphClient(settings.distribution_url, secret=secret),
            )
        return self.privacy


_graph = WorkerGraph(settings, celery, SCHEMA)
_worker = _Worker()
_waiting = WaitingEvents(
    celery,
    "consent",
    {"consent.on_person_merged": ("survivor_id", "merged_id", "merge_id")},
)

# Every task here is idempotent: redelivery (late acks) changes nothing.
_RELIABLE = RELIABLE_TASK


@celery.task(name="consent.on_person_merged", **_RELIABLE)
def on_person_merged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """Two profiles were merged: their consent histories count as one from now on. The
    merge events waiting behind this one are recorded with it, in one transaction
    (``mdm_common.waiting_events``), each message once (the inbox)."""
    own = merges.MergeHeard(merge_id, survivor_id, merged_id)
    taken = _waiting.take(settings.merge_events_per_pass - 1) if own.well_formed else []
    usable = [e for e in taken if _heard(e).well_formed]
    # A malformed event fails in a task of its own, not the pass it was taken into.
    _waiting.give_back([e for e in taken if e not in usable])
    events = [(message_id(), own), *((e.message_id, _heard(e)) for e in usable)]

    async def handle() -> None:
        async def work(fresh: set[str]) -> None:
            heard = [m for mid, m in events if mid is None or mid in fresh]
            links = await merges.on_merged_many(
                heard, transactions=await _worker.transactions(), now=datetime.now(UTC)
            )
            log.info("%d merges heard: %d linked", len(heard), len(links))

        known = [mid for mid, _ in events if mid is not None]
        await once_each(await _graph.connect(), known, work)

    try:
        run(handle())
    except BaseException:
        _waiting.give_back(usable)
        raise
    _waiting.done(usable)


def _heard(event: WaitingEvent) -> merges.MergeHeard:
    ids = event.ids
    return merges.MergeHeard(ids["merge_id"], ids["survivor_id"], ids["merged_id"])


@celery.task(name="consent.on_person_unmerged", **_RELIABLE)
def on_person_unmerged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A merge was undone: each side's consent state is its own history again."""

    async def handle() -> None:
        link = await merges.on_unmerged(
            merge_id, survivor_id=survivor_id, merged_id=merged_id,
            transactions=await _worker.transactions(), now=datetime.now(UTC),
        )  # fmt: skip
        log.info("merge %s: %s", merge_id, "undone" if link else "undone before")

    run(_graph.once(handle))


@celery.task(name="consent.retention_page", **_RELIABLE)
def retention_page(run_id: str) -> None:
    """One page of a retention run; queues the next one until the run is done."""

    async def handle() -> None:
        transactions = await _worker.transactions()
        try:
            found = await retention_runs.run_page(
                run_id, purger=_worker.privacy_client(), transactions=transactions,
                now=datetime.now(UTC), page=settings.retention_page,
                releaser=_worker.privacy_client(),
            )  # fmt: skip
        except Unavailable:
            raise  # retried by Celery
        except Exception as exc:
            # The type only: messages may quote data.
            await retention_runs.fail(run_id, type(exc).__name__, transactions=transactions,
                                      now=datetime.now(UTC))  # fmt: skip
            raise
        # A run still RUNNING queued its next page in the transaction of this one.
        log.info(
            "retention run %s: %s, %d checked, %d purged",
            run_id,
            found.status,
            found.checked,
            found.purged,
        )

    run(_graph.once(handle))


@celery.task(name="consent.retention_scheduled", **_RELIABLE)
def retention_scheduled() -> None:
    """Celery beat's daily start of a retention run. While one is still running, its
    next page is queued again instead: a run whose message was lost goes on (a page
    delivered twice is done once)."""

    async def handle() -> None:
        transactions = await _worker.transactions()
        try:
            await retention_runs.start(
                transactions=transactions, started_by="schedule", now=datetime.now(UTC)
            )
        except Conflict as running:
            run_id = str(running.details["runId"])
            log.info("retention run %s still running: its next page queued again", run_id)
            await transactions.write(lambda s: retention_runs.queue_page(s, run_id))

    run(_graph.once(handle))


@celery.task(name="consent.expiry_page", **_RELIABLE)
def expiry_page(run_id: str, page: str) -> None:
    """Page number ``page`` of an expiry run; queues the next one until the run is
    done. A page delivered twice finds itself done and does nothing."""

    async def handle() -> None:
        transactions = await _worker.transactions()
        try:
            found = await expiry_runs.run_page(
                run_id,
                number=int(page),
                transactions=transactions,
                now=datetime.now(UTC),
                size=settings.expiry_page,
            )
        except Unavailable:
            raise  # retried by Celery
        except Exception as exc:
            # The type only: messages may quote data.
            await expiry_runs.fail(
                run_id, type(exc).__name__, transactions=transactions, now=datetime.now(UTC)
            )
            raise
        log.info(
            "expiry run %s: %s, %d checked, %d expired",
            run_id,
            found.status,
            found.checked,
            found.expired,
        )

    run(_graph.once(handle))


@celery.task(name="consent.expiry_scheduled", **_RELIABLE)
def expiry_scheduled() -> None:
    """Celery beat's daily start of an expiry run; a run still running is resumed
    instead (its next page queued again)."""

    async def handle() -> None:
        transactions = await _worker.transactions()
        try:
            await expiry_runs.start(
                transactions=transactions, started_by="schedule", now=datetime.now(UTC)
            )
        except Conflict as running:
            run_id = str(running.details["runId"])
            log.info("expiry run %s still running: its next page queued again", run_id)
            try:
                await expiry_runs.resume(run_id, transactions=transactions)
            except Conflict:
                log.info("expiry run %s finished meanwhile", run_id)

    run(_graph.once(handle))
