"""The stream relay and the webhook sender against the real graph server, the real
Valkey and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from mdm_common.errors import NotFound
from mdm_common.graph import GraphClient
from mdm_distribution.adapters import cloudevents
from mdm_distribution.adapters.dead_letter_store import GraphDeadLetterStore
from mdm_distribution.adapters.message_store import GraphMessageStore
from mdm_distribution.adapters.streams import (
    WEBHOOK_GROUP,
    ChangeStreams,
    Leadership,
    StreamRelay,
)
from mdm_distribution.adapters.subscriber_store import GraphSubscriberStore
from mdm_distribution.adapters.transactions import SCHEMA
from mdm_distribution.adapters.webhooks import (
    DeliveryFailed,
    WebhookDispatcher,
    WebhookPolicy,
    WebhookSender,
    replay_dead_letter,
)
from mdm_distribution.domain.models import ChangeMessage, ChangeType, Delivery, Subscriber
from mdm_distribution.domain.subscribers import new_secret
from mdm_infra.platform import Platform

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FAST = WebhookPolicy(timeout_s=5, attempts=3, first_retry_s=0.01, max_retry_s=0.05)


class Receiver(BaseHTTPRequestHandler):
    """Accepts every delivery except those about the person ``refused`` (500)."""

    received: list[tuple[dict[str, str], bytes]]
    refused: set[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        refused = json.loads(body)["subject"] in self.refused
        self.send_response(500 if refused else 204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("OneReceiver", (Receiver,), {"received": [], "refused": set()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    found = graph_for("distribution")
    await found.apply_schema(SCHEMA)
    return found


@pytest.fixture
async def streams(backing_servers: Platform) -> AsyncIterator[ChangeStreams]:
    found = ChangeStreams(
        backing_servers.config.broker.url, prefix=f"test:{uuid.uuid4().hex}:", max_entries=1000
    )
    yield found
    keys = [k async for k in found.redis.scan_iter(match=found.key("*"))]
    if keys:
        await found.redis.delete(*keys)
    await found.close()


async def webhook_subscriber(graph: GraphClient, url: str) -> tuple[Subscriber, str]:
    subscriber = Subscriber(
        id=str(uuid.uuid4()),
        name=f"shop-{uuid.uuid4().hex[:8]}",
        purpose="calls",
        channel="PHONE",
        categories=("identity",),
        delivery=Delivery.WEBHOOK,
        created_at=NOW,
        webhook_url=url,
    )
    secret = new_secret()
    await graph.write(lambda tx: GraphSubscriberStore(tx).add(subscriber, secret))
    return subscriber, secret


def message(subscriber: Subscriber, person_id: str, sequence: int) -> ChangeMessage:
    return ChangeMessage(
        id=str(uuid.uuid4()),
        subscriber_id=subscriber.id,
        purpose=subscriber.purpose,
        person_id=person_id,
        type=ChangeType.PERSON_UPDATED,
        sequence=sequence,
        time=NOW,
        data={"personId": person_id, "changed": {"familyName": f"Name {sequence}"}},
    )


async def committed(
    graph: GraphClient, streams: ChangeStreams, messages: list[ChangeMessage]
) -> None:
    prefix = streams.prefix
    await graph.write(lambda tx: GraphMessageStore(tx, stream_prefix=prefix).add(messages))


async def until(probe: Callable[[], Any], timeout_s: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = await probe()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


class TestTheStreamRelay:
    async def test_appends_committed_messages_in_commit_order_and_forgets_them(
        self, graph: GraphClient, streams: ChangeStreams
    ) -> None:
        subscriber, _ = await webhook_subscriber(graph, "https://shop.example/hook")
        for batch in range(3):  # three passes, committed one after the other
            await committed(
                graph, streams, [message(subscriber, "p1", 2 * batch + i + 1) for i in (0, 1)]
            )
        relay = StreamRelay(graph, streams, poll_s=0.01, batch=4)
        await relay.drain()
        read = await streams.read(subscriber.id, after="0-0", count=100)
        events = [json.loads(body) for _, body in read]
        assert [int(e["sequence"]) for e in events] == [1, 2, 3, 4, 5, 6]
        assert all(e["specversion"] == "1.0" and e["subject"] == "p1" for e in events)
        ids = {e["id"] for e in events}
        left = await graph.read(
            lambda tx: tx.run(
                "t",
                "MATCH (e:StreamEntry) WHERE e.stream STARTS WITH $p RETURN e.id AS id",
                p=streams.prefix,
            )
        )
        assert not ids & {r["id"] for r in left}

    async def test_a_stop_takes_the_persons_earlier_entries_out_of_the_stream(
        self, graph: GraphClient, streams: ChangeStreams
    ) -> None:
        subscriber, _ = await webhook_subscriber(graph, "https://shop.example/hook")
        await committed(
            graph, streams, [message(subscriber, "p1", 1), message(subscriber, "p2", 1)]
        )
        stop = replace(
            message(subscriber, "p1", 2),
            type=ChangeType.PERSON_STOPPED,
            data={"personId": "p1", "purpose": "calls", "reason": "WITHDRAWN"},
        )
        relay = StreamRelay(graph, streams, poll_s=0.01)
        await relay.drain()
        await committed(graph, streams, [stop])
        await relay.drain()
        left = [
            json.loads(body) for _, body in await streams.read(subscriber.id, after="0-0", count=9)
        ]
        assert [(e["subject"], e["type"]) for e in left] == [
            ("p2", "mdm.person.updated"),
            ("p1", "mdm.person.stopped"),
        ]
        assert "Name" not in json.dumps([e for e in left if e["subject"] == "p1"])


class TestLeadership:
    async def test_one_process_leads_and_another_takes_over_when_it_lets_go(
        self, streams: ChangeStreams
    ) -> None:
        first, second = Leadership(streams), Leadership(streams)
        try:
            assert await first.holds()
            assert await first.holds()  # renewed
            assert not await second.holds()
            await first.release()
            assert await second.holds()
        finally:
            await first.release()
            await second.release()


class TestWebhooks:
    @pytest.fixture
    async def sender(self, graph: GraphClient) -> AsyncIterator[WebhookSender]:
        async with httpx.AsyncClient(timeout=5) as http:
            yield WebhookSender(graph, http)

    async def test_a_delivery_refused_every_time_becomes_a_dead_letter_and_the_next_goes_on(
        self,
        graph: GraphClient,
        streams: ChangeStreams,
        sender: WebhookSender,
        receiver: tuple[str, type[Receiver]],
    ) -> None:
        url, handler = receiver
        handler.refused.add("p-refused")
        subscriber, secret = await webhook_subscriber(graph, url)
        await committed(
            graph, streams, [message(subscriber, "p-refused", 1), message(subscriber, "p-fine", 1)]
        )
        await StreamRelay(graph, streams, poll_s=0.01).drain()
        dispatcher = WebhookDispatcher(graph, streams, sender, policy=FAST)
        try:
            await dispatcher.keep_in_step()

            async def letters() -> list[Any]:
                return await graph.read(
                    lambda tx: GraphDeadLetterStore(tx).of_subscriber(
                        subscriber.id, open_only=True, first=10
                    )
                )

            async def delivered_fine() -> bool:
                return any(b"p-fine" in body for _, body in handler.received)

            assert await until(delivered_fine)
        finally:
            await dispatcher.stop()
        subjects = [json.loads(body)["subject"] for _, body in handler.received]
        assert subjects == ["p-refused"] * FAST.attempts + ["p-fine"]  # in order, after
        (letter,) = await letters()
        assert (letter.attempts, letter.last_status, letter.type) == (3, 500, "mdm.person.updated")
        state = await streams.state(subscriber.id)
        (group,) = state.groups
        assert (group.name, group.lag, group.pending) == (WEBHOOK_GROUP, 0, 0)
        for headers, body in handler.received:
            Webhook(secret).verify(body, headers)

        # Replayed while the receiver still refuses: the admin is told, it stays open.
        with pytest.raises(DeliveryFailed):
            await replay_dead_letter(letter.id, graph=graph, streams=streams, sender=sender)
        handler.refused.clear()
        replayed = await replay_dead_letter(letter.id, graph=graph, streams=streams, sender=sender)
        assert replayed.replayed_at is not None
        assert await letters() == []
        with pytest.raises(NotFound):
            await replay_dead_letter("no-such-letter", graph=graph, streams=streams, sender=sender)

    async def test_after_a_rotation_deliveries_carry_the_old_and_the_new_signature(
        self,
        graph: GraphClient,
        streams: ChangeStreams,
        sender: WebhookSender,
        receiver: tuple[str, type[Receiver]],
    ) -> None:
        url, handler = receiver
        subscriber, old = await webhook_subscriber(graph, url)
        new = new_secret()
        later = datetime.now(UTC).replace(year=2099)
        await graph.write(
            lambda tx: GraphSubscriberStore(tx).rotate_secret(
                subscriber.id, new, now=NOW, previous_until=later
            )
        )
        body = cloudevents.encode(message(subscriber, "p1", 1))
        await sender.post(subscriber, body, unless_paused=True)
        ((headers, received),) = handler.received
        assert len(headers["webhook-signature"].split(" ")) == 2
        Webhook(old).verify(received, headers)
        Webhook(new).verify(received, headers)
