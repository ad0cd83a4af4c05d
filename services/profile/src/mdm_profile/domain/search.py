"""Person search with opaque cursors (Relay-style), ordered by family name then id."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Protocol

from mdm_common.errors import InvalidInput
from mdm_profile.domain.models import Person
from mdm_profile.domain.quality.contact import normalise_email, normalise_phone
from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.quality.report import QualityReport, Severity

MAX_PAGE = 100


@dataclass(frozen=True)
class SearchCriteria:
    family_key: str | None = None  # folded prefix of the family name
    email: str | None = None
    phone: str | None = None  # E.164
    postal_code: str | None = None


@dataclass(frozen=True)
class Page:
    persons: list[tuple[Person, str]]  # with each one's cursor
    has_next: bool


class PersonSearch(Protocol):
    async def search(
        self, criteria: SearchCriteria, *, after: tuple[str, str] | None, limit: int
    ) -> list[Person]: ...


def encode_cursor(person: Person) -> str:
    return cursor_of(fold(person.family_name), person.id)


def cursor_of(sort_key: str, node_id: str) -> str:
    """An opaque cursor after a node of a search ordered by ``sort_key``, then id."""
    raw = json.dumps([sort_key, node_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        key, person_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("after is not a cursor from this search.", field="after") from exc
    return str(key), str(person_id)


def criteria_from(
    *, name: str | None, email: str | None, phone: str | None, postal_code: str | None
) -> SearchCriteria:
    report = QualityReport()
    criteria = SearchCriteria(
        family_key=fold(name) or None if name else None,
        email=normalise_email(email, report=report) if email else None,
        phone=(
            found.e164 if (found := normalise_phone(phone, region=None, report=report)) else None
        )
        if phone
        else None,
        postal_code=" ".join(postal_code.upper().split()) or None if postal_code else None,
    )
    # A value that cleaning would not use (a WARNING) is no value to search for.
    unusable = [i for i in report.issues if i.severity is not Severity.INFO]
    if unusable:
        field = unusable[0].field
        raise InvalidInput(f"{field} is not a valid {field} to search for.", field=field)
    if criteria == SearchCriteria():
        raise InvalidInput("Give at least one of name, email, phone, postalCode.", field="name")
    return criteria


async def search(
    criteria: SearchCriteria, *, first: int, after: str | None, store: PersonSearch
) -> Page:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
    found = await store.search(
        criteria, after=decode_cursor(after) if after else None, limit=first + 1
    )
    return Page([(p, encode_cursor(p)) for p in found[:first]], has_next=len(found) > first)
