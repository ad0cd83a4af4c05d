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
