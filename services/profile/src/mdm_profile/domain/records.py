"""Source records: what a source system sends, and its cleaned form with a quality report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pycountry

from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.addresses import PostalAddress, normalise_address
from mdm_profile.domain.quality.contact import Phone, normalise_email, normalise_phone
from mdm_profile.domain.quality.names import parse_name
from mdm_profile.domain.quality.report import QualityReport, Severity
from mdm_profile.domain.sources import SourceSystem

MAX_BATCH = 500
MAX_FIELD_LENGTH = 300
MAX_SOURCE_ID = 128
_SOURCE_ID = re.compile(rf"[A-Za-z0-9_.:@/+-]{{1,{MAX_SOURCE_ID}}}")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


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

    @property
    def key(self) -> str:
        return record_key(self.source, self.source_id)


def record_key(source: str, source_id: str) -> str:
    return f"{source}|{source_id}"


class RecordRejected(InvalidInput):
    """One record of a batch is unusable; ``report.errors`` says why."""

    def __init__(self, source_id: str, report: QualityReport) -> None:
        first = report.errors[0]
        super().__init__(
            f"Record {source_id} refused: {first.field} {first.code}.", field=first.field
        )
        self.source_id = source_id
        self.report = report


def _parse_birth_date(raw: str, *, today: date, report: QualityReport) -> date | None:
    value = raw.strip()
    german = _GERMAN_DATE.fullmatch(value)
    try:
        if german:
            day, month, year = (int(g) for g in german.groups())
            parsed = date(year, month, day)
            report.fix("birthDate", "DATE_FORMAT_NORMALISED")
        else:
            parsed = date.fromisoformat(value)
    except ValueError:
        report.issue("birthDate", "INVALID", Severity.WARNING)
        return None
    if parsed > today or parsed.year < today.year - 130:
        report.issue("birthDate", "IMPLAUSIBLE", Severity.WARNING)
        return None
    return parsed


# pycountry knows English names only; sources here often write German ones.
_GERMAN_LANGUAGE_NAMES = {
    "deutsch": "de", "englisch": "en", "französisch": "fr", "franzoesisch": "fr",
    "italienisch": "it", "spanisch": "es", "türkisch": "tr", "tuerkisch": "tr",
    "polnisch": "pl", "russisch": "ru", "niederländisch": "nl", "arabisch": "ar",
}  # fmt: skip


def _language(raw: str | None, *, report: QualityReport) -> str | None:
    if not raw or not raw.strip():
        report.issue("language", "MISSING", Severity.WARNING)
        return None
    value = raw.strip()
    german = _GERMAN_LANGUAGE_NAMES.get(value.casefold())
    if german:
        report.fix("language", "LANGUAGE_ISO_CODE")
        return german
    try:
        found = pycountry.languages.lookup(value.split("-")[0].split("_")[0])
    except LookupError:
        report.issue("language", "UNKNOWN", Severity.WARNING)
        return None
    code = getattr(found, "alpha_2", None)
    if code is None:
        report.issue("language", "NO_ISO_639_1_CODE", Severity.WARNING)
        return None
    if code != value:
        report.fix("language", "LANGUAGE_ISO_CODE")
    return str(code)


def _check_lengths(raw: RawRecord) -> None:
    if not _SOURCE_ID.fullmatch(raw.source_id):
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


def clean(raw: RawRecord, *, source: SourceSystem, received_at: datetime) -> CleanRecord:
    """Normalise one record; raise :class:`RecordRejected` if it is unusable."""
    _check_lengths(raw)
    report = QualityReport()
    name = parse_name(
        full=raw.full_name, given=raw.given_name, family=raw.family_name,
        salutation=raw.salutation, report=report,
    )  # fmt: skip
    email = normalise_email(raw.email, report=report) if raw.email and raw.email.strip() else None
    address = normalise_address(
        street=raw.street, house_number=raw.house_number, postal_code=raw.postal_code,
        city=raw.city, country=raw.country, report=report,
    )  # fmt: skip
    region = address.country if address else None
    phone = None
    if raw.phone and raw.phone.strip():
        phone = normalise_phone(raw.phone, region=region, report=report)
    if email is None and phone is None and address is None:
        report.issue("contact", "NO_CONTACT_POINT", Severity.WARNING)
    birth = None
    if raw.birth_date and raw.birth_date.strip():
        birth = _parse_birth_date(raw.birth_date, today=received_at.date(), report=report)
    language = _language(raw.language, report=report)
    if report.errors:
        raise RecordRejected(raw.source_id, report)
    recorded_at = raw.recorded_at or received_at
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return CleanRecord(
        source=source.name, source_id=raw.source_id, given_name=name.given,
        family_name=name.family, titles=name.titles, suffix=name.suffix,
        salutation=name.salutation, birth_date=birth, email=email, phone=phone,
        address=address, language=language, recorded_at=recorded_at, quality=report,
    )  # fmt: skip
