"""Minors (GDPR Art. 8(1)): the profile's birth date as evidence, read protectively, and
the age at the consent deciding (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.minors import latest_possible_birth_date, profile_age_evidence
from mdm_consent.domain.models import ActorType, Channel, EventType, Fact, Method
from mdm_consent.domain.ports import ProfilePerson
from mdm_consent.domain.rules import Reason, Verdict, decide

from .facts import NEWSLETTER, T0, fact
from .test_consents import GRANT, NOW

PERSON = "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"


def born(birth: date, minutes: float = 0, **values: object) -> Fact:
    return fact(
        EventType.AGE_EVIDENCE, minutes, purpose=None, channel=None, birth_date=birth, **values
    )


def check(facts: list[Fact], *, days: float = 0, channel: Channel = Channel.EMAIL) -> Verdict:
    return decide(NEWSLETTER, channel, facts, T0 + timedelta(days=days, minutes=30))


class TestPartialBirthDatesAreReadProtectively:
    @pytest.mark.parametrize(
        ("full", "partial", "expected"),
        [
            (date(2010, 5, 4), "2010", date(2010, 5, 4)),
            (None, "2010", date(2010, 12, 31)),
            (None, "2012-02", date(2012, 2, 29)),
            (None, "2011-02", date(2011, 2, 28)),
            (None, "2010-13", date(2010, 12, 31)),
        ],
    )
    def test_at_the_latest_possible_day(
        self, full: date | None, partial: str | None, expected: date
    ) -> None:
        found = latest_possible_birth_date(ProfilePerson(PERSON, full, partial))
        assert found is not None
        assert found[0] == expected

    @pytest.mark.parametrize("partial", [None, "", "05/2010", "0000"])
    def test_none_without_a_readable_birth_date(self, partial: str | None) -> None:
        assert latest_possible_birth_date(ProfilePerson(PERSON, None, partial)) is None

    def test_a_person_who_could_be_under_16_counts_as_under_16(self) -> None:
        # Consent on 5 January 2026: born in 2010 could mean 31 December 2010, age 15.
        year_only = latest_possible_birth_date(ProfilePerson(PERSON, None, "2010"))
        assert year_only is not None
        grant = fact(EventType.GRANTED)
        verdict = check([born(year_only[0]), grant])
        assert verdict.reason == Reason.PARENTAL_AUTHORISATION_REQUIRED
        assert check([born(date(2010, 1, 1)), grant]).reason == Reason.CONSENT_GIVEN


class TestTheProfilesBirthDateAsEvidence:
    grant = GRANT.to_event(now=NOW, recorded_by="shop-app")

    def test_is_kept_with_a_consent(self) -> None:
        evidence = profile_age_evidence(self.grant, ProfilePerson(PERSON, None, "2011-07"), [])
        assert evidence is not None
        assert (evidence.type, evidence.birth_date, evidence.person_id) == (
            EventType.AGE_EVIDENCE,
            date(2011, 7, 31),
            self.grant.person_id,
        )
        assert (evidence.method, evidence.actor, evidence.collection_point) == (
            Method.SYSTEM,
            ActorType.SYSTEM,
            "profile",
        )
        assert (evidence.occurred_at, evidence.recorded_by) == (NOW, "shop-app")
        assert evidence.evidence_ref == (
            "golden record birth date (year and month only, latest possible day taken)"
        )
        assert evidence.concerns_all_purposes

    @pytest.mark.parametrize("type_", [EventType.PENDING_DOUBLE_OPT_IN, EventType.CONFIRMED])
    def test_with_every_kind_of_consent(self, type_: EventType) -> None:
        event = replace(self.grant, type=type_)
        assert profile_age_evidence(event, ProfilePerson(PERSON, date(2000, 1, 1)), []) is not None

    @pytest.mark.parametrize("type_", [EventType.WITHDRAWN, EventType.OBJECTED])
    def test_not_with_other_events(self, type_: EventType) -> None:
        event = replace(self.grant, type=type_)
        assert profile_age_evidence(event, ProfilePerson(PERSON, date(2000, 1, 1)), []) is None

    def test_only_when_it_adds_something(self) -> None:
        profile = ProfilePerson(PERSON, date(2000, 1, 1))
        assert profile_age_evidence(self.grant, ProfilePerson(PERSON), []) is None
        assert profile_age_evidence(self.grant, profile, [born(date(2000, 1, 1))]) is None
        assert profile_age_evidence(self.grant, profile, [born(date(1999, 1, 1))]) is not None

    def test_callers_cannot_act_as_the_system(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(GRANT, actor=ActorType.SYSTEM).to_event(now=NOW, recorded_by="a")
        assert raised.value.field == "actor"


class TestTheAgeAtTheConsentDecides:
    SIXTEENTH = (T0 + timedelta(days=3)).date().replace(year=2010)  # 16 on 8 January 2026

    def test_a_consent_given_under_16_needs_parental_authorisation(self) -> None:
        evidence = born(self.SIXTEENTH)
        verdict = check([evidence, fact(EventType.GRANTED)])
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False,
            Reason.PARENTAL_AUTHORISATION_REQUIRED,
            evidence,
        )

    def test_and_counts_with_it_for_the_purpose_and_channel(self) -> None:
        facts = [born(self.SIXTEENTH), fact(EventType.GRANTED)]
        by_phone = fact(
            EventType.PARENTAL_AUTHORISATION, 5, channel=Channel.PHONE, actor=ActorType.GUARDIAN
        )
        assert check([*facts, by_phone]).reason == Reason.PARENTAL_AUTHORISATION_REQUIRED
        every = replace(by_phone, id="every-channel", channel=None)
        assert check([*facts, every]).reason == Reason.CONSENT_GIVEN
        other = replace(every, id="other-purpose", purpose="profiling")
        assert check([*facts, other]).reason == Reason.PARENTAL_AUTHORISATION_REQUIRED

    def test_does_not_become_valid_at_16(self) -> None:
        facts = [born(self.SIXTEENTH), fact(EventType.GRANTED)]
        assert check(facts, days=400).reason == Reason.PARENTAL_AUTHORISATION_REQUIRED

    def test_a_new_consent_from_16_on_counts(self) -> None:
        facts = [
            born(self.SIXTEENTH),
            fact(EventType.GRANTED),
            fact(EventType.GRANTED, 60 * 24 * 3),
        ]
        assert check(facts, days=3).reason == Reason.CONSENT_GIVEN
        assert check(facts, days=2).reason == Reason.PARENTAL_AUTHORISATION_REQUIRED

    def test_a_confirmation_counts_at_the_moment_of_confirming(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN)
        confirmed = fact(EventType.CONFIRMED, 60 * 24 * 3, confirms=pending.id)
        facts = [born(self.SIXTEENTH), pending, confirmed]
        assert check(facts, days=3).reason == Reason.CONSENT_GIVEN

    def test_evidence_found_after_the_consent_counts_for_it(self) -> None:
        grant = fact(EventType.GRANTED)
        late = born(self.SIXTEENTH, 60 * 24 * 30)  # an ID checked a month later
        assert check([grant, late], days=10).reason == Reason.CONSENT_GIVEN
        assert check([grant, late], days=31).reason == Reason.PARENTAL_AUTHORISATION_REQUIRED

    def test_later_evidence_corrects_the_profiles(self) -> None:
        profile = born(self.SIXTEENTH, method=Method.SYSTEM, actor=ActorType.SYSTEM)
        document = born(date(1990, 5, 1), 1, method=Method.ID_DOCUMENT, actor=ActorType.STAFF)
        grant = fact(EventType.GRANTED, 2)
        assert check([profile, grant]).reason == Reason.PARENTAL_AUTHORISATION_REQUIRED
        assert check([profile, document, grant]).reason == Reason.CONSENT_GIVEN
