"""As-of reads (domain/history.py): which version, which merges, which links were in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_common.errors import NotFound
from mdm_profile.adapters import graph_store, link_history
from mdm_profile.domain import history
from mdm_profile.domain.history import (
    LinksState,
    LinksVersion,
    MergeSpan,
    PersonHistory,
    Version,
)
from mdm_profile.domain.merging import MergeState
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import REASON_ERASED

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def person(person_id: str, email: str | None, *, at: datetime = T0) -> Person:
    return Person(person_id, "Ida", "Lenz", created_at=T0, updated_at=at, email=email)


class Histories:
    """The history store as the domain sees it, held in dictionaries."""

    def __init__(self, merges: Sequence[MergeSpan] = ()) -> None:
        self.merges = list(merges)
        self.persons: dict[str, PersonHistory] = {}

    async def merges_naming(self, person_ids: Sequence[str]) -> list[MergeSpan]:
        ids = set(person_ids)
        return [m for m in self.merges if ids & {m.survivor_id, m.merged_id}]

    async def history(self, person_id: str) -> PersonHistory | None:
        return self.persons.get(person_id)


def span(survivor: str, merged: str, at: datetime, undone_at: datetime | None = None) -> MergeSpan:
    state = MergeState.UNDONE if undone_at else MergeState.ACTIVE
    return MergeSpan(survivor, merged, at, state, undone_at)


class TestMergeSpan:
    def test_in_force_from_its_time_until_undone(self) -> None:
        undone = span("a", "b", T0, T0 + HOUR)
        assert not undone.in_force(T0 - HOUR)
        assert undone.in_force(T0)
        assert not undone.in_force(T0 + HOUR)
        assert span("a", "b", T0).in_force(T0 + 1000 * HOUR)

    def test_undone_without_a_recorded_time_is_in_force_at_no_time(self) -> None:
        assert not MergeSpan("a", "b", T0, MergeState.UNDONE, None).in_force(T0 + HOUR)


class TestValuesAt:
    def test_the_earliest_version_that_ended_after_the_time(self) -> None:
        found = PersonHistory(
            person("p", "c@x.example", at=T0 + 2 * HOUR),
            False,
            [
                Version(person("p", "b@x.example"), T0 + 2 * HOUR),
                Version(person("p", "a@x.example"), T0 + HOUR),
            ],
        )
        assert history.values_at(found, T0).email == "a@x.example"
        assert history.values_at(found, T0 + HOUR).email == "b@x.example"
        assert history.values_at(found, T0 + 2 * HOUR).email == "c@x.example"

    @given(
        st.lists(st.integers(min_value=1, max_value=50), unique=True, max_size=8),
        st.integers(min_value=0, max_value=60),
    )
    def test_the_value_set_by_the_last_change_at_or_before_the_time(
        self, hours: list[int], asked: int
    ) -> None:
        changes = sorted(hours)
        # Value i holds from the i-th change (the 0th: creation) until the next one.
        starts = [0, *changes]
        versions = [
            Version(person("p", f"v{i}@x.example"), T0 + end * HOUR)
            for i, end in enumerate(changes)
        ]
        found = PersonHistory(person("p", f"v{len(changes)}@x.example"), False, versions)
        expected = max(i for i, start in enumerate(starts) if start <= asked)
        assert history.values_at(found, T0 + asked * HOUR).email == f"v{expected}@x.example"

    def test_links_likewise(self) -> None:
        then, now = (
            LinksState(("h1", "MEMBER")),
            LinksState(None, (("c1", "EMPLOYEE", None, None, None),)),
        )
        found = PersonHistory(person("p", None), False, [], now, [LinksVersion(then, T0 + HOUR)])
        assert history.links_at(found, T0) == then
        assert history.links_at(found, T0 + HOUR) == now


def test_new_persons_are_written_with_the_state_of_no_links() -> None:
    # graph_store spells it where it creates persons; link_history compares with it.
    assert link_history.state_json(LinksState(None)) == graph_store.NO_LINKS
    assert link_history.state_from(graph_store.NO_LINKS) == LinksState(None)


class TestPersonAsOf:
    async def test_a_merged_away_id_gives_its_survivor_while_the_merge_was_in_force(self) -> None:
        store = Histories([span("a", "b", T0 + HOUR, T0 + 3 * HOUR)])
        store.persons["a"] = PersonHistory(
            person("a", "a@x.example", at=T0 + 3 * HOUR),
            False,
            [
                Version(person("a", "a@x.example"), T0 + HOUR),
                Version(person("a", "b@x.example", at=T0 + HOUR), T0 + 3 * HOUR),
            ],
        )
        store.persons["b"] = PersonHistory(person("b", "b@x.example"), False, [])

        during = await history.person_as_of("b", T0 + 2 * HOUR, store=store)
        before = await history.person_as_of("b", T0, store=store)
        after = await history.person_as_of("b", T0 + 4 * HOUR, store=store)

        assert (during.person.id, during.person.email, during.person.merged_from) == (
            "a",
            "b@x.example",
            ("b",),
        )
        assert (before.person.id, before.person.merged_from) == ("b", ())
        assert (after.person.id, after.person.merged_from) == ("b", ())
        survivor_after = await history.person_as_of("a", T0 + 4 * HOUR, store=store)
        assert survivor_after.person.merged_from == ()

    async def test_merged_from_follows_earlier_merges_into_the_merged_person(self) -> None:
        store = Histories([span("b", "c", T0), span("a", "b", T0 + HOUR)])
        store.persons["a"] = PersonHistory(person("a", None), False, [])
        store.persons["b"] = PersonHistory(person("b", None), False, [])
        found = await history.person_as_of("c", T0 + 2 * HOUR, store=store)
        assert (found.person.id, found.person.merged_from) == ("a", ("b", "c"))
        earlier = await history.person_as_of("c", T0 + HOUR / 2, store=store)
        assert earlier.person.id == "b"

    async def test_before_creation_unknown_and_erased_are_not_found(self) -> None:
        store = Histories()
        store.persons["p"] = PersonHistory(person("p", None), False, [])
        store.persons["gone"] = PersonHistory(person("gone", None), True, [])
        with pytest.raises(NotFound) as early:
            await history.person_as_of("p", T0 - HOUR, store=store)
        assert early.value.field == "asOf"
        with pytest.raises(NotFound) as unknown:
            await history.person_as_of("nobody", T0, store=store)
        assert unknown.value.field == "id"
        with pytest.raises(NotFound) as erased:
            await history.person_as_of("gone", T0, store=store)
        assert erased.value.details["reason"] == REASON_ERASED

    async def test_restriction_is_the_state_of_now(self) -> None:
        store = Histories()
        now = replace(person("p", None, at=T0 + HOUR), processing_restricted=True)
        store.persons["p"] = PersonHistory(now, False, [Version(person("p", None), T0 + HOUR)])
        found = await history.person_as_of("p", T0, store=store)
        assert found.person.processing_restricted
