"""A form asking for several purposes: an event per purpose and channel (GDPR Art. 7(2))."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import InvalidInput, NotFound
from mdm_consent.domain.access_export import _consent_items
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.reports import render_history
from mdm_consent.domain.rules import Reason, decide
from mdm_consent.domain.submissions import (
    MAX_ITEMS,
    ConsentSubmission,
    SubmissionDraft,
    SubmissionItem,
    record_submission,
)

from .facts import NEWSLETTER, notice
from .memory import Directory, Graph
from .test_consents import NOW

PERSON = "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"
PROFILING = replace(
    NEWSLETTER,
    code="profiling",
    channels=(Channel.PERSONALISED_WEB,),
    notices=(notice(1), replace(notice(2), purpose="profiling", sha256="y")),
)
RAFFLE = replace(NEWSLETTER, code="raffle", legal_basis=LegalBasis.CONSENT)
FORM = SubmissionDraft(
    person_id=PERSON,
    collection_point="shop-signup",
    method=Method.WEB_FORM,
    actor=ActorType.DATA_SUBJECT,
    language="de",
    evidence_ref="form-8812",
    ip_address="198.51.100.23",
    items=(
        SubmissionItem("newsletter", Channel.EMAIL, 1),
        SubmissionItem("newsletter", Channel.SMS, 1),
        SubmissionItem("profiling", Channel.PERSONALISED_WEB, 2),
    ),
)


async def submit(graph: Graph, **change: Any) -> ConsentSubmission:
    return await record_submission(
        replace(FORM, **change),
        directory=Directory(),
        transactions=graph,
        now=NOW,
        recorded_by="shop-app",
        confirm_within=timedelta(days=7),
    )


class TestASubmission:
    async def test_records_an_event_per_purpose_and_channel_with_its_own_proof(self) -> None:
        graph = Graph(NEWSLETTER, PROFILING, RAFFLE)
        done = await submit(graph)
        assert graph.events == list(done.events)
        assert {e.submission_id for e in done.events} == {done.submission_id}
        assert [
            (e.type, e.purpose, e.channel, e.notice_version, e.notice_sha256) for e in done.events
        ] == [
            (EventType.PENDING_DOUBLE_OPT_IN, "newsletter", Channel.EMAIL, 1, "x"),
            (EventType.GRANTED, "newsletter", Channel.SMS, 1, "x"),
            (EventType.GRANTED, "profiling", Channel.PERSONALISED_WEB, 2, "y"),
        ]
        assert {(e.evidence_ref, e.ip_network, e.language) for e in done.events} == {
            ("form-8812", "198.51.100.0/24", "de")
        }

    async def test_email_marketing_goes_through_the_double_opt_in(self) -> None:
        graph = Graph(NEWSLETTER, PROFILING, RAFFLE)
        done = await submit(graph)
        pending = done.events[0]
        assert pending.confirm_by == NOW + timedelta(days=7)
        assert graph.mailer_requests() == [
            (
                Event.DOUBLE_OPT_IN_REQUESTED,
                {
                    "person_id": PERSON,
                    "purpose": "newsletter",
                    "channel": "EMAIL",
                    "pending_event_id": pending.id,
                },
            )
        ]
        facts = [e.fact for e in graph.events]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, NOW).reason is (
            Reason.DOUBLE_OPT_IN_PENDING
        )
        assert decide(NEWSLETTER, Channel.SMS, facts, NOW).allowed

    async def test_granting_one_purpose_implies_no_other(self) -> None:
        graph = Graph(NEWSLETTER, PROFILING, RAFFLE)
        await submit(graph)
        assert [e for e in graph.events if e.purpose == "raffle"] == []
        facts = [e.fact for e in graph.events]
        assert decide(RAFFLE, Channel.SMS, facts, NOW).reason is Reason.NO_CONSENT
        assert decide(NEWSLETTER, Channel.PHONE, facts, NOW).reason is Reason.NO_CONSENT


class TestRefusedAsAWhole:
    async def test_the_same_purpose_and_channel_twice(self) -> None:
        graph = Graph(NEWSLETTER, PROFILING)
        twice = (*FORM.items, SubmissionItem("newsletter", Channel.SMS, 1))
        with pytest.raises(InvalidInput) as raised:
            await submit(graph, items=twice)
        assert (raised.value.field, raised.value.details) == (
            "items",
            {"reason": "DUPLICATE_ITEM", "index": 3},
        )
        assert graph.events == []

    @pytest.mark.parametrize("count", [0, MAX_ITEMS + 1])
    async def test_without_items_or_too_many(self, count: int) -> None:
        items = tuple(SubmissionItem(f"p{i:03}", Channel.SMS, 1) for i in range(count))
        with pytest.raises(InvalidInput) as raised:
            await submit(Graph(), items=items)
        assert raised.value.field == "items"

    async def test_an_item_without_its_proof(self) -> None:
        items = (FORM.items[0], replace(FORM.items[1], notice_version=None))
        with pytest.raises(InvalidInput) as raised:
            await submit(Graph(NEWSLETTER), items=items)
        assert raised.value.details == {
            "reason": "PROOF_MISSING",
            "missing": ["noticeVersion"],
            "index": 1,
        }

    async def test_one_bad_item_writes_nothing(self) -> None:
        graph = Graph(NEWSLETTER, PROFILING)
        items = (*FORM.items, SubmissionItem("profiling", Channel.EMAIL, 1))
        with pytest.raises(InvalidInput) as raised:
            await submit(graph, items=items)
        assert raised.value.details == {"reason": "CHANNEL_NOT_COVERED", "index": 3}
        with pytest.raises(NotFound) as missing:
            await submit(graph, items=(*FORM.items[:2], replace(FORM.items[2], notice_version=9)))
        assert missing.value.details["index"] == 2
        assert (graph.events, graph.outbox) == ([], [])

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"occurred_at": NOW - timedelta(days=1)}, "NOT_NOW"),
            ({"method": Method.IMPORT}, "USE_IMPORT"),
        ],
    )
    async def test_what_did_not_happen_now(self, change: dict[str, Any], reason: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            await submit(Graph(NEWSLETTER, PROFILING), **change)
        assert raised.value.details["reason"] == reason


class TestShownWithItsEvents:
    async def test_in_the_printable_document_and_the_data_subject_export(self) -> None:
        graph = Graph(NEWSLETTER, PROFILING)
        done = await submit(graph)
        pending = done.events[0]
        text = render_history(
            PERSON, list(done.events), {"newsletter": NEWSLETTER}, reader="officer-7", now=NOW
        )
        assert text.count(f"Form submission: {done.submission_id}") == 3
        assert "Requested from network: 198.51.100.0/24" in text
        assert f"Lapses unless confirmed by: {pending.confirm_by.isoformat()}" in text  # type: ignore[union-attr]
        items = _consent_items(done.events, [], [])
        proofs = [json.loads(i.value) for i in items]
        assert {p["submissionId"] for p in proofs} == {done.submission_id}
        assert proofs[0]["ipNetwork"] == "198.51.100.0/24"
        assert "confirmationTokenSha256" not in proofs[0]  # a request has no confirmation yet
