"""Celery tasks of the matching service: thin wrappers that call the domain.

Run a worker with ``celery -A mdm_matching.tasks worker -Q matching``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from celery import Task

from mdm_common.errors import Unavailable
from mdm_common.events import make_celery
from mdm_common.graph import GraphClient, graph_client_from
from mdm_common.worker import instrument_worker, run
from mdm_matching.adapters.graph_store import SCHEMA, GraphSubjectStore
from mdm_matching.domain import subjects
from mdm_matching.settings import MatchingSettings

# Celery discovers the app at import (`celery -A mdm_matching.tasks`), so the
# settings are read here, once per worker process.
settings = MatchingSettings()
celery = make_celery("matching", settings.broker_url)
instrument_worker(celery, service_name="matching-worker")

_graph: GraphClient | None = None


async def _graph_client() -> GraphClient:
    global _graph  # noqa: PLW0603 - one driver per worker process, created on first use
    if _graph is None:
        _graph = graph_client_from(settings)
        await _graph.apply_schema(SCHEMA)
    return _graph


@celery.task(
    name="matching.on_person_created",
    bind=True,
    autoretry_for=(Unavailable,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
)
def on_person_created(self: Task, person_id: str) -> None:
    """Register a new person for matching. Idempotent: redelivery changes nothing."""

    async def handle() -> None:
        graph = await _graph_client()
        now = datetime.now(UTC)
        await graph.write(
            lambda tx: subjects.on_person_created(
                person_id, subjects=GraphSubjectStore(tx), now=now
            )
        )

    run(handle())
