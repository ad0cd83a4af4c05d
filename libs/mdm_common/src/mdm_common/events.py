"""Cross-service events over the broker, stored in the change's own transaction.

An event carries ids only (never personal data): receivers read what they need
through their own data or the gateway. Each event name maps to the Celery tasks of
the services that react to it; the publisher sends one message per subscriber to
that subscriber's queue, so services stay decoupled from each other's code. Events
reach the broker through the outbox (:mod:`mdm_common.outbox`), never directly.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from celery import Celery
from kombu.messaging import Producer
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind

from mdm_common import broker_queue
from mdm_common.contracts import SUBSCRIPTIONS, Subscription
from mdm_common.outbox import OutboxEvent

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("mdm_common.events")

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def make_celery(
    name: str, broker_url: str, *, visibility_timeout_s: int = 300, restore_interval_s: int = 10
) -> Celery:
    """A Celery app with the platform's reliability rules (JSON, late acks, ...)."""
    app = Celery(name, broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        # A task is acknowledged only after it ran; if the worker dies mid-task the
        # message goes back to the queue. Tasks are therefore idempotent.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=name,
        broker_connection_retry_on_startup=True,
        # A killed worker's unacknowledged message is delivered again after the
        # visibility timeout, by whichever worker sweeps first: each one looks every
        # restore interval (kombu's throttle would stretch that tenfold; one Redis
        # range query per interval and worker costs nothing).
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            "unacked_restore_interval": restore_interval_s,
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
    )
    if urlsplit(broker_url).scheme in broker_queue.REDIS_SCHEMES:
        # Valkey/Redis: a worker takes a message off its queue and records it as
        # unacknowledged in one step (kombu's consumer does it in two).
        app.conf.broker_transport = broker_queue.TRANSPORT
        app.conf.broker_transport_options |= broker_queue.TRANSPORT_OPTIONS
    return app


class PendingEvents:
    """The events one transaction attempt recorded (an :class:`EventRecorder`); the
    unit of work stores them in that transaction's outbox."""

    def __init__(self) -> None:
        self._events: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def record(self, event: str, **ids: str) -> None:
        if event not in SUBSCRIPTIONS:
            raise ValueError(f"unknown event {event}")
        for key, value in ids.items():
            if not _ID.fullmatch(value):
                raise ValueError(f"event field {key} is not an id")
        # The trace context of the change (ids of spans, no data) travels with the
        # event, so that the task it causes continues the change's trace.
        trace_context: dict[str, str] = {}
        inject(trace_context)
        self._events.append((event, ids, trace_context))

    def to_store(self, now: datetime) -> list[OutboxEvent]:
        return [
            OutboxEvent(
                id=str(uuid.uuid4()), name=name, ids=ids, created_at=now, seq=seq, trace=trace
            )
            for seq, (name, ids, trace) in enumerate(self._events)
        ]


def message_id(event_id: str, subscription: Subscription) -> str:
    """The Celery task id of an event's message to one subscriber: the same on every
    delivery of that event, so the subscriber can tell a duplicate."""
    return f"{event_id}/{subscription.task}"


class BrokerPublisher:
    """Sends stored events to their subscribers' queues through Celery."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def publish(self, events: Sequence[OutboxEvent]) -> None:
        # One producer (one broker connection) for the whole batch instead of one
        # acquired from the pool per message: an ingest batch sends 500, a bulk merge
        # 250 to each of two queues. Its publish batch sends them in a few round trips
        # on Valkey/Redis (a pipeline; other brokers publish one by one). No retries
        # here: an event that cannot be sent stays pending and the relay tries again.
        with self.celery.producer_or_acquire() as producer, producer.batch():
            for event in events:
                for subscription in SUBSCRIPTIONS[event.name]:
                    self._send(producer, event, subscription)

    def _send(self, producer: Producer, event: OutboxEvent, subscription: Subscription) -> None:
        # Published later than the change, often by the relay: the span belongs to the
        # change's trace, and the W3C context in the message headers carries it on to
        # the receiving task. (The Celery instrumentor's publish hook leaks its span
        # for tasks sent by name.)
        with _tracer.start_as_current_span(
            f"publish {event.name}", context=extract(event.trace), kind=SpanKind.PRODUCER
        ):
            headers: dict[str, str] = {}
            inject(headers)
            self.celery.send_task(
                subscription.task,
                kwargs=event.ids,
                task_id=message_id(event.id, subscription),
                headers=headers,
                queue=subscription.queue,
                producer=producer,
                retry=False,
            )
