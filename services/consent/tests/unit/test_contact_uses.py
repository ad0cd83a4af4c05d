"""Contact uses without servers: compliance of a use, the clock rule, the §7a proof."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.contact_uses import (
    Compliance,
    ContactUse,
    UseDraft,
    checked_draft,
    compliance_of,
    proof_until,
    proofs,
)
from mdm_consent.domain.models import Channel
from mdm_consent.domain.rules import Reason

from .facts import T0

PERSON = "2f1d6a4e-8b7c-4f0e-9a51-0c3b7d2e6f10"
SKEW = timedelta(minutes=5)
USE = ContactUse(
    id="u1",
    person_id=PERSON,
    asked_for=PERSON,
    purpose="newsletter",
    channel=Channel.PHONE,
    used_at=T0,
    campaign="spring-2026",
    allowed=True,
    reason=Reason.CONSENT_GIVEN,
    legal_basis=None,
    deciding_event_id="e1",
    deciding_event_type=None,
    opt_out_notice_included=None,
    compliance=Compliance.COMPLIANT,
    recorded_at=T0,
    recorded_by="call-centre",
)


class TestCompliance:
    def test_a_use_the_check_refused_is_not_compliant(self) -> None:
        assert compliance_of(False, Reason.WITHDRAWN, None) is Compliance.NOT_ALLOWED

    def test_an_existing_customer_mail_needs_the_opt_out_notice(self) -> None:
        # UWG §7(3) Nr. 4: every message tells the customer they may object.
        assert compliance_of(True, Reason.EXISTING_CUSTOMER, None) is (
            Compliance.OPT_OUT_NOTICE_MISSING
        )
        assert compliance_of(True, Reason.EXISTING_CUSTOMER, False) is (
            Compliance.OPT_OUT_NOTICE_MISSING
        )
        assert compliance_of(True, Reason.EXISTING_CUSTOMER, True) is Compliance.COMPLIANT

    def test_a_consent_needs_no_notice_flag(self) -> None:
        assert compliance_of(True, Reason.CONSENT_GIVEN, None) is Compliance.COMPLIANT


class TestRecordedNow:
    def test_a_use_is_recorded_as_it_happens(self) -> None:
        draft = UseDraft(
            PERSON, "newsletter", Channel.PHONE, "spring-2026", used_at=T0 - timedelta(minutes=6)
        )
        with pytest.raises(InvalidInput) as refused:
            checked_draft(draft, now=T0, skew=SKEW)
        assert (refused.value.field, refused.value.details["reason"]) == ("usedAt", "NOT_NOW")
        assert checked_draft(replace(draft, used_at=None), now=T0, skew=SKEW) == T0

    @pytest.mark.parametrize(
        ("draft", "field"),
        [
            (UseDraft("not-an-id", "newsletter", Channel.PHONE, "c1"), "personId"),
            (UseDraft(PERSON, "newsletter", Channel.PHONE, "Call Frau Müller"), "campaign"),
        ],
    )
    def test_bad_input_is_refused(self, draft: UseDraft, field: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            checked_draft(draft, now=T0, skew=SKEW)
        assert refused.value.field == field


class TestPhoneProof:
    def test_kept_five_years_after_the_last_use_per_purpose_and_channel(self) -> None:
        later = replace(USE, id="u2", used_at=T0 + timedelta(days=40))
        other = replace(USE, id="u3", purpose="offers", used_at=T0)
        mail = replace(USE, id="u4", channel=Channel.EMAIL, used_at=T0 + timedelta(days=400))
        found = {(p.purpose, p.channel): p for p in proofs([USE, later, other, mail])}
        assert set(found) == {("newsletter", Channel.PHONE), ("offers", Channel.PHONE)}
        assert found["newsletter", Channel.PHONE].last_used_at == later.used_at
        assert found["newsletter", Channel.PHONE].keep_until == date(2031, 2, 14)
        assert found["offers", Channel.PHONE].keep_until == date(2031, 1, 5)

    def test_a_refused_phone_use_is_kept_as_proof_too(self) -> None:
        refused = replace(USE, allowed=False, reason=Reason.NO_CONSENT)
        assert [p.keep_until for p in proofs([refused])] == [date(2031, 1, 5)]

    def test_the_proof_runs_until_its_last_day(self) -> None:
        assert proof_until([USE], T0 + timedelta(days=365)) == date(2031, 1, 5)
        end = T0.replace(year=2031)
        assert proof_until([USE], end) == date(2031, 1, 5)
        assert proof_until([USE], end + timedelta(days=1)) is None
        assert proof_until([replace(USE, channel=Channel.EMAIL)], T0) is None
