"""Proof that each event type needs, checked before anything is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain.consents import EventDraft
from mdm_consent.domain.models import ActorType, Channel, EventType, Method

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GRANT = EventDraft(
    person_id="0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f", type=EventType.GRANTED,
    collection_point=" shop-checkout ", method=Method.WEB_FORM, actor=ActorType.DATA_SUBJECT,
    purpose="newsletter", channel=Channel.EMAIL, notice_version=1, language="de",
    evidence_ref="form-4711",
)  # fmt: skip


class TestAGrant:
    def test_becomes_an_event_with_its_proof(self) -> None:
        event = GRANT.to_event(now=NOW, recorded_by="crm-app")
        assert (event.type, event.purpose, event.channel) == ("GRANTED", "newsletter", "EMAIL")
        assert (event.collection_point, event.evidence_ref) == ("shop-checkout", "form-4711")
        assert (event.occurred_at, event.recorded_at, event.recorded_by) == (NOW, NOW, "crm-app")

    @pytest.mark.parametrize(
        "field", ["purpose", "channel", "notice_version", "language", "evidence_ref"]
    )
    def test_without_a_piece_of_proof_is_refused(self, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(GRANT, **{field: None}).to_event(now=NOW, recorded_by="a")  # type: ignore[arg-type]
        assert raised.value.details["reason"] == "PROOF_MISSING"
        assert len(raised.value.details["missing"]) == 1

    def test_lists_everything_missing_at_once(self) -> None:
        bare = replace(GRANT, collection_point=" ", notice_version=None, evidence_ref="",
                       actor=ActorType.STAFF)  # fmt: skip
        with pytest.raises(InvalidInput) as raised:
            bare.to_event(now=NOW, recorded_by="a")
        assert raised.value.details["missing"] == [
            "collectionPoint",
            "noticeVersion",
            "evidenceRef",
            "staffId",
        ]
        assert raised.value.field == "collectionPoint"

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"person_id": "Anna Müller"}, "personId"), ({"purpose": "News Letter"}, "purpose"),
         ({"language": "deutsch"}, "language"), ({"notice_version": 0}, "noticeVersion"),
         ({"occurred_at": NOW + timedelta(hours=1)}, "occurredAt"),
         ({"birth_date": date(2000, 1, 1)}, "birthDate"), ({"confirms": "x"}, "confirms"),
         ({"evidence_ref": "e" * 201}, "evidenceRef")],
    )  # fmt: skip
    def test_rejects(self, change: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            replace(GRANT, **change).to_event(now=NOW, recorded_by="a")  # type: ignore[arg-type]
        assert raised.value.field == field


class TestOtherEvents:
    def test_a_withdrawal_needs_no_paperwork_beyond_the_basics(self) -> None:
        withdrawal = replace(
            GRANT, type=EventType.WITHDRAWN, channel=None, notice_version=None, language=None,
            evidence_ref=None, method=Method.PHONE_CALL,
        )  # fmt: skip
        assert withdrawal.to_event(now=NOW, recorded_by="a").channel is None

    def test_an_objection_may_name_no_purpose(self) -> None:
        objection = replace(GRANT, type=EventType.OBJECTED, purpose=None, channel=None,
                            notice_version=None, language=None, evidence_ref=None)  # fmt: skip
        assert objection.to_event(now=NOW, recorded_by="a").concerns_all_purposes

    def test_only_the_person_confirms_a_double_opt_in(self) -> None:
        confirmation = replace(
            GRANT, type=EventType.CONFIRMED, confirms="p-1", method=Method.EMAIL_LINK,
            actor=ActorType.STAFF, staff_id="s", confirmation_token="t" * 32,
        )  # fmt: skip
        with pytest.raises(InvalidInput) as raised:
            confirmation.to_event(now=NOW, recorded_by="a")
        assert raised.value.field == "actor"

    def test_evidence_of_age_needs_a_birth_date_and_no_purpose(self) -> None:
        age = replace(GRANT, type=EventType.AGE_EVIDENCE, purpose=None, channel=None,
                      notice_version=None, language=None)  # fmt: skip
        with pytest.raises(InvalidInput) as raised:
            age.to_event(now=NOW, recorded_by="a")
        assert raised.value.details["missing"] == ["birthDate"]
        with pytest.raises(InvalidInput) as raised:
            replace(age, birth_date=date(2012, 5, 1), purpose="newsletter").to_event(
                now=NOW, recorded_by="a"
            )
        assert raised.value.field == "purpose"
