from __future__ import annotations

from mdm_profile.domain.links import (
    LinkType,
    MergedLinks,
    PersonLink,
    links_after_merge,
    links_after_unmerge,
    same_links,
)

S, M = "survivor", "merged"


def member(household: str, role: str = "MEMBER", *, active: bool = True,
           detected: bool = True) -> PersonLink:  # fmt: skip
    return PersonLink(LinkType.HOUSEHOLD, household,
                      {"role": role, "active": active, "detected": detected})  # fmt: skip


def job(company: str, role: str = "EMPLOYEE") -> PersonLink:
    return PersonLink(LinkType.EMPLOYER, company, {"role": role})


def relation(other: str, kind: str, *, outgoing: bool = True) -> PersonLink:
    link_type = LinkType.RELATION_TO if outgoing else LinkType.RELATION_FROM
    return PersonLink(link_type, other, {"kind": kind})


def merged(survivor: list[PersonLink], away: list[PersonLink]) -> list[PersonLink]:
    return list(links_after_merge(survivor, away, survivor_id=S, merged_id=M))


class TestMerge:
    def test_the_survivor_takes_over_links_it_did_not_have(self) -> None:
        away = [job("c2", "Beirat"), relation("kid", "PARENT_OF"),
                relation("friend", "KNOWS", outgoing=False)]  # fmt: skip
        assert merged([job("c1")], away) == sorted([job("c1"), *away], key=lambda x: x.key)

    def test_a_shared_company_or_relation_stays_one_link_the_survivors(self) -> None:
        survivor = [job("c1", "Einkauf"), relation("kid", "PARENT_OF")]
        away = [job("c1", "Vertrieb"), relation("kid", "PARENT_OF"), relation("kid", "KNOWS")]
        expected = [job("c1", "Einkauf"), relation("kid", "KNOWS"), relation("kid", "PARENT_OF")]
        assert merged(survivor, away) == expected

    def test_relations_between_the_two_are_dropped(self) -> None:
        survivor = [relation(M, "KNOWS"), relation(M, "SIBLING_OF", outgoing=False)]
        away = [relation(S, "KNOWS", outgoing=False), relation(S, "SIBLING_OF")]
        assert merged(survivor, away) == []

    def test_one_household_keeps_one_membership_and_a_stewards_role(self) -> None:
        assert merged([member("h1")], [member("h1", "HEAD")]) == [member("h1", "HEAD")]
        assert merged([member("h1", "CHILD")], [member("h1", "HEAD")]) == [member("h1", "CHILD")]
        # Manual on either side stays manual; active on either side stays active.
        assert merged([member("h1", active=False)], [member("h1", detected=False)]) == [
            member("h1", detected=False)]  # fmt: skip

    def test_a_second_household_is_taken_over_inactive(self) -> None:
        result = merged([member("h1", "HEAD")], [member("h2", "PARTNER")])
        assert result == [member("h1", "HEAD"), member("h2", "PARTNER", active=False)]

    def test_a_household_is_taken_over_active_if_the_survivor_had_none(self) -> None:
        result = merged([member("h1", active=False)], [member("h2", "PARTNER")])
        assert result == [member("h1", active=False), member("h2", "PARTNER")]

    def test_a_person_without_links_leaves_the_survivors_as_they_are(self) -> None:
        # The merge then writes no links (merging.merge compares with same_links).
        before = [member("h1", "HEAD"), job("c1"), relation("other", "KNOWS")]
        assert same_links(merged(before, []), list(reversed(before)))
        assert not same_links(merged(before, [job("c2")]), before)


class TestUnmerge:
    def test_nothing_changed_since_gives_the_links_before(self) -> None:
        before, away = [job("c1"), member("h1", "HEAD")], [member("h2"), job("c1", "X")]
        after = merged(before, away)
        record = MergedLinks(tuple(before), tuple(away), tuple(after))
        assert list(links_after_unmerge(after, merge=record)) == before

    def test_changes_since_the_merge_stay_and_the_merges_own_go(self) -> None:
        before = [member("h1", "HEAD"), relation(M, "KNOWS")]
        away = [job("c2"), relation(S, "KNOWS", outgoing=False)]
        after = merged(before, away)
        record = MergedLinks(tuple(before), tuple(away), tuple(after))
        # Since the merge: a new employer, and the household role changed.
        now = [member("h1", "CHILD"), job("c2"), job("c3")]
        assert list(links_after_unmerge(now, merge=record)) == [
            job("c3"), member("h1", "CHILD"), relation(M, "KNOWS")]  # fmt: skip
