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


class BulkMergeStore(MergeStore, Protocol):
    async def get_merges(self, merge_ids: Sequence[str]) -> dict[str, Merge]: ...

    async def merged_into(self, person_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per person, the persons merged into it before (pointing at it now)."""
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

    async def save_persons(self, persons: Sequence[Person]) -> None:
        """Save golden records; contact points afresh for ``active`` ones."""
        ...

    async def link_contact_points(self, person_ids: Sequence[str]) -> None: ...

    async def save_merges(self, merges: Sequence[Merge]) -> None: ...


class _Links:
    """Everyone's links in the batch, kept consistent in memory: a relation between two
    persons of the batch shows on both (RELATION_TO on one, RELATION_FROM on the other)."""

    def __init__(self, found: Mapping[str, Sequence[PersonLink]]) -> None:
        self.now = {pid: list(links) for pid, links in found.items()}
        self.changed: set[str] = set()

    def set(self, person_id: str, links: Sequence[PersonLink]) -> None:
        for other, theirs in self.now.items():
            if other != person_id and any(
                link.type in RELATIONS and link.target_id == person_id for link in theirs
            ):
                self.now[other] = [
                    link
                    for link in theirs
                    if not (link.type in RELATIONS and link.target_id == person_id)
                ]
                self.changed.add(other)
        for link in links:
            if link.type in RELATIONS and link.target_id in self.now:
                mirrored = (
                    LinkType.RELATION_FROM
                    if link.type is LinkType.RELATION_TO
                    else LinkType.RELATION_TO
                )
                self.now[link.target_id].append(PersonLink(mirrored, person_id, link.props))
                self.changed.add(link.target_id)
        self.now[person_id] = list(links)
        self.changed.add(person_id)


def _sorted_records(state: PersonState, more: PersonState) -> PersonState:
    records = tuple(sorted([*state.records, *more.records], key=lambda r: r.key))
    return replace(state, records=records)


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
    outcomes: list[MergeOutcome | None] = [None] * len(requests)
    reasons: dict[int, str] = {}
    for index, request in enumerate(requests):
        try:
            check_pair(request.survivor_id, request.merged_id)
            reasons[index] = check_reason(request.reason)
            if request.merge_id is not None and not MERGE_ID.fullmatch(request.merge_id):
                raise InvalidInput(
                    "mergeId must be 1-64 letters, digits, '-' or '_'.", field="mergeId"
                )
        except DomainError as error:
            outcomes[index] = MergeOutcome(request, None, error=error)
    chosen = sorted({r.merge_id for r in requests if r.merge_id is not None})
    earlier = await store.get_merges(chosen) if chosen else {}
    pending = [i for i, o in enumerate(outcomes) if o is None]
    ids = sorted({pid for i in pending for pid in (requests[i].survivor_id, requests[i].merged_id)})
    states = await store.lock(ids) if ids else {}
    links = _Links(await store.links(list(states)) if states else {})
    pointing = await store.merged_into(list(states)) if states else {}

    made: dict[str, Merge] = {}  # by merge id, for ids repeated within the batch
    saved: dict[str, Person] = {}  # golden records rebuilt, the last one each
    owners: dict[str, str] = {}  # record key -> person it moved to
    tombstones: dict[str, str] = {}  # merged person -> its survivor
    last_merge_of: dict[str, int] = {}  # survivor -> index in ``merges`` of its last merge
    merges: list[Merge] = []
    for index in pending:
        request = requests[index]
        first = made.get(request.merge_id or "") or earlier.get(request.merge_id or "")
        if first is not None:
            if (first.survivor_id, first.merged_id) != (request.survivor_id, request.merged_id):
                error = Conflict(
                    f"Merge id {request.merge_id} was used for another pair.", field="mergeId"
                )
                outcomes[index] = MergeOutcome(request, None, error=error)
            else:
                outcomes[index] = MergeOutcome(request, first, replayed=True)
            continue
        try:
            survivor, merged = mergeable(states, request.survivor_id, request.merged_id)
        except DomainError as error:
            outcomes[index] = MergeOutcome(request, None, error=error)
            continue
        s, m = request.survivor_id, request.merged_id
        for record in merged.records:
            owners[record.key] = s
        survivor_before, merged_before = tuple(links.now[s]), tuple(links.now[m])
        links.set(m, [])
        links.set(s, links_after_merge(survivor_before, merged_before, survivor_id=s,
                                       merged_id=m))  # fmt: skip
        redirected = tuple(pointing.get(m, ()))
        for pid in (m, *redirected):
            tombstones[pid] = s
            if pid in states:
                states[pid] = replace(states[pid], merged_into=s)
        pointing[s] = [*pointing.get(s, ()), m, *redirected]
        pointing[m] = []
        rebuilt = rebuild(survivor.person, [*survivor.records, *merged.records], sources=sources,
                          rules=rules, now=now)  # fmt: skip
        saved[s] = rebuilt
        states[s] = replace(_sorted_records(survivor, merged), person=rebuilt)
        states[m] = replace(merged, merged_into=s, records=())
        record = Merge(
            id=request.merge_id or str(uuid.uuid4()), survivor_id=s, merged_id=m, at=now,
            actor=actor, reason=reasons[index], state=MergeState.ACTIVE,
            survivor_before=PersonSnapshot(survivor.person, tuple(r.key for r in survivor.records)),
            merged_before=PersonSnapshot(merged.person, tuple(r.key for r in merged.records)),
            redirected=redirected,
            links=MergedLinks(survivor_before, merged_before, tuple(links.now[s])),
        )  # fmt: skip
        last_merge_of[s] = len(merges)
        merges.append(record)
        made[record.id] = record
        outcomes[index] = MergeOutcome(request, record)
    if not merges:
        return [o for o in outcomes if o is not None]

    # The end state, one statement per kind of change; the order is a single merge's.
    await store.move_records_many(owners)
    await store.replace_links_many(
        {pid: links.now[pid] for pid in sorted(links.changed) if pid in states}
    )
    final = {pid: _root(pid, tombstones) for pid in tombstones}
    direct = {m.merged_id for m in merges}
    await store.redirect_many({pid: to for pid, to in final.items() if pid not in direct})
    await store.save_persons(list(saved.values()))
    await store.tombstone_many({pid: to for pid, to in final.items() if pid in direct}, at=now)
    active = sorted(pid for pid in saved if pid not in tombstones)
    await store.link_contact_points(active)
    touched = sorted({pid for m in merges for pid in (m.survivor_id, m.merged_id)})
    await households.refresh_households(touched)
    # A single merge reads the survivor's links after household detection: so does the
    # last merge into each survivor still active.
    after = await store.links(active)
    for pid in active:
        at = last_merge_of[pid]
        old = merges[at]
        assert old.links is not None
        merges[at] = replace(old, links=replace(old.links, survivor_after=tuple(after[pid])))
    await store.save_merges(merges)
    for record in merges:
        events.record(Event.PERSON_MERGED, survivor_id=record.survivor_id,
                      merged_id=record.merged_id, merge_id=record.id)  # fmt: skip
    by_id = {m.id: m for m in merges}
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
