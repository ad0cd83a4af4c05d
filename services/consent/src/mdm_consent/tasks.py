"""Celery tasks of the consent service: thin wrappers that call the domain.

Run a worker with ``celery -A mdm_consent.tasks worker -Q consent``. Task arguments
are ids only, never personal data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mdm_common.events import make_celery
from mdm_common.graph import GraphClient, graph_client_from
from mdm_common.worker import RELIABLE_TASK, instrument_worker, run
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import merges
from mdm_consent.settings import ConsentSettings

log = logging.getLogger(__name__)

# Celery discovers the app at import (`celery -A mdm_consent.tasks`), so the settings
# are read here, once per worker process.
settings = ConsentSettings()
celery = make_celery("consent", settings.broker_url)
instrument_worker(celery, service_name="consent-worker")


class _Worker:
    """The graph client of one worker process, created on first use (inside its loop)."""

    graph: GraphClient | None = None

    async def transactions(self) -> GraphTransactions:
        if self.graph is None:
            self.graph = graph_client_from(settings)
            await self.graph.apply_schema(SCHEMA)
        return GraphTransactions(self.graph)


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
