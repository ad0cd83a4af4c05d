"""Purposes, the consent history and the contact check against the real graph server."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import audit, checks, consents, purposes
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.ports import ProfilePerson
from mdm_consent.domain.rules import Reason

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COMPLIANCE = Principal("officer-1", frozenset({Role.COMPLIANCE}))


class KnownPersons:
    """The profile service's answer, for tests that are about the consent graph."""

    def __init__(self, *known: str) -> None:
        self.known = set(known)

    async def resolve(self, person_id: str) -> str | None:
        return person_id if person_id in self.known else None

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        found = await self.resolve(person_id)
        return ProfilePerson(found) if found is not None else None


async def _transactions(graph_for: Callable[[str], GraphClient]) -> GraphTransactions:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    return GraphTransactions(graph)


async def _purpose(transactions: GraphTransactions, **overrides: object) -> str:
    code = "news-" + uuid.uuid4().hex[:10]
    draft = purposes.PurposeDraft(
        code=code,
        name="Newsletter",
        description="Our monthly newsletter.",
        legal_basis=LegalBasis.CONSENT,
        channels=(Channel.EMAIL, Channel.PHONE),
        data_categories=("identity", "email"),
        retention_days=730,
        direct_marketing=True,
    )
    draft = replace(draft, **overrides)  # type: ignore[arg-type]
    await transactions.write(lambda s: purposes.register_purpose(draft, s, now=NOW, actor="o"))
    notice = purposes.NoticeDraft(
        purpose=code, language="de", text="Wir senden ...", material=False
    )
    await transactions.write(lambda s: purposes.publish_notice(notice, s, now=NOW, actor="o"))
    return code


def _grant(person_id: str, purpose: str, **overrides: object) -> consents.EventDraft:
    draft = consents.EventDraft(
        person_id=person_id,
        type=EventType.GRANTED,
        collection_point="shop-checkout",
        method=Method.WEB_FORM,
        actor=ActorType.DATA_SUBJECT,
        occurred_at=NOW,
        purpose=purpose,
        channel=Channel.PHONE,  # e-mail marketing needs a double opt-in (see its test)
        notice_version=1,
        language="de",
        evidence_ref="form-submission-17",
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


# These tests write histories of the past straight through the domain: any time
# counts. That an event recorded through the API happens now is tested in
# unit/test_recording.py and through the gateway in tests/faults/test_consent_rules.py.
ANY_TIME = timedelta.max


async def _record(transactions: GraphTransactions, draft: consents.EventDraft) -> str:
    event = await consents.record_event(
        draft,
        directory=KnownPersons(draft.person_id),
        transactions=transactions,
        now=NOW + timedelta(hours=1),
        recorded_by="crm-app",
        skew=ANY_TIME,
    )
    return event.id


class TestPurposeRegistry:
    async def test_notice_versions_are_numbered_and_hashed(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        second = purposes.NoticeDraft(purpose=code, language="de", text="Neu", material=True)
        await transactions.write(lambda s: purposes.publish_notice(second, s, now=NOW, actor="o"))
        found = await transactions.read(lambda s: s.purposes.get(code, texts=True))
        assert found is not None
        assert [(n.version, n.material, n.text) for n in found.notices] == [
            (1, False, "Wir senden ..."), (2, True, "Neu"),
        ]  # fmt: skip
        assert found.notices[1].sha256 == hashlib.sha256(b"Neu").hexdigest()

    async def test_a_code_is_registered_once(self, graph_for: Callable[[str], GraphClient]) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        with pytest.raises(Conflict) as raised:
            await _purpose(transactions, code=code)
        assert raised.value.details == {"reason": "DUPLICATE_PURPOSE"}


class TestHistory:
    async def test_events_come_back_with_their_proof_newest_first(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        granted = await _record(transactions, _grant(person, code))
        withdrawn = await _record(transactions, _grant(
            person, code, type=EventType.WITHDRAWN, occurred_at=NOW + timedelta(minutes=1),
            method=Method.PREFERENCE_CENTRE, notice_version=None, language=None,
            evidence_ref=None, channel=None,
        ))  # fmt: skip
        history = await transactions.write(
            lambda s: audit.read_histories([person], s, reader=COMPLIANCE, operation="t", now=NOW)
        )
        assert [e.id for e in history[person]] == [withdrawn, granted]
        grant = history[person][1]
        assert (grant.collection_point, grant.evidence_ref, grant.language) == (
            "shop-checkout",
            "form-submission-17",
            "de",
        )
        assert grant.notice_sha256 is not None
        assert grant.recorded_by == "crm-app"
        reads = await transactions.read(lambda s: audit.reads_of(person, s, since=None, limit=10))
        assert [(r.reader, r.roles, r.operation) for r in reads] == [
            ("officer-1", ("compliance",), "t")
        ]

    async def test_an_unknown_person_is_refused(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        with pytest.raises(NotFound) as raised:
            await consents.record_event(
                _grant(str(uuid.uuid4()), code),
                directory=KnownPersons(),
                transactions=transactions,
                now=NOW,
                recorded_by="a",
            )
        assert raised.value.field == "personId"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"notice_version": 9}, "noticeVersion"),
            ({"channel": Channel.SMS}, "channel"),
            ({"purpose": "no-such-purpose"}, "purpose"),
        ],
    )
    async def test_a_refused_event_writes_nothing(
        self, graph_for: Callable[[str], GraphClient], change: dict[str, object], field: str
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        with pytest.raises((InvalidInput, NotFound)) as raised:
            await _record(transactions, replace(_grant(person, code), **change))  # type: ignore[arg-type]
        assert raised.value.field == field
        history = await transactions.read(lambda s: s.consents.history_of([person]))
        facts = await transactions.read(lambda s: s.consents.facts_of([person], code))
        assert history[person] == []
        assert facts[person].facts == ()


class TestContactCheck:
    async def test_batch_answers_in_order_from_the_current_state(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        granted, pending, nothing = (str(uuid.uuid4()) for _ in range(3))
        await _record(transactions, _grant(granted, code))
        await _record(
            transactions,
            _grant(pending, code, type=EventType.PENDING_DOUBLE_OPT_IN, channel=Channel.EMAIL),
        )
        # Evidence of age counts for every purpose: it is found through the person.
        await _record(transactions, consents.EventDraft(
            person_id=granted, type=EventType.AGE_EVIDENCE, collection_point="shop",
            method=Method.ID_DOCUMENT, actor=ActorType.STAFF, staff_id="s-1",
            occurred_at=NOW, evidence_ref="id-check-3", birth_date=datetime(1990, 1, 1).date(),
        ))  # fmt: skip
        ids = [nothing, granted, pending]
        found = await transactions.read(
            lambda s: checks.contact_check(
                ids, s, purpose=code, channel=Channel.PHONE, at=NOW + timedelta(days=1)
            )
        )
        assert [(d.person_id, d.verdict.allowed, d.verdict.reason) for d in found] == [
            (nothing, False, Reason.NO_CONSENT),
            (granted, True, Reason.CONSENT_GIVEN),
            (pending, False, Reason.NO_CONSENT),
        ]
        pending_mail = await transactions.read(
            lambda s: checks.contact_check(
                [pending], s, purpose=code, channel=Channel.EMAIL, at=NOW + timedelta(days=1)
            )
        )
        assert pending_mail[0].verdict.reason == Reason.DOUBLE_OPT_IN_PENDING
        single = await transactions.read(
            lambda s: checks.contact_check(
                [granted], s, purpose=code, channel=Channel.EMAIL, at=NOW + timedelta(days=1)
            )
        )
        assert single[0].verdict.reason == Reason.NO_CONSENT

    async def test_the_consent_state_at_a_time_covers_every_purpose_and_channel(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        await _record(transactions, _grant(person, code))

        def state(at: datetime) -> dict[tuple[str, Channel], bool]:
            return {
                (d.purpose, d.channel): d.verdict.allowed for d in found[at] if d.purpose == code
            }

        found = {
            at: await transactions.read(lambda s, at=at: checks.consent_state(person, s, at=at))
            for at in (NOW - timedelta(days=1), NOW + timedelta(days=1))
        }

        before = NOW - timedelta(days=1)
        assert state(before) == {(code, Channel.EMAIL): False, (code, Channel.PHONE): False}
        assert state(NOW + timedelta(days=1)) == {
            (code, Channel.EMAIL): False,  # e-mail marketing needs a double opt-in
            (code, Channel.PHONE): True,
        }
        # Every registered purpose, each channel once, in order.
        keys = [(d.purpose, d.channel.value) for d in found[before]]
        assert keys == sorted(set(keys))

    async def test_confirming_a_double_opt_in_twice_is_a_conflict(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        code = await _purpose(transactions)
        person = str(uuid.uuid4())
        pending = await _record(
            transactions,
            _grant(person, code, type=EventType.PENDING_DOUBLE_OPT_IN, channel=Channel.EMAIL),
        )
        confirm = _grant(
            person,
            code,
            type=EventType.CONFIRMED,
            confirms=pending,
            method=Method.EMAIL_LINK,
            channel=None,
            notice_version=None,
            occurred_at=NOW + timedelta(minutes=3),
            confirmation_token="token-of-the-link-0001",
        )
        await _record(transactions, confirm)
        with pytest.raises(Conflict) as raised:
            await _record(transactions, confirm)
        assert raised.value.details == {"reason": "ALREADY_CONFIRMED"}
        found = await transactions.read(
            lambda s: checks.contact_check(
                [person], s, purpose=code, channel=Channel.EMAIL, at=NOW + timedelta(minutes=4)
            )
        )
        assert found[0].verdict.reason == Reason.CONSENT_GIVEN
        assert found[0].verdict.deciding is not None
        assert found[0].verdict.deciding.notice_version == 1  # taken over from the pending one
