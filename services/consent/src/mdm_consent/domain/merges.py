"""Profile merges and unmerges as the consent service records them (one transaction
each; the merges a worker takes together, one for all).

Nothing of a history moves: a merge is a :class:`MergeLink`, and each person's
consent subject records the group it now belongs to (see :mod:`.lineage`). Both
handlers are idempotent and independent of the order they are heard in: a link is
created once, an undo is final, and an undo heard before its merge leaves an undone
link so that the late merge changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from mdm_common.contracts import NONE, Event
from mdm_common.errors import Conflict, InvalidInput
from mdm_consent.domain.checks import verdict
from mdm_consent.domain.consents import PERSON_ID
from mdm_consent.domain.lineage import GroupFacts, joined, lineages
from mdm_consent.domain.models import Channel, MergeLink, MergeState, Purpose
from mdm_consent.domain.rules import Verdict
from mdm_consent.domain.stores import Stores, Transactions

T = TypeVar("T")
_MERGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ATTEMPTS = 3
PREVIEW_MERGE_ID = "preview"  # the link of a merge that is only previewed; never stored


@dataclass(frozen=True)
class ContactChange:
    """For one purpose and channel: the contact check for the survivor (its group) now,
    for the merged person now, and for the group the merge would make."""

    purpose: Purpose
    channel: Channel
    before: Verdict
    merged_before: Verdict
    after: Verdict


async def on_merged(
    merge_id: str, *, survivor_id: str, merged_id: str, transactions: Transactions,
    now: datetime,
) -> MergeLink | None:  # fmt: skip
    """The profile service's merge event, in one write transaction (:func:`link_merge`)."""
    return await _write(transactions, lambda s: link_merge(
        merge_id, s, survivor_id=survivor_id, merged_id=merged_id, now=now))  # fmt: skip


@dataclass(frozen=True)
class MergeHeard:
    """A ``profile.person_merged`` event: the merge's id and its two persons."""

    merge_id: str
    survivor_id: str
    merged_id: str

    @property
    def well_formed(self) -> bool:
        try:
            _checked(self.merge_id, self.survivor_id, self.merged_id)
        except InvalidInput:
            return False
        return True


async def on_merged_many(
    heard: Sequence[MergeHeard], *, transactions: Transactions, now: datetime
) -> list[MergeLink]:
    """Merge events of one pass in one write transaction (:func:`link_merges`)."""
    return await _write(transactions, lambda s: link_merges(heard, s, now=now))


async def link_merges(
    heard: Sequence[MergeHeard], stores: Stores, *, now: datetime
) -> list[MergeLink]:
    """:func:`link_merge` for many merges: the links of those not heard of before, the
    groups of all their persons formed once, from all active links around them (as
    one merge after another would leave them). A batch re-matching job makes hundreds
    of merges a second; a transaction each kept the consent worker busy long after."""
    for merge in heard:
        _checked(merge.merge_id, merge.survivor_id, merge.merged_id)
    await stores.merges.lock(sorted({p for m in heard for p in (m.survivor_id, m.merged_id)}))
    known = await stores.merges.get_many([m.merge_id for m in heard])
    new: dict[str, MergeLink] = {}
    for m in heard:
        if m.merge_id not in known and m.merge_id not in new:
            new[m.merge_id] = MergeLink(m.merge_id, m.survivor_id, m.merged_id, linked_at=now)
    if new:
        await stores.merges.save_many(list(new.values()))
        persons = {p for link in new.values() for p in (link.survivor_id, link.merged_id)}
        await _regroup(stores, sorted(persons))
    return list(new.values())


async def on_unmerged(
    merge_id: str, *, survivor_id: str, merged_id: str, transactions: Transactions,
    now: datetime,
) -> MergeLink | None:  # fmt: skip
    """The profile service's unmerge event, in one write transaction (:func:`unlink_merge`)."""
    return await _write(transactions, lambda s: unlink_merge(
        merge_id, s, survivor_id=survivor_id, merged_id=merged_id, now=now))  # fmt: skip


async def _write(transactions: Transactions, work: Callable[[Stores], Awaitable[T]]) -> T:
    # Two handlers creating the consent subject of the same person at once: the
    # uniqueness constraint refuses the second (CONFLICT); on the next attempt the
    # subject exists and the handler waits for the other's lock instead.
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return await transactions.write(work)
        except Conflict:
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _checked(merge_id: str, survivor_id: str, merged_id: str) -> None:
    if not _MERGE_ID.fullmatch(merge_id):
        raise InvalidInput("mergeId is not a merge id.", field="mergeId")
    _checked_pair(survivor_id, merged_id)


def _checked_pair(survivor_id: str, merged_id: str) -> None:
    for value, field in ((survivor_id, "survivorId"), (merged_id, "mergedId")):
        if not PERSON_ID.match(value):
            raise InvalidInput(f"{field} is not a person id.", field=field)
    if survivor_id == merged_id:
        raise InvalidInput("A person is not merged into itself.", field="mergedId")


async def link_merge(
    merge_id: str, stores: Stores, *, survivor_id: str, merged_id: str, now: datetime
) -> MergeLink | None:
    """The profile service merged ``merged_id`` into ``survivor_id``: from ``now`` on
    their consent histories count as one. ``None`` if this merge was heard of before."""
    _checked(merge_id, survivor_id, merged_id)
    await stores.merges.lock([survivor_id, merged_id])
    if await stores.merges.get(merge_id) is not None:
        return None  # redelivered, or undone before its merge arrived
    link = MergeLink(merge_id, survivor_id, merged_id, linked_at=now)
    await stores.merges.save(link)
    await _regroup(stores, [survivor_id, merged_id])
    return link


async def unlink_merge(
    merge_id: str, stores: Stores, *, survivor_id: str, merged_id: str, now: datetime
) -> MergeLink | None:
    """The profile service undid the merge: each side is computed over its own events
    again (and those recorded for its id since). ``None`` if undone before."""
    _checked(merge_id, survivor_id, merged_id)
    await stores.merges.lock([survivor_id, merged_id])
    link = await stores.merges.get(merge_id)
    if link is not None and link.state is MergeState.UNDONE:
        return None
    if link is None:
        link = MergeLink(merge_id, survivor_id, merged_id, linked_at=now)
    undone = replace(link, state=MergeState.UNDONE, undone_at=now)
    await stores.merges.save(undone)
    await _regroup(stores, [survivor_id, merged_id])
    return undone


async def _regroup(stores: Stores, person_ids: list[str]) -> None:
    """Form the groups of these persons again from the active links around them."""
    links = await stores.merges.active_around(person_ids)
    await stores.merges.set_lineages(lineages(links, person_ids))
    # Their contact checks now answer over the new groups: the change stream looks
    # again (the profile's merge event may have reached it before this one).
    for person_id in person_ids:
        stores.events.record(
            Event.CONSENT_CHANGED,
            person_id=person_id,
            purpose=NONE,
            channel=NONE,
            change="REGROUPED",
        )


async def merges_of(person_id: str, stores: Stores) -> list[MergeLink]:
    if not PERSON_ID.match(person_id):
        raise InvalidInput("personId is not a person id.", field="personId")
    return await stores.merges.of_person(person_id)


async def preview_contacts(
    survivor_id: str, merged_id: str, stores: Stores, *, at: datetime, now: datetime
) -> list[ContactChange]:
    """What merging ``merged_id`` into ``survivor_id`` would do to the contact check of
    every registered purpose and channel at ``at``; reads only. The merge is taken to
    be linked ``now``, as hearing of it would link it (:func:`link_merge`), and the
    group is judged by the contact check's own rules."""
    _checked_pair(survivor_id, merged_id)
    if at.tzinfo is None:
        raise InvalidInput("at needs a time zone.", field="at")
    link = MergeLink(PREVIEW_MERGE_ID, survivor_id, merged_id, linked_at=now)
    changes: list[ContactChange] = []
    for purpose in await stores.purposes.all():
        groups = await stores.consents.facts_of([survivor_id, merged_id], purpose.code)
        survivor, merged = _apart(groups, survivor_id, merged_id)
        after = joined(survivor, merged, link)
        changes.extend(
            ContactChange(
                purpose,
                channel,
                before=verdict(purpose, channel, survivor, at),
                merged_before=verdict(purpose, channel, merged, at),
                after=verdict(purpose, channel, after, at),
            )
            for channel in purpose.channels
        )
    return changes


def _apart(
    groups: Mapping[str, GroupFacts], survivor_id: str, merged_id: str
) -> tuple[GroupFacts, GroupFacts]:
    """The two persons' groups; refused if either was merged away (into the other or not)."""
    for person_id, field in ((survivor_id, "survivorId"), (merged_id, "mergedId")):
        into = groups[person_id].lineage.survivor_id
        if into != person_id:
            raise InvalidInput(
                f"Person {person_id} was merged into {into} already.",
                field=field,
                details={"mergedInto": into},
            )
    return groups[survivor_id], groups[merged_id]
