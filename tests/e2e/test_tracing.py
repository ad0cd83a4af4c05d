"""One trace from the gateway through a subgraph, its Cypher and the Celery task."""

from __future__ import annotations

import time

from mdm_infra.client import GatewayClient
from mdm_infra.otlp import OtlpReceiver, ReceivedSpan

from .queries import CREATE_PERSON, person_input

# Distinctive values, so that finding them in any exported attribute is meaningful.
GIVEN, FAMILY, EMAIL = "Traceline", "Spurenfeld", "traceline.spurenfeld@example.org"


def spans_of_trace(
    receiver: OtlpReceiver, predicate: object, timeout_s: float = 20
) -> list[ReceivedSpan]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        spans = receiver.snapshot()
        trace_ids = {s.trace_id for s in spans if predicate(s)}  # type: ignore[operator]
        for trace_id in trace_ids:
            in_trace = [s for s in spans if s.trace_id == trace_id]
            services = {s.service for s in in_trace}
            if {"gateway", "profile", "matching-worker"} <= services:
                return in_trace
        time.sleep(0.2)
    raise AssertionError(
        f"no complete trace; services seen: {sorted({s.service for s in receiver.snapshot()})}"
    )


def test_one_trace_spans_gateway_subgraph_cypher_and_task(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver
) -> None:
    person_id = gateway.execute(
        CREATE_PERSON, {"input": person_input(givenName=GIVEN, familyName=FAMILY, email=EMAIL)}
    )["createPerson"]["id"]

    trace = spans_of_trace(
        otlp_receiver,
        lambda s: s.service == "matching-worker" and "matching.on_person_created" in s.name,
    )

    names_by_service: dict[str, set[str]] = {}
    for span in trace:
        names_by_service.setdefault(span.service, set()).add(span.name)
    assert any("CreatePerson" in n for n in names_by_service["profile"]), names_by_service
    assert "cypher person.upsert_many" in names_by_service["profile"]
    assert any(n.startswith("publish profile.person_created") for n in names_by_service["profile"])
    assert "cypher subject.register" in names_by_service["matching-worker"]
    assert len({s.trace_id for s in trace}) == 1
    assert person_id  # the id itself is not personal data and may appear


def test_no_personal_data_in_exported_spans(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver
) -> None:
    # Inline literals (not variables): the worst case for leaking into a span.
    gateway.execute(
        f'mutation {{ createPerson(input: {{givenName: "{GIVEN}", familyName: "{FAMILY}", '
        f'email: "{EMAIL}"}}) {{ id }} }}'
    )
    spans_of_trace(otlp_receiver, lambda s: s.service == "matching-worker")
    time.sleep(1)  # let the last batches arrive
    for span in otlp_receiver.snapshot():
        exported = f"{span.name} {span.attributes}"
        for value in (GIVEN, FAMILY, EMAIL):
            assert value not in exported, (span.service, span.name)
