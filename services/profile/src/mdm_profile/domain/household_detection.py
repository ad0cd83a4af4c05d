"""From evidence to households: who joins, who leaves, and what a steward fixed.

Detection runs per address (``household_evidence``) and then plans the memberships:

- Linked residents form groups (connected through their links). A group of two or more
  is a household; a resident without links belongs to none.
- A group keeps the household most of its members were in before (active memberships
  first, then inactive ones: a member who moved away and back finds its role again);
  otherwise it gets a new one. A household is never reused by two groups.
- A steward's decision holds: a resident with a steward-fixed (pinned) membership in a
  household at its current address is left where the steward put it. A group linked to
  such a resident joins that household (a newborn joins the confirmed family), and two
  households a steward split are not joined again through a third resident.
- Memberships that the plan does not keep become inactive, never deleted (roles stay).
  A pinned membership ends only when the person moves away from its address.

Pure Python: the adapter reads the facts and writes the plan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from mdm_profile.domain.household_evidence import Evidence, Link, Resident, links_at_address


@dataclass(frozen=True)
class Membership:
    """A resident's membership as stored: in which household, active, steward-fixed."""

    person_id: str
    household_id: str
    active: bool
    pinned: bool = False
    household_address: str | None = None  # the household's address key, if known
    evidence: frozenset[Evidence] = frozenset()
    confidence: float | None = None


@dataclass(frozen=True)
class AddressFacts:
    """Everyone living at one normalised address, with all their memberships."""

    address_key: str
    residents: tuple[Resident, ...]
    memberships: tuple[Membership, ...] = ()
    # At a large address ``residents`` are the candidates only; whether the address is
    # an apartment block is then counted by the store (None: judge by the residents).
    crowded: bool | None = None


@dataclass(frozen=True)
class Placement:
    """An active detected membership: created, reactivated or refreshed."""

    person_id: str
    household_id: str
    address_key: str
    evidence: frozenset[Evidence]
    confidence: float


@dataclass
class HouseholdPlan:
    placements: list[Placement] = field(default_factory=list)
    new_households: set[str] = field(default_factory=set)
    # (person id, household id): active memberships to end.
    leave: set[tuple[str, str]] = field(default_factory=set)

    def extend(self, other: HouseholdPlan) -> None:
        self.placements.extend(other.placements)
        self.new_households |= other.new_households
        self.leave |= other.leave


def _components(people: Iterable[str], links: Iterable[Link]) -> list[list[str]]:
    parent = {p: p for p in people}

    def root(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for link in links:
        a, b = root(link.first), root(link.second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = defaultdict(list)
    for p in sorted(parent):
        groups[root(p)].append(p)
    return sorted(groups.values())


def plan_address(
    facts: AddressFacts, *, new_id: Callable[[], str], address_alone: bool = False
) -> HouseholdPlan:
    """The memberships detection wants at one address."""
    plan = HouseholdPlan()
    here = facts.address_key
    residents = {r.person_id for r in facts.residents}
    by_person: dict[str, list[Membership]] = defaultdict(list)
    for m in facts.memberships:
        if m.person_id in residents:
            by_person[m.person_id].append(m)
    # Residents a steward placed in a household at this address stay there.
    fixed = {
        p: m.household_id
        for p, ms in by_person.items()
        for m in ms
        if m.pinned and m.active and m.household_address == here
    }
    links = links_at_address(facts.residents, address_alone=address_alone, crowded=facts.crowded)
    free_links = [link for link in links if link.first not in fixed and link.second not in fixed]
    neighbours: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        neighbours[link.first].append(link)
        neighbours[link.second].append(link)

    target: dict[str, str] = dict(fixed)
    taken = set(fixed.values())
    for group in _components((p for p in sorted(residents) if p not in fixed), free_links):
        anchors = [
            (link.confidence, fixed[other])
            for p in group
            for link in neighbours[p]
            if (other := link.second if link.first == p else link.first) in fixed
        ]
        if anchors:
            chosen = max(anchors)[1]
        elif len(group) >= 2:
            chosen = _previous_household(group, by_person, here, taken) or new_id()
            if chosen not in {m.household_id for p in group for m in by_person[p]}:
                plan.new_households.add(chosen)
            taken.add(chosen)
        else:
            continue
        target.update(dict.fromkeys(group, chosen))

    for p in sorted(residents):
        household = target.get(p)
        plan.leave.update(
            (p, m.household_id)
            for m in by_person[p]
            if m.active
            and m.household_id != household
            and (not m.pinned or m.household_address != here)
        )
        if household is not None and p not in fixed:
            placement = _placement(p, household, here, neighbours[p], target)
            if not _stored(placement, by_person[p]):
                plan.placements.append(placement)
    return plan


def _placement(
    person: str, household: str, here: str, links: Sequence[Link], target: dict[str, str]
) -> Placement:
    """A member's evidence: its links to the other members of its household."""
    shared = [
        link
        for link in links
        if target.get(link.second if link.first == person else link.first) == household
    ]
    evidence = frozenset(e for link in shared for e in link.evidence)
    score = max((link.confidence for link in shared), default=0.0)
    return Placement(person, household, here, evidence, score)


def _stored(placement: Placement, memberships: Sequence[Membership]) -> bool:
    """True if the membership is stored as planned: nothing to write."""
    return any(
        m.household_id == placement.household_id
        and m.active
        and m.household_address == placement.address_key
        and m.evidence == placement.evidence
        and m.confidence == placement.confidence
        for m in memberships
    )


def _previous_household(
    group: Sequence[str], by_person: dict[str, list[Membership]], here: str, taken: set[str]
) -> str | None:
    """The household most of the group were in (active ones count first), if free."""
    votes: Counter[tuple[int, str]] = Counter()
    for p in group:
        for m in by_person[p]:
            if m.pinned or m.household_id in taken:
                continue
            if m.household_address not in {None, here}:
                continue
            votes[(int(m.active), m.household_id)] += 1
    if not votes:
        return None
    # Most active members, then most members at all, then the smallest id (stable).
    by_household: dict[str, tuple[int, int]] = {}
    for (active, household), n in votes.items():
        total_active, total = by_household.get(household, (0, 0))
        by_household[household] = (total_active + active * n, total + n)
    return min(by_household, key=lambda h: (-by_household[h][0], -by_household[h][1], h))


def plan_departures(memberships: Iterable[Membership]) -> HouseholdPlan:
    """Persons without an address (or erased, or merged away) leave their households."""
    plan = HouseholdPlan()
    plan.leave = {(m.person_id, m.household_id) for m in memberships if m.active}
    return plan


def plan_households(
    addresses: Sequence[AddressFacts],
    departed: Iterable[Membership] = (),
    *,
    new_id: Callable[[], str],
    address_alone: bool = False,
) -> HouseholdPlan:
    plan = plan_departures(departed)
    for facts in addresses:
        plan.extend(plan_address(facts, new_id=new_id, address_alone=address_alone))
    return plan
