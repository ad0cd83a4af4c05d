"""Merge and unmerge of persons. Runs inside a transaction the caller owns.

A merge moves everything the merged-away person owns (its source records, its
household memberships, employers and relations to other persons; ``domain/links.py``
says how they join the survivor's) to the survivor, rebuilds the survivor's golden
record, and keeps a snapshot of both persons as they were. The survivor's id is
permanent; the merged-away id keeps resolving to the survivor. Unmerge uses the
snapshot to put the merged-away person back exactly as it was, and rebuilds the
survivor from what is left (which is exactly its old state when nothing else
changed it in between).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, DomainError, InvalidInput, NotFound
from mdm_profile.domain.golden import Rule, build_golden
from mdm_profile.domain.households import HouseholdStore
from mdm_profile.domain.links import (
    MergedLinks,
    PersonLink,
    links_after_merge,
    links_after_unmerge,
    same_links,
)
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import REASON_ERASED, erased_error, restricted_error
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.sources import SourceRegistry

MAX_REASON = 500
MERGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class MergeState(StrEnum):
    ACTIVE = "ACTIVE"
    UNDONE = "UNDONE"


@dataclass(frozen=True)
class PersonSnapshot:
    person: Person
    record_keys: tuple[str, ...]


@dataclass(frozen=True)
class Merge:
    id: str
    survivor_id: str
    merged_id: str
    at: datetime
    actor: str
    reason: str
    state: MergeState
    # None once the group was erased: the snapshots held personal data; no unmerge then.
    survivor_before: PersonSnapshot | None
    merged_before: PersonSnapshot | None
    # Persons merged into the merged-away one earlier, now pointing at the survivor.
    redirected: tuple[str, ...] = ()
    # None for merges recorded before links moved with a merge: unmerge leaves links be.
    links: MergedLinks | None = None
    # When the merge was undone (None while in force, and for merges undone before
    # this was recorded).
    undone_at: datetime | None = None


@dataclass(frozen=True)
class PersonState:
    person: Person  # of an erased person: its id and nothing else
    merged_into: str | None
    records: tuple[CleanRecord, ...]
    erased: bool = False


class MergeStore(Protocol):
    async def lock(self, person_ids: list[str]) -> dict[str, PersonState]:
        """Read the persons for update; concurrent merges of them serialise here."""
        ...

    async def states(self, person_ids: list[str]) -> dict[str, PersonState]:
        """Read the persons as ``lock`` does, without locking or writing anything."""
        ...

    async def move_records(self, keys: list[str], *, to_person: str) -> None: ...

    async def links(self, person_ids: Sequence[str]) -> dict[str, list[PersonLink]]:
        """Each person's household memberships, employers and relations."""
        ...

    async def replace_links(self, person_id: str, links: Sequence[PersonLink]) -> None:
        """Make ``links`` the person's links, and no others."""
        ...

    async def mark_merged(self, merged_id: str, *, into: str, at: datetime) -> list[str]:
        """Point the person (and all merged into it before) at ``into``; return those."""
        ...

    async def restore(self, person: Person, *, redirected: list[str], at: datetime) -> None:
        """Put a person's properties back and point ``redirected`` at it again."""
        ...

    async def save_person(self, person: Person, *, at: datetime) -> None: ...

    async def save_merge(self, merge: Merge) -> None: ...

    async def get_merge(self, merge_id: str) -> Merge | None: ...


class _Undoable(Protocol):
    @property
    def state(self) -> MergeState: ...


Undoable = TypeVar("Undoable", bound=_Undoable)


def undoable(merge_id: str, record: Undoable | None) -> Undoable:
    """The merge (of persons or companies), if it exists and was not undone yet."""
    if record is None:
        raise NotFound(f"No merge with id {merge_id}.", field="mergeId")
    if record.state is MergeState.UNDONE:
        raise Conflict(f"Merge {merge_id} was undone already.", field="mergeId")
    return record


def check_survivor_in_force(survivor_id: str, merged_into: str | None) -> None:
    """An unmerge gives back to a survivor that was not itself merged away since."""
    if merged_into is not None:
        raise Conflict(
            f"The survivor {survivor_id} was itself merged into {merged_into} "
            "since; undo that merge first.",
            field="mergeId",
        )


def check_reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters.", field="reason")
    return cleaned


def rebuild(
    person: Person,
    records: Sequence[CleanRecord],
    *,
    sources: SourceRegistry,
    rules: Mapping[str, Rule],
    now: datetime,
) -> Person:
    """The person's golden record from ``records``, by the survivorship rules."""
    golden = build_golden(records, priority_of=sources.priority_of, rules=rules)
    return Person.from_golden(person.id, golden, created_at=person.created_at, updated_at=now)


def check_pair(survivor_id: str, merged_id: str) -> None:
    if survivor_id == merged_id:
        raise InvalidInput("A person cannot be merged with itself.", field="mergedId")


def mergeable(
    states: Mapping[str, PersonState],
    survivor_id: str,
    merged_id: str,
    *,
    merged_away: type[DomainError] = Conflict,
) -> tuple[PersonState, PersonState]:
    """The survivor and the merged person, if the two may be merged; else why not.

    A person merged away already is a ``merged_away`` error: a CONFLICT for the merge
    (someone merged it meanwhile), bad input for a preview (the steward asked about
    an id that is no profile of its own any more).
    """
    for person_id, field in ((survivor_id, "survivorId"), (merged_id, "mergedId")):
        if person_id not in states:
            raise NotFound(f"No person with id {person_id}.", field=field)
        if states[person_id].erased:
            raise erased_error(person_id, field=field)
        target = states[person_id].merged_into
        if target is not None:
            raise merged_away(
                f"Person {person_id} was merged into {target} already.",
                field=field,
                details={"mergedInto": target},
            )
        # Art. 18: a restricted person's data may be stored, not combined with another's.
        if states[person_id].person.processing_restricted:
            raise restricted_error(person_id, field=field)
    return states[survivor_id], states[merged_id]


async def _replay(
    merge_id: str, survivor_id: str, merged_id: str, *, store: MergeStore
) -> tuple[Merge, Person] | None:
    if not MERGE_ID.fullmatch(merge_id):
        raise InvalidInput("mergeId must be 1-64 letters, digits, '-' or '_'.", field="mergeId")
    existing = await store.get_merge(merge_id)
    if existing is None:
        return None
    if (existing.survivor_id, existing.merged_id) != (survivor_id, merged_id):
        raise Conflict(f"Merge id {merge_id} was used for another pair.", field="mergeId")
    states = await store.lock([survivor_id])
    return existing, states[survivor_id].person


async def merge(
    survivor_id: str,
    merged_id: str,
    *,
    store: MergeStore,
    households: HouseholdStore,
    sources: SourceRegistry,
    rules: Mapping[str, Rule],
    events: EventRecorder,
    actor: str,
    reason: str,
    now: datetime,
    merge_id: str | None = None,
) -> tuple[Merge, Person]:
    """``merge_id``, when the caller chooses it, makes the merge idempotent: asking
    again with the same id and pair returns the merge made the first time."""
    check_pair(survivor_id, merged_id)
    clean_reason = check_reason(reason)
    if merge_id is not None:
        replayed = await _replay(merge_id, survivor_id, merged_id, store=store)
        if replayed is not None:
            return replayed
    states = await store.lock([survivor_id, merged_id])
    survivor, merged = mergeable(states, survivor_id, merged_id)

    merged_keys = [r.key for r in merged.records]
    await store.move_records(merged_keys, to_person=survivor_id)
    links_before = await store.links([survivor_id, merged_id])
    survivor_links = links_after_merge(
        links_before[survivor_id], links_before[merged_id], survivor_id=survivor_id,
        merged_id=merged_id,
    )  # fmt: skip
    # Each write is a round trip: links are written only where the merge changes them
    # (most merged-away persons have none, and the survivor's stay as they are).
    if not same_links(survivor_links, links_before[survivor_id]):
        await store.replace_links(survivor_id, survivor_links)
    if links_before[merged_id]:
        await store.replace_links(merged_id, [])
    redirected = await store.mark_merged(merged_id, into=survivor_id, at=now)
    rebuilt = rebuild(
        survivor.person, [*survivor.records, *merged.records], sources=sources, rules=rules, now=now
    )
    await store.save_person(rebuilt, at=now)
    await households.refresh_households([survivor_id, merged_id], at=now)
    links_after = await store.links([survivor_id])
    record = Merge(
        id=merge_id or str(uuid.uuid4()), survivor_id=survivor_id, merged_id=merged_id, at=now,
        actor=actor, reason=clean_reason, state=MergeState.ACTIVE,
        survivor_before=PersonSnapshot(survivor.person, tuple(r.key for r in survivor.records)),
        merged_before=PersonSnapshot(merged.person, tuple(merged_keys)),
        redirected=tuple(pid for pid in redirected if pid != merged_id),
        links=MergedLinks(
            survivor_before=tuple(links_before[survivor_id]),
            merged_before=tuple(links_before[merged_id]),
            survivor_after=tuple(links_after[survivor_id]),
        ),
    )  # fmt: skip
    await store.save_merge(record)
    events.record(Event.PERSON_MERGED, survivor_id=survivor_id, merged_id=merged_id,
                  merge_id=record.id)  # fmt: skip
    return record, rebuilt


async def unmerge(
    merge_id: str,
    *,
    store: MergeStore,
    households: HouseholdStore,
    sources: SourceRegistry,
    rules: Mapping[str, Rule],
    events: EventRecorder,
    now: datetime,
) -> tuple[Person, Person]:
    """Undo a merge; return the survivor and the restored person."""
    record = undoable(merge_id, await store.get_merge(merge_id))
    if record.survivor_before is None or record.merged_before is None:
        raise Conflict(
            f"Merge {merge_id} belongs to an erased profile; it cannot be undone.",
            field="mergeId",
            details={"reason": REASON_ERASED},
        )
    states = await store.lock([record.survivor_id, record.merged_id])
    survivor = states[record.survivor_id]
    check_survivor_in_force(record.survivor_id, survivor.merged_into)
    moved_back = set(record.merged_before.record_keys)
    await store.move_records(sorted(moved_back), to_person=record.merged_id)
    restored = record.merged_before.person
    await store.restore(restored, redirected=list(record.redirected), at=now)
    if record.links is not None:
        current = await store.links([record.survivor_id])
        await store.replace_links(
            record.survivor_id,
            links_after_unmerge(current[record.survivor_id], merge=record.links),
        )
        await store.replace_links(record.merged_id, record.links.merged_before)

    remaining = [r for r in survivor.records if r.key not in moved_back]
    before = record.survivor_before
    unchanged_since = survivor.person.updated_at == record.at and sorted(
        r.key for r in remaining
    ) == sorted(before.record_keys)
    # Nothing else touched the survivor since the merge: its old state is exact.
    # Otherwise rebuild it from the records it still has.
    rebuilt = (
        before.person
        if unchanged_since
        else rebuild(survivor.person, remaining, sources=sources, rules=rules, now=now)
    )
    await store.save_person(rebuilt, at=now)
    await store.save_merge(replace(record, state=MergeState.UNDONE, undone_at=now))
    await households.refresh_households([record.survivor_id, record.merged_id], at=now)
    events.record(Event.PERSON_UNMERGED, survivor_id=record.survivor_id,
                  merged_id=record.merged_id, merge_id=record.id)  # fmt: skip
    return rebuilt, restored
