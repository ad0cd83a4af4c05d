"""A pass with no subscriber in force: nothing read, nothing sent, an erasure's digests gone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from mdm_distribution.domain.distribute import distribute
from mdm_distribution.domain.models import Cause, PersonView, Verdict
from mdm_distribution.domain.ports import PurposeTerms
from mdm_distribution.domain.stores import Stores

T = TypeVar("T")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class NoSubscribers:
    """The stores a pass meets when every subscriber was removed: digests only."""

    def __init__(self) -> None:
        self.digests: dict[str, dict[str, str] | None] = {"p1": {"email": "ab"}}

    async def all(self, *, removed: bool = False) -> list[Any]:
        return []

    async def save_states(self, states: dict[str, dict[str, str] | None]) -> None:
        self.digests.update(states)


class Transactions:
    def __init__(self, store: NoSubscribers) -> None:
        self.stores: Any = Stores(
            subscribers=store,
            recipients=store,
            messages=None,
            exports=None,
            events=None,
            inbox=None,
        )

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)


class Unasked:
    """The other services: a pass with nobody to tell must not ask them."""

    async def persons(self, ids: Sequence[str]) -> dict[str, PersonView | None]:
        raise AssertionError("read with nobody to tell")

    async def active_ids(self, *, after: str | None, first: int) -> list[str]:
        raise AssertionError("read with nobody to tell")

    async def check(
        self, person_ids: Sequence[str], *, purpose: str, channel: str, at: datetime
    ) -> dict[str, Verdict]:
        raise AssertionError("checked with nobody to tell")

    async def purpose(self, code: str) -> PurposeTerms | None:
        raise AssertionError("asked with nobody to tell")


async def test_an_erasure_with_no_subscriber_drops_the_digests_and_reads_nothing() -> None:
    store = NoSubscribers()
    result = await distribute(
        [Cause("CHANGED", "p2"), Cause("ERASED", "p1")],
        transactions=Transactions(store),
        records=Unasked(),
        checks=Unasked(),
        now=NOW,
    )
    assert result.messages == []
    assert store.digests == {"p1": None}


async def test_the_work_handed_on_runs_in_the_pass_with_nobody_to_tell_too() -> None:
    """The task remembers its messages there: a pass with no subscriber must do it
    as well, or the messages would be handled again on every delivery."""
    store = NoSubscribers()
    handed_on: list[Any] = []

    async def and_then(stores: Stores) -> None:
        handed_on.append(stores)

    transactions = Transactions(store)
    await distribute(
        [Cause("CHANGED", "p2")],
        transactions=transactions,
        records=Unasked(),
        checks=Unasked(),
        now=NOW,
        and_then=and_then,
    )
    assert handed_on == [transactions.stores]
