"""Objections as requests (GDPR Art. 21) against the real graph server: the request and
its OBJECTED event in one transaction, stored and read back, and the contact check."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import checks, objections, purposes, requests
from mdm_consent.domain.models import ActorType, Channel, EventType, LegalBasis, Method
from mdm_consent.domain.requests import ObjectionOutcome, ReceivedVia, RequestStatus

NOW = datetime.now(UTC)
GROUNDS = "Fraud prevention for the person's open contract outweighs it (legal claims)."


class Directory:
    async def resolve(self, person_id: str) -> str | None:
        return person_id


async def _setup(
    graph_for: Callable[[str], GraphClient],
) -> tuple[GraphTransactions, dict[str, str]]:
    graph = graph_for("consent")
    await graph.apply_schema(SCHEMA)
    tx = GraphTransactions(graph)
    tag = uuid.uuid4().hex[:8]
    kinds = {
        "mail": (LegalBasis.LEGITIMATE_INTEREST, True),
        "profiling": (LegalBasis.LEGITIMATE_INTEREST, False),
        "consented": (LegalBasis.CONSENT, False),
    }
    codes = {}
    for name, (basis, marketing) in kinds.items():
        draft = purposes.PurposeDraft(
            code=f"{name}-{tag}",
            name=name,
            description="d",
            legal_basis=basis,
            channels=(Channel.EMAIL, Channel.POST),
            # Purposes on legitimate interest apply to everybody in the shared graph:
            # bind little (as tests/e2e/test_consent.py does).
            data_categories=("postal_address",),
            retention_days=365,
            direct_marketing=marketing,
        )
        await tx.write(
            lambda s, d=draft: purposes.register_purpose(
                d, s, now=NOW - timedelta(days=1), actor="o"
            )
        )
        codes[name] = draft.code
    return tx, codes


async def _object(
    tx: GraphTransactions, person: str, purpose: str | None
) -> requests.DataSubjectRequest:
    draft = requests.RequestDraft(
        type=requests.RequestType.OBJECTION,
        person_id=person,
        received_via=ReceivedVia.EMAIL,
        identity_check=requests.IdentityCheck.CONFIRMED_CONTACT,
        purpose=purpose,
        received_at=NOW - timedelta(hours=2),
    )
    return await objections.submit(
        draft, directory=Directory(), transactions=tx, submitted_by="officer-1", now=NOW
    )


async def _allowed(tx: GraphTransactions, person: str, code: str) -> tuple[bool, str]:
    found = await tx.read(
        lambda s: checks.contact_check([person], s, purpose=code, channel=Channel.POST, at=NOW)
    )
    return found[0].verdict.allowed, found[0].verdict.reason


class TestDirectMarketing:
    async def test_takes_effect_at_once_with_the_request_as_evidence(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, codes = await _setup(graph_for)
        person = str(uuid.uuid4())
        assert await _allowed(tx, person, codes["mail"]) == (True, "LEGAL_BASIS")

        done = await _object(tx, person, None)

        assert (done.status, done.objection, done.settled_by) == (
            RequestStatus.COMPLETED,
            ObjectionOutcome.DIRECT_MARKETING_STOPPED,
            "officer-1",
        )
        stored = await tx.read(lambda s: requests.known(s, done.id))
        assert (stored.objection, stored.consent_event_id, stored.purpose) == (
            ObjectionOutcome.DIRECT_MARKETING_STOPPED,
            done.consent_event_id,
            None,
        )
        (event,) = (await tx.read(lambda s: s.consents.history_of([person])))[person]
        assert (event.id, event.type, event.actor, event.method) == (
            done.consent_event_id,
            EventType.OBJECTED,
            ActorType.DATA_SUBJECT,
            Method.EMAIL,
        )
        assert event.evidence_ref == f"data-subject-request:{done.id}"
        assert await _allowed(tx, person, codes["mail"]) == (False, "OBJECTED")
        assert await _allowed(tx, person, codes["profiling"]) == (True, "LEGAL_BASIS")

    async def test_naming_a_direct_marketing_purpose_is_the_same(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, codes = await _setup(graph_for)
        person = str(uuid.uuid4())
        done = await _object(tx, person, codes["mail"])
        assert (done.status, done.purpose) == (RequestStatus.COMPLETED, codes["mail"])
        assert await _allowed(tx, person, codes["mail"]) == (False, "OBJECTED")


class TestParticularSituation:
    async def test_stays_open_until_upheld(self, graph_for: Callable[[str], GraphClient]) -> None:
        tx, codes = await _setup(graph_for)
        person = str(uuid.uuid4())
        opened = await _object(tx, person, codes["profiling"])
        assert (opened.status, opened.objection, opened.consent_event_id) == (
            RequestStatus.OPEN,
            None,
            None,
        )
        assert (await tx.read(lambda s: s.consents.history_of([person])))[person] == []
        assert await _allowed(tx, person, codes["profiling"]) == (True, "LEGAL_BASIS")

        upheld = await tx.write(
            lambda s: objections.uphold(opened.id, stores=s, by="officer-2", now=NOW)
        )
        assert (upheld.status, upheld.objection, upheld.settled_by) == (
            RequestStatus.COMPLETED,
            ObjectionOutcome.UPHELD,
            "officer-2",
        )
        assert await _allowed(tx, person, codes["profiling"]) == (False, "OBJECTED")
        assert await _allowed(tx, person, codes["mail"]) == (True, "LEGAL_BASIS")
        with pytest.raises(Conflict) as twice:
            await tx.write(lambda s: objections.uphold(opened.id, stores=s, by="o", now=NOW))
        assert twice.value.details == {"reason": "REQUEST_SETTLED"}

    async def test_rejected_only_with_grounds(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, codes = await _setup(graph_for)
        person = str(uuid.uuid4())
        opened = await _object(tx, person, codes["profiling"])
        with pytest.raises(InvalidInput) as bare:
            await tx.write(
                lambda s: objections.reject(opened.id, grounds=" no ", stores=s, by="o", now=NOW)
            )
        assert bare.value.field == "grounds"

        rejected = await tx.write(
            lambda s: objections.reject(opened.id, grounds=GROUNDS, stores=s, by="o", now=NOW)
        )
        stored = await tx.read(lambda s: requests.known(s, opened.id))
        assert (stored.status, stored.objection, stored.rejection_reason) == (
            RequestStatus.REJECTED,
            ObjectionOutcome.REJECTED,
            GROUNDS,
        )
        assert rejected == stored
        assert await _allowed(tx, person, codes["profiling"]) == (True, "LEGAL_BASIS")


class TestRefused:
    async def test_unknown_and_consent_purposes_write_nothing(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, codes = await _setup(graph_for)
        person = str(uuid.uuid4())
        with pytest.raises(NotFound) as unknown:
            await _object(tx, person, "no-such-purpose")
        assert unknown.value.details == {"reason": "UNKNOWN_PURPOSE"}
        with pytest.raises(InvalidInput) as consented:
            await _object(tx, person, codes["consented"])
        assert consented.value.details == {"reason": "USE_WITHDRAWAL"}
        found = await tx.read(lambda s: s.requests.of_person([person]))
        assert found == []

    async def test_other_requests_are_not_objections(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        tx, _ = await _setup(graph_for)
        draft = requests.RequestDraft(
            type=requests.RequestType.ACCESS,
            person_id=str(uuid.uuid4()),
            received_via=ReceivedVia.LETTER,
            identity_check=requests.IdentityCheck.ID_DOCUMENT,
        )
        access = await requests.submit(
            draft, directory=Directory(), transactions=tx, submitted_by="o", now=NOW
        )
        with pytest.raises(Conflict) as refused:
            await tx.write(lambda s: objections.uphold(access.id, stores=s, by="o", now=NOW))
        assert refused.value.details == {"reason": "WRONG_REQUEST_TYPE"}
