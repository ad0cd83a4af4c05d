"""A steward's household decisions: what is refused, what is recorded and announced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_profile.domain.households import (
    Audit,
    Decision,
    Household,
    HouseholdMember,
    HouseholdRole,
    Split,
    confirm_household,
    split_household,
)

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


class Events:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, dict[str, str]]] = []

    def record(self, event: str, **ids: str) -> None:
        self.recorded.append((event, ids))


def member(pid: str, role: HouseholdRole = HouseholdRole.MEMBER) -> HouseholdMember:
    return HouseholdMember(pid, role, detected=True)


class FakeStore:
    def __init__(self, *households: Household) -> None:
        self.found = {h.id: h for h in households}

    async def refresh_households(self, person_ids: Sequence[str], *, at: datetime) -> None: ...

    async def households(self, ids: Sequence[str]) -> dict[str, Household]:
        return {i: self.found[i] for i in ids if i in self.found}

    async def household_of(self, person_ids: Sequence[str]) -> dict[str, str]:
        return {}

    async def set_role(self, person_id: str, household_id: str, role: HouseholdRole) -> bool:
        return False

    async def confirm(self, household_id: str, *, actor: str, at: datetime) -> None:
        h = self.found[household_id]
        pinned = tuple(replace(m, pinned=True) for m in h.members)
        self.found[household_id] = replace(
            h, members=pinned, audit=Audit(Decision.CONFIRMED, actor, at)
        )

    async def move_members(
        self,
        person_ids: Sequence[str],
        source_id: str,
        target_id: str,
        *,
        create: bool,
        actor: str,
        at: datetime,
    ) -> None:
        source = self.found[source_id]
        moving = [replace(m, pinned=True) for m in source.members if m.person_id in person_ids]
        target = self.found.get(target_id, Household(target_id, None, ()))
        assert create == (target_id not in self.found)
        audit = Audit(Decision.SPLIT, actor, at)
        self.found[source_id] = replace(
            source,
            members=tuple(m for m in source.members if m.person_id not in person_ids),
            audit=audit,
        )
        self.found[target_id] = replace(target, members=(*target.members, *moving), audit=audit)


FAMILY = Household("h1", None, (member("a", HouseholdRole.HEAD), member("b"), member("c")))


class TestConfirm:
    async def test_confirms_pins_and_announces(self) -> None:
        events = Events()
        found = await confirm_household(
            "h1", store=FakeStore(FAMILY), events=events, actor="stew", now=NOW
        )
        assert all(m.pinned for m in found.members)
        assert found.audit == Audit(Decision.CONFIRMED, "stew", NOW)
        assert events.recorded == [(Event.HOUSEHOLD_CONFIRMED, {"household_id": "h1"})]

    async def test_an_unknown_household_is_not_found(self) -> None:
        with pytest.raises(NotFound) as caught:
            await confirm_household("nope", store=FakeStore(), events=Events(), actor="s", now=NOW)
        assert caught.value.field == "householdId"

    async def test_an_empty_household_cannot_be_confirmed(self) -> None:
        empty = Household("h0", None, ())
        with pytest.raises(Conflict):
            await confirm_household(
                "h0", store=FakeStore(empty), events=Events(), actor="s", now=NOW
            )


class TestSplit:
    async def split(
        self, persons: list[str], *, into: str | None = None, store: FakeStore | None = None
    ) -> tuple[Events, Split]:
        events = Events()
        result = await split_household(
            "h1",
            persons,
            into_id=into,
            new_id="new",
            store=store or FakeStore(FAMILY),
            events=events,
            actor="stew",
            now=NOW,
        )
        return events, result

    async def test_members_move_into_a_new_household_with_their_roles(self) -> None:
        events, split = await self.split(["a", "a"])
        assert [(m.person_id, m.role) for m in split.into.members] == [("a", HouseholdRole.HEAD)]
        assert [m.person_id for m in split.household.members] == ["b", "c"]
        assert events.recorded == [
            (Event.HOUSEHOLD_SPLIT, {"household_id": "h1", "into_household_id": "new"})
        ]

    async def test_members_move_into_another_household(self) -> None:
        other = Household("h2", None, (member("x"),))
        _, split = await self.split(["c"], into="h2", store=FakeStore(FAMILY, other))
        assert [m.person_id for m in split.into.members] == ["x", "c"]

    @pytest.mark.parametrize(
        ("persons", "into", "error", "field"),
        [
            ([], None, InvalidInput, "personIds"),
            (["zz"], None, NotFound, "personIds"),
            (["a", "b", "c"], None, InvalidInput, "personIds"),
            (["a"], "h1", InvalidInput, "intoHouseholdId"),
            (["a"], "missing", NotFound, "intoHouseholdId"),
        ],
    )
    async def test_refused(
        self, persons: list[str], into: str | None, error: type[Exception], field: str
    ) -> None:
        with pytest.raises(error) as caught:
            await self.split(persons, into=into)
        assert caught.value.field == field  # type: ignore[attr-defined]
