"""Celery tasks of the consent service: thin wrappers that call the domain.

Run a worker with ``celery -A mdm_consent.tasks worker -Q consent``. Task arguments
are ids only, never personal data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery.schedules import crontab

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, Unavailable
from mdm_common.events import Outbox, make_celery
from mdm_common.graph import GraphClient, graph_client_from
from mdm_common.subgraph_client import SubgraphClient
from mdm_common.worker import RELIABLE_TASK, instrument_worker, run
from mdm_consent.adapters.privacy_client import PrivacyClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import merges, retention_runs
from mdm_consent.settings import ConsentSettings

log = logging.getLogger(__name__)

# Celery discovers the app at import (`celery -A mdm_consent.tasks`), so the settings
# are read here, once per worker process.
settings = ConsentSettings()
celery = make_celery("consent", settings.broker_url)
instrument_worker(celery, service_name="consent-worker")
# The retention job, daily (Celery beat runs inside the consent worker, see the platform).
celery.conf.beat_schedule = {
    "retention": {
        "task": "consent.retention_scheduled",
        "schedule": crontab(hour=settings.retention_hour_utc, minute=0),
    },
}
celery.conf.timezone = "UTC"


class _Worker:
    """The graph client of one worker process, created on first use (inside its loop)."""

    graph: GraphClient | None = None
    privacy: PrivacyClient | None = None

    async def transactions(self) -> GraphTransactions:
        if self.graph is None:
            self.graph = graph_client_from(settings)
            await self.graph.apply_schema(SCHEMA)
        return GraphTransactions(self.graph)

    def privacy_client(self) -> PrivacyClient:
        if self.privacy is None:
            secret = settings.gateway_secret.get_secret_value().encode()
            self.privacy = PrivacyClient(
                profile=SubgraphClient(settings.profile_url, secret=secret),
                matching=SubgraphClient(settings.matching_url, secret=secret),
            )
        return self.privacy


_worker = _Worker()

# Every task here is idempotent: redelivery (late acks) changes nothing.
_RELIABLE = RELIABLE_TASK


@celery.task(name="consent.on_person_merged", **_RELIABLE)
def on_person_merged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """Two profiles were merged: their consent histories count as one from now on."""

    async def handle() -> None:
        link = await merges.on_merged(
            merge_id, survivor_id=survivor_id, merged_id=merged_id,
            transactions=await _worker.transactions(), now=datetime.now(UTC),
        )  # fmt: skip
        log.info("merge %s: %s", merge_id, "linked" if link else "heard of before")

    run(handle())


@celery.task(name="consent.on_person_unmerged", **_RELIABLE)
def on_person_unmerged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A merge was undone: each side's consent state is its own history again."""

    async def handle() -> None:
        link = await merges.on_unmerged(
            merge_id, survivor_id=survivor_id, merged_id=merged_id,
            transactions=await _worker.transactions(), now=datetime.now(UTC),
        )  # fmt: skip
        log.info("merge %s: %s", merge_id, "undone" if link else "undone before")

    run(handle())


def _queue_page(run_id: str) -> None:
    outbox = Outbox(celery)
    outbox.record(Event.RETENTION_PAGE_QUEUED, run_id=run_id)
    outbox.publish()


@celery.task(name="consent.retention_page", **_RELIABLE)
def retention_page(run_id: str) -> None:
    """One page of a retention run; queues the next one until the run is done."""

    async def handle() -> retention_runs.RetentionRun:
        transactions = await _worker.transactions()
        try:
            return await retention_runs.run_page(
                run_id, purger=_worker.privacy_client(), transactions=transactions,
                now=datetime.now(UTC), page=settings.retention_page,
            )  # fmt: skip
        except Unavailable:
            raise  # retried by Celery
        except Exception as exc:
            # The type only: messages may quote data.
            await retention_runs.fail(run_id, type(exc).__name__, transactions=transactions,
                                      now=datetime.now(UTC))  # fmt: skip
            raise

    found = run(handle())
    log.info("retention run %s: %s, %d checked, %d purged", run_id, found.status,
             found.checked, found.purged)  # fmt: skip
    if found.status is retention_runs.RunStatus.RUNNING:
        _queue_page(run_id)


@celery.task(name="consent.retention_scheduled", **_RELIABLE)
def retention_scheduled() -> None:
    """Celery beat's daily start of a retention run. While one is still running, its
    next page is queued again instead: a run whose message was lost goes on (a page
    delivered twice is done once)."""

    async def handle() -> str:
        try:
            started = await retention_runs.start(
                transactions=await _worker.transactions(), started_by="schedule",
                now=datetime.now(UTC),
            )  # fmt: skip
        except Conflict as running:
            log.info("retention run %s still running: its next page queued again",
                     running.details["runId"])  # fmt: skip
            return str(running.details["runId"])
        return started.id

    _queue_page(run(handle()))
