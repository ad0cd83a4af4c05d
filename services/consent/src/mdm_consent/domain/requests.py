"""Data-subject requests (GDPR Art. 15, 17, 18, 20): received, due, extended, settled.

A request is answered within one calendar month of receipt (Art. 12(3)); the
controller may extend that by up to two further months, telling the person why
within the first month, so an extension is recorded with its reason and only
before the original deadline. Due dates follow Regulation 1182/71 (Art. 3(2)(c)):
a period of a month ends on the same date of the next month, or on that month's
last day where the date does not exist (received 31 January: due 28 February).
Dates are UTC dates.

How each kind is carried out across the services is in
:mod:`mdm_consent.domain.fulfilment`; this module keeps the request's life cycle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_consent.domain.consents import CLOCK_SKEW, PERSON_ID
from mdm_consent.domain.legal_holds import Restricted
from mdm_consent.domain.ports import PersonDirectory
from mdm_consent.domain.stores import Stores, Transactions

if TYPE_CHECKING:
    from mdm_consent.domain.rectification import Rectification

MAX_EXTENSION_MONTHS = 2  # Art. 12(3)
MIN_REASON = 10
MAX_REASON = 2000
MAX_PAGE = 200


class RequestType(StrEnum):
    ACCESS = "ACCESS"  # Art. 15: a copy of everything held, with purposes and sources
    PORTABILITY = "PORTABILITY"  # Art. 20: the same, machine-readable
    ERASURE = "ERASURE"  # Art. 17
    RESTRICTION = "RESTRICTION"  # Art. 18: keep, but do not use
    RECTIFICATION = "RECTIFICATION"  # Art. 16: correct a value, steward-reviewed (rectification.py)
    OBJECTION = "OBJECTION"  # Art. 21: to direct marketing, or to a purpose (domain/objections.py)


class RequestStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"  # being carried out across the services
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"  # Art. 12(5): manifestly unfounded or excessive, with reason

    @property
    def settled(self) -> bool:
        return self in (RequestStatus.COMPLETED, RequestStatus.REJECTED)


class ReceivedVia(StrEnum):
    EMAIL = "EMAIL"
    LETTER = "LETTER"
    WEB_FORM = "WEB_FORM"
    PHONE = "PHONE"
    IN_PERSON = "IN_PERSON"


class IdentityCheck(StrEnum):
    """How the requester was confirmed to be the person (Art. 12(6))."""

    ACCOUNT_LOGIN = "ACCOUNT_LOGIN"
    ID_DOCUMENT = "ID_DOCUMENT"
    CONFIRMED_CONTACT = "CONFIRMED_CONTACT"  # answered at a contact point on record
    KNOWN_DETAILS = "KNOWN_DETAILS"  # details only the person knows matched the records


class ObjectionOutcome(StrEnum):
    """How an objection (Art. 21) was settled; see :mod:`mdm_consent.domain.objections`."""

    DIRECT_MARKETING_STOPPED = "DIRECT_MARKETING_STOPPED"  # Art. 21(2), (3): at once
    UPHELD = "UPHELD"  # Art. 21(1): no compelling legitimate grounds
    REJECTED = "REJECTED"  # Art. 21(1): compelling legitimate grounds, given as reason


@dataclass(frozen=True)
class Extension:
    months: int
    reason: str
    at: datetime
    by: str


@dataclass(frozen=True)
class Step:
    """One service's part of an erasure or restriction, done."""

    service: str
    at: datetime
    person_ids: tuple[str, ...]
    detail: str  # counts, never personal data
    # Erasure: the categories of which values went, and what retention duties keep,
    # restricted, with duty, legal reference and end (Art. 17(3)).
    erased: tuple[str, ...] = ()
    restricted: tuple[Restricted, ...] = ()


@dataclass(frozen=True)
class DataSubjectRequest:
    id: str
    type: RequestType
    person_id: str
    received_at: datetime
    received_via: ReceivedVia
    identity_check: IdentityCheck
    submitted_at: datetime
    submitted_by: str
    status: RequestStatus = RequestStatus.OPEN
    extensions: tuple[Extension, ...] = ()
    # The merge group the request was carried out for (from the profile service).
    person_ids: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    settled_at: datetime | None = None
    settled_by: str | None = None
    rejection_reason: str | None = None
    exports: int = 0
    lifted_at: datetime | None = None  # a restriction lifted (Art. 18(3))
    lift_reason: str | None = None
    lifted_by: str | None = None
    note: str | None = field(default=None, compare=False)
    rectification: Rectification | None = None  # what a RECTIFICATION asks, and its outcome
    # An objection: the purpose objected to (None: all direct marketing), how it was
    # settled and the OBJECTED consent event it recorded.
    purpose: str | None = None
    objection: ObjectionOutcome | None = None
    consent_event_id: str | None = None

    @property
    def original_due_on(self) -> date:
        return due_on(self.received_at)

    @property
    def extended_months(self) -> int:
        return sum(e.months for e in self.extensions)

    @property
    def due(self) -> date:
        return due_on(self.received_at, extra_months=self.extended_months)

    def overdue(self, now: datetime) -> bool:
        return not self.status.settled and now.astimezone(UTC).date() > self.due

    def step(self, service: str) -> Step | None:
        return next((s for s in self.steps if s.service == service), None)


def due_on(received_at: datetime, *, extra_months: int = 0) -> date:
    """The last day to answer: one calendar month after receipt, plus any extension."""
    received = received_at.astimezone(UTC).date()
    return received + relativedelta(months=1 + extra_months)


def reason_text(text: str, name: str) -> str:
    cleaned = text.strip()
    if not MIN_REASON <= len(cleaned) <= MAX_REASON:
        raise InvalidInput(f"{name} needs {MIN_REASON}-{MAX_REASON} characters.", field=name)
    return cleaned


def checked_id(request_id: str) -> str:
    try:
        return str(uuid.UUID(request_id))
    except ValueError:
        raise InvalidInput("id is not a request id.", field="id") from None


async def known(stores: Stores, request_id: str, *, lock: bool = False) -> DataSubjectRequest:
    found = await stores.requests.get(checked_id(request_id), lock=lock)
    if found is None:
        raise NotFound(f"No data-subject request with id {request_id}.", field="id")
    return found


@dataclass(frozen=True)
class RequestDraft:
    type: RequestType
    person_id: str
    received_via: ReceivedVia
    identity_check: IdentityCheck
    received_at: datetime | None = None
    note: str | None = None
    rectification: Rectification | None = None  # with type RECTIFICATION only
    purpose: str | None = None  # an objection's purpose (None: all direct marketing)


async def submit(
    draft: RequestDraft, *, directory: PersonDirectory, transactions: Transactions,
    submitted_by: str, now: datetime,
) -> DataSubjectRequest:  # fmt: skip
    """Record a request received from the person; the person must be known to the profile.
    Objections are submitted with :func:`mdm_consent.domain.objections.submit`."""
    request = await received(draft, directory=directory, submitted_by=submitted_by, now=now)

    async def save(stores: Stores) -> DataSubjectRequest:
        await stores.requests.save(request)
        return request

    return await transactions.write(save)


async def received(
    draft: RequestDraft, *, directory: PersonDirectory, submitted_by: str, now: datetime
) -> DataSubjectRequest:
    """The request as received, checked, under the survivor's id; not yet saved."""
    if draft.purpose is not None and draft.type is not RequestType.OBJECTION:
        raise InvalidInput("Only an objection names a purpose.", field="purpose")
    if not PERSON_ID.match(draft.person_id):
        raise InvalidInput("personId is not a person id.", field="personId")
    received_at = draft.received_at or now
    if received_at.tzinfo is None:
        raise InvalidInput("receivedAt needs a time zone.", field="receivedAt")
    if received_at > now + CLOCK_SKEW:
        raise InvalidInput("receivedAt lies in the future.", field="receivedAt")
    note = draft.note.strip() if draft.note else None
    if note is not None and len(note) > MAX_REASON:
        raise InvalidInput(f"note takes at most {MAX_REASON} characters.", field="note")
    if (draft.type is RequestType.RECTIFICATION) != (draft.rectification is not None):
        raise InvalidInput(
            "A RECTIFICATION request, and only one, names the field and value.",
            field="rectification",
            details={"reason": "RECTIFICATION_DETAILS"},
        )
    survivor = await directory.resolve(draft.person_id)
    if survivor is None:
        raise NotFound(f"No person with id {draft.person_id}.", field="personId")
    return DataSubjectRequest(
        id=str(uuid.uuid4()), type=draft.type, person_id=survivor, received_at=received_at,
        received_via=draft.received_via, identity_check=draft.identity_check,
        submitted_at=now, submitted_by=submitted_by, note=note, purpose=draft.purpose,
        rectification=draft.rectification,
    )  # fmt: skip


async def extend(
    request_id: str, *, months: int, reason: str, stores: Stores, by: str, now: datetime
) -> DataSubjectRequest:
    """Extend the deadline by one or two months, before the first month is over."""
    if months not in (1, 2):
        raise InvalidInput("months is 1 or 2.", field="months")
    text = reason_text(reason, "reason")
    request = await known(stores, request_id, lock=True)
    if request.status.settled:
        raise Conflict("The request is settled already.", field="id",
                       details={"reason": "REQUEST_SETTLED"})  # fmt: skip
    if request.extended_months + months > MAX_EXTENSION_MONTHS:
        raise Conflict(
            f"A request can be extended by at most {MAX_EXTENSION_MONTHS} months in all.",
            field="months", details={"reason": "EXTENSION_LIMIT"},
        )  # fmt: skip
    if now.astimezone(UTC).date() > request.original_due_on:
        raise Conflict(
            "An extension must be decided, and the person told why, within one month of "
            "receipt (GDPR Art. 12(3)); that month is over.",
            field="id", details={"reason": "DEADLINE_PASSED"},
        )  # fmt: skip
    extended = replace(request, extensions=(*request.extensions, Extension(months, text, now, by)))
    await stores.requests.save(extended)
    return extended


async def reject(
    request_id: str, *, reason: str, stores: Stores, by: str, now: datetime
) -> DataSubjectRequest:
    """Refuse a manifestly unfounded or excessive request (Art. 12(5)), with the reason."""
    text = reason_text(reason, "reason")
    request = await known(stores, request_id, lock=True)
    if request.status is not RequestStatus.OPEN:
        raise Conflict("Only an open request can be rejected.", field="id",
                       details={"reason": "REQUEST_NOT_OPEN"})  # fmt: skip
    rejected = replace(request, status=RequestStatus.REJECTED, settled_at=now, settled_by=by,
                       rejection_reason=text)  # fmt: skip
    await stores.requests.save(rejected)
    return rejected


@dataclass(frozen=True)
class RequestFilter:
    status: RequestStatus | None = None
    type: RequestType | None = None
    person_id: str | None = None
    overdue_only: bool = False


async def listing(
    stores: Stores, filters: RequestFilter, *, first: int, after: str | None, now: datetime
) -> tuple[list[DataSubjectRequest], bool]:
    """Requests ordered by due date (the most urgent first), then id; cursor = last id."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be 1-{MAX_PAGE}.", field="first")
    if filters.person_id is not None and not PERSON_ID.match(filters.person_id):
        raise InvalidInput("personId is not a person id.", field="personId")
    cursor = None
    if after is not None:
        last = await stores.requests.get(checked_id(after))
        if last is None:
            raise InvalidInput("after is not a request of this listing.", field="after")
        cursor = (last.due, last.id)
    found = await stores.requests.find(filters, after=cursor, limit=first + 1,
                                       today=now.astimezone(UTC).date())  # fmt: skip
    return found[:first], len(found) > first
