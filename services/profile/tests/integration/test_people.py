"""Person use cases against the real graph server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_profile.adapters.graph_store import SCHEMA, GraphPersonStore
from mdm_profile.domain import people
from mdm_profile.domain.models import PersonDraft


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, str]]] = []

    def record(self, event: str, **ids: str) -> None:
        self.events.append((event, ids))


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(SCHEMA)
    return client


async def test_created_person_reads_back_and_is_announced(graph: GraphClient) -> None:
    events = Recorder()
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    created = await graph.write(
        lambda tx: people.create_person(
            PersonDraft(" Anna ", "Müller", "anna@example.org"),
            people=GraphPersonStore(tx), events=events, now=now,
        )
    )  # fmt: skip

    read = await graph.read(lambda tx: people.get_person(created.id, people=GraphPersonStore(tx)))

    assert read == created
    assert read.given_name == "Anna"
    assert read.created_at == now
    assert events.events == [(Event.PERSON_CREATED, {"person_id": created.id})]


async def test_invalid_input_writes_nothing_and_announces_nothing(graph: GraphClient) -> None:
    events = Recorder()
    with pytest.raises(InvalidInput):
        await graph.write(
            lambda tx: people.create_person(
                PersonDraft("Anna", "Müller", "not-an-email"),
                people=GraphPersonStore(tx), events=events, now=datetime.now(UTC),
            )
        )  # fmt: skip
    assert events.events == []


async def test_unknown_person_is_not_found(graph: GraphClient) -> None:
    with pytest.raises(NotFound):
        await graph.read(lambda tx: people.get_person("no-such-id", people=GraphPersonStore(tx)))
