"""Source records: what a source system sends, and its cleaned form with a quality report.

The policy (docs/profile-model.md, "Data-quality policy"): a value that fails its
checks costs the record nothing but that value. It is flagged (WARNING), kept as
received in ``kept_raw`` and used neither in the golden record nor in matching.
A record is refused only when it cannot identify anybody, or breaks the API
contract (malformed id, oversized field, unknown identifier scheme).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.addresses import PostalAddress, normalise_address
from mdm_profile.domain.quality.contact import Phone, normalise_email, normalise_phone
from mdm_profile.domain.quality.dates import BirthDate, parse_birth_date
from mdm_profile.domain.quality.identifiers import (
    Identifier,
    RawIdentifier,
    normalise_identifiers,
)
from mdm_profile.domain.quality.language import normalise_language
from mdm_profile.domain.quality.legal_forms import display_name, split_legal_form
from mdm_profile.domain.quality.names import parse_name
from mdm_profile.domain.quality.report import QualityReport, Severity
from mdm_profile.domain.sources import SourceSystem

MAX_BATCH = 500
MAX_FIELD_LENGTH = 300
MAX_SOURCE_ID = 128
SOURCE_ID = re.compile(rf"[A-Za-z0-9_.:@/+-]{{1,{MAX_SOURCE_ID}}}")


@dataclass(frozen=True)
class RawRecord:
    """A record as a source sends it: every field optional except its id."""

    source_id: str
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    salutation: str | None = None
    birth_date: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    language: str | None = None
    recorded_at: datetime | None = None  # when the source last changed it
    identifiers: tuple[RawIdentifier, ...] = ()
    company_name: str | None = None  # the employer as the source writes it


@dataclass(frozen=True)
class CleanRecord:
    source: str
    source_id: str
    given_name: str
    family_name: str
    titles: tuple[str, ...]
    suffix: str | None
    salutation: str | None
    birth_date: date | None
    email: str | None
    phone: Phone | None
    address: PostalAddress | None
    language: str | None
    recorded_at: datetime
    quality: QualityReport = field(compare=False)
    birth_date_partial: str | None = None  # "YYYY" or "YYYY-MM" where no full date is known
    identifiers: tuple[Identifier, ...] = ()
    # Values that failed their checks, as received: (field as the API spells it, value).
    kept_raw: tuple[tuple[str, str], ...] = ()
    # The company the person works for, as the source names it, its legal form written
    # as the register writes it ("Müller Maschinenbau GmbH"); see domain/employment.py.
    employer: str | None = None

    @property
    def key(self) -> str:
        return record_key(self.source, self.source_id)


def record_key(source: str, source_id: str) -> str:
    return f"{source}|{source_id}"


class RecordRejected(InvalidInput):
    """The record cannot identify anybody; ``report.errors`` says why."""

    def __init__(self, source_id: str, report: QualityReport) -> None:
        first = report.errors[0]
        super().__init__(
            f"Record {source_id} refused: {first.field} {first.code}.", field=first.field
        )
        self.source_id = source_id
        self.report = report


def _employer(raw: str | None) -> str | None:
    """The employer's name with its legal form as the register writes it."""
    text = " ".join((raw or "").split())
    return display_name(split_legal_form(text)) if text else None


def _check_lengths(raw: RawRecord) -> None:
    if not SOURCE_ID.fullmatch(raw.source_id):
        raise InvalidInput(
            f"sourceId must be 1-{MAX_SOURCE_ID} letters, digits or _.:@/+-", field="sourceId"
        )
    for name, value in vars(raw).items():
        if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
            head, *rest = name.split("_")
            camel = head + "".join(part.title() for part in rest)  # as the API spells it
            raise InvalidInput(
                f"{camel} is longer than {MAX_FIELD_LENGTH} characters.", field=camel
            )


# Issues after which the source's value is not used; it is kept as received.
# Every birth date issue counts: a partial date is not what the source sent.
_VALUE_DROPPED = {
    ("email", "INVALID"),
    ("phone", "INVALID"),
    ("phone", "UNPARSEABLE"),
    ("postalCode", "INVALID_FOR_COUNTRY"),
    ("country", "UNKNOWN_COUNTRY"),
    ("language", "UNKNOWN"),
    ("language", "NO_ISO_639_1_CODE"),
}
_RAW_FIELD = {
    "email": "email",
    "phone": "phone",
    "postalCode": "postal_code",
    "country": "country",
    "language": "language",
    "birthDate": "birth_date",
}


def _kept_raw(raw: RawRecord, report: QualityReport) -> list[tuple[str, str]]:
    kept = {}
    for issue in report.issues:
        dropped = (issue.field, issue.code) in _VALUE_DROPPED or issue.field == "birthDate"
        value = getattr(raw, _RAW_FIELD.get(issue.field, ""), None)
        if dropped and isinstance(value, str):
            kept[issue.field] = value
    return sorted(kept.items())


def _identifiable(record: CleanRecord) -> bool:
    """The refusal rule: a record names somebody, reaches somebody or carries an id."""
    address = record.address
    located = address is not None and bool(address.street or address.postal_code)
    reachable = record.email or record.phone or located
    return bool(record.given_name or record.family_name or reachable or record.identifiers)


def clean(raw: RawRecord, *, source: SourceSystem, received_at: datetime) -> CleanRecord:
    """Normalise one record; raise :class:`RecordRejected` if it cannot identify anybody."""
    _check_lengths(raw)
    report = QualityReport()
    name = parse_name(
        full=raw.full_name,
        given=raw.given_name,
        family=raw.family_name,
        salutation=raw.salutation,
        report=report,
    )
    email = normalise_email(raw.email, report=report) if raw.email and raw.email.strip() else None
    address = normalise_address(
        street=raw.street,
        house_number=raw.house_number,
        postal_code=raw.postal_code,
        city=raw.city,
        country=raw.country,
        report=report,
    )
    phone = None
    if raw.phone and raw.phone.strip():
        region = address.country if address else None
        phone = normalise_phone(raw.phone, region=region, report=report)
    if email is None and phone is None and address is None:
        report.issue("contact", "NO_CONTACT_POINT", Severity.WARNING)
    birth = BirthDate()
    if raw.birth_date and raw.birth_date.strip():
        birth = parse_birth_date(raw.birth_date, today=received_at.date(), report=report)
    language = normalise_language(raw.language, report=report)
    identifiers, raw_identifiers = normalise_identifiers(
        raw.identifiers, source=source.name, report=report
    )
    recorded_at = raw.recorded_at or received_at
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    record = CleanRecord(
        source=source.name,
        source_id=raw.source_id,
        given_name=name.given,
        family_name=name.family,
        titles=name.titles,
        suffix=name.suffix,
        salutation=name.salutation,
        birth_date=birth.full,
        email=email,
        phone=phone,
        address=address,
        language=language,
        recorded_at=recorded_at,
        quality=report,
        birth_date_partial=birth.partial,
        identifiers=identifiers,
        kept_raw=(*_kept_raw(raw, report), *raw_identifiers),
        employer=_employer(raw.company_name),
    )
    if not _identifiable(record):
        report.issue(
            "record",
            "NOT_IDENTIFIABLE",
            Severity.ERROR,
            "no name, no usable contact point and no identifier",
        )
        raise RecordRejected(raw.source_id, report)
    return record
