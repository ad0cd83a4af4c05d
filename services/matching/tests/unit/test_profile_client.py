"""Reading many persons from the profile service: calls in parallel, the first error
as the caller can handle it (Unavailable is retried by the task), every person once."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from mdm_common.auth import Principal
from mdm_common.errors import Unavailable
from mdm_matching.adapters import profile_client
from mdm_matching.adapters.profile_client import ProfileClient


class Subgraph:
    """The profile subgraph's `personFeatures`; ``failing`` ids make their call fail."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing, self.calls, self.in_flight, self.most_in_flight = failing, 0, 0, 0

    async def execute(
        self, query: str, variables: dict[str, Any], *, on_behalf_of: Principal
    ) -> dict[str, Any]:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            asked = variables["ids"]
            if self.failing & set(asked):
                raise Unavailable("A service this call needs is not reachable; try again.")
            return {
                "personFeatures": [
                    {"id": i, "givenName": "Anna", "familyName": "Weber"} for i in asked
                ]
            }
        finally:
            self.in_flight -= 1


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_client, "BATCH", 3)


async def test_every_person_once_with_a_bounded_number_of_calls_in_flight() -> None:
    subgraph = Subgraph()
    ids = [f"p{i}" for i in range(10)]
    found = await ProfileClient(cast("Any", subgraph)).fetch_many(ids)
    assert sorted(found) == sorted(ids)
    assert all(found[i].record.id == i for i in ids)
    assert subgraph.calls == 4
    assert subgraph.most_in_flight == profile_client.READERS


async def test_a_failed_call_raises_its_own_error_not_a_group() -> None:
    subgraph = Subgraph(failing=frozenset({"p4"}))
    with pytest.raises(Unavailable):
        await ProfileClient(cast("Any", subgraph)).fetch_many([f"p{i}" for i in range(10)])
