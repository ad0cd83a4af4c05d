"""What a merge would make of the survivor's golden record, computed and not written.

The preview runs the merge's own checks (:func:`merging.mergeable`) and survivorship
(:func:`merging.rebuild`) on the two persons' source records as they are now, so
the result is the golden record the merge would save, given nothing changes first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mdm_common.errors import InvalidInput
from mdm_profile.domain.golden import Rule
from mdm_profile.domain.merging import PersonState, check_pair, mergeable, rebuild
from mdm_profile.domain.models import Person
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.sources import SourceRegistry


class PersonReader(Protocol):
    async def states(self, person_ids: list[str]) -> dict[str, PersonState]: ...


@dataclass(frozen=True)
class PreviewField:
    """One golden field: each person's value now, and the merged result with its source."""

    field: str
    survivor_value: str | None
    merged_value: str | None
    result_value: str | None
    result_source: str | None


@dataclass(frozen=True)
class MergePreview:
    survivor_id: str
    merged_id: str
    fields: tuple[PreviewField, ...]


def one_line(address: PostalAddress) -> str | None:
    """``Street number, postal code city, country``; parts a source left out are left out."""
    parts = (
        " ".join(p for p in (address.street, address.house_number) if p),
        " ".join(p for p in (address.postal_code, address.city) if p),
        address.country or "",
    )
    return ", ".join(p for p in parts if p) or None


def _text(value: str | None) -> str | None:
    return value or None


# Person field (as the GraphQL Person type names it) -> (golden attribute, value as text).
# The parts of a name share one attribute: they survive together (domain/golden.py).
GOLDEN_FIELDS: Mapping[str, tuple[str, Callable[[Person], str | None]]] = {
    "givenName": ("name", lambda p: _text(p.given_name)),
    "familyName": ("name", lambda p: _text(p.family_name)),
    "titles": ("name", lambda p: " ".join(p.titles) or None),
    "suffix": ("name", lambda p: p.suffix),
    "salutation": ("salutation", lambda p: p.salutation),
    "birthDate": ("birthDate", lambda p: p.birth_date.isoformat() if p.birth_date else None),
    "email": ("email", lambda p: p.email),
    "phone": ("phone", lambda p: p.phone.e164 if p.phone else None),
    "address": ("address", lambda p: one_line(p.address) if p.address else None),
    "language": ("language", lambda p: p.language),
}


def compare(survivor: Person, merged: Person, result: Person) -> tuple[PreviewField, ...]:
    """One row per golden field; the source is the result's lineage (none without a value)."""
    rows = []
    for name, (attribute, text) in GOLDEN_FIELDS.items():
        value = text(result)
        lineage = result.lineage.get(attribute)
        rows.append(
            PreviewField(
                field=name,
                survivor_value=text(survivor),
                merged_value=text(merged),
                result_value=value,
                result_source=lineage.source if lineage is not None and value else None,
            )
        )
    return tuple(rows)


async def preview_merge(
    survivor_id: str,
    merged_id: str,
    *,
    store: PersonReader,
    sources: SourceRegistry,
    rules: Mapping[str, Rule],
    now: datetime,
) -> MergePreview:
    """The survivor's golden record after merging ``merged_id`` into it; reads only.

    Refused as the merge would refuse it (unknown, erased, restricted), except that a
    person merged away already is bad input here, not a conflict.
    """
    check_pair(survivor_id, merged_id)
    states = await store.states([survivor_id, merged_id])
    survivor, merged = mergeable(states, survivor_id, merged_id, merged_away=InvalidInput)
    result = rebuild(
        survivor.person, [*survivor.records, *merged.records], sources=sources, rules=rules, now=now
    )
    return MergePreview(survivor_id, merged_id, compare(survivor.person, merged.person, result))
