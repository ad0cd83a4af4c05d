"""Data-subject requests on the profile: erasure (Art. 17), restriction (18); the export
(Art. 15/20) is in :mod:`mdm_profile.domain.personal_data`.

Each works on a person's merge group: the survivor and every id merged into it (an
id merged away resolves to its survivor's group), since all of them describe one
data subject. Runs inside a transaction the caller owns; never commits.

Erasure keeps each Person node of the group as a tombstone with its id, status
``ERASED``, the time and the request's id, and the MERGED_INTO edges, so that every
id the platform ever handed out still resolves to "erased" instead of "unknown";
everything else about the person goes, and a suppression list (``suppression.py``)
keeps source systems from bringing it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_profile.domain import holds as h
from mdm_profile.domain.links import PersonLink
from mdm_profile.domain.models import Person
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.suppression import SuppressionList, Suppressor

ERASED = "ERASED"
# Extension ``reason`` of the errors that name why a person cannot be used.
REASON_ERASED = "ERASED"
REASON_RESTRICTED = "PROCESSING_RESTRICTED"
REASON_SUPPRESSED = "SUPPRESSED"
_REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class PersonGroup:
    """A merge group: the survivor first, then the ids merged into it."""

    survivor_id: str
    merged_ids: tuple[str, ...]
    erased: bool
    restricted: bool

    @property
    def person_ids(self) -> list[str]:
        return [self.survivor_id, *self.merged_ids]


@dataclass(frozen=True)
class MergeEntry:
    """A merge as the audit keeps it (no snapshot)."""

    id: str
    survivor_id: str
    merged_id: str
    at: datetime
    actor: str
    reason: str
    state: str


@dataclass(frozen=True)
class Erasure:
    person_ids: list[str]
    removed_records: int
    suppression_entries: int
    already_erased: bool
    # Art. 17(3): the categories of which values were erased, and what retention
    # duties keep, restricted (domain/holds.py).
    erased_categories: tuple[str, ...] = ()
    restricted: tuple[h.HeldRecord, ...] = ()


@dataclass(frozen=True)
class Restriction:
    person_ids: list[str]
    restricted: bool


class PrivacyStore(Protocol):
    async def group(self, person_id: str) -> PersonGroup | None:
        """The merge group of a person id; ``None`` if the profile never had the id."""
        ...

    async def lock(self, person_ids: Sequence[str]) -> None:
        """Mark the persons for update: concurrent merges or erasures of them serialise."""
        ...

    async def persons(self, person_ids: Sequence[str]) -> dict[str, Person]:
        """Each Person node's own properties (merged-away ones keep theirs)."""
        ...

    async def records(self, person_ids: Sequence[str]) -> list[tuple[str, CleanRecord]]:
        """The source records describing the persons, with the person each describes."""
        ...

    async def links(self, person_ids: Sequence[str]) -> dict[str, list[PersonLink]]: ...

    async def merges(self, person_ids: Sequence[str]) -> list[MergeEntry]:
        """Merges in which one of the persons was survivor or merged away."""
        ...

    async def erase(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> int:
        """Delete records, contact links, memberships, merge free text; leave tombstones.

        Returns the number of source records deleted.
        """
        ...

    async def restrict(
        self, person_ids: Sequence[str], *, restricted: bool, request_id: str, at: datetime
    ) -> None: ...


def check_request_id(request_id: str, *, field: str = "requestId") -> str:
    if not _REQUEST_ID.fullmatch(request_id):
        raise InvalidInput(f"{field} must be 1-128 letters, digits or _.:-", field=field)
    return request_id


def erased_error(person_id: str, *, field: str = "personId") -> NotFound:
    return NotFound(
        f"Person {person_id} was erased.", field=field, details={"reason": REASON_ERASED}
    )


def restricted_error(person_id: str, *, field: str) -> Conflict:
    return Conflict(
        f"Processing of person {person_id} is restricted.",
        field=field,
        details={"reason": REASON_RESTRICTED},
    )


async def merge_group(person_id: str, store: PrivacyStore) -> PersonGroup:
    group = await store.group(person_id)
    if group is None:
        raise NotFound(f"No person with id {person_id}.", field="personId")
    return group


async def erase(
    person_id: str,
    request_id: str,
    *,
    store: PrivacyStore,
    suppressions: SuppressionList,
    suppressor: Suppressor,
    events: EventRecorder,
    now: datetime,
    holds: Sequence[h.HoldInstruction] = (),
    held: h.HoldStore | None = None,
) -> Erasure:
    """Erase the person's merge group, except what the retention duties in ``holds``
    keep (restricted, in ``held``); asking again changes nothing. Each id of the group
    is announced erased (the change stream tells every earlier recipient, Art. 19)."""
    check_request_id(request_id)
    duties = h.checked(holds)
    if duties and held is None:
        raise ValueError("Holds need a store to keep what they hold.")
    group = await merge_group(person_id, store)
    ids = group.person_ids
    if group.erased:
        before = tuple(await held.of_persons(ids)) if held else ()
        return Erasure(
            ids, removed_records=0, suppression_entries=0, already_erased=True, restricted=before
        )
    await store.lock(ids)
    records = await store.records(ids)
    # Every record is suppressed, held or not: a duty keeps it, it does not bring it back.
    entries = suppressor.entries_of(record for _, record in records)
    written = await suppressions.add(entries, request_id=request_id, at=now)
    kept = h.held_parts(records, duties, request_id=request_id, today=now.date(), now=now)
    # What retention already holds (the §7a phone proof) stays held and is named too.
    earlier = await held.of_persons(ids) if held is not None else []
    if held is not None and kept:
        await held.save(kept)
    linked = any((await store.links(ids)).values())
    removed = await store.erase(ids, request_id=request_id, at=now)
    for erased_id in ids:
        events.record(Event.PERSON_ERASED, person_id=erased_id)
    erased = h.erased_categories((r for _, r in records), kept, linked=linked)
    return Erasure(
        ids,
        removed_records=removed,
        suppression_entries=written,
        already_erased=False,
        erased_categories=erased,
        restricted=(*earlier, *kept),
    )


async def restrict(
    person_id: str,
    request_id: str,
    *,
    restricted: bool,
    store: PrivacyStore,
    events: EventRecorder,
    now: datetime,
) -> Restriction:
    """Set or lift the restriction of processing (Art. 18) on the merge group; each id
    of the group is announced (subscribers of the change stream stop, or resume)."""
    check_request_id(request_id)
    group = await merge_group(person_id, store)
    if group.erased:
        raise erased_error(person_id)
    await store.restrict(group.person_ids, restricted=restricted, request_id=request_id, at=now)
    for person in group.person_ids:
        events.record(Event.PERSON_RESTRICTED, person_id=person)
    return Restriction(group.person_ids, restricted)


async def release_holds(
    person_id: str, reference: str, *, store: PrivacyStore, held: h.HoldStore, today: date
) -> tuple[list[str], list[h.HeldRecord]]:
    """The retention job: erase what duties held of the group once each has ended."""
    check_request_id(reference, field="reference")
    group = await merge_group(person_id, store)
    return group.person_ids, await h.release(group.person_ids, held=held, today=today)
