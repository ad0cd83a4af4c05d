"""Planning memberships from evidence: groups, kept ids, steward decisions, departures."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from mdm_profile.domain.household_detection import (
    AddressFacts,
    HouseholdPlan,
    Membership,
    plan_address,
    plan_households,
)
from mdm_profile.domain.household_evidence import Evidence, Resident

HERE = "leipzig#hauptstrasse#1"
LANDLINE = ("+4934112345", "FIXED_LINE")


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"new{next(counter)}"


def plan(*residents: Resident, memberships: tuple[Membership, ...] = ()) -> HouseholdPlan:
    return plan_address(AddressFacts(HERE, residents, memberships), new_id=ids())


def households(found: HouseholdPlan) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for p in found.placements:
        grouped.setdefault(p.household_id, set()).add(p.person_id)
    return grouped


def member(
    person: str,
    household: str,
    *,
    active: bool = True,
    pinned: bool = False,
    address: str | None = HERE,
) -> Membership:
    return Membership(person, household, active, pinned, address)


class TestGroups:
    def test_linked_residents_form_a_new_household_and_others_none(self) -> None:
        found = plan(Resident("a", "Roth"), Resident("b", "Roth"), Resident("c", "Kaya"))
        assert households(found) == {"new1": {"a", "b"}}
        assert found.new_households == {"new1"}
        assert found.leave == set()

    def test_a_patchwork_family_is_one_household_through_its_links(self) -> None:
        found = plan(
            Resident("mother", "Berg", phones=(LANDLINE,)),
            Resident("partner", "Roth", phones=(LANDLINE,)),
            Resident("child", "Berg"),
            Resident("his_child", "Roth"),
        )
        assert households(found) == {"new1": {"mother", "partner", "child", "his_child"}}

    def test_each_member_keeps_its_evidence_and_confidence(self) -> None:
        found = plan(
            Resident("a", "Roth", phones=(LANDLINE,)), Resident("b", "Berg", phones=(LANDLINE,))
        )
        [first, _] = found.placements
        assert first.evidence == {Evidence.SHARED_LANDLINE}
        assert first.confidence == 0.85
        assert first.address_key == HERE


class TestKnownHouseholds:
    def test_a_group_keeps_the_household_it_was_in(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Roth"),
            memberships=(member("a", "h1"), member("b", "h1")),
        )
        assert households(found) == {"h1": {"a", "b"}}
        assert found.new_households == set()

    def test_members_stored_as_planned_are_not_written_again(self) -> None:
        same = frozenset({Evidence.SAME_FAMILY_NAME})
        stored = tuple(
            Membership(p, "h1", True, False, HERE, evidence=same, confidence=0.8) for p in "ab"
        )
        found = plan(Resident("a", "Roth"), Resident("b", "Roth"), memberships=stored)
        assert found.placements == []
        assert found.leave == set()
        changed = plan(
            Resident("a", "Roth", phones=(LANDLINE,)),
            Resident("b", "Roth", phones=(LANDLINE,)),
            memberships=stored,
        )
        assert households(changed) == {"h1": {"a", "b"}}

    def test_a_member_who_returns_finds_its_household_again(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Roth"),
            memberships=(member("a", "h1", active=False), member("b", "h1", active=False)),
        )
        assert households(found) == {"h1": {"a", "b"}}

    def test_without_evidence_any_more_the_members_leave(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Berg"),  # married, new name, no record of the old one
            memberships=(member("a", "h1"), member("b", "h1")),
        )
        assert households(found) == {}
        assert found.leave == {("a", "h1"), ("b", "h1")}

    def test_two_groups_never_share_a_household(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Roth"),
            Resident("c", "Berg"),
            Resident("d", "Berg"),
            memberships=tuple(member(p, "h1") for p in "abcd"),
        )
        assert sorted(map(sorted, households(found).values())) == [["a", "b"], ["c", "d"]]
        assert "h1" in households(found)
        assert len(found.new_households) == 1

    def test_a_household_at_another_address_is_left_when_a_person_moved_here(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Roth"),
            memberships=(member("a", "old", address="elsewhere"),),
        )
        assert households(found) == {"new1": {"a", "b"}}
        assert found.leave == {("a", "old")}


class TestStewardDecisions:
    def test_a_confirmed_household_is_kept_without_evidence(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Berg"),
            memberships=(member("a", "h1", pinned=True), member("b", "h1", pinned=True)),
        )
        assert found.placements == []
        assert found.leave == set()

    def test_a_newcomer_with_evidence_joins_a_confirmed_household(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("b", "Berg"),
            Resident("baby", "Roth"),
            memberships=(member("a", "h1", pinned=True), member("b", "h1", pinned=True)),
        )
        assert households(found) == {"h1": {"baby"}}

    def test_a_split_is_not_joined_again(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            Resident("lodger", "Roth"),
            memberships=(
                member("a", "h1", pinned=True),
                member("lodger", "h1", active=False),
                member("lodger", "h2", pinned=True),
            ),
        )
        assert found.placements == []
        assert found.leave == set()

    def test_a_resident_linked_to_two_split_households_joins_the_stronger_link(self) -> None:
        found = plan(
            Resident("a", "Roth", phones=(LANDLINE,)),
            Resident("b", "Berg"),
            Resident("c", "Roth", phones=(LANDLINE,)),
            memberships=(member("a", "h1", pinned=True), member("b", "h2", pinned=True)),
        )
        assert households(found) == {"h1": {"c"}}

    def test_a_pinned_member_who_moved_away_leaves(self) -> None:
        found = plan(
            Resident("a", "Roth"),
            memberships=(member("a", "h1", pinned=True, address="elsewhere"),),
        )
        assert found.leave == {("a", "h1")}


def test_departed_persons_leave_every_household() -> None:
    found = plan_households(
        [],
        [Membership("gone", "h1", active=True), Membership("gone", "h2", active=False)],
        new_id=ids(),
    )
    assert found.leave == {("gone", "h1")}
