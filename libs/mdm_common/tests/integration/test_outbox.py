"""Events reach the real broker with ids only and the trace context in the headers."""

from __future__ import annotations

import base64
import json

import redis
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from mdm_common.contracts import Event
from mdm_common.events import Outbox, make_celery
from mdm_infra.platform import Platform


def test_published_event_carries_ids_and_traceparent(backing_servers: Platform) -> None:
    # Database 5 of the broker: no worker of the test platform consumes there.
    url = backing_servers.config.broker.url.rsplit("/", 1)[0] + "/5"
    broker = redis.Redis.from_url(url)
    broker.delete("matching")
    person_id = "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"
    tracer = TracerProvider().get_tracer("test")

    outbox = Outbox(make_celery("test", url))
    with tracer.start_as_current_span("request") as span:
        outbox.record(Event.PERSON_CREATED, person_id=person_id)
        outbox.publish()
        trace_id = format(span.get_span_context().trace_id, "032x")

    raw = broker.lpop("matching")
    assert raw is not None
    message = json.loads(raw)
    assert message["headers"]["task"] == "matching.on_person_created"
    assert trace_id in message["headers"]["traceparent"]
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([], {"person_id": person_id})
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left open
