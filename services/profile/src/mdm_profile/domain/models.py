"""A person's golden profile: one value per attribute, each with its lineage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mdm_profile.domain.golden import GoldenValue, Rule, SourcedIdentifier
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.quality.contact import Phone


@dataclass(frozen=True)
class Lineage:
    """Where a golden value came from and which rule chose it."""

    attribute: str
    source: str
    source_id: str
    rule: Rule


@dataclass(frozen=True)
class Person:
    id: str
    given_name: str
    family_name: str
    created_at: datetime
    updated_at: datetime
    titles: tuple[str, ...] = ()
    suffix: str | None = None
    salutation: str | None = None
    birth_date: date | None = None
    email: str | None = None
    phone: Phone | None = None
    address: PostalAddress | None = None
    language: str | None = None
    birth_date_partial: str | None = None  # "YYYY" or "YYYY-MM" when no full date is known
    identifiers: tuple[SourcedIdentifier, ...] = ()
    lineage: dict[str, Lineage] = field(default_factory=dict, compare=False)
    # Ids of persons merged into this one; each keeps resolving to it.
    merged_from: tuple[str, ...] = field(default=(), compare=False)
    # Restriction of processing (GDPR Art. 18): stored, but not merged.
    processing_restricted: bool = field(default=False, compare=False)

    @classmethod
    def from_golden(
        cls,
        person_id: str,
        golden: dict[str, GoldenValue],
        *,
        created_at: datetime,
        updated_at: datetime,
    ) -> Person:
        def value(attribute: str) -> Any:
            chosen = golden.get(attribute)
            return chosen.value if chosen else None

        given, family, titles, suffix = value("name") or ("", "", (), None)
        birth = value("birthDate")
        return cls(
            id=person_id,
            given_name=given,
            family_name=family,
            titles=tuple(titles),
            suffix=suffix,
            salutation=value("salutation"),
            birth_date=birth if isinstance(birth, date) else None,
            birth_date_partial=birth if isinstance(birth, str) else None,
            identifiers=tuple(value("identifiers") or ()),
            email=value("email"),
            phone=value("phone"),
            address=value("address"),
            language=value("language"),
            created_at=created_at,
            updated_at=updated_at,
            lineage={a: Lineage(a, g.source, g.source_id, g.rule) for a, g in golden.items()},
        )
