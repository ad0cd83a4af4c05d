"""One trace from the gateway through a subgraph, its Cypher and the Celery task."""

from __future__ import annotations

import secrets
import time

from mdm_infra.client import GatewayClient
from mdm_infra.otlp import OtlpReceiver, ReceivedSpan

from .queries import CREATE_PERSON, person_input

# Distinctive values, so that finding them in any exported attribute is meaningful.
GIVEN, FAMILY, EMAIL = "Traceline", "Spurenfeld", "traceline.spurenfeld@example.org"


# The span each service must have sent before a trace counts as complete: spans are
# exported in batches when they end, so a service's outer span (the operation, the
# task) may come a batch after the spans inside it.
WHOLE_TRACE = {
    "gateway": "CreatePerson",
    "profile": "CreatePerson",
    "matching-worker": "matching.on_person_created",
}
# The same for an operation without a name.
WHOLE_ANONYMOUS_TRACE = WHOLE_TRACE | {"gateway": "graphql.operation", "profile": "anonymous"}


def spans_of_trace(
    receiver: OtlpReceiver, trace_id: str, required: dict[str, str], timeout_s: float = 60
) -> list[ReceivedSpan]:
    """The spans of a trace once each service in ``required`` sent a span whose name
    contains the given text."""
    # Generous: in a full run the one matching worker may still be working off the
    # events of the tests before (its task span comes when it gets to this one).
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        in_trace = [s for s in receiver.snapshot() if s.trace_id == trace_id]
        if all(
            any(s.service == service and text in s.name for s in in_trace)
            for service, text in required.items()
        ):
            return in_trace
        time.sleep(0.2)
    seen = sorted({(s.service, s.name) for s in receiver.snapshot() if s.trace_id == trace_id})
    raise AssertionError(f"trace {trace_id} incomplete; spans seen: {seen}")


def test_one_trace_spans_gateway_subgraph_cypher_and_task(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver
) -> None:
    # The client starts the trace, so the test knows its id (W3C traceparent).
    trace_id = secrets.token_hex(16)
    response = gateway.post(
        CREATE_PERSON,
        {"input": person_input(givenName=GIVEN, familyName=FAMILY, email=EMAIL)},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert "errors" not in response.json()

    trace = spans_of_trace(otlp_receiver, trace_id, WHOLE_TRACE)

    names: dict[str, set[str]] = {}
    for span in trace:
        names.setdefault(span.service, set()).add(span.name)
    assert any("CreatePerson" in n for n in names["gateway"]), names
    assert any("CreatePerson" in n for n in names["profile"]), names
    assert "cypher person.create_many" in names["profile"]  # a new person: one statement
    assert "publish profile.person_created" in names["profile"]
    assert any("matching.on_person_created" in n for n in names["matching-worker"]), names
    assert "cypher subject.register" in names["matching-worker"]


def test_no_personal_data_in_exported_spans(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver
) -> None:
    # Inline literals (not variables): the worst case for leaking into a span.
    trace_id = secrets.token_hex(16)
    response = gateway.post(
        f'mutation {{ createPerson(input: {{givenName: "{GIVEN}", familyName: "{FAMILY}", '
        f'email: "{EMAIL}"}}) {{ id }} }}',
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert "errors" not in response.json()
    trace = spans_of_trace(otlp_receiver, trace_id, WHOLE_ANONYMOUS_TRACE)
    assert len(trace) > 10
    # Every span exported so far, from every test, not only this trace.
    for span in otlp_receiver.snapshot():
        exported = f"{span.name} {span.attributes}"
        for value in (GIVEN, FAMILY, EMAIL):
            assert value not in exported, (span.service, span.name)
