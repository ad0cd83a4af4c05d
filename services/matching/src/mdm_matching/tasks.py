"""Celery tasks of the matching service: thin wrappers that call the domain.

Run a worker with ``celery -A mdm_matching.tasks worker -Q matching``.
"""

from __future__ import annotations

from datetime import UTC, datetime

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


# Every task here is idempotent: redelivery (late acks) changes nothing.
_RELIABLE = {"autoretry_for": (Unavailable,), "retry_backoff": True, "retry_backoff_max": 60,
             "max_retries": 8}  # fmt: skip


@celery.task(name="matching.on_person_created", **_RELIABLE)
def on_person_created(person_id: str) -> None:
    """Register a new person for matching."""

    async def handle() -> None:
        graph = await _graph_client()
        now = datetime.now(UTC)
        await graph.write(
            lambda tx: subjects.on_person_created(
                person_id, subjects=GraphSubjectStore(tx), now=now
            )
        )

    run(handle())


@celery.task(name="matching.on_person_merged", **_RELIABLE)
def on_person_merged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """Remember that a person was merged away (its candidates now belong to the survivor)."""

    async def handle() -> None:
        graph = await _graph_client()
        await graph.write(
            lambda tx: subjects.on_person_merged(
                survivor_id, merged_id, subjects=GraphSubjectStore(tx)
            )
        )

    run(handle())


@celery.task(name="matching.on_person_unmerged", **_RELIABLE)
def on_person_unmerged(survivor_id: str, merged_id: str, merge_id: str) -> None:
    """A merge was undone: the person is a subject of its own again."""

    async def handle() -> None:
        graph = await _graph_client()
        await graph.write(
            lambda tx: subjects.on_person_unmerged(merged_id, subjects=GraphSubjectStore(tx))
        )

    run(handle())
