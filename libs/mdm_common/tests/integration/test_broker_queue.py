"""The workers' way of taking messages off a queue, on the real broker (the test
platform's Valkey, a database of its own): in order, each recorded as
unacknowledged before anyone sees it, and never lost with a connection."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from queue import Empty
from typing import Any

import pytest
import redis
from celery import Celery
from kombu import Connection, Consumer, Queue
from kombu.message import Message
from kombu.transport import redis as kombu_redis

from mdm_common import broker_queue
from mdm_common.events import make_celery
from mdm_infra.platform import Platform

TASK = "brokerqueue.probe"


@pytest.fixture
def app(backing_servers: Platform) -> Iterator[Celery]:
    # Database 8 of the test platform's Valkey: no worker listens there.
    url = backing_servers.config.broker.url.rsplit("/", 1)[0] + "/8"
    celery = make_celery("brokerqueuetest", url, visibility_timeout_s=3600)
    yield celery
    celery.close()


@pytest.fixture
def broker(app: Celery) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(app.conf.broker_url)
    yield client
    client.close()


def _queue(app: Celery) -> str:
    name = f"brokerqueue-{uuid.uuid4().hex[:8]}"
    app.amqp.queues.select_add(name)
    return name


def _send(app: Celery, queue: str, n: int) -> str:
    task_id = f"probe-{n}-{uuid.uuid4().hex[:8]}"
    app.send_task(TASK, kwargs={"n": n}, task_id=task_id, queue=queue)
    return task_id


def _consumer(connection: Connection, queue: str, received: list[Message]) -> Consumer:
    consumer = Consumer(connection, queues=[Queue(queue)], accept=["json"])
    consumer.register_callback(lambda _body, message: received.append(message))
    consumer.consume()
    return consumer


def _wait_sent(connection: Connection, queue: str) -> Any:
    """The consuming channel with its blocking wait sent to the broker (as a worker's
    event loop sends it), its answer not yet read."""
    channel = connection.default_channel
    assert list(channel.active_queues) == [queue]
    channel.brpop_timeout = 5  # longer than the test takes to send and look
    connection.transport.cycle._register_BRPOP(channel)
    assert channel._in_poll
    return channel


def _served(broker: redis.Redis, queue: str) -> None:
    """Until the broker has answered the blocked wait (no client waits any more)."""
    deadline = time.monotonic() + 5
    while int(broker.info("clients")["blocked_clients"]) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_transport_is_the_platforms_on_valkey_only(app: Celery) -> None:
    with app.connection_for_read() as connection:
        assert isinstance(connection.default_channel, broker_queue.Channel)
        assert connection.default_channel.priority_steps == [0]
    amqp = make_celery("brokerqueuetest", "amqp://guest@127.0.0.1:5672//")
    assert amqp.connection_for_read().transport_cls == "amqp"


def test_messages_arrive_in_order_each_recorded_as_unacknowledged_before_it_is_seen(
    app: Celery, broker: redis.Redis
) -> None:
    queue = _queue(app)
    sent = [_send(app, queue, n) for n in range(3)]
    received: list[Message] = []
    recorded_when_seen: list[bool] = []
    with app.connection_for_read() as connection:
        consumer = Consumer(connection, queues=[Queue(queue)], accept=["json"])

        def seen(_body: Any, message: Message) -> None:
            recorded_when_seen.append(bool(broker.hexists("unacked", message.delivery_tag)))
            received.append(message)

        consumer.register_callback(seen)
        consumer.consume()
        while len(received) < len(sent):
            connection.drain_events(timeout=5)
        assert [m.headers["id"] for m in received] == sent
        assert recorded_when_seen == [True, True, True]
        for message in received:
            message.ack()
        assert not any(broker.hexists("unacked", m.delivery_tag) for m in received)
        with pytest.raises(TimeoutError):  # nothing more: the wait times out
            connection.drain_events(timeout=0.5)
        consumer.cancel()
    assert broker.llen(queue) == 0


def test_a_consumer_that_acknowledges_nothing_leaves_no_record(
    app: Celery, broker: redis.Redis
) -> None:
    """Celery's replies to remote control (a ping) are consumed without
    acknowledgements: recorded, they would stay in the record for good."""
    queue = _queue(app)
    sent = _send(app, queue, 1)
    received: list[Message] = []
    with app.connection_for_read() as connection:
        consumer = Consumer(connection, queues=[Queue(queue)], accept=["json"], no_ack=True)
        consumer.register_callback(lambda _body, message: received.append(message))
        consumer.consume()
        connection.drain_events(timeout=5)
        consumer.cancel()
    assert [m.headers["id"] for m in received] == [sent]
    recorded = [json.loads(value)[0]["headers"].get("id") for value in broker.hvals("unacked")]
    assert sent not in recorded
    assert broker.llen(queue) == 0


def test_a_message_stays_in_the_queue_when_the_connection_is_lost_after_the_wait(
    app: Celery, broker: redis.Redis
) -> None:
    """The broker answered the consumer's wait, and the connection is gone before the
    answer was read (a broker stopping, a network cut): the message is still queued,
    and the next consumer gets it."""
    queue = _queue(app)
    received: list[Message] = []
    with app.connection_for_read() as connection:
        _consumer(connection, queue, received)
        channel = _wait_sent(connection, queue)
        sent = _send(app, queue, 1)
        _served(broker, queue)
        channel.client.connection.disconnect()  # the answer is never read
    assert broker.llen(queue) == 1

    with app.connection_for_read() as connection:
        consumer = _consumer(connection, queue, received)
        connection.drain_events(timeout=5)
        assert [m.headers["id"] for m in received] == [sent]
        received[0].ack()
        consumer.cancel()
    assert broker.llen(queue) == 0


def test_kombus_own_consumer_loses_the_message_in_that_moment(
    app: Celery, broker: redis.Redis
) -> None:
    """Why the platform has a transport of its own: kombu's pops the message with the
    wait, so the same lost answer leaves it nowhere, neither queued nor recorded as
    unacknowledged."""
    queue = _queue(app)
    options = dict(app.conf.broker_transport_options)
    with Connection(
        app.conf.broker_url, transport=kombu_redis.Transport, transport_options=options
    ) as connection:
        _consumer(connection, queue, [])
        channel = _wait_sent(connection, queue)
        sent = _send(app, queue, 1)
        _served(broker, queue)
        channel.client.connection.disconnect()
    assert broker.llen(queue) == 0
    recorded = [json.loads(value)[0]["headers"]["id"] for value in broker.hvals("unacked")]
    assert sent not in recorded


def test_two_consumers_woken_by_one_message_deliver_it_once(
    app: Celery, broker: redis.Redis
) -> None:
    queue = _queue(app)
    first: list[Message] = []
    second: list[Message] = []
    with app.connection_for_read() as one, app.connection_for_read() as two:
        _consumer(one, queue, first)
        _consumer(two, queue, second)
        waits = [_wait_sent(one, queue), _wait_sent(two, queue)]
        sent = _send(app, queue, 1)
        _served(broker, queue)
        delivered = 0
        for channel in waits:
            with contextlib.suppress(Empty):
                delivered += channel._brpop_read()
        assert delivered == 1
        messages = first + second
        assert [m.headers["id"] for m in messages] == [sent]
        messages[0].ack()
    assert broker.llen(queue) == 0
