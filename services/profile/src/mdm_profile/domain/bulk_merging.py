"""Many merges in one transaction: what ``merging.merge`` does, with bulk statements.

The batch re-matching job merges thousands of pairs; one transaction and a dozen
statements per pair bound it at a few dozen merges a second. ``merge_many`` reads
everything the batch touches at once (one lock, one replay check, the links of all
persons, who was merged into them before), applies the merges one after another in
memory with the same rules as a single merge, and writes the end state with one
statement per kind of change. Each merge keeps what a single merge keeps: lineage
(the records move, the merged-away id resolves to the survivor), the golden record
by survivorship, the links moved by ``domain/links.py``, an exact snapshot for
unmerge and one PERSON_MERGED event.

Semantics of a batch:

- Items apply in the order given, each to the state the earlier ones left. Several
  persons merged into one survivor (a cluster) therefore each get a snapshot of the
  survivor as it was just before their merge: undoing the last, then the earlier
  ones, restores the survivor step by step. A chain (C into B, then B into A) is
  allowed too.
- An item that cannot be merged is skipped with its reason; the rest of the batch
  still merges. The plan of a batch job may be stale (a steward merged or erased a
  person meanwhile), and one stale pair must not hold up a thousand good ones.
  Skipped: merged away already, not found, erased, restricted, invalid input, a
  merge id used before for another pair.
- A merge id seen before with the same pair is answered with the first merge
  (``replayed``) and changes nothing: a redelivered batch is idempotent.
- Households are detected once, for everyone the batch touched, on the end state
  (a single merge detects after each merge). Only the end state of a cluster is
  real, so no household is made for a state that exists for no longer than the
  batch's own computation. The survivor's links after its last merge in the batch
  are read after that detection, as a single merge reads them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, DomainError, InvalidInput, NotFound
from mdm_profile.domain.golden import Rule
from mdm_profile.domain.households import HouseholdStore
from mdm_profile.domain.links import RELATIONS, LinkType, MergedLinks, PersonLink, links_after_merge
from mdm_profile.domain.merging import (
    MERGE_ID,
    Merge,
    MergeState,
    MergeStore,
    PersonSnapshot,
    PersonState,
    check_pair,
    check_reason,
    mergeable,
    rebuild,
)
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import REASON_ERASED, REASON_RESTRICTED
from mdm_profile.domain.sources import SourceRegistry

MAX_BULK = 1000  # merges per call: one transaction holds them all


class SkipReason(StrEnum):
    MERGED_ALREADY = "MERGED_ALREADY"  # survivor or merged person was merged away
    NOT_FOUND = "NOT_FOUND"
    ERASED = "ERASED"
    RESTRICTED = "RESTRICTED"
    MERGE_ID_REUSED = "MERGE_ID_REUSED"  # the merge id names a merge of another pair
    INVALID = "INVALID"  # the item itself is wrong (a person with itself, a bad id)


@dataclass(frozen=True)
class MergeRequest:
    survivor_id: str
    merged_id: str
    merge_id: str | None = None  # caller-chosen: makes the item idempotent
    reason: str = ""


@dataclass(frozen=True)
class MergeOutcome:
    request: MergeRequest
    merge: Merge | None  # the merge made, or the first one for a replayed id
    replayed: bool = False
    error: DomainError | None = None  # why the item was skipped

    @property
    def skip_reason(self) -> SkipReason | None:
        return None if self.error is None else _reason_of(self.error)


def _reason_of(error: DomainError) -> SkipReason:
    named = error.details.get("reason")
    if named == REASON_ERASED:
        return SkipReason.ERASED
    if named == REASON_RESTRICTED:
        return SkipReason.RESTRICTED
    if "mergedInto" in error.details:
        return SkipReason.MERGED_ALREADY
    if isinstance(error, NotFound):
        return SkipReason.NOT_FOUND
    if isinstance(error, Conflict):
        return SkipReason.MERGE_ID_REUSED
    return SkipReason.INVALID


@dataclass(frozen=True)
class Locked:
    """The persons of a batch as ``lock_many`` read them."""

    states: dict[str, PersonState]
    links: dict[str, list[PersonLink]]
    merged_into: dict[str, list[str]]  # per person, the persons merged into it before


class BulkMergeStore(MergeStore, Protocol):
    async def get_merges(self, merge_ids: Sequence[str]) -> dict[str, Merge]: ...

    async def lock_many(self, person_ids: Sequence[str]) -> Locked:
        """``lock`` the persons, and read their links and who was merged into them."""
        ...

    async def move_records_many(self, owners: Mapping[str, str]) -> None:
        """Each source record (by key) describes the person it is mapped to, only."""
        ...

    async def replace_links_many(self, links: Mapping[str, Sequence[PersonLink]]) -> None:
        """Make each person's links the ones given, and no others."""
        ...

    async def redirect_many(self, targets: Mapping[str, str]) -> None:
        """Point persons merged away earlier at a new survivor."""
        ...

    async def tombstone_many(self, targets: Mapping[str, str], *, at: datetime) -> None:
        """Mark persons merged into their target; they keep no contact points."""
        ...

    async def save_persons(self, persons: Sequence[Person], *, at: datetime) -> None:
        """Save golden records (their contact points stay as they are), keeping the
        values they had as versions."""
        ...

    async def link_moved_contact_points(self, owners: Mapping[str, str]) -> None:
        """Link each person to the contact points of the records moved to it."""
        ...

    async def save_merges(self, merges: Sequence[Merge]) -> None: ...


class _Links:
    """Everyone's links in the batch, kept consistent in memory: a relation between two
    persons of the batch shows on both (RELATION_TO on one, RELATION_FROM on the other)."""

    def __init__(self, found: Mapping[str, Sequence[PersonLink]]) -> None:
        self.now = {pid: list(links) for pid, links in found.items()}
        self.changed: set[str] = set()
        # Person -> the persons of the batch with a relation to it (an index, so that a
        # batch of n merges costs n, not n squared).
        self._related: dict[str, set[str]] = {}
        for pid, links in self.now.items():
            for target in self._relation_targets(links):
                self._related.setdefault(target, set()).add(pid)

    def _relation_targets(self, links: Sequence[PersonLink]) -> set[str]:
        return {
            link.target_id
            for link in links
            if link.type in RELATIONS and link.target_id in self.now
        }

    def set(self, person_id: str, links: Sequence[PersonLink]) -> None:
        """Replace a person's links, as ``replace_links`` does in the graph: its relations
        to others of the batch disappear from their links too, its new ones appear."""
        for other in self._related.pop(person_id, set()) - {person_id}:
            self.now[other] = [
                link
                for link in self.now[other]
                if not (link.type in RELATIONS and link.target_id == person_id)
            ]
            self.changed.add(other)
        for target in self._relation_targets(self.now[person_id]):
            self._related.get(target, set()).discard(person_id)
        for link in links:
            if link.type in RELATIONS and link.target_id in self.now:
                mirrored = (
                    LinkType.RELATION_FROM
                    if link.type is LinkType.RELATION_TO
                    else LinkType.RELATION_TO
                )
                self.now[link.target_id].append(PersonLink(mirrored, person_id, link.props))
                self._related.setdefault(link.target_id, set()).add(person_id)
                self._related.setdefault(person_id, set()).add(link.target_id)
                self.changed.add(link.target_id)
        self.now[person_id] = list(links)
        self.changed.add(person_id)


def _sorted_records(state: PersonState, more: PersonState) -> PersonState:
    records = tuple(sorted([*state.records, *more.records], key=lambda r: r.key))
    return replace(state, records=records)


def _checked(requests: Sequence[MergeRequest]) -> list[MergeOutcome | None]:
    """Items wrong in themselves are skipped before anything is read."""
    outcomes: list[MergeOutcome | None] = [None] * len(requests)
    for index, request in enumerate(requests):
        try:
            check_pair(request.survivor_id, request.merged_id)
            check_reason(request.reason)
            if request.merge_id is not None and not MERGE_ID.fullmatch(request.merge_id):
                raise InvalidInput(
                    "mergeId must be 1-64 letters, digits, '-' or '_'.", field="mergeId"
                )
        except DomainError as error:
            outcomes[index] = MergeOutcome(request, None, error=error)
    return outcomes


class _Batch:
    """The merges applied one after another in memory, as ``merging.merge`` would apply
    them one transaction after another; what changed is written at the end."""

    def __init__(
        self,
        states: dict[str, PersonState],
        links: Mapping[str, Sequence[PersonLink]],
        pointing: Mapping[str, Sequence[str]],
        *,
        sources: SourceRegistry,
        rules: Mapping[str, Rule],
        actor: str,
        now: datetime,
    ) -> None:
        self.states = states
        self.links = _Links(links)
        self.pointing = {pid: list(xs) for pid, xs in pointing.items()}
        self._sources, self._rules, self._actor, self._now = sources, rules, actor, now
        self.merges: list[Merge] = []
        self.saved: dict[str, Person] = {}  # golden records rebuilt, the last one each
        self.owners: dict[str, str] = {}  # record key -> person it moved to
        self.tombstones: dict[str, str] = {}  # merged-away person -> whom it points at
        self.last_merge_of: dict[str, int] = {}  # survivor -> its last merge in ``merges``

    def apply(self, request: MergeRequest) -> Merge:
        survivor, merged = mergeable(self.states, request.survivor_id, request.merged_id)
        s, m = request.survivor_id, request.merged_id
        for moved in merged.records:
            self.owners[moved.key] = s
        survivor_links, merged_links = tuple(self.links.now[s]), tuple(self.links.now[m])
        self.links.set(m, [])
        self.links.set(
            s, links_after_merge(survivor_links, merged_links, survivor_id=s, merged_id=m)
        )
        redirected = tuple(self.pointing.get(m, ()))
        for pid in (m, *redirected):
            self.tombstones[pid] = s
            if pid in self.states:
                self.states[pid] = replace(self.states[pid], merged_into=s)
        self.pointing[s] = [*self.pointing.get(s, ()), m, *redirected]
        self.pointing[m] = []
        rebuilt = rebuild(
            survivor.person,
            [*survivor.records, *merged.records],
            sources=self._sources,
            rules=self._rules,
            now=self._now,
        )
        self.saved[s] = rebuilt
        self.states[s] = replace(_sorted_records(survivor, merged), person=rebuilt)
        self.states[m] = replace(merged, merged_into=s, records=())
        record = Merge(
            id=request.merge_id or str(uuid.uuid4()),
            survivor_id=s,
            merged_id=m,
            at=self._now,
            actor=self._actor,
            reason=check_reason(request.reason),
            state=MergeState.ACTIVE,
            survivor_before=PersonSnapshot(survivor.person, tuple(r.key for r in survivor.records)),
            merged_before=PersonSnapshot(merged.person, tuple(r.key for r in merged.records)),
            redirected=redirected,
            links=MergedLinks(survivor_links, merged_links, tuple(self.links.now[s])),
        )
        self.last_merge_of[s] = len(self.merges)
        self.merges.append(record)
        return record

    @property
    def active_survivors(self) -> list[str]:
        return sorted(pid for pid in self.saved if pid not in self.tombstones)

    async def write(self, store: BulkMergeStore, households: HouseholdStore) -> None:
        """The end state, one statement per kind of change, in a single merge's order."""
        await store.move_records_many(self.owners)
        await store.replace_links_many(
            {pid: self.links.now[pid] for pid in sorted(self.links.changed)}
        )
        final = {pid: _root(pid, self.tombstones) for pid in self.tombstones}
        direct = {m.merged_id for m in self.merges}
        await store.redirect_many({pid: to for pid, to in final.items() if pid not in direct})
        await store.save_persons(list(self.saved.values()), at=self._now)
        await store.tombstone_many(
            {pid: to for pid, to in final.items() if pid in direct}, at=self._now
        )
        # A survivor keeps its records and gains the merged ones: it keeps its contact
        # points and gains theirs (a single merge links them all afresh, to the same end).
        active = self.active_survivors
        await store.link_moved_contact_points(
            {key: to for key, to in self.owners.items() if to not in self.tombstones}
        )
        touched = {pid for m in self.merges for pid in (m.survivor_id, m.merged_id)}
        await households.refresh_households(sorted(touched), at=self._now)
        # A single merge reads the survivor's links after household detection: so does
        # the last merge into each survivor still active.
        after = await store.links(active)
        for pid in active:
            at = self.last_merge_of[pid]
            old = self.merges[at]
            assert old.links is not None  # every merge of a batch records its links
            links = replace(old.links, survivor_after=tuple(after[pid]))
            self.merges[at] = replace(old, links=links)
        await store.save_merges(self.merges)


async def merge_many(
    requests: Sequence[MergeRequest],
    *,
    store: BulkMergeStore,
    households: HouseholdStore,
    sources: SourceRegistry,
    rules: Mapping[str, Rule],
    events: EventRecorder,
    actor: str,
    now: datetime,
) -> list[MergeOutcome]:
    """Apply ``requests`` in order in one transaction (the caller's); one outcome each."""
    if len(requests) > MAX_BULK:
        raise InvalidInput(f"At most {MAX_BULK} merges in one call.", field="merges")
    outcomes = _checked(requests)
    chosen = sorted({r.merge_id for r in requests if r.merge_id is not None})
    earlier = await store.get_merges(chosen) if chosen else {}
    pending = [i for i, o in enumerate(outcomes) if o is None]
    ids = sorted({pid for i in pending for pid in (requests[i].survivor_id, requests[i].merged_id)})
    locked = await store.lock_many(ids) if ids else Locked({}, {}, {})
    batch = _Batch(
        locked.states,
        locked.links,
        locked.merged_into,
        sources=sources,
        rules=rules,
        actor=actor,
        now=now,
    )
    made: dict[str, Merge] = {}  # by merge id, for an id repeated within the batch
    for index in pending:
        request = requests[index]
        first = made.get(request.merge_id or "") or earlier.get(request.merge_id or "")
        try:
            if first is None:
                made_now = batch.apply(request)
                made[made_now.id] = made_now
                outcomes[index] = MergeOutcome(request, made_now)
            elif (first.survivor_id, first.merged_id) == (request.survivor_id, request.merged_id):
                outcomes[index] = MergeOutcome(request, first, replayed=True)
            else:
                raise Conflict(
                    f"Merge id {request.merge_id} was used for another pair.", field="mergeId"
                )
        except DomainError as error:
            outcomes[index] = MergeOutcome(request, None, error=error)
    if batch.merges:
        await batch.write(store, households)
        for record in batch.merges:
            events.record(
                Event.PERSON_MERGED,
                survivor_id=record.survivor_id,
                merged_id=record.merged_id,
                merge_id=record.id,
            )
    by_id = {m.id: m for m in batch.merges}  # with the links read after the write
    return [
        replace(o, merge=by_id.get(o.merge.id, o.merge)) if o.merge is not None else o
        for o in outcomes
        if o is not None
    ]


def _root(person_id: str, into: Mapping[str, str]) -> str:
    """Where a person merged away ends once the whole batch is applied."""
    while person_id in into:
        person_id = into[person_id]
    return person_id
