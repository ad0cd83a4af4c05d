"""The contact check's rules: pure function of purpose, facts and time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mdm_consent.domain.models import (
    ActorType,
    Channel,
    EventType,
    Fact,
    LegalBasis,
    Method,
    Purpose,
)
from mdm_consent.domain.rules import Reason, age_on, decide

from .facts import CUSTOMER_MAIL, NEWSLETTER, T0, at, fact, notice

INVOICES = replace(NEWSLETTER, code="invoices", legal_basis=LegalBasis.CONTRACT,
                   direct_marketing=False, channels=(Channel.EMAIL, Channel.POST))  # fmt: skip


class TestDoubleOptIn:
    def test_pending_is_not_consent(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN)
        verdict = decide(NEWSLETTER, Channel.EMAIL, [pending], at(5))
        assert (verdict.allowed, verdict.reason, verdict.deciding) == (
            False, Reason.DOUBLE_OPT_IN_PENDING, pending,
        )  # fmt: skip

    def test_confirmed_is_consent_for_its_channel_only(self) -> None:
        pending = fact(EventType.PENDING_DOUBLE_OPT_IN)
        confirmed = fact(EventType.CONFIRMED, 2, confirms=pending.id)
        assert decide(NEWSLETTER, Channel.EMAIL, [pending, confirmed], at(5)).allowed
        phone = decide(NEWSLETTER, Channel.PHONE, [pending, confirmed], at(5))
        assert (phone.allowed, phone.reason) == (False, Reason.NO_CONSENT)

    def test_a_new_pending_opt_in_keeps_a_standing_consent(self) -> None:
        facts = [fact(EventType.CONFIRMED), fact(EventType.PENDING_DOUBLE_OPT_IN, 3)]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(5)).allowed


class TestWithdrawal:
    def test_is_effective_at_once(self) -> None:
        withdrawn = fact(EventType.WITHDRAWN, 10, channel=None)
        facts = [fact(EventType.CONFIRMED), withdrawn]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(10) - timedelta(seconds=1)).allowed
        later = decide(NEWSLETTER, Channel.EMAIL, facts, at(10) + timedelta(seconds=1))
        assert (later.allowed, later.reason, later.deciding) == (False, Reason.WITHDRAWN, withdrawn)

    def test_wins_over_a_grant_at_the_same_instant(self) -> None:
        facts = [fact(EventType.WITHDRAWN, 1), fact(EventType.GRANTED, 1)]
        assert not decide(NEWSLETTER, Channel.EMAIL, facts, at(2)).allowed

    def test_of_one_channel_leaves_the_others(self) -> None:
        facts = [fact(EventType.CONFIRMED), fact(EventType.CONFIRMED, channel=Channel.SMS),
                 fact(EventType.WITHDRAWN, 1, channel=Channel.SMS)]  # fmt: skip
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(2)).allowed
        assert not decide(NEWSLETTER, Channel.SMS, facts, at(2)).allowed


class TestObjection:
    def test_blocks_all_direct_marketing_on_every_basis(self) -> None:
        objection = fact(EventType.OBJECTED, 5, purpose=None, channel=None)
        facts = [fact(EventType.GRANTED), fact(EventType.SALE_RECORDED, purpose="customer-mail"),
                 objection]  # fmt: skip
        for purpose in (NEWSLETTER, CUSTOMER_MAIL):
            verdict = decide(purpose, Channel.EMAIL, facts, at(6))
            assert (verdict.allowed, verdict.reason, verdict.deciding) == (
                False, Reason.OBJECTED, objection,
            )  # fmt: skip
        assert decide(CUSTOMER_MAIL, Channel.POST, facts, at(6)).reason == Reason.OBJECTED
        assert decide(INVOICES, Channel.EMAIL, facts, at(6)).allowed  # not direct marketing

    def test_survives_a_later_import_and_staff_entry(self) -> None:
        facts = [fact(EventType.OBJECTED, purpose=None, channel=None),
                 fact(EventType.GRANTED, 5, method=Method.IMPORT),
                 fact(EventType.GRANTED, 6, actor=ActorType.STAFF,
                      method=Method.PHONE_CALL)]  # fmt: skip
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(10)).reason == Reason.OBJECTED

    def test_survives_an_imported_grant_the_person_gave_through_a_form(self) -> None:
        facts = [
            fact(EventType.OBJECTED, purpose=None, channel=None),
            fact(EventType.GRANTED, 5, imported=True),
        ]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(10)).reason == Reason.OBJECTED

    def test_is_lifted_only_by_the_persons_own_new_consent_for_that_purpose(self) -> None:
        facts = [
            fact(EventType.OBJECTED, purpose=None, channel=None),
            fact(EventType.CONFIRMED, 5, method=Method.PREFERENCE_CENTRE),
        ]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(10)).allowed
        # ... and not the existing-customer exception of another purpose.
        sale = fact(EventType.SALE_RECORDED, 1, purpose="customer-mail")
        assert not decide(CUSTOMER_MAIL, Channel.EMAIL, [*facts, sale], at(10)).allowed


class TestExpiryAndNotices:
    def test_consent_lapses_after_the_purposes_validity(self) -> None:
        purpose = replace(NEWSLETTER, consent_validity_days=30)
        grant = fact(EventType.CONFIRMED)
        assert decide(purpose, Channel.EMAIL, [grant], T0 + timedelta(days=29)).allowed
        lapsed = decide(purpose, Channel.EMAIL, [grant], T0 + timedelta(days=30))
        assert (lapsed.reason, lapsed.deciding) == (Reason.CONSENT_EXPIRED, grant)

    def test_an_expiry_event_ends_consent(self) -> None:
        facts = [fact(EventType.GRANTED), fact(EventType.EXPIRED, 3, channel=None)]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(4)).reason == Reason.CONSENT_EXPIRED

    def test_a_material_notice_version_requires_renewal_from_its_publication(self) -> None:
        purpose = replace(NEWSLETTER, notices=(notice(1), notice(2, material=True, at=at(60))))
        grant = fact(EventType.CONFIRMED)
        assert decide(purpose, Channel.EMAIL, [grant], at(59)).allowed
        assert decide(purpose, Channel.EMAIL, [grant], at(61)).reason == Reason.RENEWAL_REQUIRED
        renewed = fact(EventType.CONFIRMED, 70, notice_version=2)
        assert decide(purpose, Channel.EMAIL, [grant, renewed], at(71)).allowed

    def test_an_editorial_notice_version_does_not(self) -> None:
        purpose = replace(NEWSLETTER, notices=(notice(1), notice(2, at=at(1))))
        assert decide(purpose, Channel.EMAIL, [fact(EventType.CONFIRMED)], at(5)).allowed


class TestExistingCustomerException:
    def test_email_with_a_recorded_sale(self) -> None:
        sale = fact(EventType.SALE_RECORDED, purpose="customer-mail", channel=None)
        verdict = decide(CUSTOMER_MAIL, Channel.EMAIL, [sale], at(1))
        assert (verdict.allowed, verdict.reason, verdict.legal_basis, verdict.deciding) == (
            True, Reason.EXISTING_CUSTOMER, LegalBasis.LEGITIMATE_INTEREST, sale,
        )  # fmt: skip

    def test_not_without_a_sale(self) -> None:
        verdict = decide(CUSTOMER_MAIL, Channel.EMAIL, [], at(1))
        assert (verdict.allowed, verdict.reason) == (False, Reason.NO_CONSENT_OR_SALE)

    def test_not_for_the_phone(self) -> None:
        sale = fact(EventType.SALE_RECORDED, purpose="customer-mail", channel=None)
        assert decide(CUSTOMER_MAIL, Channel.PHONE, [sale], at(1)).reason == Reason.NO_CONSENT

    def test_not_after_a_withdrawal(self) -> None:
        facts = [fact(EventType.SALE_RECORDED, purpose="customer-mail", channel=None),
                 fact(EventType.WITHDRAWN, 1, purpose="customer-mail", channel=None)]  # fmt: skip
        assert decide(CUSTOMER_MAIL, Channel.EMAIL, facts, at(2)).reason == Reason.WITHDRAWN

    def test_post_needs_no_sale(self) -> None:
        assert decide(CUSTOMER_MAIL, Channel.POST, [], at(1)).reason == Reason.LEGAL_BASIS


class TestMinors:
    def age(self, born: date) -> Fact:
        return fact(EventType.AGE_EVIDENCE, purpose=None, channel=None, birth_date=born)

    def test_an_under_16_needs_parental_authorisation(self) -> None:
        evidence = self.age(date(2012, 3, 1))
        verdict = decide(NEWSLETTER, Channel.EMAIL, [evidence, fact(EventType.CONFIRMED)], at(1))
        assert (verdict.reason, verdict.deciding) == (
            Reason.PARENTAL_AUTHORISATION_REQUIRED, evidence,
        )  # fmt: skip
        authorised = fact(EventType.PARENTAL_AUTHORISATION, 2, channel=None,
                          actor=ActorType.GUARDIAN)  # fmt: skip
        facts = [evidence, fact(EventType.CONFIRMED), authorised]
        assert decide(NEWSLETTER, Channel.EMAIL, facts, at(3)).allowed

    def test_turning_16_does_not_validate_a_consent_given_at_15(self) -> None:
        # The age at the consent decides (Art. 8(1)), not the age at the check.
        facts = [self.age(date(2010, 1, 6)), fact(EventType.CONFIRMED)]
        assert not decide(NEWSLETTER, Channel.EMAIL, facts, T0).allowed
        assert not decide(NEWSLETTER, Channel.EMAIL, facts, T0 + timedelta(days=1)).allowed
        again = fact(EventType.CONFIRMED, 60 * 24)  # given on the 16th birthday
        assert decide(NEWSLETTER, Channel.EMAIL, [*facts, again], T0 + timedelta(days=1)).allowed

    def test_age_on_birthdays(self) -> None:
        assert age_on(date(2008, 2, 29), date(2024, 2, 28)) == 15
        assert age_on(date(2008, 2, 29), date(2024, 2, 29)) == 16


def test_a_channel_the_purpose_does_not_use() -> None:
    verdict = decide(
        NEWSLETTER, Channel.POST, [fact(EventType.GRANTED, channel=Channel.POST)], at(1)
    )
    assert verdict.reason == Reason.CHANNEL_NOT_COVERED


def test_other_legal_bases_allow_without_consent() -> None:
    verdict = decide(INVOICES, Channel.EMAIL, [], at(1))
    assert (verdict.allowed, verdict.legal_basis) == (True, LegalBasis.CONTRACT)


# --- properties over arbitrary histories ----------------------------------------

_types = st.sampled_from(list(EventType))
_channels = st.sampled_from([Channel.EMAIL, Channel.PHONE, Channel.SMS, None])
_facts = st.lists(
    st.builds(
        lambda t, m, c, a, meth, imported: fact(
            t, m, channel=c, actor=a, method=meth, birth_date=date(1990, 1, 1), imported=imported
        ),
        _types,
        st.integers(0, 100),
        _channels,
        st.sampled_from(list(ActorType)),
        st.sampled_from(list(Method)),
        st.booleans(),
    ),
    max_size=12,
)
_purposes = st.sampled_from([NEWSLETTER, CUSTOMER_MAIL])
_asked = st.sampled_from([Channel.EMAIL, Channel.PHONE])


@given(_facts, _purposes, _asked)
def test_a_withdrawal_as_the_latest_event_never_allows(
    facts: list[Fact], purpose: Purpose, channel: Channel
) -> None:
    withdrawal = fact(EventType.WITHDRAWN, 101, purpose=purpose.code, channel=None)
    assert not decide(purpose, channel, [*facts, withdrawal], at(102)).allowed


@given(_facts, _purposes, _asked)
def test_an_objection_is_lifted_by_nothing_but_the_persons_own_consent(
    facts: list[Fact], purpose: Purpose, channel: Channel
) -> None:
    objection = fact(EventType.OBJECTED, -1, purpose=None, channel=None)
    verdict = decide(purpose, channel, [objection, *facts], at(200))
    if verdict.allowed:
        assert verdict.deciding is not None
        assert verdict.deciding.actor is ActorType.DATA_SUBJECT
        assert verdict.deciding.method is not Method.IMPORT
        assert not verdict.deciding.imported
        assert verdict.reason is Reason.CONSENT_GIVEN


@given(_facts, _purposes, _asked, st.integers(0, 100))
def test_what_happened_after_t_does_not_change_the_answer_at_t(
    facts: list[Fact], purpose: Purpose, channel: Channel, minute: int
) -> None:
    before = [f for f in facts if f.occurred_at <= at(minute)]
    assert decide(purpose, channel, facts, at(minute)) == decide(
        purpose, channel, before, at(minute)
    )


@given(_facts, _asked)
def test_only_a_grant_or_confirmation_allows_a_consent_purpose(
    facts: list[Fact], channel: Channel
) -> None:
    verdict = decide(NEWSLETTER, channel, facts, at(200))
    if verdict.allowed:
        assert verdict.deciding is not None
        assert verdict.deciding.type in (EventType.GRANTED, EventType.CONFIRMED)
        assert verdict.deciding.channel is channel
