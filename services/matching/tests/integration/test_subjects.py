"""Match subject registration against the real graph server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mdm_common.graph import GraphClient
from mdm_matching.adapters.graph_store import SCHEMA, GraphSubjectStore
from mdm_matching.domain import subjects


async def test_registration_is_idempotent(graph_for: Callable[[str], GraphClient]) -> None:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    person_id = str(uuid.uuid4())
    first = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    for at in (first, first + timedelta(minutes=5)):  # a redelivered event
        await graph.write(
            lambda tx, at=at: subjects.on_person_created(
                person_id, subjects=GraphSubjectStore(tx), now=at
            )
        )

    found = await graph.read(lambda tx: GraphSubjectStore(tx).get_many([person_id, "unknown"]))
    assert list(found) == [person_id]
    assert found[person_id].registered_at == first
    candidates = await graph.read(lambda tx: GraphSubjectStore(tx).candidates_of([person_id]))
    assert candidates == {person_id: []}


async def test_merge_and_unmerge_events_mark_and_clear_the_subject(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    survivor, merged = str(uuid.uuid4()), str(uuid.uuid4())

    async def state() -> str | None:
        found = await graph.read(lambda tx: GraphSubjectStore(tx).get_many([merged]))
        return found[merged].merged_into

    for _ in range(2):  # redelivered events change nothing
        await graph.write(
            lambda tx: subjects.on_person_merged(survivor, merged, subjects=GraphSubjectStore(tx))
        )
    assert await state() == survivor
    await graph.write(
        lambda tx: subjects.on_person_unmerged(merged, subjects=GraphSubjectStore(tx))
    )
    assert await state() is None
