"""As-of reads: a person's golden record as it was at a time.

Every write that changes a golden record keeps the values (and their lineage) the
record had before as a version, valid until the change; a merge is in force from
its time until it is undone (docs/decisions/0017-value-history.md). A person read
at time ``t``:

1. the id asked for resolves through the merges in force at ``t``, as ids merged
   away resolve to their survivor now;
2. its values are those of the earliest version that ended after ``t``, or its
   current values if none did; its household and employers likewise, from the
   versions of its links (``adapters/link_history.py``);
3. the ids merged into it are those whose merges were in force at ``t``.

An erased person has no history (erasure removes it); a time before the person was
created finds nothing. Runs inside a transaction the caller owns; writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from mdm_common.errors import NotFound
from mdm_profile.domain.merging import MergeState
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import erased_error

# Merges followed from an id to the survivor it resolved to; a chain is one step long
# now (merges redirect earlier ones), but history may hold longer ones.
MAX_CHAIN = 64
T = TypeVar("T")


@dataclass(frozen=True)
class MergeSpan:
    """A merge as history sees it: who was merged into whom, from when to when."""

    survivor_id: str
    merged_id: str
    at: datetime
    state: MergeState
    undone_at: datetime | None

    def in_force(self, t: datetime) -> bool:
        if t < self.at:
            return False
        if self.state is MergeState.ACTIVE:
            return True
        # Undone before the time of undoing was kept: in force at no time we can name.
        return self.undone_at is not None and t < self.undone_at


@dataclass(frozen=True)
class Version:
    """Golden values a person had until ``valid_to``."""

    person: Person
    valid_to: datetime


@dataclass(frozen=True)
class LinksState:
    """A person's household and employers at some time, by id."""

    household: tuple[str, str] | None  # household id, role
    # company id, role, and the source, source id and clue a link came from
    employers: tuple[tuple[str, str, str | None, str | None, str | None], ...] = ()


@dataclass(frozen=True)
class LinksVersion:
    """A links state a person had until ``valid_to``."""

    state: LinksState
    valid_to: datetime


@dataclass(frozen=True)
class PersonHistory:
    """A person's current values and links, whether it was erased, and its versions."""

    current: Person
    erased: bool
    versions: Sequence[Version]
    links: LinksState = LinksState(None)
    links_versions: Sequence[LinksVersion] = ()


@dataclass(frozen=True)
class PersonAsOf:
    """A golden record as it was at a time, with its household and employers then."""

    person: Person
    links: LinksState


class HistoryStore(Protocol):
    async def merges_naming(self, person_ids: Sequence[str]) -> list[MergeSpan]:
        """Every merge with one of the ids as survivor or as merged-away person."""
        ...

    async def history(self, person_id: str) -> PersonHistory | None:
        """The person (None if unknown) with all its versions."""
        ...


def _in_force(current: T, ended: Iterable[tuple[datetime, T]], at: datetime) -> T:
    """What was in force at ``at``: the earliest version (with the time it ended) that
    ended after it, or ``current`` if none did."""
    later = [(valid_to, kept) for valid_to, kept in ended if valid_to > at]
    return min(later, key=lambda v: v[0])[1] if later else current


def values_at(history: PersonHistory, at: datetime) -> Person:
    """The golden values in force at ``at``."""
    return _in_force(history.current, ((v.valid_to, v.person) for v in history.versions), at)


def links_at(history: PersonHistory, at: datetime) -> LinksState:
    """The household and employers in force at ``at``."""
    ended = ((v.valid_to, v.state) for v in history.links_versions)
    return _in_force(history.links, ended, at)


async def resolve_at(person_id: str, at: datetime, store: HistoryStore) -> str:
    """The id ``person_id`` resolved to at ``at``, following the merges in force then."""
    current = person_id
    for _ in range(MAX_CHAIN):
        merges = await store.merges_naming([current])
        into = [m.survivor_id for m in merges if m.merged_id == current and m.in_force(at)]
        if not into:
            return current
        current = into[0]
    return current


async def merged_from_at(person_id: str, at: datetime, store: HistoryStore) -> tuple[str, ...]:
    """The ids merged into ``person_id`` (directly or through another) at ``at``."""
    found: set[str] = set()
    frontier = [person_id]
    while frontier:
        merges = await store.merges_naming(frontier)
        heads = set(frontier)
        frontier = []
        for merge in merges:
            fresh = merge.merged_id not in found and merge.merged_id != person_id
            if merge.survivor_id in heads and merge.in_force(at) and fresh:
                found.add(merge.merged_id)
                frontier.append(merge.merged_id)
    return tuple(sorted(found))


async def person_as_of(person_id: str, at: datetime, *, store: HistoryStore) -> PersonAsOf:
    """The golden record ``person_id`` answered with at ``at`` (a merged-away id gives
    its survivor of that time). NotFound if it did not exist then or was erased."""
    resolved = await resolve_at(person_id, at, store)
    history = await store.history(resolved)
    if history is None:
        raise NotFound(f"No person with id {person_id}.", field="id")
    if history.erased:
        raise erased_error(person_id, field="id")
    if at < history.current.created_at:
        raise NotFound(
            f"Person {person_id} did not exist at {at.isoformat()}.",
            field="asOf",
            details={"createdAt": history.current.created_at.isoformat()},
        )
    person = replace(
        values_at(history, at),
        id=resolved,
        created_at=history.current.created_at,
        merged_from=await merged_from_at(resolved, at, store),
        # Restriction (Art. 18) is a state of now: it governs what may be done today.
        processing_restricted=history.current.processing_restricted,
    )
    return PersonAsOf(person, links_at(history, at))
