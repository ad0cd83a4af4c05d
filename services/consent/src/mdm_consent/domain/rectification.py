"""Rectification requests (GDPR Art. 16, 19): steward-reviewed corrections of a value.

The person asks to correct one golden value (``field``, the corrected ``value``). The
request is due like every other (Art. 12(3)) and waits for a steward's or compliance
officer's decision, with a reason the person is told (Art. 12(4) when it is refused).
On approval the profile applies the value as a source record of its own (source
``rectification``, source id = the request) that wins survivorship for the field;
the source systems' records stay as received. The profile names the source systems
that hold another value (Art. 19: the recipients to be told), never the values.

The value is checked by the profile's data-quality code when the request is submitted
and again when it is applied, so a bad value is refused (BAD_USER_INPUT naming the
field) before an approval can succeed. The corrected value is personal data the
profile holds once applied: the request keeps it only until it is decided (Art.
5(1)(c)), and keeps the field, the decision, the reason and the recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.auth import Principal
from mdm_common.errors import Conflict, DomainError, InvalidInput, Unavailable
from mdm_consent.domain.consents import PERSON_ID
from mdm_consent.domain.ports import PersonDirectory
from mdm_consent.domain.requests import (
    MAX_REASON,
    DataSubjectRequest,
    RequestDraft,
    RequestFilter,
    RequestStatus,
    RequestType,
    Step,
    known,
    listing,
    reason_text,
    submit,
)
from mdm_consent.domain.stores import Stores, Transactions

PROFILE = "profile"
# The golden fields a person may have corrected, as the export names them.
FIELDS = (
    "givenName",
    "familyName",
    "salutation",
    "birthDate",
    "email",
    "phone",
    "address",
    "language",
)


class Decision(StrEnum):
    APPROVED = "APPROVED"  # applied in the profile
    REJECTED = "REJECTED"  # not applied; the reason is told to the person (Art. 12(4))


@dataclass(frozen=True)
class Rectification:
    field: str
    value: str | None  # as the person gave it; cleared once decided
    # Art. 19: source systems holding another value (as of submission, then of approval).
    recipients: tuple[str, ...] = ()
    decision: Decision | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ProfileAnswer:
    """The profile's answer: the merge group and the recipients, never values."""

    person_ids: tuple[str, ...]
    recipients: tuple[str, ...]
    already_applied: bool = False


class ProfileRectifier(Protocol):
    """The profile's rectification operations (signed calls on behalf of the actor)."""

    async def check(
        self, person_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer: ...

    async def rectify(
        self, person_id: str, request_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer: ...


def _wrong_type() -> Conflict:
    return Conflict(
        "Only a RECTIFICATION request is decided this way.",
        field="id",
        details={"reason": "WRONG_REQUEST_TYPE"},
    )


def _settled() -> Conflict:
    return Conflict(
        "The request is settled already.", field="id", details={"reason": "REQUEST_SETTLED"}
    )


def asked(field: str, value: str) -> Rectification:
    """What the person asks, checked for form (the profile checks the value itself)."""
    if field not in FIELDS:
        raise InvalidInput(
            f"field takes one of {', '.join(FIELDS)}.",
            field="field",
            details={"reason": "UNKNOWN_FIELD"},
        )
    if not value.strip() or len(value) > MAX_REASON:
        raise InvalidInput(
            f"value needs 1-{MAX_REASON} characters.", field="value", details={"reason": "INVALID"}
        )
    return Rectification(field, value)


async def submit_rectification(
    draft: RequestDraft,
    *,
    profile: ProfileRectifier,
    directory: PersonDirectory,
    transactions: Transactions,
    actor: Principal,
    now: datetime,
) -> DataSubjectRequest:
    """Record a rectification request; the profile refuses a value it would not apply."""
    if draft.type is not RequestType.RECTIFICATION or draft.rectification is None:
        raise InvalidInput(
            "A RECTIFICATION request, and only one, names the field and value.",
            field="rectification",
            details={"reason": "RECTIFICATION_DETAILS"},
        )
    if not PERSON_ID.match(draft.person_id):
        raise InvalidInput("personId is not a person id.", field="personId")
    wanted = asked(draft.rectification.field, draft.rectification.value or "")
    assert wanted.value is not None  # checked above
    found = await profile.check(draft.person_id, wanted.field, wanted.value, actor=actor)
    draft = replace(draft, rectification=replace(wanted, recipients=found.recipients))
    return await submit(
        draft, directory=directory, transactions=transactions, submitted_by=actor.subject, now=now
    )


async def decide(
    request_id: str,
    *,
    approve: bool,
    reason: str,
    profile: ProfileRectifier,
    transactions: Transactions,
    actor: Principal,
    now: datetime,
) -> DataSubjectRequest:
    """Approve (and apply in the profile) or reject a rectification, with the reason.

    An approval marks the request IN_PROGRESS before the profile is called, so a
    concurrent rejection cannot settle it meanwhile; if the profile cannot be reached
    it stays so and deciding again resumes (the profile applies a request once). If
    the profile refuses (the value, or the person erased meanwhile), it is OPEN again.
    """
    text = reason_text(reason, "reason")

    async def begin(stores: Stores) -> DataSubjectRequest:
        request = await known(stores, request_id, lock=True)
        pending = request.rectification
        if request.type is not RequestType.RECTIFICATION or pending is None:
            raise _wrong_type()
        if request.status.settled:
            raise _settled()
        if approve and pending.value is None:
            raise Conflict(
                "The person's data was erased; there is nothing to rectify. Reject the "
                "request with the reason instead.",
                field="id",
                details={"reason": "ERASED"},
            )
        if request.status is RequestStatus.IN_PROGRESS and pending.value is not None:
            if not approve:
                raise Conflict(
                    "The approval is being applied; it cannot be rejected now.",
                    field="id",
                    details={"reason": "REQUEST_NOT_OPEN"},
                )
            return request  # resume the approval made before
        decision = Decision.APPROVED if approve else Decision.REJECTED
        decided = replace(
            pending, decision=decision, decided_at=now, decided_by=actor.subject, reason=text
        )
        if approve:
            updated = replace(request, status=RequestStatus.IN_PROGRESS, rectification=decided)
        else:
            updated = _settle(request, replace(decided, value=None), actor=actor, now=now)
        await stores.requests.save(updated)
        return updated

    request = await transactions.write(begin)
    if request.status.settled:
        return request
    pending = request.rectification
    assert pending is not None  # checked in begin
    assert pending.value is not None  # kept until the request is settled
    try:
        done = await profile.rectify(
            request.person_id, request.id, pending.field, pending.value, actor=actor
        )
    except Unavailable:
        raise
    except DomainError:
        await transactions.write(lambda s: _reopen(s, request_id))
        raise

    async def finish(stores: Stores) -> DataSubjectRequest:
        current = await known(stores, request_id, lock=True)
        if current.status.settled or current.rectification is None:
            return current  # a concurrent attempt finished it
        outcome = replace(current.rectification, value=None, recipients=done.recipients)
        step = Step(
            PROFILE,
            now,
            done.person_ids,
            f"rectified {outcome.field}; recipients {len(done.recipients)}",
        )
        settled = replace(
            _settle(current, outcome, actor=actor, now=now),
            steps=(*current.steps, step),
            person_ids=done.person_ids,
        )
        await stores.requests.save(settled)
        return settled

    return await transactions.write(finish)


def _settle(
    request: DataSubjectRequest, outcome: Rectification, *, actor: Principal, now: datetime
) -> DataSubjectRequest:
    return replace(
        request,
        status=RequestStatus.COMPLETED,
        settled_at=now,
        settled_by=actor.subject,
        rectification=outcome,
    )


async def _reopen(stores: Stores, request_id: str) -> None:
    current = await known(stores, request_id, lock=True)
    if current.status is RequestStatus.IN_PROGRESS and current.rectification is not None:
        undecided = replace(
            current.rectification, decision=None, decided_at=None, decided_by=None, reason=None
        )
        await stores.requests.save(
            replace(current, status=RequestStatus.OPEN, rectification=undecided)
        )


async def queue(
    stores: Stores, *, status: RequestStatus | None, first: int, after: str | None, now: datetime
) -> tuple[list[DataSubjectRequest], bool]:
    """Rectification requests for the stewards, the earliest due first (default: OPEN)."""
    filters = RequestFilter(status=status, type=RequestType.RECTIFICATION)
    return await listing(stores, filters, first=first, after=after, now=now)


async def forget_values(stores: Stores, person_ids: Sequence[str]) -> int:
    """An erasure (Art. 17) takes the corrected values and notes of the person's
    rectification requests with it; the requests stay as the record that they were
    made. One still open can then only be rejected (with the reason). The number of
    requests changed."""
    changed = 0
    for request in await stores.requests.of_person(list(person_ids)):
        if request.rectification is not None and request.rectification.value is not None:
            forgotten = replace(request.rectification, value=None)
            await stores.requests.save(replace(request, rectification=forgotten, note=None))
            changed += 1
    return changed
