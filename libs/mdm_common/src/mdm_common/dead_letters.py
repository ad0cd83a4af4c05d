"""Dead letters: one record per task that failed for good, kept on the broker itself.

The record is a message in a queue of the broker the workers already use, published
through kombu, so every broker the platform allows (Redis protocol or AMQP) holds it
without a second store. Nobody consumes the queue; ``list_dead_letters`` reads it
without taking anything out (``python -m mdm_infra dead-letters``). A record names
the task, its id, the error type and the time, never the task's arguments.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery
from kombu.connection import Connection
from kombu.entity import Exchange, Queue

log = logging.getLogger(__name__)

DEAD_LETTER_QUEUE = "mdm.dead-letter"
# The newest records are kept; RabbitMQ drops the oldest beyond this by itself
# (x-max-length), a Redis-protocol broker is trimmed after each record.
MAX_DEAD_LETTERS = 10_000

_EXCHANGE = Exchange(DEAD_LETTER_QUEUE, type="direct", durable=True)


def dead_letter_queue() -> Queue:
    return Queue(
        DEAD_LETTER_QUEUE,
        _EXCHANGE,
        routing_key=DEAD_LETTER_QUEUE,
        durable=True,
        max_length=MAX_DEAD_LETTERS,
    )


def record_dead_letter(app: Celery, *, task: str, task_id: str | None, error: str) -> None:
    """Keep a record of a task that will not run again. Never raises: the task has
    failed already, and a broker that cannot take the record is logged."""
    entry = {"task": task, "id": task_id, "error": error, "at": time.time()}
    queue = dead_letter_queue()
    try:
        with app.producer_or_acquire() as producer:
            producer.publish(
                entry,
                exchange=_EXCHANGE,
                routing_key=DEAD_LETTER_QUEUE,
                declare=[queue],
                serializer="json",
                delivery_mode="persistent",
                retry=True,
                # The worker waits for this: a broker that is down costs it ~2 s.
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
            )
            _trim_redis(producer.connection)
    except Exception:
        log.exception("could not record dead letter for %s", task)


def list_dead_letters(app: Celery, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` records, newest first, left in the queue.

    Messages are fetched without acknowledging them; the broker gives them back
    when the channel closes (AMQP requeues them, kombu's Redis transport restores
    its unacknowledged messages, not necessarily in their old order: hence the sort).
    """
    found: list[dict[str, Any]] = []
    with app.connection_for_read() as connection, connection.channel() as channel:
        queue = dead_letter_queue()(channel)
        queue.declare()
        # The queue is bounded, so reading all of it is too.
        while len(found) < 2 * MAX_DEAD_LETTERS:
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            found.append(message.payload)
    found.sort(key=lambda entry: float(entry.get("at", 0)), reverse=True)
    return found[:limit]


def _trim_redis(connection: Connection) -> None:
    # kombu's Redis transport keeps a queue as a list (newest on the left) and
    # ignores x-max-length: keep its length bounded here.
    if connection.transport.driver_type != "redis":
        return
    client = connection.default_channel.client  # type: ignore[attr-defined] # Redis channels only
    client.ltrim(DEAD_LETTER_QUEUE, 0, MAX_DEAD_LETTERS - 1)
