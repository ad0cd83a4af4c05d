"""Merge and unmerge of companies: the rules, over a store the caller's transaction
owns (the graph store comes with the wiring of company matching, issue 19).

A merge moves the merged-away company's source records, subsidiaries and employees
to the survivor, rebuilds the survivor's golden record from all the records, and
keeps both companies' state as it was (golden record, record keys, parent,
subsidiaries, employees). The survivor's id is permanent; the merged-away id
resolves to it. Unmerge puts the merged-away company back exactly, with its parent,
the subsidiaries and employees it had, and gives the survivor back its own.

The hierarchy stays a tree:
- the survivor keeps its parent; without one it takes the merged company's, unless
  that one is below the survivor (a merge of a company with one of its subsidiaries);
- the two may be parent and subsidiary (a source named a duplicate as the parent):
  that link goes; if one is further above the other, the merge would close a cycle
  (the companies between would be below themselves) and is refused: set the
  hierarchy right first (``setParentCompany``);
- a merge that would make the hierarchy deeper than ``MAX_DEPTH`` is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, InvalidInput, NotFound, WriteConflict
from mdm_profile.domain.companies import MAX_DEPTH, Company
from mdm_profile.domain.company_golden import CompanyGolden, build_company_golden
from mdm_profile.domain.company_records import CleanCompanyRecord
from mdm_profile.domain.merging import (
    MergeState,
    check_reason,
    check_survivor_in_force,
    undoable,
)


@dataclass(frozen=True)
class CompanyLinks:
    """A company's place in the graph: its parent, its direct subsidiaries and its
    employees (person id, role), each sorted."""

    parent_id: str | None = None
    children: tuple[str, ...] = ()
    employees: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CompanySnapshot:
    """A company as it was: its records (its golden record is built from them) and
    its links."""

    record_keys: tuple[str, ...]
    links: CompanyLinks


@dataclass(frozen=True)
class CompanyMerge:
    id: str
    survivor_id: str
    merged_id: str
    at: datetime
    actor: str
    reason: str
    state: MergeState
    survivor_before: CompanySnapshot
    merged_before: CompanySnapshot
    survivor_after: CompanyLinks


@dataclass(frozen=True)
class CompanyState:
    company: Company
    merged_into: str | None
    records: tuple[CleanCompanyRecord, ...]


class CompanyMergeStore(Protocol):
    async def lock(self, company_ids: Sequence[str]) -> dict[str, CompanyState]:
        """Read the companies for update; concurrent merges of them serialise here."""
        ...

    async def links(self, company_ids: Sequence[str]) -> dict[str, CompanyLinks]: ...

    async def path_up(self, company_id: str) -> list[str]:
        """The company, its parent, ... up to its ultimate parent."""
        ...

    async def heights(self, company_ids: Sequence[str]) -> dict[str, int]:
        """For each company: the levels of its subsidiaries below it (0: none)."""
        ...

    async def move_records(self, keys: Sequence[str], *, to_company: str) -> None: ...

    async def replace_links(self, company_id: str, links: CompanyLinks) -> None:
        """Make these the company's parent, subsidiaries and employees, and no others."""
        ...

    async def save_golden(self, company_id: str, golden: CompanyGolden, *, now: datetime) -> None:
        """The company's golden record, and the domains it is found by."""
        ...

    async def mark_merged(self, merged_id: str, *, into: str, at: datetime) -> None:
        """Point the company at ``into``; lookups by its identifiers find it no more."""
        ...

    async def restore(self, company_id: str) -> None:
        """A merged-away company is a company of its own again (its golden record is
        saved apart)."""
        ...

    async def save_merge(self, merge: CompanyMerge) -> None: ...

    async def get_merge(self, merge_id: str) -> CompanyMerge | None: ...


def _employees(*lists: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """One role per person, the first list's where several know the person."""
    roles: dict[str, str] = {}
    for employees in lists:
        for person, role in employees:
            roles.setdefault(person, role)
    return tuple(sorted(roles.items()))


def links_after_merge(
    survivor: CompanyLinks,
    merged: CompanyLinks,
    *,
    survivor_id: str,
    merged_id: str,
    survivor_path_up: Sequence[str],
    merged_path_up: Sequence[str],
) -> CompanyLinks:
    """The survivor's links once the merged company is part of it (module docstring);
    ``Conflict`` when one is above the other by more than one level."""
    for low_path, high in ((survivor_path_up, merged_id), (merged_path_up, survivor_id)):
        if high in low_path[2:]:
            raise Conflict(
                f"Company {high} is above the other one by more than one level: the merge "
                "would put the companies between below themselves. Change the hierarchy "
                "first (setParentCompany).",
                field="mergedId",
                details={"reason": "HIERARCHY_CYCLE"},
            )
    parent = survivor.parent_id
    if parent in (None, merged_id):
        # The merged company's parent, unless it is the survivor (the merged one was
        # its subsidiary) or the survivor's parent was the merged one itself.
        parent = merged.parent_id if merged.parent_id != survivor_id else None
    children = (set(survivor.children) | set(merged.children)) - {survivor_id, merged_id}
    return CompanyLinks(
        parent, tuple(sorted(children)), _employees(survivor.employees, merged.employees)
    )


def links_after_unmerge(current: CompanyLinks, *, merge: CompanyMerge) -> CompanyLinks:
    """The survivor's links once the merged company is back: what it had before,
    plus what it gained since the merge (a subsidiary or employee added meanwhile
    stays); the merged company gets its own back (``merge.merged_before.links``)."""
    before, after = merge.survivor_before.links, merge.survivor_after
    gained_children = set(current.children) - set(after.children)
    lost_children = set(after.children) - set(current.children)
    children = (set(before.children) | gained_children) - lost_children
    parent = before.parent_id if current.parent_id == after.parent_id else current.parent_id
    taken = {person for person, _ in merge.merged_before.links.employees} - {
        person for person, _ in before.employees
    }
    employees = tuple(e for e in current.employees if e[0] not in taken)
    return CompanyLinks(parent, tuple(sorted(children)), employees)


async def _check_depth(
    store: CompanyMergeStore, survivor_id: str, links: CompanyLinks, merged_id: str
) -> None:
    """The merged tree within ``MAX_DEPTH`` levels, counted as ``set_parents`` does:
    the levels above the survivor (through its new parent), the survivor, and the
    deepest subtree below either company."""
    above = len(await store.path_up(links.parent_id)) if links.parent_id else 0
    heights = await store.heights([survivor_id, merged_id])
    if above + 1 + max(heights.values(), default=0) > MAX_DEPTH:
        raise Conflict(
            f"Merged, the hierarchy would be more than {MAX_DEPTH} levels deep.",
            field="mergedId",
            details={"reason": "HIERARCHY_TOO_DEEP"},
        )


def _mergeable(
    states: dict[str, CompanyState], survivor_id: str, merged_id: str
) -> tuple[CompanyState, CompanyState]:
    if survivor_id == merged_id:
        raise InvalidInput("A company cannot be merged with itself.", field="mergedId")
    for company_id, field in ((survivor_id, "survivorId"), (merged_id, "mergedId")):
        if company_id not in states:
            raise NotFound(f"No company with id {company_id}.", field=field)
        target = states[company_id].merged_into
        if target is not None:
            raise Conflict(
                f"Company {company_id} was merged into {target} already.",
                field=field,
                details={"mergedInto": target},
            )
    return states[survivor_id], states[merged_id]


async def merge_companies(
    survivor_id: str,
    merged_id: str,
    *,
    store: CompanyMergeStore,
    priority_of: Callable[[str], int],
    events: EventRecorder,
    actor: str,
    reason: str,
    now: datetime,
) -> tuple[CompanyMerge, CompanyGolden]:
    clean_reason = check_reason(reason)
    states = await store.lock([survivor_id, merged_id])
    survivor, merged = _mergeable(states, survivor_id, merged_id)
    for state, field in ((survivor, "survivorId"), (merged, "mergedId")):
        if not state.records:
            raise InvalidInput(
                f"Company {state.company.id} was created by hand and has no source records "
                "to merge.",
                field=field,
            )
    before = await store.links([survivor_id, merged_id])
    links = links_after_merge(
        before[survivor_id],
        before[merged_id],
        survivor_id=survivor_id,
        merged_id=merged_id,
        survivor_path_up=await store.path_up(survivor_id),
        merged_path_up=await store.path_up(merged_id),
    )
    await _check_depth(store, survivor_id, links, merged_id)
    merged_keys = tuple(r.key for r in merged.records)
    await store.move_records(merged_keys, to_company=survivor_id)
    await store.replace_links(merged_id, CompanyLinks())
    await store.replace_links(survivor_id, links)
    await store.mark_merged(merged_id, into=survivor_id, at=now)
    golden = build_company_golden([*survivor.records, *merged.records], priority_of=priority_of)
    await store.save_golden(survivor_id, golden, now=now)
    record = CompanyMerge(
        id=str(uuid.uuid4()),
        survivor_id=survivor_id,
        merged_id=merged_id,
        at=now,
        actor=actor,
        reason=clean_reason,
        state=MergeState.ACTIVE,
        survivor_before=CompanySnapshot(
            tuple(r.key for r in survivor.records), before[survivor_id]
        ),
        merged_before=CompanySnapshot(merged_keys, before[merged_id]),
        survivor_after=links,
    )
    await store.save_merge(record)
    events.record(
        Event.COMPANY_MERGED, survivor_id=survivor_id, merged_id=merged_id, merge_id=record.id
    )
    return record, golden


MAX_BULK = 500  # merges one `mergeCompaniesBulk` call takes


@dataclass(frozen=True)
class CompanyMergeRequest:
    survivor_id: str
    merged_id: str
    reason: str = ""


@dataclass(frozen=True)
class CompanyMergeOutcome:
    """A merge of a batch: its record, or the error a single merge would have given."""

    request: CompanyMergeRequest
    merge: CompanyMerge | None
    error: InvalidInput | NotFound | Conflict | None = None


async def merge_companies_many(
    requests: Sequence[CompanyMergeRequest],
    *,
    store: CompanyMergeStore,
    priority_of: Callable[[str], int],
    events: EventRecorder,
    actor: str,
    now: datetime,
) -> list[CompanyMergeOutcome]:
    """Many merges in the caller's one transaction, in order, each to the state the
    earlier ones left (for a first load that merges thousands). A merge that cannot be
    made is skipped with its error, the others go on: ``merge_companies`` checks
    everything before it writes, so a skipped merge leaves nothing half-written."""
    if len(requests) > MAX_BULK:
        raise InvalidInput(f"At most {MAX_BULK} merges a call.", field="merges")
    outcomes = []
    for request in requests:
        try:
            merge, _ = await merge_companies(
                request.survivor_id,
                request.merged_id,
                store=store,
                priority_of=priority_of,
                events=events,
                actor=actor,
                reason=request.reason,
                now=now,
            )
        except (InvalidInput, NotFound, Conflict) as exc:
            # Not WriteConflict or Unavailable: the transaction itself failed, and is
            # tried again whole.
            if isinstance(exc, WriteConflict):
                raise
            outcomes.append(CompanyMergeOutcome(request, None, exc))
            continue
        outcomes.append(CompanyMergeOutcome(request, merge))
    return outcomes


async def unmerge_companies(
    merge_id: str,
    *,
    store: CompanyMergeStore,
    priority_of: Callable[[str], int],
    events: EventRecorder,
    now: datetime,
) -> tuple[CompanyMerge, CompanyGolden]:
    """Undo a merge: the merged company back exactly (its golden record built again
    from its records), the survivor rebuilt from the records it has left."""
    record = undoable(merge_id, await store.get_merge(merge_id))
    states = await store.lock([record.survivor_id, record.merged_id])
    survivor = states[record.survivor_id]
    check_survivor_in_force(record.survivor_id, survivor.merged_into)
    moved_back = set(record.merged_before.record_keys)
    await store.move_records(sorted(moved_back), to_company=record.merged_id)
    await store.restore(record.merged_id)
    restored = [r for r in survivor.records if r.key in moved_back]
    await store.save_golden(
        record.merged_id, build_company_golden(restored, priority_of=priority_of), now=now
    )
    current = (await store.links([record.survivor_id]))[record.survivor_id]
    await store.replace_links(record.survivor_id, links_after_unmerge(current, merge=record))
    await store.replace_links(record.merged_id, record.merged_before.links)
    remaining = [r for r in survivor.records if r.key not in moved_back]
    golden = build_company_golden(remaining, priority_of=priority_of)
    await store.save_golden(record.survivor_id, golden, now=now)
    undone = replace(record, state=MergeState.UNDONE)
    await store.save_merge(undone)
    events.record(
        Event.COMPANY_UNMERGED,
        survivor_id=record.survivor_id,
        merged_id=record.merged_id,
        merge_id=record.id,
    )
    return undone, golden
