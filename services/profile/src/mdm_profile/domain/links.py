"""A person's links to households, companies and other persons, and what a merge does to them.

A merge hands the merged-away person's links to the survivor, so the tombstone keeps
none. Where both had the same link, one remains:

- the same household: the survivor's membership, but a role a steward gave
  (anything but the default MEMBER) is kept from either side, the survivor's first;
  it stays detected only if both were detected (a steward's own membership is not
  the detection rule's to end);
- the same company: the survivor's job and role;
- the same relation to a third person: the survivor's.

A person is active in one household at most: a membership the survivor takes over is
active only if the survivor was active in no household before (the moved one is kept
inactive, role and all, for a steward to switch). Relations between the two merged
persons are dropped: a profile is not related to itself.

Unmerge gives the merged-away person its links back exactly, and puts back exactly
those of the survivor's links that the merge changed; what changed since stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

DEFAULT_ROLE = "MEMBER"


class LinkType(StrEnum):
    HOUSEHOLD = "HOUSEHOLD"  # (person)-[:MEMBER_OF {role, detected, active}]->(household)
    EMPLOYER = "EMPLOYER"  # (person)-[:WORKS_FOR {role}]->(company)
    RELATION_TO = "RELATION_TO"  # (person)-[:RELATED_TO {kind}]->(other person)
    RELATION_FROM = "RELATION_FROM"  # (other person)-[:RELATED_TO {kind}]->(person)


RELATIONS = frozenset({LinkType.RELATION_TO, LinkType.RELATION_FROM})


@dataclass(frozen=True)
class PersonLink:
    type: LinkType
    target_id: str
    props: Mapping[str, Any] = field(default_factory=dict)  # as stored on the relationship

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two links one: a household, a company, a relation of a kind."""
        kind = str(self.props.get("kind") or "") if self.type in RELATIONS else ""
        return (self.type.value, self.target_id, kind)


@dataclass(frozen=True)
class MergedLinks:
    """What unmerge needs: both persons' links before the merge, the survivor's after it."""

    survivor_before: tuple[PersonLink, ...]
    merged_before: tuple[PersonLink, ...]
    survivor_after: tuple[PersonLink, ...]


def _by_key(links: Sequence[PersonLink]) -> dict[tuple[str, str, str], PersonLink]:
    return {link.key: link for link in links}


def _ordered(links: Sequence[PersonLink]) -> tuple[PersonLink, ...]:
    return tuple(sorted(links, key=lambda link: link.key))


def same_links(a: Sequence[PersonLink], b: Sequence[PersonLink]) -> bool:
    """Whether two sets of links are the same, in any order."""
    return _ordered(a) == _ordered(b)


def _is_active_membership(link: PersonLink) -> bool:
    return link.type is LinkType.HOUSEHOLD and bool(link.props.get("active"))


def _one_membership(own: PersonLink, taken: PersonLink, *, active: bool) -> PersonLink:
    role = own.props.get("role")
    if role in (None, DEFAULT_ROLE):
        role = taken.props.get("role") or role
    detected = bool(own.props.get("detected")) and bool(taken.props.get("detected"))
    props = {**taken.props, **own.props, "role": role, "active": active, "detected": detected}
    return replace(own, props=props)


def links_after_merge(
    survivor: Sequence[PersonLink], merged: Sequence[PersonLink], *, survivor_id: str,
    merged_id: str,
) -> tuple[PersonLink, ...]:  # fmt: skip
    """The survivor's links once it has taken over the merged-away person's."""

    def between_the_two(link: PersonLink) -> bool:
        return link.type in RELATIONS and link.target_id in (survivor_id, merged_id)

    result = _by_key([link for link in survivor if not between_the_two(link)])
    was_active_somewhere = any(_is_active_membership(link) for link in survivor)
    for link in merged:
        if between_the_two(link):
            continue
        own = result.get(link.key)
        if link.type is LinkType.HOUSEHOLD:
            active = (own is not None and _is_active_membership(own)) or (
                _is_active_membership(link) and not was_active_somewhere
            )
            taken = replace(link, props={**link.props, "active": active})
            result[link.key] = taken if own is None else _one_membership(own, link, active=active)
        elif own is None:
            result[link.key] = link
    return _ordered(list(result.values()))


def links_after_unmerge(
    current: Sequence[PersonLink], *, merge: MergedLinks
) -> tuple[PersonLink, ...]:
    """The survivor's links once the merge is undone.

    Links the merge changed (added, removed or altered) are as they were before it;
    every other link is as it is now, so changes made since the merge stay.
    """
    before, after = _by_key(merge.survivor_before), _by_key(merge.survivor_after)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    kept = [link for link in current if link.key not in changed]
    return _ordered(kept + [before[key] for key in changed if key in before])
