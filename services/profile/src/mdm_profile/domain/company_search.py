"""Company search with opaque cursors (Relay-style), ordered by the name's comparison
key, then id: by name (a prefix, legal form and spelling folded away), register
number, VAT id, domain or postal code; every criterion given must match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mdm_common.errors import InvalidInput
from mdm_profile.domain.companies import Company
from mdm_profile.domain.quality.company_ids import (
    normalise_vat_id,
    parse_register_entry,
    website_domain,
)
from mdm_profile.domain.quality.legal_forms import name_key
from mdm_profile.domain.quality.report import QualityReport, Severity
from mdm_profile.domain.search import MAX_PAGE, cursor_of, decode_cursor

_API_FIELDS = {"registryNumber": "registryNumber", "vatId": "vatId", "website": "domain"}


@dataclass(frozen=True)
class CompanyCriteria:
    name_key: str | None = None  # a prefix of the name's key
    register: str | None = None  # "HRB|123456": the court is not needed to search
    vat_id: str | None = None
    domain: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True)
class CompanyPage:
    companies: list[tuple[Company, str]]  # with each one's cursor
    has_next: bool


class CompanySearch(Protocol):
    async def search(
        self, criteria: CompanyCriteria, *, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[Company, str]]:
        """Companies with their name keys, in (name key, id) order after ``after``."""
        ...


def criteria_from(
    *,
    name: str | None,
    registry_number: str | None,
    vat_id: str | None,
    domain: str | None,
    postal_code: str | None,
) -> CompanyCriteria:
    report = QualityReport()
    entry = parse_register_entry(registry_number, None, report=report) if registry_number else None
    criteria = CompanyCriteria(
        name_key=name_key(name) or None if name else None,
        register=f"{entry.register}|{entry.number}" if entry else None,
        vat_id=normalise_vat_id(vat_id, report=report) if vat_id else None,
        domain=website_domain(domain, report=report) if domain else None,
        postal_code=" ".join(postal_code.upper().split()) or None if postal_code else None,
    )
    # A value that cleaning would not use (a WARNING) is no value to search for.
    unusable = [i for i in report.issues if i.severity is Severity.WARNING]
    if unusable:
        field = _API_FIELDS.get(unusable[0].field, unusable[0].field)
        raise InvalidInput(f"{field} is not a valid {field} to search for.", field=field)
    if criteria == CompanyCriteria():
        raise InvalidInput(
            "Give at least one of name, registryNumber, vatId, domain, postalCode.", field="name"
        )
    return criteria


async def search_companies(
    criteria: CompanyCriteria, *, first: int, after: str | None, store: CompanySearch
) -> CompanyPage:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
    found = await store.search(
        criteria, after=decode_cursor(after) if after else None, limit=first + 1
    )
    page = [(company, cursor_of(key, company.id)) for company, key in found[:first]]
    return CompanyPage(page, has_next=len(found) > first)
