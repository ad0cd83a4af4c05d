"""Household detection against the real graph server: rule variants, moves, older data."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.graph import GraphClient
from mdm_profile.adapters.graph_store import SCHEMA, GraphPersonStore
from mdm_profile.adapters.household_store import SCHEMA as HOUSEHOLD_SCHEMA
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import people
from mdm_profile.domain.households import HouseholdRole
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .suppression import SUPPRESSOR

SOURCES = SourceRegistry({"crm": 1})
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema((*SCHEMA, *HOUSEHOLD_SCHEMA))
    return client


async def ingest(graph: GraphClient, *raws: RawRecord, by_family_name: bool = True,
                 now: datetime = NOW) -> list[str]:  # fmt: skip
    outcomes = await graph.write(
        lambda tx: people.ingest(
            "crm", raws, store=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx, by_family_name=by_family_name),
            sources=SOURCES, events=Recorder(), now=now, suppressor=SUPPRESSOR,
            suppressions=GraphSuppressionList(tx),
        )
    )  # fmt: skip
    return [o.person_id for o in outcomes.outcomes]


async def household_of(graph: GraphClient, person_id: str) -> str | None:
    found = await graph.read(lambda tx: GraphHouseholdStore(tx).household_of([person_id]))
    return found.get(person_id)


def at(street: str, name: str) -> RawRecord:
    return RawRecord(uuid.uuid4().hex, full_name=name, street=street, postal_code="04109",
                     city="Leipzig")  # fmt: skip


def new_street() -> str:
    return f"Haushaltsweg {uuid.uuid4().int % 9000 + 1}"


async def test_without_family_names_everyone_at_the_address_is_one_household(
    graph: GraphClient,
) -> None:
    street = new_street()
    ids = await ingest(graph, at(street, "Eva Roth"), at(street, "Tom Berg"),
                       by_family_name=False)  # fmt: skip
    first, second = [await household_of(graph, i) for i in ids]
    assert first is not None
    assert first == second


async def test_a_member_who_moves_away_and_back_is_active_again_with_its_role(
    graph: GraphClient,
) -> None:
    street = new_street()
    eva, paul = at(street, "Eva Roth"), at(street, "Paul Roth")
    eva_id, paul_id = await ingest(graph, eva, paul)
    household_id = await household_of(graph, eva_id)
    assert household_id is not None
    assert await graph.write(
        lambda tx: GraphHouseholdStore(tx).set_role(paul_id, household_id, HouseholdRole.HEAD)
    )

    moved = RawRecord(paul.source_id, full_name="Paul Roth", street=new_street(),
                      postal_code="04109", city="Leipzig")  # fmt: skip
    await ingest(graph, moved, now=NOW + timedelta(days=1))
    assert await household_of(graph, paul_id) is None

    await ingest(graph, paul, now=NOW + timedelta(days=2))
    assert await household_of(graph, paul_id) == household_id
    household = (await graph.read(lambda tx: GraphHouseholdStore(tx).households([household_id])))[
        household_id
    ]
    roles = {m.person_id: m.role for m in household.members}
    assert roles == {eva_id: HouseholdRole.MEMBER, paul_id: HouseholdRole.HEAD}


async def test_persons_stored_before_the_household_key_are_found_after_start_up(
    graph: GraphClient,
) -> None:
    street = new_street()
    [eva_id] = await ingest(graph, at(street, "Eva Roth"))
    # As an older version stored it: no householdKey property.
    await graph.write(lambda tx: tx.run(
        "test.forget_key", "MATCH (p:Person {id: $id}) REMOVE p.householdKey", id=eva_id
    ))  # fmt: skip
    await graph.apply_schema(HOUSEHOLD_SCHEMA)  # what every start-up does

    [paul_id] = await ingest(graph, at(street, "Paul Roth"))
    assert await household_of(graph, paul_id) is not None
    assert await household_of(graph, eva_id) == await household_of(graph, paul_id)
