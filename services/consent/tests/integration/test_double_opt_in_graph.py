"""Double opt-in and form submissions against the real graph server: the proof and the
confirmation window stored with the events and facts, the request in the outbox, a
submission all or none."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput
from mdm_common.graph import GraphClient
from mdm_common.outbox import OUTBOX_EVENT
from mdm_consent.adapters.transactions import GraphTransactions
from mdm_consent.domain import checks, consents, submissions
from mdm_consent.domain.models import ActorType, Channel, EventType, Method
from mdm_consent.domain.rules import Reason

from .test_consent_graph import NOW, KnownPersons, _grant, _purpose, _transactions

WINDOW = timedelta(days=3)
TOKEN = "token-of-the-link-7f3a9c"


async def _outbox(graph: GraphClient, pending_id: str) -> list[dict[str, object]]:
    rows = await graph.read(
        lambda tx: tx.run(
            "test_doi_outbox",
            f"MATCH (e:{OUTBOX_EVENT}) WHERE e.name = $name AND e.payload CONTAINS $id "
            "RETURN e.payload AS payload, e.pending AS pending",
            name=Event.DOUBLE_OPT_IN_REQUESTED,
            id=pending_id,
        )
    )
    return [{"ids": json.loads(str(r["payload"])), "pending": r["pending"]} for r in rows]


async def _record(
    transactions: GraphTransactions, draft: consents.EventDraft, after: timedelta
) -> consents.ConsentEvent:
    return await consents.record_event(
        replace(draft, occurred_at=NOW + after),
        directory=KnownPersons(draft.person_id),
        transactions=transactions,
        now=NOW + after,
        recorded_by="crm-app",
        confirm_within=WINDOW,
    )


async def _reason(
    transactions: GraphTransactions, person: str, code: str, after: timedelta
) -> Reason:
    (found,) = await transactions.read(
        lambda s: checks.contact_check(
            [person], s, purpose=code, channel=Channel.EMAIL, at=NOW + after
        )
    )
    return found.verdict.reason


class TestDoubleOptIn:
    async def test_request_and_confirmation_are_stored_with_their_proof(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        asked = _grant(
            person,
            code,
            type=EventType.PENDING_DOUBLE_OPT_IN,
            channel=Channel.EMAIL,
            ip_address="203.0.113.77",
        )
        pending = await _record(transactions, asked, timedelta())
        assert await _outbox(graph_for("consent"), pending.id) == [
            {
                "ids": {
                    "person_id": person,
                    "purpose": code,
                    "channel": "EMAIL",
                    "pending_event_id": pending.id,
                },
                "pending": True,
            }
        ]
        confirm = _grant(
            person,
            code,
            type=EventType.CONFIRMED,
            confirms=pending.id,
            method=Method.EMAIL_LINK,
            channel=None,
            notice_version=None,
            confirmation_token=TOKEN,
            ip_address="2001:db8:abcd:12::1",
        )
        confirmed = await _record(transactions, confirm, timedelta(hours=2))
        history = await transactions.read(lambda s: s.consents.history_of([person]))
        assert history[person] == [confirmed, pending]
        assert (pending.confirm_by, pending.ip_network) == (NOW + WINDOW, "203.0.113.0/24")
        assert (confirmed.token_sha256, confirmed.ip_network) == (
            hashlib.sha256(TOKEN.encode()).hexdigest(),
            "2001:db8:abcd::/48",
        )
        assert await _reason(transactions, person, code, WINDOW * 2) is Reason.CONSENT_GIVEN

    async def test_the_stored_request_lapses_and_cannot_be_confirmed_then(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        asked = _grant(person, code, type=EventType.PENDING_DOUBLE_OPT_IN, channel=Channel.EMAIL)
        pending = await _record(transactions, asked, timedelta())
        assert await _reason(transactions, person, code, WINDOW) is Reason.DOUBLE_OPT_IN_LAPSED
        confirm = _grant(
            person,
            code,
            type=EventType.CONFIRMED,
            confirms=pending.id,
            method=Method.EMAIL_LINK,
            channel=None,
            notice_version=None,
            confirmation_token=TOKEN,
        )
        with pytest.raises(Conflict) as raised:
            await _record(transactions, confirm, WINDOW)
        assert raised.value.details == {"reason": "DOUBLE_OPT_IN_LAPSED"}

    async def test_a_plain_grant_for_email_marketing_writes_nothing(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        with pytest.raises(InvalidInput) as raised:
            await _record(transactions, _grant(person, code, channel=Channel.EMAIL), timedelta())
        assert raised.value.details == {"reason": "DOUBLE_OPT_IN_REQUIRED"}
        history = await transactions.read(lambda s: s.consents.history_of([person]))
        assert history[person] == []


def _form(
    person: str, code: str, other: str, *items: submissions.SubmissionItem
) -> submissions.SubmissionDraft:
    return submissions.SubmissionDraft(
        person_id=person,
        collection_point="shop-signup",
        method=Method.WEB_FORM,
        actor=ActorType.DATA_SUBJECT,
        occurred_at=NOW,
        language="de",
        evidence_ref="form-9",
        items=items
        or (
            submissions.SubmissionItem(code, Channel.EMAIL, 1),
            submissions.SubmissionItem(other, Channel.PHONE, 1),
        ),
    )


class TestSubmission:
    async def test_one_event_per_item_in_one_transaction(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code, other = await _purpose(transactions), await _purpose(transactions)
        person = str(uuid.uuid4())
        done = await submissions.record_submission(
            _form(person, code, other),
            directory=KnownPersons(person),
            transactions=transactions,
            now=NOW,
            recorded_by="crm-app",
        )
        history = await transactions.read(lambda s: s.consents.history_of([person]))
        assert {e.id: e for e in history[person]} == {e.id: e for e in done.events}
        assert {e.submission_id for e in history[person]} == {done.submission_id}
        assert {(e.type, e.purpose) for e in history[person]} == {
            (EventType.PENDING_DOUBLE_OPT_IN, code),
            (EventType.GRANTED, other),
        }
        pending = next(e for e in done.events if e.type is EventType.PENDING_DOUBLE_OPT_IN)
        assert len(await _outbox(graph_for("consent"), pending.id)) == 1

    async def test_a_refused_item_writes_no_event_and_announces_nothing(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code, other = await _purpose(transactions), await _purpose(transactions)
        person = str(uuid.uuid4())
        form = _form(
            person,
            code,
            other,
            submissions.SubmissionItem(code, Channel.EMAIL, 1),
            submissions.SubmissionItem(other, Channel.SMS, 1),
        )
        with pytest.raises(InvalidInput) as raised:
            await submissions.record_submission(
                form,
                directory=KnownPersons(person),
                transactions=transactions,
                now=NOW,
                recorded_by="crm-app",
            )
        assert raised.value.details == {"reason": "CHANNEL_NOT_COVERED", "index": 1}
        history = await transactions.read(lambda s: s.consents.history_of([person]))
        assert history[person] == []
        rows = await graph_for("consent").read(
            lambda tx: tx.run(
                "test_doi_outbox_person",
                f"MATCH (e:{OUTBOX_EVENT}) WHERE e.payload CONTAINS $p RETURN count(e) AS n",
                p=person,
            )
        )
        assert rows[0]["n"] == 0
