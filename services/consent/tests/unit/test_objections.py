"""Objections as requests (GDPR Art. 21): which right an objection exercises, the event
it records, and what is refused before anything is asked (pure, no servers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.errors import InvalidInput
from mdm_consent.domain import objections, requests
from mdm_consent.domain.models import ActorType, EventType, LegalBasis, Method
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    IdentityCheck,
    ReceivedVia,
    RequestDraft,
    RequestType,
)

from .facts import NEWSLETTER

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PERSON = "0b7a3c1e-5d2f-4a69-8c1b-2e3f4a5b6c7d"
PROFILING = replace(
    NEWSLETTER,
    code="profiling",
    legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    direct_marketing=False,
)


class Untouched:
    """Ports that must not be reached: the objection is refused before."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was called")


class TestWhichRight:
    def test_no_purpose_objects_to_all_direct_marketing(self) -> None:
        assert objections.kind_of(None) is objections.ObjectionKind.DIRECT_MARKETING

    @pytest.mark.parametrize("basis", list(LegalBasis))
    def test_a_direct_marketing_purpose_on_any_basis_is_direct_marketing(
        self, basis: LegalBasis
    ) -> None:
        purpose = replace(NEWSLETTER, legal_basis=basis, direct_marketing=True)
        assert objections.kind_of(purpose) is objections.ObjectionKind.DIRECT_MARKETING

    @pytest.mark.parametrize("basis", [LegalBasis.LEGITIMATE_INTEREST, LegalBasis.PUBLIC_TASK])
    def test_public_task_and_legitimate_interest_wait_for_a_decision(
        self, basis: LegalBasis
    ) -> None:
        purpose = replace(PROFILING, legal_basis=basis)
        assert objections.kind_of(purpose) is objections.ObjectionKind.PARTICULAR_SITUATION

    def test_a_consent_purpose_is_withdrawn_instead(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            objections.kind_of(replace(PROFILING, legal_basis=LegalBasis.CONSENT))
        assert (refused.value.field, refused.value.details) == (
            "purpose",
            {"reason": "USE_WITHDRAWAL"},
        )

    @pytest.mark.parametrize(
        "basis", [LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION, LegalBasis.VITAL_INTEREST]
    )
    def test_other_bases_give_no_right_to_object(self, basis: LegalBasis) -> None:
        with pytest.raises(InvalidInput) as refused:
            objections.kind_of(replace(PROFILING, legal_basis=basis))
        assert refused.value.details == {"reason": "NOT_OBJECTABLE"}


def _request(**changes: Any) -> DataSubjectRequest:
    base = DataSubjectRequest(
        id="r-7",
        type=RequestType.OBJECTION,
        person_id=PERSON,
        received_at=NOW - timedelta(days=3),
        received_via=ReceivedVia.LETTER,
        identity_check=IdentityCheck.ID_DOCUMENT,
        submitted_at=NOW,
        submitted_by="officer-1",
    )
    return replace(base, **changes)


class TestTheEvent:
    def test_the_person_objected_when_the_request_was_received_with_it_as_evidence(
        self,
    ) -> None:
        event = objections.objected_event(
            _request(purpose="profiling"), recorded_by="officer-1", now=NOW
        )
        assert (event.type, event.person_id, event.purpose) == (
            EventType.OBJECTED,
            PERSON,
            "profiling",
        )
        assert (event.actor, event.method, event.evidence_ref) == (
            ActorType.DATA_SUBJECT,
            Method.PAPER_FORM,
            "data-subject-request:r-7",
        )
        assert (event.occurred_at, event.recorded_at, event.recorded_by) == (
            NOW - timedelta(days=3),
            NOW,
            "officer-1",
        )
        assert event.collection_point == objections.COLLECTION_POINT

    @pytest.mark.parametrize(
        ("via", "method"),
        [
            (ReceivedVia.EMAIL, Method.EMAIL),
            (ReceivedVia.LETTER, Method.PAPER_FORM),
            (ReceivedVia.WEB_FORM, Method.WEB_FORM),
            (ReceivedVia.PHONE, Method.PHONE_CALL),
            (ReceivedVia.IN_PERSON, Method.IN_PERSON),
        ],
    )
    def test_the_method_is_how_the_request_came(self, via: ReceivedVia, method: Method) -> None:
        event = objections.objected_event(_request(received_via=via), recorded_by="o", now=NOW)
        assert event.method is method
        assert not event.taken_over  # never an import: it counts as the person's own act


class TestRefusedBeforeAnythingIsAsked:
    async def _submit(self, **changes: Any) -> None:
        draft = RequestDraft(
            type=RequestType.OBJECTION,
            person_id=PERSON,
            received_via=ReceivedVia.EMAIL,
            identity_check=IdentityCheck.CONFIRMED_CONTACT,
        )
        await objections.submit(
            replace(draft, **changes),
            directory=Untouched(),  # type: ignore[arg-type]
            transactions=Untouched(),  # type: ignore[arg-type]
            submitted_by="officer-1",
            now=NOW,
        )

    async def test_a_malformed_purpose_code(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            await self._submit(purpose="Not A Code")
        assert refused.value.field == "purpose"

    async def test_another_type_of_request(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            await self._submit(type=RequestType.ACCESS)
        assert refused.value.field == "type"

    async def test_a_purpose_on_another_type_of_request(self) -> None:
        draft = RequestDraft(
            type=RequestType.ACCESS,
            person_id=PERSON,
            received_via=ReceivedVia.EMAIL,
            identity_check=IdentityCheck.CONFIRMED_CONTACT,
            purpose="profiling",
        )
        with pytest.raises(InvalidInput) as refused:
            await requests.submit(
                draft,
                directory=Untouched(),  # type: ignore[arg-type]
                transactions=Untouched(),  # type: ignore[arg-type]
                submitted_by="officer-1",
                now=NOW,
            )
        assert refused.value.field == "purpose"
