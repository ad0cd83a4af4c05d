"""Double opt-in for e-mail marketing (UWG §7(2) Nr. 2): the rule, the proof, recording."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from mdm_common.contracts import SUBSCRIPTIONS, Event
from mdm_common.errors import Conflict, InvalidInput
from mdm_consent.domain import consents, double_opt_in, imports
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.rules import Reason, decide

from .facts import CUSTOMER_MAIL, NEWSLETTER, T0, at, fact
from .memory import Directory, Graph
from .test_consents import GRANT, NOW

WINDOW = timedelta(days=7)
TOKEN = "k3J9-confirm-token-0f1e2d3c4b5a"
UPDATES = replace(NEWSLETTER, code="updates", direct_marketing=False)  # service mails


class TestTheContactCheck:
    def test_a_plain_grant_is_no_email_marketing_consent(self) -> None:
        grant = fact(EventType.GRANTED)
        verdict = decide(NEWSLETTER, Channel.EMAIL, [grant], at(1))
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False,
            Reason.DOUBLE_OPT_IN_REQUIRED,
            grant,
        )

    def test_other_channels_and_purposes_need_none(self) -> None:
        sms = fact(EventType.GRANTED, channel=Channel.SMS)
        assert decide(NEWSLETTER, Channel.SMS, [sms], at(1)).reason is Reason.CONSENT_GIVEN
        mail = fact(EventType.GRANTED, purpose="updates")
        assert decide(UPDATES, Channel.EMAIL, [mail], at(1)).reason is Reason.CONSENT_GIVEN

    def test_email_advertising_on_another_basis_needs_it_too(self) -> None:
        grant = fact(EventType.GRANTED, purpose="customer-mail")
        assert decide(CUSTOMER_MAIL, Channel.EMAIL, [grant], at(1)).allowed is False
        confirmed = fact(EventType.CONFIRMED, 2, purpose="customer-mail", confirms="p")
        verdict = decide(CUSTOMER_MAIL, Channel.EMAIL, [grant, confirmed], at(3))
        assert (verdict.allowed, verdict.reason) == (True, Reason.CONSENT_GIVEN)

    def test_pending_until_confirmed_within_its_window(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN, confirm_by=T0 + WINDOW)
        just_before = T0 + WINDOW - timedelta(seconds=1)
        assert decide(NEWSLETTER, Channel.EMAIL, [pending], just_before).reason is (
            Reason.DOUBLE_OPT_IN_PENDING
        )
        lapsed = decide(NEWSLETTER, Channel.EMAIL, [pending], T0 + WINDOW)
        assert (lapsed.reason, lapsed.deciding) == (Reason.DOUBLE_OPT_IN_LAPSED, pending)
        confirmed = fact(EventType.CONFIRMED, 60, confirms=pending.id)
        assert decide(NEWSLETTER, Channel.EMAIL, [pending, confirmed], T0 + WINDOW).allowed

    def test_a_request_without_its_window_lapses_after_the_default(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN)
        window = double_opt_in.DEFAULT_WINDOW
        assert decide(NEWSLETTER, Channel.EMAIL, [pending], T0 + window).reason is (
            Reason.DOUBLE_OPT_IN_LAPSED
        )

    @pytest.mark.parametrize(
        ("values", "reason"),
        [
            ({"imported": True, "method": Method.EMAIL_LINK}, Reason.CONSENT_GIVEN),
            ({"imported": True, "method": Method.WEB_FORM}, Reason.DOUBLE_OPT_IN_REQUIRED),
            ({"method": Method.EMAIL_LINK}, Reason.DOUBLE_OPT_IN_REQUIRED),
            ({"method": Method.IMPORT}, Reason.DOUBLE_OPT_IN_REQUIRED),
        ],
    )
    def test_of_imported_grants_only_a_former_double_opt_in_counts(
        self, values: dict[str, Any], reason: Reason
    ) -> None:
        grant = fact(EventType.GRANTED, **values)
        assert decide(NEWSLETTER, Channel.EMAIL, [grant], at(1)).reason is reason

    def test_a_plain_grant_after_a_withdrawal_says_what_is_missing(self) -> None:
        withdrawn = fact(EventType.WITHDRAWN, 1, channel=None)
        grant = fact(EventType.GRANTED, 2)
        assert decide(NEWSLETTER, Channel.EMAIL, [withdrawn, grant], at(3)).reason is (
            Reason.DOUBLE_OPT_IN_REQUIRED
        )
        later = fact(EventType.WITHDRAWN, 4, channel=None)
        assert decide(NEWSLETTER, Channel.EMAIL, [grant, later], at(5)).reason is (Reason.WITHDRAWN)

    def test_a_plain_grant_neither_ends_a_pending_request_nor_a_confirmed_consent(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN, confirm_by=T0 + WINDOW)
        grant = fact(EventType.GRANTED, 1)
        assert decide(NEWSLETTER, Channel.EMAIL, [pending, grant], at(2)).reason is (
            Reason.DOUBLE_OPT_IN_PENDING
        )
        confirmed = fact(EventType.CONFIRMED, 3, confirms=pending.id)
        facts = [pending, grant, confirmed, fact(EventType.GRANTED, 4)]
        verdict = decide(NEWSLETTER, Channel.EMAIL, facts, at(5))
        assert (verdict.allowed, verdict.deciding) == (True, confirmed)

    def test_a_plain_grant_does_not_lift_an_objection(self) -> None:
        objection = fact(EventType.OBJECTED, purpose=None, channel=None)
        grant = fact(EventType.GRANTED, 5, method=Method.PREFERENCE_CENTRE)
        assert decide(NEWSLETTER, Channel.EMAIL, [objection, grant], at(6)).reason is (
            Reason.OBJECTED
        )


class TestTheProof:
    @pytest.mark.parametrize(
        ("address", "network"),
        [
            ("203.0.113.77", "203.0.113.0/24"),
            (" 2001:db8:abcd:12:1:2:3:4 ", "2001:db8:abcd::/48"),
            ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ],
    )
    def test_the_ip_address_is_kept_as_its_network(self, address: str, network: str) -> None:
        assert double_opt_in.ip_network(address) == network

    @pytest.mark.parametrize("address", ["", "203.0.113", "localhost", "1.2.3.4/24"])
    def test_a_bad_ip_address(self, address: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            double_opt_in.ip_network(address)
        assert (raised.value.field, raised.value.details) == (
            "ipAddress",
            {"reason": "BAD_IP_ADDRESS"},
        )

    def test_a_confirmation_keeps_the_tokens_hash_not_the_token(self) -> None:
        event = confirmation().to_event(now=NOW, recorded_by="a")
        assert event.token_sha256 == hashlib.sha256(TOKEN.encode()).hexdigest()
        assert TOKEN not in repr(event)
        assert event.ip_network == "203.0.113.0/24"

    def test_a_confirmation_without_its_token_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(confirmation(), confirmation_token=" ").to_event(now=NOW, recorded_by="a")
        assert (raised.value.field, raised.value.details) == (
            "confirmationToken",
            {"reason": "PROOF_MISSING", "missing": ["confirmationToken"]},
        )

    def test_a_token_is_long_enough_to_be_one_and_belongs_to_a_confirmation(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(confirmation(), confirmation_token="1234").to_event(now=NOW, recorded_by="a")
        assert raised.value.details == {"reason": "BAD_TOKEN"}
        with pytest.raises(InvalidInput) as raised:
            replace(GRANT, confirmation_token=TOKEN).to_event(now=NOW, recorded_by="a")
        assert raised.value.field == "confirmationToken"

    def test_a_request_lapses_after_the_window_it_was_recorded_with(self) -> None:
        pending = replace(GRANT, type=EventType.PENDING_DOUBLE_OPT_IN)
        event = pending.to_event(now=NOW, recorded_by="a", confirm_within=WINDOW)
        assert (event.confirm_by, event.fact.confirm_by) == (NOW + WINDOW, NOW + WINDOW)
        assert GRANT.to_event(now=NOW, recorded_by="a").confirm_by is None


def confirmation(confirms: str = "p-1") -> consents.EventDraft:
    return replace(
        GRANT,
        type=EventType.CONFIRMED,
        confirms=confirms,
        method=Method.EMAIL_LINK,
        channel=None,
        notice_version=None,
        confirmation_token=TOKEN,
        ip_address="203.0.113.77",
    )


async def record(
    graph: Graph, draft: consents.EventDraft, *, after: timedelta = timedelta()
) -> consents.ConsentEvent:
    return await consents.record_event(
        replace(draft, occurred_at=None),
        directory=Directory(),
        transactions=graph,
        now=NOW + after,
        recorded_by="shop-app",
        may_record=consents.CUSTOMER_ACTS,
        confirm_within=WINDOW,
    )


class TestRecording:
    async def test_a_grant_for_email_marketing_is_refused(self) -> None:
        graph = Graph(NEWSLETTER)
        with pytest.raises(InvalidInput) as raised:
            await record(graph, GRANT)
        assert (raised.value.field, raised.value.details) == (
            "type",
            {"reason": "DOUBLE_OPT_IN_REQUIRED"},
        )
        assert (graph.events, graph.outbox) == ([], [])
        phone = await record(graph, replace(GRANT, channel=Channel.PHONE))
        assert (phone.type, graph.mailer_requests()) == (EventType.GRANTED, [])
        assert graph.announced() == [("GRANTED", "newsletter", "PHONE")]

    async def test_a_request_is_announced_with_ids_only(self) -> None:
        graph = Graph(NEWSLETTER)
        pending = await record(graph, replace(GRANT, type=EventType.PENDING_DOUBLE_OPT_IN))
        assert pending.confirm_by == NOW + WINDOW
        assert graph.mailer_requests() == [
            (
                Event.DOUBLE_OPT_IN_REQUESTED,
                {
                    "person_id": GRANT.person_id,
                    "purpose": "newsletter",
                    "channel": "EMAIL",
                    "pending_event_id": pending.id,
                },
            )
        ]
        assert SUBSCRIPTIONS[Event.DOUBLE_OPT_IN_REQUESTED] == ()  # the mailing system reads it

    async def test_a_confirmation_in_time_is_consent_with_its_proof(self) -> None:
        graph = Graph(NEWSLETTER)
        pending = await record(graph, replace(GRANT, type=EventType.PENDING_DOUBLE_OPT_IN))
        confirmed = await record(graph, confirmation(pending.id), after=WINDOW / 2)
        assert (confirmed.channel, confirmed.notice_version, confirmed.notice_sha256) == (
            Channel.EMAIL,
            1,
            "x",
        )
        assert len(graph.mailer_requests()) == 1  # the confirmation sends no mail
        assert graph.announced() == [
            ("PENDING_DOUBLE_OPT_IN", "newsletter", "EMAIL"),
            ("CONFIRMED", "newsletter", "EMAIL"),
        ]
        facts = [e.fact for e in graph.events]
        verdict = decide(NEWSLETTER, Channel.EMAIL, facts, NOW + WINDOW)
        assert (verdict.allowed, verdict.deciding) == (True, confirmed.fact)
        with pytest.raises(Conflict) as raised:
            await record(graph, confirmation(pending.id), after=WINDOW / 2)
        assert raised.value.details == {"reason": "ALREADY_CONFIRMED"}

    async def test_confirming_a_lapsed_request_is_a_conflict(self) -> None:
        graph = Graph(NEWSLETTER)
        pending = await record(graph, replace(GRANT, type=EventType.PENDING_DOUBLE_OPT_IN))
        with pytest.raises(Conflict) as raised:
            await record(graph, confirmation(pending.id), after=WINDOW)
        assert (raised.value.field, raised.value.details) == (
            "confirms",
            {"reason": "DOUBLE_OPT_IN_LAPSED"},
        )
        assert [e.type for e in graph.events] == [EventType.PENDING_DOUBLE_OPT_IN]

    async def test_an_import_keeps_a_past_grant_but_asks_for_no_mail(self) -> None:
        graph = Graph(replace(NEWSLETTER, legal_basis=LegalBasis.CONSENT))
        past = replace(GRANT, occurred_at=NOW - timedelta(days=900), actor=ActorType.DATA_SUBJECT)
        asked = replace(past, type=EventType.PENDING_DOUBLE_OPT_IN)
        done = await imports.import_events(
            imports.ImportDraft("old-crm", "export-7", "a" * 64, (past, asked)),
            directory=Directory(),
            transactions=graph,
            now=NOW,
            imported_by="officer-1",
        )
        assert [e.type for e in done.events] == [EventType.GRANTED, EventType.PENDING_DOUBLE_OPT_IN]
        assert graph.mailer_requests() == []
        assert [change for change, _, _ in graph.announced()] == [
            "GRANTED",
            "PENDING_DOUBLE_OPT_IN",
        ]
        facts = [e.fact for e in graph.events]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, NOW).reason is (
            Reason.DOUBLE_OPT_IN_LAPSED  # the old request, long unconfirmed
        )
