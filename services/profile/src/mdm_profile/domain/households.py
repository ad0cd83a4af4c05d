"""Households: persons at one address who (by default) share a family name.

Detection is a rule, not a guess about relationships: people with the same
normalised postal address and the same folded family name form a household
candidate and become members with role MEMBER; a steward may set a role. A
household keeps its id for good; a member who moves away becomes inactive rather
than deleted, so its role is still there if it returns (or an unmerge brings it
back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from mdm_common.errors import InvalidInput, NotFound
from mdm_profile.domain.quality.addresses import PostalAddress


class HouseholdRole(StrEnum):
    HEAD = "HEAD"
    PARTNER = "PARTNER"
    CHILD = "CHILD"
    MEMBER = "MEMBER"
    OTHER = "OTHER"


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    role: HouseholdRole
    detected: bool


@dataclass(frozen=True)
class Household:
    id: str
    address: PostalAddress | None
    members: tuple[HouseholdMember, ...]


class HouseholdStore(Protocol):
    async def refresh_households(self, person_ids: Sequence[str]) -> None:
        """Re-apply the detection rule to these persons (and who lives with them)."""
        ...

    async def households(self, ids: Sequence[str]) -> dict[str, Household]: ...

    async def household_of(self, person_ids: Sequence[str]) -> dict[str, str]:
        """Person id -> id of its active household."""
        ...

    async def set_role(self, person_id: str, household_id: str, role: HouseholdRole) -> bool:
        """False if the person is no active member of that household."""
        ...


async def set_member_role(
    person_id: str, household_id: str, role: str, *, store: HouseholdStore
) -> Household:
    try:
        chosen = HouseholdRole(role)
    except ValueError:
        allowed = ", ".join(r.value for r in HouseholdRole)
        raise InvalidInput(f"role must be one of {allowed}.", field="role") from None
    if not await store.set_role(person_id, household_id, chosen):
        raise NotFound(
            f"Person {person_id} is no member of household {household_id}.", field="personId"
        )
    return (await store.households([household_id]))[household_id]
