"""Expiry as an event: which grants lapsed, and the EXPIRED event of each."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mdm_consent.domain.expiry import (
    RECORDED_BY,
    expiry_event,
    expiry_fact,
    expiry_id,
    lapsed_grants,
)
from mdm_consent.domain.lineage import GroupFacts, Lineage
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    EventType,
    Fact,
    Hold,
    HoldKind,
    MergeLink,
    Method,
)
from mdm_consent.domain.rules import Reason, decide

from .facts import CUSTOMER_MAIL, NEWSLETTER, T0, at, fact

VALID = replace(NEWSLETTER, consent_validity_days=30)
DAY = 24 * 60  # minutes


def alone(*facts: Fact, holds: tuple[Hold, ...] = ()) -> GroupFacts:
    return GroupFacts(Lineage("p1"), tuple(replace(f, person_id="p1") for f in facts), holds)


def ids(grants: list[Fact]) -> list[str]:
    return [g.id for g in grants]


class TestLapsedGrants:
    def test_a_grant_past_its_validity_lapsed_at_grant_time_plus_validity(self) -> None:
        grant = fact(EventType.GRANTED)
        (lapsed,) = lapsed_grants(VALID, alone(grant), at(31 * DAY))
        assert lapsed.id == grant.id
        assert expiry_fact(VALID, lapsed).occurred_at == T0 + timedelta(days=30)

    def test_nothing_lapses_before_the_validity_or_without_one(self) -> None:
        grant = fact(EventType.GRANTED)
        assert lapsed_grants(VALID, alone(grant), at(30 * DAY - 1)) == []
        assert lapsed_grants(NEWSLETTER, alone(grant), at(3650 * DAY)) == []

    def test_a_grant_renewed_before_its_lapse_does_not_lapse(self) -> None:
        first, renewed = fact(EventType.GRANTED), fact(EventType.GRANTED, 20 * DAY)
        (lapsed,) = lapsed_grants(VALID, alone(first, renewed), at(51 * DAY))
        assert lapsed.id == renewed.id  # the first was superseded, the second lapsed

    def test_a_consent_withdrawn_before_its_lapse_does_not_lapse(self) -> None:
        facts = alone(fact(EventType.GRANTED), fact(EventType.WITHDRAWN, DAY, channel=None))
        assert lapsed_grants(VALID, facts, at(60 * DAY)) == []

    def test_a_consent_withdrawn_after_its_lapse_lapsed_first(self) -> None:
        grant = fact(EventType.GRANTED)
        facts = alone(grant, fact(EventType.WITHDRAWN, 40 * DAY, channel=None))
        assert ids(lapsed_grants(VALID, facts, at(60 * DAY))) == [grant.id]

    def test_a_grant_with_its_expiry_recorded_lapses_no_more(self) -> None:
        grant = replace(fact(EventType.GRANTED), person_id="p1")
        facts = alone(grant, expiry_fact(VALID, grant))
        assert lapsed_grants(VALID, facts, at(60 * DAY)) == []

    def test_each_channel_lapses_on_its_own(self) -> None:
        mail, phone = fact(EventType.GRANTED), fact(EventType.GRANTED, DAY, channel=Channel.PHONE)
        assert ids(lapsed_grants(VALID, alone(mail, phone), at(30 * DAY + 1))) == [mail.id]
        both = lapsed_grants(VALID, alone(mail, phone), at(40 * DAY))
        assert ids(both) == [mail.id, phone.id]

    def test_objections_and_age_do_not_hide_a_lapse(self) -> None:
        grant = fact(EventType.GRANTED)
        objection = fact(EventType.OBJECTED, DAY, purpose=None, channel=None)
        minor = fact(
            EventType.AGE_EVIDENCE,
            purpose=None,
            channel=None,
            birth_date=(T0 - timedelta(days=3650)).date(),
        )
        assert ids(lapsed_grants(VALID, alone(grant, objection, minor), at(31 * DAY))) == [grant.id]

    def test_a_grant_for_a_purpose_on_another_basis_lapses_too(self) -> None:
        offers = replace(CUSTOMER_MAIL, consent_validity_days=30)
        grant = fact(EventType.GRANTED, purpose=offers.code, channel=Channel.PHONE)
        assert ids(lapsed_grants(offers, alone(grant), at(31 * DAY))) == [grant.id]

    def test_a_person_under_a_restriction_or_erasure_is_left_as_is(self) -> None:
        grant = fact(EventType.GRANTED)
        for kind in HoldKind:
            hold = Hold(kind, at(DAY), "r1")
            assert lapsed_grants(VALID, alone(grant, holds=(hold,)), at(31 * DAY)) == []
        lifted = Hold(HoldKind.RESTRICTED, at(DAY), "r1", until=at(2 * DAY))
        assert ids(lapsed_grants(VALID, alone(grant, holds=(lifted,)), at(31 * DAY))) == [grant.id]


class TestMergeGroups:
    def group(self, *facts: Fact, merged_minutes: float) -> GroupFacts:
        link = MergeLink("m1", "a", "b", at(merged_minutes))
        return GroupFacts(Lineage("a", (link,)), facts)

    def test_each_expiry_is_recorded_under_the_member_who_granted(self) -> None:
        grant = replace(fact(EventType.GRANTED), person_id="b")
        group = self.group(grant, merged_minutes=DAY)
        (lapsed,) = lapsed_grants(VALID, group, at(31 * DAY))
        event = expiry_event(VALID, lapsed, survivor_id="a", run_id="r", now=at(31 * DAY))
        assert event.person_id == "b"

    def test_a_withdrawal_after_the_merge_ends_the_other_sides_grant_without_lapse(
        self,
    ) -> None:
        grant = replace(fact(EventType.GRANTED), person_id="b")
        withdrawal = replace(fact(EventType.WITHDRAWN, 3 * DAY, channel=None), person_id="a")
        group = self.group(grant, withdrawal, merged_minutes=DAY)
        assert lapsed_grants(VALID, group, at(60 * DAY)) == []

    def test_grants_side_by_side_both_lapse_and_the_answer_names_an_expiry(self) -> None:
        # Both lapsed before the merge (the job ran first now): the group's answer
        # rested on each in turn; both get their EXPIRED event.
        first = replace(fact(EventType.GRANTED), person_id="b")
        later = replace(fact(EventType.GRANTED, DAY), person_id="a")
        group = self.group(first, later, merged_minutes=40 * DAY)
        lapsed = lapsed_grants(VALID, group, at(50 * DAY))
        assert sorted(ids(lapsed)) == sorted([first.id, later.id])
        expiries = [expiry_fact(VALID, g) for g in lapsed]
        verdict = decide(
            VALID, Channel.EMAIL, [*group.facts, *expiries], at(50 * DAY), lineage=group.lineage
        )
        assert verdict.reason is Reason.CONSENT_EXPIRED
        assert verdict.deciding is not None
        assert verdict.deciding.type is EventType.EXPIRED


class TestTheEvent:
    def test_the_event_records_the_lapse_truthfully(self) -> None:
        grant = replace(fact(EventType.GRANTED), person_id="p1")
        event = expiry_event(VALID, grant, survivor_id="p1", run_id="run-1", now=at(40 * DAY))
        assert (event.type, event.purpose, event.channel) == (
            EventType.EXPIRED,
            "newsletter",
            Channel.EMAIL,
        )
        assert event.occurred_at == T0 + timedelta(days=30)
        assert event.recorded_at == at(40 * DAY)
        assert (event.method, event.actor, event.staff_id) == (
            Method.SYSTEM,
            ActorType.SYSTEM,
            None,
        )
        assert event.recorded_by == RECORDED_BY
        assert event.collection_point == "expiry run run-1"
        assert event.evidence_ref == f"grant {grant.id}; consentValidityDays 30"

    def test_one_grant_has_one_expiry_id(self) -> None:
        assert expiry_id("g1") == expiry_id("g1") != expiry_id("g2")

    def test_the_check_names_the_expiry_as_deciding_event(self) -> None:
        grant = replace(fact(EventType.GRANTED), person_id="p1")
        expiry = expiry_fact(VALID, grant)
        verdict = decide(VALID, Channel.EMAIL, [grant, expiry], at(31 * DAY))
        assert (verdict.allowed, verdict.reason) == (False, Reason.CONSENT_EXPIRED)
        assert verdict.deciding == expiry
        # Before the lapse the grant still counts; a new grant afterwards is consent.
        assert decide(VALID, Channel.EMAIL, [grant, expiry], at(29 * DAY)).allowed
        renewed = fact(EventType.GRANTED, 32 * DAY)
        assert decide(VALID, Channel.EMAIL, [grant, expiry, renewed], at(33 * DAY)).allowed
