"""Cross-service events over the broker, sent only after the transaction commits.

An event carries ids only (never personal data): receivers read what they need
through their own data or the gateway. Each event name maps to the Celery tasks of
the services that react to it; the publisher sends one message per subscriber to
that subscriber's queue, so services stay decoupled from each other's code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from celery import Celery
from kombu.messaging import Producer
from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.trace import SpanKind

from mdm_common.contracts import SUBSCRIPTIONS, Subscription

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("mdm_common.events")

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def make_celery(name: str, broker_url: str) -> Celery:
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
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
    )
    return app


@dataclass
class Outbox:
    """Events recorded during a request, published after its transaction commits.

    ``record`` inside the unit of work, ``publish`` after commit, ``discard`` on
    rollback. A failure to publish is logged, never raised: the data is committed,
    and batch re-matching picks up anything an event did not reach.
    """

    celery: Celery
    _pending: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def record(self, event: str, **ids: str) -> None:
        if event not in SUBSCRIPTIONS:
            raise ValueError(f"unknown event {event}")
        for key, value in ids.items():
            if not _ID.fullmatch(value):
                raise ValueError(f"event field {key} is not an id")
        self._pending.append((event, ids))

    def discard(self) -> None:
        self._pending.clear()

    def publish(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        # One producer (one broker connection) for the whole batch instead of one
        # acquired from the pool per message: an ingest batch sends 500.
        try:
            with self.celery.producer_or_acquire() as producer:
                for event, ids in pending:
                    for subscription in SUBSCRIPTIONS[event]:
                        self._send(producer, event, subscription, ids)
        except Exception as exc:
            log.error("could not publish events: %s", type(exc).__name__)

    def _send(
        self, producer: Producer, event: str, subscription: Subscription, ids: dict[str, str]
    ) -> None:
        with _tracer.start_as_current_span(f"publish {event}", kind=SpanKind.PRODUCER):
            # The W3C trace context travels in the message headers, so the
            # receiving task continues this trace. (The Celery instrumentor's
            # publish hook leaks its span for tasks sent by name.)
            headers: dict[str, str] = {}
            inject(headers)
            try:
                self.celery.send_task(
                    subscription.task,
                    kwargs=ids,
                    headers=headers,
                    queue=subscription.queue,
                    producer=producer,
                    retry=True,
                    retry_policy={"max_retries": 3, "interval_start": 0.2},
                )
            except Exception as exc:
                log.error("could not publish %s: %s", event, type(exc).__name__)
