"""Golden records: one value per attribute, chosen by a survivorship rule, with lineage.

Attributes that only make sense together (the parts of a name, of an address, of a
phone number) survive as a group: a golden record never mixes the street of one
source with the house number of another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.quality.identifiers import Identifier
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.sources import RECTIFICATION


class Rule(StrEnum):
    SOURCE_PRIORITY = "SOURCE_PRIORITY"  # the most trusted source that has a value
    MOST_RECENT = "MOST_RECENT"  # the value the sources changed last
    MOST_COMPLETE = "MOST_COMPLETE"  # the value with most parts filled in
    MOST_FREQUENT = "MOST_FREQUENT"  # the value most sources agree on
    ALL_VALUES = "ALL_VALUES"  # every distinct value, each with its source (identifiers)
    RECTIFIED = "RECTIFIED"  # set by a data-subject rectification (Art. 16); wins over all


# attribute -> how to read it from a record (None: the record has no value)
_EXTRACT: dict[str, Callable[[CleanRecord], Any]] = {
    "name": lambda r: (
        (r.given_name, r.family_name, r.titles, r.suffix) if r.family_name or r.given_name else None
    ),
    "salutation": lambda r: r.salutation,
    "birthDate": lambda r: r.birth_date,
    "email": lambda r: r.email,
    "phone": lambda r: r.phone,
    "address": lambda r: r.address,
    "language": lambda r: r.language,
}
ATTRIBUTES = tuple(_EXTRACT)

DEFAULT_RULES: dict[str, Rule] = {
    "name": Rule.SOURCE_PRIORITY,
    "salutation": Rule.SOURCE_PRIORITY,
    "birthDate": Rule.MOST_FREQUENT,
    "email": Rule.MOST_RECENT,
    "phone": Rule.MOST_RECENT,
    "address": Rule.MOST_RECENT,
    "language": Rule.MOST_FREQUENT,
}


@dataclass(frozen=True)
class GoldenValue:
    attribute: str
    value: Any
    source: str
    source_id: str
    rule: Rule


def _completeness(value: Any) -> int:
    if isinstance(value, tuple):
        return sum(_completeness(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(_completeness(getattr(value, f)) for f in value.__dataclass_fields__)
    return 1 if value not in (None, "", ()) else 0


def _identity(value: Any) -> str:
    """What counts as 'the same value' for MOST_FREQUENT: spelling variants agree."""
    return fold(str(value))


class Sourced(Protocol):
    """A source record as survivorship sees it (a person's or a company's)."""

    @property
    def source(self) -> str: ...

    @property
    def recorded_at(self) -> datetime: ...

    @property
    def key(self) -> str: ...


R = TypeVar("R", bound=Sourced)


def survive(
    rule: Rule, candidates: Sequence[tuple[R, Any]], priority_of: Callable[[str], int]
) -> tuple[R, Any] | None:
    if not candidates:
        return None

    # Every rule breaks ties the same way: most recent first, then the record key,
    # so the outcome never depends on the order records were loaded in.
    def recency(item: tuple[R, Any]) -> tuple[float, str]:
        return (item[0].recorded_at.timestamp(), item[0].key)

    if rule is Rule.SOURCE_PRIORITY:
        best = min(priority_of(r.source) for r, _ in candidates)
        pool = [c for c in candidates if priority_of(c[0].source) == best]
    elif rule is Rule.MOST_COMPLETE:
        best = max(_completeness(v) for _, v in candidates)
        pool = [c for c in candidates if _completeness(c[1]) == best]
    elif rule is Rule.MOST_FREQUENT:
        counts = Counter(_identity(v) for _, v in candidates)
        top = max(counts.values())
        pool = [c for c in candidates if counts[_identity(c[1])] == top]
    else:
        pool = list(candidates)
    return max(pool, key=recency)


@dataclass(frozen=True, order=True)
class SourcedIdentifier:
    """An identifier of the golden record and the source record it came from."""

    identifier: Identifier
    source: str
    source_id: str


def _candidates(attribute: str, records: Sequence[CleanRecord]) -> list[tuple[CleanRecord, Any]]:
    found = [(r, v) for r in records if (v := _EXTRACT[attribute](r)) is not None]
    if attribute == "birthDate" and not found:
        # Only partial dates known ("1987", "1987-05"): they compete among themselves.
        # A full date from any source wins over every partial one.
        found = [(r, r.birth_date_partial) for r in records if r.birth_date_partial]
    return found


def _identifiers(records: Sequence[CleanRecord]) -> GoldenValue | None:
    """All distinct identifiers of all records; the first source to send one keeps it."""
    first: dict[Identifier, CleanRecord] = {}
    for record in sorted(records, key=lambda r: (r.recorded_at.timestamp(), r.key)):
        for identifier in record.identifiers:
            first.setdefault(identifier, record)
    if not first:
        return None
    values = tuple(sorted(SourcedIdentifier(i, r.source, r.source_id) for i, r in first.items()))
    latest = max(first.values(), key=lambda r: (r.recorded_at.timestamp(), r.key))
    return GoldenValue("identifiers", values, latest.source, latest.source_id, Rule.ALL_VALUES)


def build_golden(
    records: Sequence[CleanRecord],
    *,
    priority_of: Callable[[str], int],
    rules: Mapping[str, Rule] = DEFAULT_RULES,
) -> dict[str, GoldenValue]:
    golden: dict[str, GoldenValue] = {}
    for attribute in _EXTRACT:
        candidates = _candidates(attribute, records)
        rule = rules.get(attribute, DEFAULT_RULES[attribute])
        # A rectified value wins whatever the rule; the latest rectification first.
        rectified = [c for c in candidates if c[0].source == RECTIFICATION]
        if rectified:
            rule = Rule.RECTIFIED
        chosen = survive(rule, rectified or candidates, priority_of)
        if chosen is not None:
            record, value = chosen
            golden[attribute] = GoldenValue(attribute, value, record.source, record.source_id, rule)
    identifiers = _identifiers(records)
    if identifiers is not None:
        golden["identifiers"] = identifiers
    return golden
