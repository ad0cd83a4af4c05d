"""Which golden-record attribute belongs to which data category, and what a subscriber
may therefore receive of a record.

The attribute names are the profile's (``Person`` in the supergraph); the categories
are the purpose registry's (:class:`mdm_common.contracts.DataCategory`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from mdm_common.contracts import DataCategory

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    DataCategory.IDENTITY: ("givenName", "familyName", "titles", "suffix", "salutation"),
    DataCategory.BIRTH_DATE: ("birthDate", "birthDatePartial"),
    DataCategory.EMAIL: ("email",),
    DataCategory.PHONE: ("phone",),
    DataCategory.POSTAL_ADDRESS: ("address",),
    DataCategory.LANGUAGE: ("language",),
    DataCategory.IDENTIFIERS: ("identifiers",),
}
# The categories a subscriber may be registered for: those of the golden record.
SHAREABLE = tuple(ATTRIBUTES)
ALL_ATTRIBUTES = tuple(a for names in ATTRIBUTES.values() for a in names)


def attributes_of(categories: Iterable[str]) -> tuple[str, ...]:
    return tuple(a for c in categories for a in ATTRIBUTES.get(c, ()))


def shared(attributes: Mapping[str, Any], categories: Iterable[str]) -> dict[str, Any]:
    """The values of a record a subscriber of these categories receives."""
    return {name: attributes.get(name) for name in attributes_of(categories)}


def fingerprints(attributes: Mapping[str, Any]) -> dict[str, str]:
    """A digest of each attribute's value: enough to tell which changed, without
    keeping the values themselves."""
    return {
        name: hashlib.sha256(
            json.dumps(attributes.get(name), sort_keys=True, default=str).encode()
        ).hexdigest()[:24]
        for name in ALL_ATTRIBUTES
    }


def changed(before: Mapping[str, str], after: Mapping[str, str]) -> set[str]:
    return {name for name in ALL_ATTRIBUTES if before.get(name) != after.get(name)}
