"""Removing attribute categories whose purposes have lapsed (the consent service's
retention job decides which; docs/data-subject-requests.md, "Retention").

The categories go from every source record of the person's merge group, from the
values merged-away persons keep, from the snapshots that would let an unmerge bring
them back, from the value history (``history.py``), and so from the golden record,
which is rebuilt from the records. Contact points no person uses any more are deleted.
One transaction; asking again removes nothing more. The profile announces the change
(``person_updated``), so matching compares the person again on what is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from mdm_common.contracts import DataCategory, Event, EventRecorder
from mdm_common.errors import InvalidInput
from mdm_profile.domain import holds as h
from mdm_profile.domain.golden import Rule, build_golden
from mdm_profile.domain.households import HouseholdStore
from mdm_profile.domain.merging import Merge, PersonSnapshot
from mdm_profile.domain.models import Person
from mdm_profile.domain.ports import PersonStore, ProfileChanges, StoredRecord
from mdm_profile.domain.privacy import (
    PrivacyStore,
    check_request_id,
    merge_group,
    restricted_error,
)
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.sources import SourceRegistry

# What removing a category empties. Golden records and source records share these
# field names; the lineage names the attribute a golden value came from.
_CLEARED: dict[str, dict[str, Any]] = {
    DataCategory.IDENTITY: {"given_name": "", "family_name": "", "titles": (), "suffix": None,
                            "salutation": None},
    DataCategory.BIRTH_DATE: {"birth_date": None},
    DataCategory.EMAIL: {"email": None},
    DataCategory.PHONE: {"phone": None},
    DataCategory.POSTAL_ADDRESS: {"address": None},
    DataCategory.LANGUAGE: {"language": None},
}  # fmt: skip
_LINEAGE = {
    DataCategory.IDENTITY: ("name", "salutation"), DataCategory.BIRTH_DATE: ("birthDate",),
    DataCategory.EMAIL: ("email",), DataCategory.PHONE: ("phone",),
    DataCategory.POSTAL_ADDRESS: ("address",), DataCategory.LANGUAGE: ("language",),
}  # fmt: skip
MAX_CATEGORIES = len(_CLEARED)

V = TypeVar("V", Person, CleanRecord)


@dataclass(frozen=True)
class Purge:
    person_ids: list[str]
    removed_values: int
    restricted: tuple[h.HeldRecord, ...] = ()  # kept under a legal hold (domain/holds.py)


class SnapshotStore(Protocol):
    async def save_person(self, person: Person, *, at: datetime) -> None:
        """Write a person's own values and relink its contact points."""
        ...

    async def get_merge(self, merge_id: str) -> Merge | None: ...

    async def save_merge(self, merge: Merge) -> None: ...


class VersionStore(Protocol):
    async def clear_categories(self, person_ids: Sequence[str], categories: Sequence[str]) -> None:
        """Empty the categories' values in the persons' value history."""
        ...


class ContactStore(Protocol):
    async def contact_keys(self, person_ids: Sequence[str]) -> dict[str, list[str]]:
        """The keys of the contact points linked to the persons, per label."""
        ...

    async def drop_unused_contacts(self, keys: dict[str, list[str]]) -> None:
        """Delete those of the contact points no person links to any more."""
        ...


def checked_categories(categories: Sequence[str]) -> tuple[str, ...]:
    unknown = [c for c in categories if c not in _CLEARED]
    if not categories or unknown:
        raise InvalidInput(
            f"categories takes 1-{MAX_CATEGORIES} of {', '.join(DataCategory.ATTRIBUTES)}.",
            field="categories", details={"unknown": unknown},
        )  # fmt: skip
    return tuple(dict.fromkeys(categories))


def cleared(value: V, categories: Sequence[str]) -> tuple[V, int]:
    """The value without the categories, and how many set fields that emptied."""
    changes = {k: v for c in categories for k, v in _CLEARED[c].items()}
    emptied = sum(1 for k in changes if getattr(value, k) not in (None, "", ()))
    if isinstance(value, Person):
        dropped = {a for c in categories for a in _LINEAGE[c]}
        changes["lineage"] = {a: v for a, v in value.lineage.items() if a not in dropped}
    return replace(value, **changes), emptied


def _snapshot(snapshot: PersonSnapshot | None, categories: Sequence[str]) -> PersonSnapshot | None:
    if snapshot is None:
        return None
    return replace(snapshot, person=cleared(snapshot.person, categories)[0])


async def purge(
    person_id: str, categories: Sequence[str], reference: str, *, store: PrivacyStore,
    contacts: ContactStore, people: PersonStore, snapshots: SnapshotStore,
    history: VersionStore, households: HouseholdStore, sources: SourceRegistry,
    rules: Mapping[str, Rule], events: EventRecorder, now: datetime,
    holds: Sequence[h.HoldInstruction] = (),
    held: h.HoldStore | None = None,
) -> Purge:  # fmt: skip
    """Remove the categories from the person's merge group (nothing if erased); what a
    hold covers (the UWG §7a phone proof) is kept first, restricted, in ``held``."""
    wanted = checked_categories(categories)
    duties = h.for_purge(holds, wanted)
    check_request_id(reference, field="reference")
    group = await merge_group(person_id, store)
    ids = group.person_ids
    if group.erased:
        return Purge(ids, 0)
    if group.restricted:
        # Restricted data is only stored (Art. 18); the job skips such persons too.
        raise restricted_error(person_id, field="personId")
    await store.lock(ids)
    linked = await contacts.contact_keys(ids)
    removed = 0
    records: list[StoredRecord] = []
    survivor_records: list[CleanRecord] = []
    found = await store.records(ids)
    restricted = h.held_parts(found, duties, request_id=reference, today=now.date(), now=now)
    if restricted:
        if held is None:
            raise ValueError("Holds need a store to keep what they hold.")
        await held.save(restricted)
    for described, record in found:
        kept, emptied = cleared(record, wanted)
        removed += emptied
        if emptied:
            records.append(StoredRecord(described, kept))
        if described == group.survivor_id:
            survivor_records.append(kept)
    persons = await store.persons(ids)
    survivor = persons[group.survivor_id]
    golden = build_golden(survivor_records, priority_of=sources.priority_of, rules=rules)
    rebuilt = Person.from_golden(survivor.id, golden, created_at=survivor.created_at,
                                 updated_at=now)  # fmt: skip
    removed += cleared(survivor, wanted)[1]
    await people.save(ProfileChanges(records=records, persons=[rebuilt],
                                     new_person_ids=frozenset()))  # fmt: skip
    for merged_id in group.merged_ids:
        if merged_id in persons:
            kept_values, emptied = cleared(persons[merged_id], wanted)
            removed += emptied
            await snapshots.save_person(kept_values, at=now)
    for entry in await store.merges(ids):
        merge = await snapshots.get_merge(entry.id)
        if merge is not None and (merge.survivor_before or merge.merged_before):
            await snapshots.save_merge(replace(
                merge, survivor_before=_snapshot(merge.survivor_before, wanted),
                merged_before=_snapshot(merge.merged_before, wanted),
            ))  # fmt: skip
    # Last: the rebuild above kept the values it replaced as a version.
    await history.clear_categories(ids, wanted)
    await contacts.drop_unused_contacts(linked)
    await households.refresh_households([group.survivor_id], at=now)
    if removed:
        events.record(Event.PERSON_UPDATED, person_id=group.survivor_id)
    return Purge(ids, removed, tuple(restricted))
