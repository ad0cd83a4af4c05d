"""Household detection against the real graph server: evidence, moves, older data, and
the steward's decisions that detection does not undo."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.graph import GraphClient
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import SCHEMA, GraphPersonStore
from mdm_profile.adapters.household_facts import LARGE_ADDRESS
from mdm_profile.adapters.household_store import SCHEMA as HOUSEHOLD_SCHEMA
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import households, people
from mdm_profile.domain.household_evidence import Evidence
from mdm_profile.domain.households import Decision, Household, HouseholdRole
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .merges import merge_by
from .suppression import SUPPRESSOR

SOURCES = SourceRegistry({"crm": 1, "shop": 2})
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema((*SCHEMA, *HOUSEHOLD_SCHEMA))
    return client


async def ingest(graph: GraphClient, *raws: RawRecord, by_family_name: bool = True,
                 now: datetime = NOW, source: str = "crm") -> list[str]:  # fmt: skip
    outcomes = await graph.write(
        lambda tx: people.ingest(
            source, raws, store=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx, by_family_name=by_family_name),
            employers=GraphEmploymentStore(tx),
            sources=SOURCES, events=Recorder(), now=now, suppressor=SUPPRESSOR,
            suppressions=GraphSuppressionList(tx),
        )
    )  # fmt: skip
    return [o.person_id for o in outcomes.outcomes]


async def household_of(graph: GraphClient, person_id: str) -> str | None:
    found = await graph.read(lambda tx: GraphHouseholdStore(tx).household_of([person_id]))
    return found.get(person_id)


def at(street: str, name: str, **values: str) -> RawRecord:
    return RawRecord(
        uuid.uuid4().hex,
        full_name=name,
        street=street,
        postal_code="04109",
        city="Leipzig",
        **values,  # type: ignore[arg-type]
    )


async def household(graph: GraphClient, household_id: str) -> Household:
    found = await graph.read(lambda tx: GraphHouseholdStore(tx).households([household_id]))
    return found[household_id]


async def households_of(graph: GraphClient, ids: list[str]) -> list[str | None]:
    found = await graph.read(lambda tx: GraphHouseholdStore(tx).household_of(ids))
    return [found.get(i) for i in ids]


def new_street() -> str:
    """A street no other test uses: a shared address would join the tests' households (or make
    the address large enough to hold none)."""
    name = "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:12])
    return f"Haushaltsweg {name} 1"


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


async def test_a_couple_with_different_names_is_found_by_its_landline(graph: GraphClient) -> None:
    street = new_street()
    eva, tom, lodger = await ingest(
        graph,
        at(street, "Eva Roth", phone="0341 2233445"),
        at(street, "Tom Berg", phone="+49 341 2233445"),
        at(street, "Mira Nowak", phone="0341 9988776"),
    )
    first, second, third = await households_of(graph, [eva, tom, lodger])
    assert first is not None
    assert (second, third) == (first, None)
    members = {m.person_id: m for m in (await household(graph, first)).members}
    assert members[eva].evidence == {Evidence.SHARED_LANDLINE}
    assert members[eva].confidence == 0.85
    assert members[eva].detected
    assert not members[eva].pinned


async def test_a_flat_share_and_a_shared_mobile_are_no_household(graph: GraphClient) -> None:
    street = new_street()
    ids = await ingest(
        graph,
        at(street, "Eva Roth", email="eva@web.de"),
        at(street, "Tom Berg", email="tom@web.de", phone="0151 23456789"),
        at(street, "Ole Brandt", phone="0151 23456789"),
    )
    assert await households_of(graph, ids) == [None, None, None]


async def test_a_family_domain_links_a_patchwork_family(graph: GraphClient) -> None:
    street = new_street()
    ids = await ingest(
        graph,
        at(street, "Eva Roth", email="eva@roth-berg.de"),
        at(street, "Tom Berg", email="tom@roth-berg.de"),
        at(street, "Lina Berg"),
    )
    found = await households_of(graph, ids)
    assert found[0] is not None
    assert found == [found[0]] * 3


async def test_namesakes_in_an_apartment_block_are_no_household(graph: GraphClient) -> None:
    street = new_street()
    names = ["Kaya", "Nowak", "Weber", "Schulz", "Braun", "Wolf"]
    block = [at(street, f"Anna {name}") for name in names]
    ids = await ingest(graph, *block, at(street, "Jan Müller"), at(street, "Udo Mueller"))
    assert set(await households_of(graph, ids)) == {None}


async def test_at_a_large_address_families_are_found_among_their_candidates(
    graph: GraphClient,
) -> None:
    street = new_street()
    names = ["Kaya", "Nowak", "Weber", "Schulz", "Braun", "Wolf", "Lang", "Jung", "Hahn"]
    names += ["Koch", "Vogel", "Kraus"]
    block = [at(street, f"{given} {name}") for name in names for given in ("Eva", "Tom", "Ida")]
    assert len(block) > LARGE_ADDRESS
    await ingest(graph, *block)
    block_ids = await ingest(
        graph,
        at(street, "Jan Müller", phone="0341 5566778"),
        at(street, "Lea Roth", phone="0341 5566778"),
        at(street, "Ole Mueller-Lang"),
    )
    jan, lea, ole = block_ids[-3:]
    household_id = await household_of(graph, jan)
    assert household_id is not None
    assert await household_of(graph, lea) == household_id
    # Namesakes in an apartment block: a name (or part of one) alone is not enough.
    assert await household_of(graph, ole) is None
    [kai] = await ingest(graph, at(street, "Kai Roth", phone="0341 5566778"))
    assert await household_of(graph, kai) == household_id
    # A namesake of Jan moves in: Jan is a candidate, and his household is read whole.
    [udo] = await ingest(graph, at(street, "Udo Müller"))
    assert await households_of(graph, [udo, jan, lea]) == [None, household_id, household_id]
    # A couple of different names found by its family e-mail domain.
    roth, berg = await ingest(
        graph,
        at(street, "Pia Roth", email="pia@roth-berg.de"),
        at(street, "Max Berg", email="max@roth-berg.de"),
    )
    assert await household_of(graph, roth) is not None
    assert await household_of(graph, berg) == await household_of(graph, roth)


async def test_at_a_large_family_house_a_married_name_is_found(
    graph: GraphClient, merge_path: str
) -> None:
    street = new_street()
    family = [at(street, f"{given} Roth") for given in ("Eva", "Tom", "Ida", "Kai", "Ben")]
    await ingest(graph, *family)
    hans, mia = await ingest(graph, at(street, "Hans Neumann"), at(street, "Mia Weber"))
    assert await households_of(graph, [hans, mia]) == [None, None]
    [married] = await ingest(graph, at(street, "Mia Neumann"), source="shop")
    await merge_by(
        merge_path,
        graph,
        mia,
        married,
        sources=SOURCES,
        events=Recorder(),
        actor="steward-1",
        reason="same person",
        now=NOW,
    )
    household_id = await household_of(graph, hans)
    assert household_id is not None
    assert await household_of(graph, mia) == household_id
    assert household_id != await household_of(graph, (await ingest(graph, family[0]))[0])


async def test_a_married_name_in_another_source_keeps_the_household(
    graph: GraphClient, merge_path: str
) -> None:
    street = new_street()
    [peter, maiden] = await ingest(graph, at(street, "Peter Weber"), at(street, "Anna Schmidt"))
    assert await households_of(graph, [peter, maiden]) == [None, None]
    [married] = await ingest(graph, at(street, "Anna Weber"), source="shop")
    household_id = await household_of(graph, peter)
    assert household_id is not None
    assert await household_of(graph, married) == household_id

    # One person: the CRM's golden name (Schmidt) wins, the shop's record keeps Weber.
    await merge_by(
        merge_path,
        graph,
        maiden,
        married,
        sources=SOURCES,
        events=Recorder(),
        actor="steward-1",
        reason="same person",
        now=NOW,
    )
    assert await households_of(graph, [peter, maiden]) == [household_id, household_id]
    anna = (await household(graph, household_id)).member(maiden)
    assert anna is not None
    assert anna.evidence == {Evidence.PREVIOUS_NAME}


async def confirm(graph: GraphClient, household_id: str, events: Recorder) -> Household:
    return await graph.write(
        lambda tx: households.confirm_household(
            household_id,
            store=GraphHouseholdStore(tx),
            events=events,
            actor="steward-1",
            now=NOW,
        )
    )


async def test_a_confirmed_household_outlives_its_evidence(graph: GraphClient) -> None:
    street = new_street()
    eva_record, tom_record = at(street, "Eva Roth"), at(street, "Tom Roth")
    eva, tom = await ingest(graph, eva_record, tom_record)
    household_id = await household_of(graph, eva)
    assert household_id is not None
    events = Recorder()
    confirmed = await confirm(graph, household_id, events)
    assert confirmed.audit is not None
    assert (confirmed.audit.decision, confirmed.audit.actor) == (Decision.CONFIRMED, "steward-1")
    assert all(m.pinned for m in confirmed.members)
    assert events.events == [("profile.household_confirmed", {"household_id": household_id})]

    # Tom's name changes and nothing else links them: detection alone would part them.
    renamed = RawRecord(
        tom_record.source_id,
        full_name="Tom Berg",
        street=street,
        postal_code="04109",
        city="Leipzig",
    )
    await ingest(graph, renamed, now=NOW + timedelta(days=1))
    assert await households_of(graph, [eva, tom]) == [household_id, household_id]
    # A newcomer with evidence joins the confirmed household.
    [baby] = await ingest(graph, at(street, "Lia Roth"), now=NOW + timedelta(days=2))
    assert await household_of(graph, baby) == household_id
    # Moving away still ends a confirmed membership.
    moved = RawRecord(
        tom_record.source_id,
        full_name="Tom Berg",
        street=new_street(),
        postal_code="04109",
        city="Leipzig",
    )
    await ingest(graph, moved, now=NOW + timedelta(days=3))
    assert await household_of(graph, tom) is None


async def test_a_split_keeps_roles_and_is_not_undone(graph: GraphClient) -> None:
    street = new_street()
    ids = await ingest(graph, *(at(street, f"{given} Roth") for given in ("Eva", "Tom", "Kai")))
    eva, tom, kai = ids
    household_id = await household_of(graph, eva)
    assert household_id is not None
    await graph.write(
        lambda tx: GraphHouseholdStore(tx).set_role(kai, household_id, HouseholdRole.CHILD)
    )
    events = Recorder()
    split = await graph.write(
        lambda tx: households.split_household(
            household_id,
            [kai],
            into_id=None,
            new_id=str(uuid.uuid4()),
            store=GraphHouseholdStore(tx),
            events=events,
            actor="steward-2",
            now=NOW,
        )
    )
    new_id = split.into.id
    assert [(m.person_id, m.role, m.pinned, m.detected) for m in split.into.members] == [
        (kai, HouseholdRole.CHILD, True, False)
    ]
    assert {m.person_id for m in split.household.members} == {eva, tom}
    assert split.household.audit is not None
    assert split.household.audit.decision == Decision.SPLIT
    assert events.events == [
        ("profile.household_split", {"household_id": household_id, "into_household_id": new_id})
    ]

    # The next detection (a record of Kai's again) leaves the split as it is.
    await ingest(graph, at(street, "Kai Roth"), now=NOW + timedelta(days=1))
    assert await households_of(graph, [eva, tom, kai]) == [household_id, household_id, new_id]
    # The old membership is kept, inactive, with its role.
    rows = await graph.read(
        lambda tx: tx.run(
            "test.old_membership",
            "MATCH (:Person {id: $p})-[m:MEMBER_OF]->(:Household {id: $h}) RETURN m.role AS role, "
            "m.active AS active",
            p=kai,
            h=household_id,
        )
    )
    assert [(r["role"], r["active"]) for r in rows] == [("CHILD", False)]
