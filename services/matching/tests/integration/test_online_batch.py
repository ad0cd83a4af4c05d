"""Many arrivals matched in one pass (``online_batch``) on the real graph server: the
same decisions, in arrival order, as one task per person made; and again to no
effect (a redelivered pass). The profile service is an in-memory port double that
merges as it is told (its own merge is tested in the profile service)."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from mdm_common.auth import Principal
from mdm_common.graph import GraphClient
from mdm_matching.adapters.graph_store import SCHEMA
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain import online_batch
from mdm_matching.domain.engine.features import MatchRecord, make_record
from mdm_matching.domain.online import MatchOutcome, Policy, ScorerCache
from mdm_matching.domain.ports import ProfileView

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@dataclass
class _Profiles:
    """Persons by id; a merge points the merged one at its survivor."""

    persons: dict[str, MatchRecord]
    merged_into: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[str, str]] = field(default_factory=list)

    def _view(self, person_id: str) -> ProfileView | None:
        if person_id not in self.persons:
            return None
        survivor = self.merged_into.get(person_id, person_id)
        return ProfileView(person_id, self.persons[survivor], NOW, ("crm",))

    async def fetch(self, person_id: str) -> ProfileView | None:
        return self._view(person_id)

    async def fetch_many(self, person_ids: Sequence[str]) -> dict[str, ProfileView]:
        return {i: v for i in person_ids if (v := self._view(i)) is not None}

    async def merge(
        self,
        survivor_id: str,
        merged_id: str,
        *,
        reason: str,
        on_behalf_of: Principal,
        merge_id: str | None = None,
    ) -> str:
        assert merged_id not in self.merged_into, "merged twice"
        assert survivor_id not in self.merged_into, "merged into a merged-away person"
        self.merged_into[merged_id] = survivor_id
        self.merges.append((survivor_id, merged_id))
        return str(uuid.uuid4())


def _made_up(name: str) -> str:
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - a throwaway name, not a secret
    return name + "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


def _birth_date() -> str:
    """A birth date of the test's own: with initials it is a blocking key."""
    n = uuid.uuid4().int
    return f"{1900 + n % 100}-{1 + n // 100 % 12:02d}-{1 + n // 1200 % 28:02d}"


def _family() -> list[MatchRecord]:
    """Three records of one person (the same e-mail, name, birth date and place)
    and a namesake born on another day. Names, dates and places of the test's own:
    they are blocking keys."""
    family, code = _made_up("Kessel"), str(10000 + uuid.uuid4().int % 90000)
    same = {
        "family": family,
        "birth": _birth_date(),
        "email": f"anna@{family}.example",
        "postal_code": code,
        "city": "Berlin",
        "street": "Ringstrasse",
    }
    return [
        make_record(str(uuid.uuid4()), given="Anna", house_number="1", **same),
        make_record(str(uuid.uuid4()), given="Anna", house_number="1", **same),
        make_record(str(uuid.uuid4()), given="Anna", house_number="1", **same),
        make_record(str(uuid.uuid4()), given=_made_up("Bernd"), family=family, birth=_birth_date()),
    ]


async def _pass(graph: GraphClient, profiles: _Profiles, ids: list[str]) -> list[MatchOutcome]:
    return await online_batch.match_persons(
        ids,
        profiles=profiles,
        transactions=GraphTransactions(graph),
        policy=Policy(),
        scorers=ScorerCache(),
        clock=lambda: NOW,
    )


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    found = graph_for("matching")
    await found.apply_schema(SCHEMA)
    return found


@pytest.mark.parametrize("budget_s", [1.0, 0.0])  # one transaction, one a newcomer
async def test_newcomers_of_one_pass_match_in_arrival_order(
    graph: GraphClient, budget_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(online_batch, "TRANSACTION_BUDGET_S", budget_s)
    records = _family()
    first, second, third, namesake = (r.id for r in records)
    profiles = _Profiles({r.id: r for r in records})

    outcomes = await _pass(graph, profiles, [first, second, third, namesake, "unknown"])

    # The later ones join the first. Had the third met the second (merged away before
    # it), two sure matches would have held it back for review instead.
    assert profiles.merges == [(first, second), (first, third)]
    merged = {o.person_id: o.merged_into for o in outcomes}
    assert merged == {first: None, second: first, third: first, namesake: None, "unknown": None}
    assert all(o.review_tasks == [] for o in outcomes)


async def test_a_pass_delivered_again_changes_nothing(graph: GraphClient) -> None:
    records = _family()
    ids = [r.id for r in records]
    profiles = _Profiles({r.id: r for r in records})
    first = await _pass(graph, profiles, ids)
    merges = list(profiles.merges)
    tasks = {task for o in first for task in o.review_tasks}

    again = await _pass(graph, profiles, ids)

    assert profiles.merges == merges  # nothing merged twice
    assert {o.person_id: o.merged_into for o in again} == {
        o_id: profiles.merged_into.get(o_id) for o_id in ids
    }
    # No task opened twice: a pair's open task is found again, not made anew.
    assert {task for o in again for task in o.review_tasks} <= tasks
