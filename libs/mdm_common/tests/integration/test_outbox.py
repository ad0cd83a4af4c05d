"""The unit of work, the outbox, the relay and the inbox on the real graph server and
broker: an event exists exactly when its change committed, and reaches the broker
once the broker is there."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from mdm_common.contracts import Event, EventRecorder
from mdm_common.events import BrokerPublisher, make_celery
from mdm_common.graph import GraphClient, Transaction
from mdm_common.inbox import once
from mdm_common.outbox import OUTBOX_EVENT, OutboxEvent, OutboxStore, Relay
from mdm_common.unit_of_work import SCHEMA, UnitOfWork
from mdm_infra.platform import Platform
from mdm_infra.ports import free_port

# Events of made-up persons: if the platform's own relay sends one of them, matching
# finds no such person and does nothing.
DATABASE = "profile"


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for(DATABASE)
    await client.apply_schema(SCHEMA)
    return client


@pytest.fixture
def quiet_broker(backing_servers: Platform) -> tuple[str, redis.Redis]:
    """Database 5 of the test broker: no worker consumes there."""
    url = backing_servers.config.broker.url.rsplit("/", 1)[0] + "/5"
    client = redis.Redis.from_url(url)
    client.delete("matching", "consent")
    return url, client


def person_created(person_id: str) -> Callable[[Transaction, EventRecorder], object]:
    async def work(tx: Transaction, events: EventRecorder) -> str:
        events.record(Event.PERSON_CREATED, person_id=person_id)
        return person_id

    return work


async def stored(graph: GraphClient, person_id: str) -> list[dict[str, object]]:
    return await graph.read(
        lambda tx: tx.run(
            "test_outbox_find",
            f"MATCH (e:{OUTBOX_EVENT}) WHERE e.payload = $payload "
            "RETURN e.id AS id, e.pending AS pending",
            payload=json.dumps({"person_id": person_id}),
        )
    )


def queued(client: redis.Redis, queue: str) -> list[dict[str, object]]:
    return [json.loads(raw) for raw in client.lrange(queue, 0, -1)]


class TestUnitOfWork:
    async def test_a_committed_change_stores_its_event_pending(self, graph: GraphClient) -> None:
        person_id = str(uuid.uuid4())
        told: list[OutboxEvent] = []

        async def after_commit(events: Sequence[OutboxEvent]) -> None:
            told.extend(events)

        await UnitOfWork(graph, after_commit=after_commit).write(person_created(person_id))
        rows = await stored(graph, person_id)
        assert [r["pending"] for r in rows] == [True]
        assert [(e.id, e.name, e.ids) for e in told] == [
            (rows[0]["id"], Event.PERSON_CREATED, {"person_id": person_id})
        ]

    async def test_a_rolled_back_change_leaves_no_event(self, graph: GraphClient) -> None:
        person_id = str(uuid.uuid4())

        async def fails(tx: Transaction, events: EventRecorder) -> None:
            events.record(Event.PERSON_CREATED, person_id=person_id)
            raise RuntimeError("the change cannot be made")

        with pytest.raises(RuntimeError):
            await UnitOfWork(graph).write(fails)
        assert await stored(graph, person_id) == []

    async def test_concurrent_creators_of_one_key_both_succeed(self, graph: GraphClient) -> None:
        key = str(uuid.uuid4())

        async def create_or_update(tx: Transaction, events: EventRecorder) -> str:
            found = await tx.run(
                "test_find", f"MATCH (e:{OUTBOX_EVENT} {{id: $id}}) RETURN e.id AS id", id=key
            )
            if found:
                return "updated"
            # Slow enough that the other request also finds nothing.
            await asyncio.sleep(0.2)
            await tx.run(
                "test_create",
                f"CREATE (:{OUTBOX_EVENT} {{id: $id, pending: false, payload: '{{}}'}})",
                id=key,
            )
            return "created"

        unit = UnitOfWork(graph)
        outcomes = await asyncio.gather(unit.write(create_or_update), unit.write(create_or_update))
        assert sorted(outcomes) == ["created", "updated"]


class TestRelay:
    async def test_sends_ids_and_traceparent_and_marks_sent(
        self, graph: GraphClient, quiet_broker: tuple[str, redis.Redis]
    ) -> None:
        url, client = quiet_broker
        relay = Relay(graph, BrokerPublisher(make_celery("test", url)))
        person_id = str(uuid.uuid4())
        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("request") as span:
            await UnitOfWork(graph, after_commit=relay.send_now).write(person_created(person_id))
            trace_id = format(span.get_span_context().trace_id, "032x")

        [event] = await stored(graph, person_id)
        assert event["pending"] is False
        [message] = queued(client, "matching")
        assert message["headers"]["task"] == "matching.on_person_created"  # type: ignore[index]
        assert message["headers"]["id"] == f"{event['id']}/matching.on_person_created"  # type: ignore[index]
        assert trace_id in message["headers"]["traceparent"]  # type: ignore[index]
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))  # type: ignore[arg-type]
        assert (args, kwargs) == ([], {"person_id": person_id})
        assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left open

    async def test_keeps_events_pending_while_the_broker_is_down(
        self, graph: GraphClient, quiet_broker: tuple[str, redis.Redis]
    ) -> None:
        url, client = quiet_broker
        down = Relay(
            graph, BrokerPublisher(make_celery("test", f"redis://127.0.0.1:{free_port()}/0"))
        )
        person_id = str(uuid.uuid4())
        await UnitOfWork(graph).write(person_created(person_id))
        [event] = await stored(graph, person_id)

        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the broker client raises
            await down.flush([str(event["id"])])
        assert [r["pending"] for r in await stored(graph, person_id)] == [True]
        committed = await graph.read(
            lambda tx: OutboxStore(tx).pending(limit=1, ids=[str(event["id"])])
        )
        await down.send_now(committed)  # a worker's way: logged, not raised
        assert [r["pending"] for r in await stored(graph, person_id)] == [True]

        up = Relay(graph, BrokerPublisher(make_celery("test", url)))
        assert await up.flush([str(event["id"])]) == 1
        assert [r["pending"] for r in await stored(graph, person_id)] == [False]
        assert [m["headers"]["id"] for m in queued(client, "matching")] == [  # type: ignore[index]
            f"{event['id']}/matching.on_person_created"
        ]
        assert await up.flush([str(event["id"])]) == 0  # sent is sent

    async def test_background_relay_sends_what_was_committed(
        self, graph: GraphClient, quiet_broker: tuple[str, redis.Redis]
    ) -> None:
        url, client = quiet_broker
        relay = Relay(graph, BrokerPublisher(make_celery("test", url)))
        person_id = str(uuid.uuid4())

        def sent() -> list[dict[str, object]]:
            # The relay also sweeps up what other tests left pending.
            return [
                m
                for m in queued(client, "matching")
                if json.loads(base64.b64decode(str(m["body"])))[1] == {"person_id": person_id}
            ]

        await relay.start()
        try:
            await UnitOfWork(graph, after_commit=relay.committed).write(person_created(person_id))
            for _ in range(50):
                if sent():
                    break
                await asyncio.sleep(0.1)
        finally:
            await relay.stop()
        assert len(sent()) == 1
        assert [r["pending"] for r in await stored(graph, person_id)] == [False]

    async def test_events_of_a_slow_transaction_are_sent_once(
        self, graph: GraphClient, quiet_broker: tuple[str, redis.Redis]
    ) -> None:
        url, client = quiet_broker
        relay = Relay(graph, BrokerPublisher(make_celery("test", url)))
        person_id = str(uuid.uuid4())
        handed_over: list[OutboxEvent] = []

        async def keep(events: Sequence[OutboxEvent]) -> None:
            handed_over.extend(events)

        await UnitOfWork(graph, after_commit=keep).write(person_created(person_id))
        # Handed over when already older than the grace period (the transaction took
        # that long): the sweep leaves them to the committed way.
        old = [replace(e, created_at=e.created_at - timedelta(seconds=10)) for e in handed_over]
        await graph.write(
            lambda tx: tx.run(
                "test_age",
                f"UNWIND $ids AS id MATCH (e:{OUTBOX_EVENT} {{id: id}}) SET e.createdAt = $at",
                ids=[e.id for e in old],
                at=old[0].created_at,
            )
        )
        message = f"{old[0].id}/matching.on_person_created"

        def sent() -> list[str]:
            return [m["headers"]["id"] for m in queued(client, "matching")]  # type: ignore[index]

        await relay.committed(old)
        await relay.flush()  # a sweep meanwhile
        assert message not in sent()
        await relay.start()
        try:
            for _ in range(50):
                if message in sent():
                    break
                await asyncio.sleep(0.1)
        finally:
            await relay.stop()
        assert sent().count(message) == 1
        assert [r["pending"] for r in await stored(graph, person_id)] == [False]

    async def test_counts_pending_events(self, graph: GraphClient) -> None:
        await UnitOfWork(graph).write(person_created(str(uuid.uuid4())))
        # At least this one: other tests' events may be pending or sent meanwhile.
        assert await graph.read(lambda tx: OutboxStore(tx).count_pending()) >= 1


class TestInbox:
    async def test_a_message_is_worked_on_once(self, graph: GraphClient) -> None:
        message = f"{uuid.uuid4()}/matching.on_person_created"
        runs: list[int] = []

        async def work() -> int:
            runs.append(1)
            return len(runs)

        assert await once(graph, message, work) == 1
        assert await once(graph, message, work) is None
        assert runs == [1]

    async def test_failed_work_is_not_remembered(self, graph: GraphClient) -> None:
        message = f"{uuid.uuid4()}/matching.on_person_created"

        async def fails() -> None:
            raise RuntimeError("worker lost the graph")

        with pytest.raises(RuntimeError):
            await once(graph, message, fails)

        async def works() -> str:
            return "done"

        assert await once(graph, message, works) == "done"
