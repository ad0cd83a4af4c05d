"""Ingestion against the real graph server: golden records, idempotency, contact points."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import EMAIL, SCHEMA, GraphPersonStore
from mdm_profile.adapters.household_store import SCHEMA as HOUSEHOLD_SCHEMA
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import people
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .suppression import SUPPRESSOR

SOURCES = SourceRegistry({"crm": 1, "shop": 2})
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema((*SCHEMA, *HOUSEHOLD_SCHEMA))
    return client


async def ingest(graph: GraphClient, source: str, *raws: RawRecord, events: Recorder | None = None,
                 now: datetime = NOW) -> list[people.IngestOutcome]:  # fmt: skip
    recorder = events or Recorder()
    ingestion = await graph.write(
        lambda tx: people.ingest(
            source,
            raws,
            store=GraphPersonStore(tx),
            households=GraphHouseholdStore(tx),
            employers=GraphEmploymentStore(tx),
            sources=SOURCES,
            events=recorder,
            suppressor=SUPPRESSOR,
            suppressions=GraphSuppressionList(tx),
            now=now,
        )
    )
    return ingestion.outcomes


async def snapshot(graph: GraphClient, person_id: str) -> dict[str, Any]:
    rows = await graph.read(lambda tx: tx.run(
        "test.snapshot",
        "MATCH (p:Person {id: $id}) OPTIONAL MATCH (p)-[rel]-(n) "
        "RETURN p {.*} AS p, collect([type(rel), labels(n), n {.*}]) AS around",
        id=person_id,
    ))  # fmt: skip
    row = rows[0]
    person = {k: v for k, v in row["p"].items() if k != "updatedAt"}
    around = sorted(
        (t, tuple(lbl), sorted((k, str(v)) for k, v in n.items() if k not in {"updatedAt"}))
        for t, lbl, n in row["around"]
    )
    return {"person": person, "around": around}


def sid() -> str:
    return uuid.uuid4().hex


async def test_new_record_creates_a_golden_person_and_announces_it(graph: GraphClient) -> None:
    events = Recorder()
    [outcome] = await ingest(graph, "crm", RawRecord(
        sid(), full_name="Dr. Anna Müller", email="anna@example.org", phone="030 1234567",
        street="Hauptstr. 1", postal_code="10115", city="Berlin", language="de",
    ), events=events)  # fmt: skip
    person = await graph.read(
        lambda tx: people.get_person(outcome.person_id, people=GraphPersonStore(tx))
    )

    assert outcome.created
    assert (person.given_name, person.family_name, person.titles) == ("Anna", "Müller", ("Dr.",))
    assert person.phone is not None
    assert person.phone.e164 == "+49301234567"
    assert person.lineage["name"].source == "crm"
    assert events.events == [(Event.PERSON_CREATED, {"person_id": outcome.person_id})]


async def test_reingest_is_idempotent(graph: GraphClient) -> None:
    raw = RawRecord(sid(), given_name="Jonas", family_name="Keller", email="jonas@example.org",
                    street="Ringstraße 3", postal_code="80331", city="München")  # fmt: skip
    [first] = await ingest(graph, "shop", raw)
    before = await snapshot(graph, first.person_id)
    events = Recorder()
    [again] = await ingest(graph, "shop", raw, events=events, now=NOW + timedelta(hours=1))

    assert (again.person_id, again.created) == (first.person_id, False)
    assert await snapshot(graph, first.person_id) == before
    assert events.events == []


async def test_an_update_rebuilds_the_golden_record_and_relinks_contact_points(
    graph: GraphClient,
) -> None:
    source_id = sid()
    [first] = await ingest(
        graph, "shop", RawRecord(source_id, family_name="Wolf", email="alt@example.org")
    )
    await ingest(graph, "shop", RawRecord(source_id, family_name="Wolf", email="neu@example.org"),
                 now=NOW + timedelta(days=1))  # fmt: skip
    after = await snapshot(graph, first.person_id)
    assert after["person"]["email"] == "neu@example.org"
    emails = [dict(n)["address"] for t, _, n in after["around"] if t == "HAS_EMAIL"]
    assert emails == ["neu@example.org"]


async def email_nodes(graph: GraphClient, address: str) -> int:
    rows = await graph.read(
        lambda tx: tx.run(
            "test.email_nodes",
            f"MATCH (e:{EMAIL} {{address: $address}}) RETURN count(e) AS n",
            address=address,
        )
    )
    return int(rows[0]["n"])


async def test_a_replaced_value_leaves_no_contact_point_nobody_uses(graph: GraphClient) -> None:
    tag = uuid.uuid4().hex[:10]
    old, new, shared = f"alt.{tag}@example.org", f"neu.{tag}@example.org", f"wir.{tag}@example.org"
    wolf, fuchs = sid(), sid()
    await ingest(graph, "shop", RawRecord(wolf, family_name="Wolf", email=old))
    # Two persons share an address; one of them replaces it, the other keeps using it.
    await ingest(graph, "shop", RawRecord(fuchs, family_name="Fuchs", email=shared))
    await ingest(graph, "crm", RawRecord(sid(), family_name="Dachs", email=shared))
    assert await email_nodes(graph, old) == 1

    later = NOW + timedelta(days=1)
    await ingest(graph, "shop", RawRecord(wolf, family_name="Wolf", email=new), now=later)
    await ingest(graph, "shop", RawRecord(fuchs, family_name="Fuchs", email=None), now=later)

    assert (await email_nodes(graph, old), await email_nodes(graph, new)) == (0, 1)
    assert await email_nodes(graph, shared) == 1  # Dachs still uses it


async def test_people_sharing_an_address_share_its_node(graph: GraphClient) -> None:
    street = f"Teststraße {uuid.uuid4().int % 900 + 1}"
    outcomes = await ingest(graph, "crm",
        RawRecord(sid(), full_name="Eva Roth", street=street, postal_code="50667", city="Köln"),
        RawRecord(sid(), full_name="Paul Roth", street=street.replace("straße", "str."),
                  postal_code="50667", city="KÖLN"),
    )  # fmt: skip
    rows = await graph.read(lambda tx: tx.run(
        "test.shared",
        "MATCH (a:Person {id: $a})-[:LIVES_AT]->(x)<-[:LIVES_AT]-(b:Person {id: $b}) "
        "RETURN count(x) AS n", a=outcomes[0].person_id, b=outcomes[1].person_id,
    ))  # fmt: skip
    assert rows[0]["n"] == 1


async def test_a_batch_with_one_bad_record_writes_nothing(graph: GraphClient) -> None:
    good, bad = sid(), sid()
    with pytest.raises(InvalidInput) as raised:
        await ingest(graph, "crm", RawRecord(good, family_name="Gut"),
                     RawRecord(bad, email="kaputt@"))  # fmt: skip
    assert raised.value.details == {
        "rejected": [{"index": 1, "sourceId": bad, "field": "record", "code": "NOT_IDENTIFIABLE"}]
    }
    found = await graph.read(lambda tx: GraphPersonStore(tx).records_by_key([f"crm|{good}"]))
    assert found == {}


async def test_unknown_source_writes_nothing(graph: GraphClient) -> None:
    with pytest.raises(InvalidInput, match="Unknown source system"):
        await ingest(graph, "fax", RawRecord(sid(), family_name="Nobody"))


async def test_duplicate_ids_in_one_batch_are_refused(graph: GraphClient) -> None:
    same = sid()
    with pytest.raises(InvalidInput) as raised:
        await ingest(
            graph, "crm", RawRecord(same, family_name="A"), RawRecord(same, family_name="B")
        )
    assert raised.value.details["rejected"][0]["code"] == "DUPLICATE_IN_BATCH"


async def test_unknown_person_is_not_found(graph: GraphClient) -> None:
    with pytest.raises(NotFound):
        await graph.read(lambda tx: people.get_person("no-such-id", people=GraphPersonStore(tx)))
