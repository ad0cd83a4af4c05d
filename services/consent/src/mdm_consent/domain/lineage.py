"""Merged persons: whose histories a person's consent state is computed over.

A merge never moves or rewrites an event. The profile service's merge becomes a
:class:`MergeLink` here; the persons joined by active links form a group, a tree
whose root is the survivor of them all. The contact check reads the facts of every
member, each tagged with its own person id, and the :class:`Lineage` tells the rules
since when two members' histories are one (:meth:`Lineage.joined_at`). Undoing a
merge ends its link, and each side is again computed over its own events only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mdm_consent.domain.models import Fact, Hold, MergeLink, MergeState


@dataclass(frozen=True)
class Lineage:
    """The survivor a person's state is computed for, and the active links of its group."""

    survivor_id: str
    links: tuple[MergeLink, ...] = ()

    @property
    def members(self) -> tuple[str, ...]:
        """The survivor first, then the persons merged into it (directly or not)."""
        return (self.survivor_id, *(link.merged_id for link in self.links))

    def joined_at(self, a: str | None, b: str | None) -> datetime | None:
        """Since when the histories of ``a`` and ``b`` are one: ``None`` for the same
        person (``None`` stands for the survivor), else the latest merge on the path
        between them in the group's tree (before it, each side had its own history).
        """
        a, b = a or self.survivor_id, b or self.survivor_id
        if a == b:
            return None
        up = {link.merged_id: link for link in self.links}
        path_a = _path_to_root(a, up)
        path_b = _path_to_root(b, up)
        common = next((p for p in path_a if p in path_b), None)
        if common is None:
            raise ValueError(f"{a} and {b} are not in one merge group")
        times = [up[p].linked_at for path in (path_a, path_b) for p in path[: path.index(common)]]
        return max(times)


@dataclass(frozen=True)
class GroupFacts:
    """What the contact check reads for one person id: the facts of every member of
    its merge group (each tagged with its person id) and the group's lineage."""

    lineage: Lineage
    facts: tuple[Fact, ...] = ()
    # Restrictions and erasures of any member (data-subject requests).
    holds: tuple[Hold, ...] = ()


def _path_to_root(person: str, up: dict[str, MergeLink]) -> list[str]:
    path = [person]
    while path[-1] in up and len(path) <= len(up):
        path.append(up[path[-1]].survivor_id)
    return path


def lineages(links: Iterable[MergeLink], persons: Iterable[str]) -> dict[str, Lineage]:
    """Each person's group, from the merge links among them.

    Only active links count, oldest first. The profile service never merges a person
    that is merged already, so the links form trees; should events arrive out of
    order (a merge heard of before the undo of an older one), a link that would give
    a person a second survivor or close a cycle is left out until the missing event
    arrives and the group is formed again.
    """
    up: dict[str, MergeLink] = {}
    root: dict[str, str] = {}

    def find(p: str) -> str:
        while root.get(p, p) != p:
            p = root[p]
        return p

    for link in sorted(links, key=lambda x: (x.linked_at, x.merge_id)):
        if link.state is not MergeState.ACTIVE or link.merged_id in up:
            continue
        survivor, merged = find(link.survivor_id), find(link.merged_id)
        if survivor == merged or merged != link.merged_id:
            continue
        up[link.merged_id] = link
        root[merged] = survivor
    groups: dict[str, list[MergeLink]] = {}
    for link in up.values():
        groups.setdefault(find(link.merged_id), []).append(link)
    found: dict[str, Lineage] = {}
    for person in {*persons, *(p for link in up.values()
                               for p in (link.survivor_id, link.merged_id))}:  # fmt: skip
        top = find(person)
        group = sorted(groups.get(top, ()), key=lambda x: (x.linked_at, x.merge_id))
        found[person] = Lineage(top, tuple(group))
    return found


def joined(survivor: GroupFacts, merged: GroupFacts, link: MergeLink) -> GroupFacts:
    """The group two groups would form if ``link`` merged them, as hearing of that merge
    forms it (:func:`lineages` over the active links of both), with both groups' facts
    and holds: what the contact check would read for the survivor after the merge."""
    links = {x.merge_id: x for x in (*survivor.lineage.links, *merged.lineage.links, link)}
    group = lineages(links.values(), [link.survivor_id, link.merged_id])[link.survivor_id]
    return GroupFacts(group, (*survivor.facts, *merged.facts), (*survivor.holds, *merged.holds))
