"""Households: persons at one address with evidence that they live together.

Detection (``household_evidence``, ``household_detection``) links residents of one
normalised address by evidence (a family name, a changed name, a landline, a family's
e-mail domain; never the address alone) and makes them members with role MEMBER; a
steward may set a role, confirm a household or split it, and detection does not undo
what a steward decided. A household keeps its id for good; a member who moves away
becomes inactive rather than deleted, so its role is still there if it returns (or an
unmerge brings it back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_profile.domain.household_evidence import Evidence
from mdm_profile.domain.quality.addresses import PostalAddress


class HouseholdRole(StrEnum):
    HEAD = "HEAD"
    PARTNER = "PARTNER"
    CHILD = "CHILD"
    MEMBER = "MEMBER"
    OTHER = "OTHER"


class Decision(StrEnum):
    """What a steward last decided about a household."""

    CONFIRMED = "CONFIRMED"
    SPLIT = "SPLIT"


@dataclass(frozen=True)
class HouseholdMember:
    person_id: str
    role: HouseholdRole
    detected: bool
    evidence: frozenset[Evidence] = frozenset()
    confidence: float | None = None
    # A steward placed or confirmed it: detection leaves it alone.
    pinned: bool = False


@dataclass(frozen=True)
class Audit:
    decision: Decision
    actor: str
    at: datetime


@dataclass(frozen=True)
class Household:
    id: str
    address: PostalAddress | None
    members: tuple[HouseholdMember, ...]
    audit: Audit | None = None

    def member(self, person_id: str) -> HouseholdMember | None:
        return next((m for m in self.members if m.person_id == person_id), None)


class HouseholdStore(Protocol):
    async def refresh_households(self, person_ids: Sequence[str], *, at: datetime) -> None:
        """Re-apply the detection rule to these persons (and who lives with them); ``at``
        is the time of the change (link history keeps the state it ends)."""
        ...

    async def households(self, ids: Sequence[str]) -> dict[str, Household]: ...

    async def household_of(self, person_ids: Sequence[str]) -> dict[str, str]:
        """Person id -> id of its active household."""
        ...

    async def set_role(self, person_id: str, household_id: str, role: HouseholdRole) -> bool:
        """False if the person is no active member of that household."""
        ...

    async def confirm(self, household_id: str, *, actor: str, at: datetime) -> None:
        """Pin the active members; record who confirmed it, when."""
        ...

    async def move_members(
        self,
        person_ids: Sequence[str],
        source_id: str,
        target_id: str,
        *,
        create: bool,
        actor: str,
        at: datetime,
    ) -> None:
        """End the persons' memberships in ``source_id`` (inactive, role kept) and make
        them pinned members of ``target_id`` (created if ``create``) with their role;
        pin who stays; record the split on both households."""
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


async def _household(household_id: str, store: HouseholdStore, *, field: str) -> Household:
    found = (await store.households([household_id])).get(household_id)
    if found is None:
        raise NotFound(f"No household with id {household_id}.", field=field)
    return found


async def confirm_household(
    household_id: str, *, store: HouseholdStore, events: EventRecorder, actor: str, now: datetime
) -> Household:
    """A steward says these members live together: detection keeps them there."""
    household = await _household(household_id, store, field="householdId")
    if not household.members:
        raise Conflict(f"Household {household_id} has no members to confirm.", field="householdId")
    await store.confirm(household_id, actor=actor, at=now)
    events.record(Event.HOUSEHOLD_CONFIRMED, household_id=household_id)
    return await _household(household_id, store, field="householdId")


@dataclass(frozen=True)
class Split:
    household: Household  # who stayed
    into: Household  # who moved, with anyone already there


async def split_household(
    household_id: str,
    person_ids: Sequence[str],
    *,
    into_id: str | None,
    new_id: str,
    store: HouseholdStore,
    events: EventRecorder,
    actor: str,
    now: datetime,
) -> Split:
    """Move members out of a household: into another one at the same address, or into a
    new one. Every member keeps its role; their old memberships stay, inactive."""
    household = await _household(household_id, store, field="householdId")
    moving = list(dict.fromkeys(person_ids))
    if not moving:
        raise InvalidInput("Name at least one member to move.", field="personIds")
    strangers = [p for p in moving if household.member(p) is None]
    if strangers:
        raise NotFound(
            f"Person {strangers[0]} is no member of household {household_id}.", field="personIds"
        )
    if len(moving) == len(household.members):
        raise InvalidInput(
            "A split leaves at least one member behind; to move everybody, confirm the "
            "household they join instead.",
            field="personIds",
        )
    if into_id is not None:
        if into_id == household_id:
            raise InvalidInput("A household cannot be split into itself.", field="intoHouseholdId")
        into = await _household(into_id, store, field="intoHouseholdId")
        if into.address and household.address and into.address != household.address:
            raise InvalidInput(
                "Members can only be moved into a household at their address.",
                field="intoHouseholdId",
            )
    target = into_id or new_id
    await store.move_members(
        moving, household_id, target, create=into_id is None, actor=actor, at=now
    )
    events.record(Event.HOUSEHOLD_SPLIT, household_id=household_id, into_household_id=target)
    found = await store.households([household_id, target])
    return Split(found[household_id], found[target])
