"""A golden record as one flat row of text columns, the columns chosen by category."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mdm_common.contracts import DataCategory

# The columns of each category, in the order written.
COLUMNS: dict[str, tuple[str, ...]] = {
    DataCategory.IDENTITY: ("givenName", "familyName", "titles", "suffix", "salutation"),
    DataCategory.BIRTH_DATE: ("birthDate", "birthDatePartial"),
    DataCategory.EMAIL: ("email",),
    DataCategory.PHONE: ("phone",),
    DataCategory.POSTAL_ADDRESS: ("street", "houseNumber", "postalCode", "city", "country"),
    DataCategory.LANGUAGE: ("language",),
    DataCategory.IDENTIFIERS: ("identifiers",),
}
ALL_CATEGORIES = tuple(COLUMNS)
ADDRESS = COLUMNS[DataCategory.POSTAL_ADDRESS]


def columns(categories: Iterable[str]) -> list[str]:
    """The person's id and change time, then the columns of these categories."""
    wanted = set(categories)
    return [
        "personId",
        "updatedAt",
        *(c for k in ALL_CATEGORIES if k in wanted for c in COLUMNS[k]),
    ]


def row_of(person: Mapping[str, Any], names: Iterable[str]) -> dict[str, str | None]:
    """``person`` as the profile's ``Person`` answers it."""
    address = person.get("address") or {}
    flat: dict[str, Any] = {
        "personId": person["id"],
        **{k: v for k, v in person.items() if k not in ("id", "address")},
        **{k: address.get(k) for k in ADDRESS},
        "titles": " ".join(person.get("titles") or ()) or None,
        "identifiers": "; ".join(
            f"{i['scheme']}:{i.get('issuer') or ''}:{i['value']}"
            for i in person.get("identifiers") or ()
        )
        or None,
    }
    return {name: None if flat.get(name) is None else str(flat[name]) for name in names}
