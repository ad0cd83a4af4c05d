"""A company's golden record from its source records: one value per attribute, by a
survivorship rule (``domain/golden.py``), with the record each value came from.

What says which company it is (name with legal form, register entry, VAT id, LEI,
industry) comes from the most trusted source that has it; how to reach it (address,
phone, e-mail) from the source that changed it last; its domains are all its sources'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mdm_profile.domain.company_records import CleanCompanyRecord, ParentReference
from mdm_profile.domain.golden import Rule, survive
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.quality.company_ids import RegisterEntry
from mdm_profile.domain.quality.contact import Phone
from mdm_profile.domain.quality.legal_forms import CompanyName, display_name, name_key

_RULES: dict[str, tuple[Rule, Callable[[CleanCompanyRecord], Any]]] = {
    "name": (Rule.SOURCE_PRIORITY, lambda r: (r.name, r.legal_form) if r.name else None),
    "register": (Rule.SOURCE_PRIORITY, lambda r: r.register),
    "vatId": (Rule.SOURCE_PRIORITY, lambda r: r.vat_id),
    "lei": (Rule.SOURCE_PRIORITY, lambda r: r.lei),
    "industryCode": (Rule.SOURCE_PRIORITY, lambda r: r.industry_code),
    "address": (Rule.MOST_RECENT, lambda r: r.address),
    "phone": (Rule.MOST_RECENT, lambda r: r.phone),
    "email": (Rule.MOST_RECENT, lambda r: r.email),
}


@dataclass(frozen=True)
class CompanyGolden:
    name: str  # with its legal form, as the register writes it
    legal_form: str | None
    name_key: str  # for search and matching (legal form, case, umlauts folded away)
    register: RegisterEntry | None
    vat_id: str | None
    lei: str | None
    industry_code: str | None
    address: PostalAddress | None
    phone: Phone | None
    email: str | None
    domains: tuple[str, ...]
    sources: tuple[str, ...]
    # attribute -> (source, sourceId) of the record its value came from
    lineage: dict[str, tuple[str, str]]
    # The parents the records name, the most trusted source's first.
    parents: tuple[tuple[CleanCompanyRecord, ParentReference], ...]


def build_company_golden(
    records: Sequence[CleanCompanyRecord], *, priority_of: Callable[[str], int]
) -> CompanyGolden:
    chosen: dict[str, Any] = {}
    lineage: dict[str, tuple[str, str]] = {}
    for attribute, (rule, extract) in _RULES.items():
        candidates = [(r, v) for r in records if (v := extract(r)) is not None]
        found = survive(rule, candidates, priority_of)
        if found is not None:
            record, chosen[attribute] = found
            lineage[attribute] = (record.source, record.source_id)
    name, legal_form = chosen.get("name") or ("", None)
    by_trust = sorted(
        records, key=lambda r: (priority_of(r.source), -r.recorded_at.timestamp(), r.key)
    )
    domains = dict.fromkeys(d for r in by_trust for d in r.domains)
    register: RegisterEntry | None = chosen.get("register")
    shown = display_name(CompanyName(name, legal_form)) if name else str(register or "")
    return CompanyGolden(
        name=shown or str(chosen.get("vatId") or chosen.get("lei") or ""),
        legal_form=legal_form,
        name_key=name_key(name) if name else "",
        register=register,
        vat_id=chosen.get("vatId"),
        lei=chosen.get("lei"),
        industry_code=chosen.get("industryCode"),
        address=chosen.get("address"),
        phone=chosen.get("phone"),
        email=chosen.get("email"),
        domains=tuple(domains),
        sources=tuple(sorted({r.source for r in records})),
        lineage=lineage,
        parents=tuple((r, r.parent) for r in by_trust if r.parent),
    )
