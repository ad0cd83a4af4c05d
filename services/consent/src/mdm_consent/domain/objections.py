"""Objections received as data-subject requests (GDPR Art. 21).

An objection names a purpose, or none: then it objects to all direct marketing.

- **Direct marketing** (Art. 21(2), (3)): no purpose, or a direct-marketing purpose
  on any legal basis. It takes effect at once and unconditionally: submitting the
  request records the ``OBJECTED`` consent event (the request as evidence, actor
  ``DATA_SUBJECT``, the method the request came by) in the same transaction and
  completes the request. The contact check then refuses every direct-marketing
  purpose (``OBJECTED``).
- **A purpose on public task or legitimate interest** (Art. 21(1), Art. 6(1)(e), (f)):
  the person objects on grounds of their particular situation; the request stays open
  until a compliance officer decides. Upheld, the ``OBJECTED`` event is recorded and
  the contact check refuses the purpose; rejected only with the compelling
  legitimate grounds given as reason.
- **A purpose on consent**: the person withdraws consent instead (Art. 7(3));
  ``USE_WITHDRAWAL``. On contract, legal obligation or vital interest Art. 21 gives
  no right to object: ``NOT_OBJECTABLE``.

The event counts from the request's receipt: the controller knew of the objection
then, and a check for a time after it answers as the objection demands.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from mdm_common.errors import Conflict, InvalidInput
from mdm_consent.domain.consents import against_purpose, append_announced
from mdm_consent.domain.models import (
    ActorType,
    ConsentEvent,
    EventType,
    LegalBasis,
    Method,
    Purpose,
)
from mdm_consent.domain.ports import PersonDirectory
from mdm_consent.domain.purposes import checked_code, known_purpose
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    ObjectionOutcome,
    ReceivedVia,
    RequestDraft,
    RequestStatus,
    RequestType,
    known,
    reason_text,
    received,
)
from mdm_consent.domain.stores import Stores, Transactions

# The collection point of an OBJECTED event recorded for a request.
COLLECTION_POINT = "data-subject request"
# Art. 21(1) covers processing on Art. 6(1)(e) and (f).
OBJECTABLE = frozenset({LegalBasis.PUBLIC_TASK, LegalBasis.LEGITIMATE_INTEREST})
METHOD_OF = {
    ReceivedVia.EMAIL: Method.EMAIL,
    ReceivedVia.LETTER: Method.PAPER_FORM,
    ReceivedVia.WEB_FORM: Method.WEB_FORM,
    ReceivedVia.PHONE: Method.PHONE_CALL,
    ReceivedVia.IN_PERSON: Method.IN_PERSON,
}


class ObjectionKind(StrEnum):
    DIRECT_MARKETING = "DIRECT_MARKETING"  # Art. 21(2): absolute, effective at once
    PARTICULAR_SITUATION = "PARTICULAR_SITUATION"  # Art. 21(1): decided by compliance


def kind_of(purpose: Purpose | None) -> ObjectionKind:
    """Which right the objection exercises; refuses purposes Art. 21 does not cover."""
    if purpose is None or purpose.direct_marketing:
        return ObjectionKind.DIRECT_MARKETING
    if purpose.legal_basis is LegalBasis.CONSENT:
        raise InvalidInput(
            f"Purpose {purpose.code} rests on consent: the person withdraws the consent "
            "(Art. 7(3)) rather than objecting.",
            field="purpose",
            details={"reason": "USE_WITHDRAWAL"},
        )
    if purpose.legal_basis not in OBJECTABLE:
        raise InvalidInput(
            f"Purpose {purpose.code} rests on {purpose.legal_basis.value}; Art. 21(1) gives "
            "a right to object to processing on public task or legitimate interest only.",
            field="purpose",
            details={"reason": "NOT_OBJECTABLE"},
        )
    return ObjectionKind.PARTICULAR_SITUATION


def objected_event(request: DataSubjectRequest, *, recorded_by: str, now: datetime) -> ConsentEvent:
    """The OBJECTED event an objection request records, with the request as evidence."""
    return ConsentEvent(
        id=str(uuid.uuid4()),
        person_id=request.person_id,
        type=EventType.OBJECTED,
        occurred_at=request.received_at,
        recorded_at=now,
        recorded_by=recorded_by,
        collection_point=COLLECTION_POINT,
        method=METHOD_OF[request.received_via],
        actor=ActorType.DATA_SUBJECT,
        purpose=request.purpose,
        evidence_ref=f"data-subject-request:{request.id}",
    )


async def _record(
    stores: Stores,
    request: DataSubjectRequest,
    outcome: ObjectionOutcome,
    *,
    by: str,
    now: datetime,
) -> DataSubjectRequest:
    event = await against_purpose(stores, objected_event(request, recorded_by=by, now=now))
    await append_announced(stores, event)
    done = replace(
        request,
        status=RequestStatus.COMPLETED,
        settled_at=now,
        settled_by=by,
        objection=outcome,
        consent_event_id=event.id,
    )
    await stores.requests.save(done)
    return done


async def submit(
    draft: RequestDraft,
    *,
    directory: PersonDirectory,
    transactions: Transactions,
    submitted_by: str,
    now: datetime,
) -> DataSubjectRequest:
    """Record an objection; one to direct marketing takes effect in the same transaction."""
    if draft.type is not RequestType.OBJECTION:
        raise InvalidInput("Not an objection.", field="type")
    if draft.purpose is not None:
        checked_code(draft.purpose, field="purpose")
    request = await received(draft, directory=directory, submitted_by=submitted_by, now=now)

    async def save(stores: Stores) -> DataSubjectRequest:
        purpose = await known_purpose(stores, draft.purpose) if draft.purpose else None
        if kind_of(purpose) is ObjectionKind.DIRECT_MARKETING:
            outcome = ObjectionOutcome.DIRECT_MARKETING_STOPPED
            return await _record(stores, request, outcome, by=submitted_by, now=now)
        await stores.requests.save(request)
        return request

    return await transactions.write(save)


async def _open_objection(stores: Stores, request_id: str) -> DataSubjectRequest:
    request = await known(stores, request_id, lock=True)
    if request.type is not RequestType.OBJECTION:
        raise Conflict(
            "Only objections are upheld or rejected here.",
            field="id",
            details={"reason": "WRONG_REQUEST_TYPE"},
        )
    if request.status.settled:
        raise Conflict(
            "The objection is settled already.", field="id", details={"reason": "REQUEST_SETTLED"}
        )
    return request


async def uphold(request_id: str, *, stores: Stores, by: str, now: datetime) -> DataSubjectRequest:
    """Art. 21(1): no compelling legitimate grounds; the OBJECTED event is recorded."""
    request = await _open_objection(stores, request_id)
    return await _record(stores, request, ObjectionOutcome.UPHELD, by=by, now=now)


async def reject(
    request_id: str, *, grounds: str, stores: Stores, by: str, now: datetime
) -> DataSubjectRequest:
    """Art. 21(1): the controller demonstrates compelling legitimate grounds that override
    the person's interests (or the processing serves legal claims); given as reason."""
    text = reason_text(grounds, "grounds")
    request = await _open_objection(stores, request_id)
    rejected = replace(
        request,
        status=RequestStatus.REJECTED,
        settled_at=now,
        settled_by=by,
        rejection_reason=text,
        objection=ObjectionOutcome.REJECTED,
    )
    await stores.requests.save(rejected)
    return rejected
