"""Purposes, their notice texts, and the append-only consent history.

A change of mind is a new event, never an update: the current state of a person's
consent is always derived from the events (see :mod:`mdm_consent.domain.rules`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class LegalBasis(StrEnum):
    """GDPR Art. 6(1) (a) to (f)."""

    CONSENT = "CONSENT"
    CONTRACT = "CONTRACT"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    VITAL_INTEREST = "VITAL_INTEREST"
    PUBLIC_TASK = "PUBLIC_TASK"
    LEGITIMATE_INTEREST = "LEGITIMATE_INTEREST"


class Channel(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    SMS = "SMS"
    POST = "POST"
    PERSONALISED_WEB = "PERSONALISED_WEB"


class EventType(StrEnum):
    GRANTED = "GRANTED"
    PENDING_DOUBLE_OPT_IN = "PENDING_DOUBLE_OPT_IN"
    CONFIRMED = "CONFIRMED"  # the person confirmed a pending double opt-in
    WITHDRAWN = "WITHDRAWN"
    OBJECTED = "OBJECTED"  # Art. 21
    EXPIRED = "EXPIRED"
    SALE_RECORDED = "SALE_RECORDED"  # UWG §7(3): contact details obtained with a sale
    PARENTAL_AUTHORISATION = "PARENTAL_AUTHORISATION"  # Art. 8 for under-16s
    AGE_EVIDENCE = "AGE_EVIDENCE"  # the birth date as evidenced at collection


class Method(StrEnum):
    """How an event was collected."""

    WEB_FORM = "WEB_FORM"
    EMAIL_LINK = "EMAIL_LINK"  # confirmation link of a double opt-in mail
    SMS_CODE = "SMS_CODE"
    PAPER_FORM = "PAPER_FORM"
    PHONE_CALL = "PHONE_CALL"
    IN_PERSON = "IN_PERSON"
    PREFERENCE_CENTRE = "PREFERENCE_CENTRE"
    ORDER = "ORDER"
    ID_DOCUMENT = "ID_DOCUMENT"
    IMPORT = "IMPORT"  # taken over from another system: proves less than the others
    SYSTEM = "SYSTEM"  # e.g. an expiry recorded by a job
    EMAIL = "EMAIL"  # a message from the person, e.g. an objection sent by e-mail


class ActorType(StrEnum):
    """Who acted: the person, a holder of parental responsibility, staff on their behalf,
    or the consent service itself (a job)."""

    DATA_SUBJECT = "DATA_SUBJECT"
    GUARDIAN = "GUARDIAN"
    STAFF = "STAFF"
    # The consent service itself, no human: an expiry recorded by the daily job
    # (docs/consent.md, "Expiry as an event"), the profile's birth date kept as evidence
    # of age with a consent ("Minors"). Never accepted from a caller.
    SYSTEM = "SYSTEM"


@dataclass(frozen=True)
class NoticeVersion:
    """One version of a purpose's notice text; ``material`` asks for renewed consent.

    ``text`` is ``None`` where it was not loaded (the contact check needs only the
    versions, dates and hashes).
    """

    purpose: str
    version: int
    language: str
    sha256: str
    material: bool
    published_at: datetime
    published_by: str
    text: str | None = None

    @staticmethod
    def hash_of(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Purpose:
    code: str
    name: str
    description: str
    legal_basis: LegalBasis
    channels: tuple[Channel, ...]
    data_categories: tuple[str, ...]
    retention_days: int
    direct_marketing: bool
    # A consent older than this is no longer relied on (None: no fixed validity).
    consent_validity_days: int | None
    created_at: datetime
    created_by: str
    notices: tuple[NoticeVersion, ...] = ()
    # Counts every change (a new notice version): a cached copy is current while the
    # stored revision is the same. None for purposes stored before revisions.
    revision: int | None = None
    # UWG §7(3) Nr. 2: the controller's own goods or services this purpose advertises;
    # the existing-customer exception holds only for a sale of one of these categories.
    product_categories: tuple[str, ...] = ()

    def notice(self, version: int) -> NoticeVersion | None:
        return next((n for n in self.notices if n.version == version), None)

    @property
    def latest_version(self) -> int:
        return max((n.version for n in self.notices), default=0)


@dataclass(frozen=True)
class Fact:
    """The part of an event that the contact check reads (kept with the current state)."""

    id: str
    type: EventType
    occurred_at: datetime
    purpose: str | None = None
    channel: Channel | None = None
    notice_version: int | None = None
    method: Method | None = None
    actor: ActorType | None = None
    confirms: str | None = None
    birth_date: date | None = None
    # For an objection: it is an objection to direct marketing (Art. 21(2)).
    direct_marketing: bool = False
    # Whose history it belongs to (the event's person id); None: the person asked about.
    person_id: str | None = None
    # Taken over by importConsentEvents: proves no more than a method IMPORT.
    imported: bool = False
    # SALE_RECORDED: the product category of the sale (UWG §7(3) Nr. 2).
    product_category: str | None = None
    # A pending double opt-in lapses at this time unless confirmed (domain/double_opt_in.py).
    confirm_by: datetime | None = None


@dataclass(frozen=True)
class ImportProof:
    """How an event came in by ``importConsentEvents``: from which system, under which
    reference, the SHA-256 of the document it was taken from, who imported it, when."""

    import_id: str
    source: str
    reference: str
    document_sha256: str
    imported_by: str
    imported_at: datetime

    def fields(self) -> dict[str, str | int | None]:
        """As a data-subject export shows it, next to the event's proof."""
        return {
            "importedFrom": self.source,
            "importReference": self.reference,
            "importDocumentSha256": self.document_sha256,
            "importedBy": self.imported_by,
            "importedAt": self.imported_at.isoformat(),
        }


@dataclass(frozen=True)
class ConsentEvent:
    """An event with its full proof, exactly as recorded."""

    id: str
    person_id: str
    type: EventType
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    collection_point: str
    method: Method
    actor: ActorType
    purpose: str | None = None
    channel: Channel | None = None
    notice_version: int | None = None
    notice_sha256: str | None = None
    language: str | None = None
    staff_id: str | None = None
    evidence_ref: str | None = None
    confirms: str | None = None
    birth_date: date | None = None
    direct_marketing: bool = False
    imported: ImportProof | None = None
    product_category: str | None = None  # SALE_RECORDED only
    # Double opt-in (domain/double_opt_in.py): when a pending request lapses; the
    # SHA-256 of the confirmation token; the requesting IP address's network.
    confirm_by: datetime | None = None
    token_sha256: str | None = None
    ip_network: str | None = None
    # The form submission the event was recorded with (recordConsentSubmission).
    submission_id: str | None = None

    @property
    def fact(self) -> Fact:
        return Fact(
            id=self.id, type=self.type, occurred_at=self.occurred_at, purpose=self.purpose,
            channel=self.channel, notice_version=self.notice_version, method=self.method,
            actor=self.actor, confirms=self.confirms, birth_date=self.birth_date,
            direct_marketing=self.direct_marketing, person_id=self.person_id,
            imported=self.imported is not None, product_category=self.product_category,
            confirm_by=self.confirm_by,
        )  # fmt: skip

    @property
    def taken_over(self) -> bool:
        """Taken over from another system (imported, or recorded as an import)."""
        return self.imported is not None or self.method is Method.IMPORT

    @property
    def concerns_all_purposes(self) -> bool:
        """Evidence of age and objections to direct marketing count for every purpose."""
        return self.type is EventType.AGE_EVIDENCE or (
            self.type is EventType.OBJECTED and (self.purpose is None or self.direct_marketing)
        )


class MergeState(StrEnum):
    ACTIVE = "ACTIVE"
    UNDONE = "UNDONE"


@dataclass(frozen=True)
class MergeLink:
    """The profile service merged ``merged_id`` into ``survivor_id`` (its merge
    ``merge_id``), as the consent service recorded it on hearing of it.

    ``linked_at`` is when the two histories became one for the contact check: only
    events after it can settle a conflict between the two sides (docs/consent.md).
    """

    merge_id: str
    survivor_id: str
    merged_id: str
    linked_at: datetime
    state: MergeState = MergeState.ACTIVE
    undone_at: datetime | None = None


class HoldKind(StrEnum):
    """Why nobody may be contacted whatever the consent: a data-subject request."""

    RESTRICTED = "RESTRICTED"  # Art. 18: processing restricted
    ERASED = "ERASED"  # Art. 17: the person's data is erased; the history stays as proof


@dataclass(frozen=True)
class Hold:
    """A restriction or erasure in force from ``since`` until ``until`` (None: open)."""

    kind: HoldKind
    since: datetime
    request_id: str
    until: datetime | None = None
    person_id: str | None = None

    def in_force(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)
