"""Joining two merge groups as hearing of a merge would join them."""

from __future__ import annotations

from dataclasses import replace

from mdm_consent.domain.lineage import GroupFacts, Lineage, joined, lineages
from mdm_consent.domain.models import EventType, Fact, Hold, HoldKind, MergeLink

from .facts import at, fact

SURVIVOR, MERGED, THIRD, FOURTH = "a", "b", "c", "d"


def link(survivor: str, merged: str, minutes: float) -> MergeLink:
    return MergeLink(f"m-{survivor}-{merged}", survivor, merged, at(minutes))


def of(person: str, *facts: Fact) -> list[Fact]:
    return [replace(f, person_id=person) for f in facts]


class TestJoined:
    def test_two_persons_on_their_own_become_one_group_from_the_link(self) -> None:
        granted = of(MERGED, fact(EventType.GRANTED, 0))
        hold = Hold(HoldKind.RESTRICTED, at(1), "r1", person_id=MERGED)
        group = joined(
            GroupFacts(Lineage(SURVIVOR)),
            GroupFacts(Lineage(MERGED), tuple(granted), (hold,)),
            link(SURVIVOR, MERGED, 200),
        )
        assert group == GroupFacts(
            Lineage(SURVIVOR, (link(SURVIVOR, MERGED, 200),)), tuple(granted), (hold,)
        )
        assert group.lineage.joined_at(SURVIVOR, MERGED) == at(200)

    def test_groups_keep_their_links_and_members(self) -> None:
        earlier, other = link(SURVIVOR, THIRD, 100), link(MERGED, FOURTH, 150)
        survivor = GroupFacts(
            Lineage(SURVIVOR, (earlier,)), tuple(of(THIRD, fact(EventType.WITHDRAWN, 5)))
        )
        merged = GroupFacts(
            Lineage(MERGED, (other,)), tuple(of(FOURTH, fact(EventType.GRANTED, 6)))
        )
        new = link(SURVIVOR, MERGED, 200)
        group = joined(survivor, merged, new)
        # The same group the consent service forms from all active links on hearing of it.
        assert group.lineage == lineages([earlier, other, new], [SURVIVOR])[SURVIVOR]
        assert set(group.lineage.members) == {SURVIVOR, THIRD, MERGED, FOURTH}
        assert group.lineage.joined_at(THIRD, FOURTH) == at(200)
        assert group.facts == (*survivor.facts, *merged.facts)
