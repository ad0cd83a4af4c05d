"""Company source records: what a source system sends about a company, and its
cleaned form with a quality report.

The policy is the persons' (docs/profile-model.md, "Data-quality policy"): a value
that fails its checks costs the record nothing but that value. It is flagged
(WARNING), kept as received in ``kept_raw`` and used nowhere. A record is refused only
when it cannot identify a company (no name and no register entry, VAT id or LEI) or
breaks the API contract (malformed id, oversized field).

A record may name its parent company as the source knows it: the parent's record
id in the same source, its VAT id, LEI or register entry (``ParentReference``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import TypeVar

from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.addresses import PostalAddress, normalise_address
from mdm_profile.domain.quality.company_ids import (
    RegisterEntry,
    email_domain,
    normalise_industry_code,
    normalise_lei,
    normalise_vat_id,
    parse_register_entry,
    website_domain,
)
from mdm_profile.domain.quality.contact import Phone, normalise_email, normalise_phone
from mdm_profile.domain.quality.legal_forms import CompanyName, legal_form_of, split_legal_form
from mdm_profile.domain.quality.report import QualityReport, Severity
from mdm_profile.domain.records import (
    MAX_FIELD_LENGTH,
    MAX_SOURCE_ID,
    SOURCE_ID,
    RecordRejected,
    record_key,
)
from mdm_profile.domain.sources import SourceSystem

T = TypeVar("T")


@dataclass(frozen=True)
class RawCompanyRecord:
    """A company record as a source sends it: every field optional except its id."""

    source_id: str
    name: str | None = None
    legal_form: str | None = None
    registry_court: str | None = None
    registry_number: str | None = None
    vat_id: str | None = None
    lei: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    industry_code: str | None = None
    parent_source_id: str | None = None
    parent_vat_id: str | None = None
    parent_lei: str | None = None
    parent_registry_court: str | None = None
    parent_registry_number: str | None = None
    recorded_at: datetime | None = None  # when the source last changed it


@dataclass(frozen=True)
class ParentReference:
    """How a record names its parent; any one of them that finds a company does."""

    source_id: str | None = None  # a record of the same source
    vat_id: str | None = None
    lei: str | None = None
    register: RegisterEntry | None = None

    def __bool__(self) -> bool:
        return any((self.source_id, self.vat_id, self.lei, self.register))


@dataclass(frozen=True)
class CleanCompanyRecord:
    source: str
    source_id: str
    name: str  # without the legal form ("" if the source sent none)
    legal_form: str | None  # as the register writes it
    register: RegisterEntry | None
    vat_id: str | None
    lei: str | None
    address: PostalAddress | None
    phone: Phone | None
    email: str | None
    domains: tuple[str, ...]  # the website's first, then the e-mail's, distinct
    industry_code: str | None
    parent: ParentReference
    recorded_at: datetime
    quality: QualityReport = field(compare=False)
    # Values that failed their checks, as received: (field as the API spells it, value).
    kept_raw: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return record_key(self.source, self.source_id)


# Issues after which the source's value is not used; it is kept as received.
_VALUE_DROPPED = {
    ("email", "INVALID"),
    ("phone", "INVALID"),
    ("phone", "UNPARSEABLE"),
    ("postalCode", "INVALID_FOR_COUNTRY"),
    ("country", "UNKNOWN_COUNTRY"),
    ("vatId", "INVALID"),
    ("lei", "INVALID"),
    ("registryNumber", "INVALID"),
    ("website", "INVALID"),
    ("industryCode", "INVALID"),
    ("legalForm", "UNKNOWN"),
    ("parentVatId", "INVALID"),
    ("parentLei", "INVALID"),
    ("parentRegistryNumber", "INVALID"),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_API_NAMES = {_camel(f.name): f.name for f in fields(RawCompanyRecord)}


def _check_contract(raw: RawCompanyRecord) -> None:
    for name in ("source_id", "parent_source_id"):
        value = getattr(raw, name)
        if value is not None and not SOURCE_ID.fullmatch(value):
            raise InvalidInput(
                f"{_camel(name)} must be 1-{MAX_SOURCE_ID} letters, digits or _.:@/+-",
                field=_camel(name),
            )
    for name, value in vars(raw).items():
        if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
            raise InvalidInput(
                f"{_camel(name)} is longer than {MAX_FIELD_LENGTH} characters.", field=_camel(name)
            )


def _present(value: str | None) -> str | None:
    return value if value and value.strip() else None


def _checked(check: Callable[..., T | None], value: str | None, report: QualityReport) -> T | None:
    """``check(value)`` for a value sent and not blank; ``None`` otherwise."""
    return check(value, report=report) if value and value.strip() else None


def _name(raw: RawCompanyRecord, report: QualityReport) -> CompanyName:
    """The name without its form, and the form: the ``legalForm`` field's where the
    source sent one it could be read from, else the one at the end of the name."""
    named = split_legal_form(raw.name or "")
    if named.legal_form is not None:
        report.fix("name", "LEGAL_FORM_SPLIT")
    given = _present(raw.legal_form)
    if given is None:
        return named
    form = legal_form_of(given)
    if form is None:
        report.issue("legalForm", "UNKNOWN", Severity.WARNING)
        return named
    if named.legal_form not in (None, form):
        report.issue("legalForm", "CONFLICT", Severity.WARNING, "the name ends in another")
    return CompanyName(named.name, form)


def _parent(raw: RawCompanyRecord, report: QualityReport) -> ParentReference:
    inner = QualityReport()  # the parent's checks, reported under the parent's fields
    vat = _checked(normalise_vat_id, raw.parent_vat_id, inner)
    lei = _checked(normalise_lei, raw.parent_lei, inner)
    register = parse_register_entry(
        raw.parent_registry_number, raw.parent_registry_court, report=inner
    )
    for issue in inner.issues:
        name = "parent" + issue.field[0].upper() + issue.field[1:]
        report.issue(name, issue.code, issue.severity, issue.detail)
    return ParentReference(_present(raw.parent_source_id), vat, lei, register)


def _kept_raw(raw: RawCompanyRecord, report: QualityReport) -> tuple[tuple[str, str], ...]:
    kept = {}
    for issue in report.issues:
        value = getattr(raw, _API_NAMES.get(issue.field, ""), None)
        if (issue.field, issue.code) in _VALUE_DROPPED and isinstance(value, str):
            kept[issue.field] = value
    return tuple(sorted(kept.items()))


def clean_company(
    raw: RawCompanyRecord, *, source: SourceSystem, received_at: datetime
) -> CleanCompanyRecord:
    """Normalise one record; raise :class:`RecordRejected` if it cannot identify a
    company."""
    _check_contract(raw)
    report = QualityReport()
    name = _name(raw, report)
    address = normalise_address(
        street=raw.street,
        house_number=raw.house_number,
        postal_code=raw.postal_code,
        city=raw.city,
        country=raw.country,
        report=report,
    )
    email = _checked(normalise_email, raw.email, report)
    phone = None
    if _present(raw.phone):
        region = address.country if address else None
        phone = normalise_phone(str(raw.phone), region=region, report=report)
    site = _checked(website_domain, raw.website, report)
    domains = tuple(dict.fromkeys(d for d in (site, email_domain(email)) if d))
    industry = _checked(normalise_industry_code, raw.industry_code, report)
    register = parse_register_entry(raw.registry_number, raw.registry_court, report=report)
    vat_id = _checked(normalise_vat_id, raw.vat_id, report)
    lei = _checked(normalise_lei, raw.lei, report)
    parent = _parent(raw, report)
    recorded_at = raw.recorded_at or received_at
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    record = CleanCompanyRecord(
        source=source.name,
        source_id=raw.source_id,
        name=name.name,
        legal_form=name.legal_form,
        register=register,
        vat_id=vat_id,
        lei=lei,
        address=address,
        phone=phone,
        email=email,
        domains=domains,
        industry_code=industry,
        parent=parent,
        recorded_at=recorded_at,
        quality=report,
        kept_raw=_kept_raw(raw, report),
    )
    if not (record.name or record.register or record.vat_id or record.lei):
        report.issue(
            "record",
            "NOT_IDENTIFIABLE",
            Severity.ERROR,
            "no name, no register entry, no VAT id and no LEI",
        )
        raise RecordRejected(raw.source_id, report)
    if record.parent.source_id == record.source_id:
        raise InvalidInput("A company cannot be its own parent.", field="parentSourceId")
    return record
