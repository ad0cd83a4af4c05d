"""As-of reads against the real graph server: values and lineage, merges in force,
households, and history taken out by erasure and retention."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from mdm_common.errors import NotFound
from mdm_common.graph import GraphClient
from mdm_profile.adapters import company_store, graph_store, household_store, merge_store
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.history_store import GraphHistoryStore
from mdm_profile.domain import history
from mdm_profile.domain.privacy import REASON_ERASED
from mdm_profile.domain.records import RawRecord

from .events import Recorder
from .ingesting import ingest_one
from .merges import merge_by
from .test_holds import purge
from .test_merging import SOURCES, T0, do_unmerge
from .test_privacy import erase, nodes_holding, tag, unique_mobile, unique_postal_code

MINUTE = timedelta(minutes=1)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(
        (*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA, *company_store.SCHEMA)
    )
    return client


async def store(graph: GraphClient, source: str, raw: RawRecord, at: datetime) -> str:
    return await ingest_one(graph, source, raw, sources=SOURCES, now=at)


async def as_of(graph: GraphClient, person_id: str, at: datetime) -> history.PersonAsOf:
    return await graph.read(
        lambda tx: history.person_as_of(person_id, at, store=GraphHistoryStore(tx))
    )


def person(family: str, given: str = "Henrike", **fields: str) -> RawRecord:
    return RawRecord(uuid.uuid4().hex, given_name=given, family_name=family, **fields)


async def test_values_and_lineage_as_they_were(graph: GraphClient) -> None:
    first, second = f"h.{tag()}@example.org", f"h.{tag()}@example.org"
    raw = person("Verlauf" + tag(), email=first)
    person_id = await store(graph, "crm", raw, T0)
    again = RawRecord(
        raw.source_id,
        given_name="Henrike",
        family_name=raw.family_name,
        email=second,
        phone=unique_mobile(),
    )
    await store(graph, "crm", again, T0 + 10 * MINUTE)

    before = await as_of(graph, person_id, T0 + 5 * MINUTE)
    after = await as_of(graph, person_id, T0 + 15 * MINUTE)

    assert (before.person.email, before.person.phone) == (first, None)
    assert before.person.lineage["email"].source_id == raw.source_id
    assert "phone" not in before.person.lineage
    assert after.person.email == second
    assert after.person.phone is not None
    assert after.person.lineage["phone"].source == "crm"
    # Now equals the profile as it is.
    current = await graph.read(lambda tx: GraphPersonStore(tx).get_many([person_id]))
    assert after.person.email == current[person_id].email
    with pytest.raises(NotFound) as missing:
        await as_of(graph, person_id, T0 - MINUTE)
    assert missing.value.field == "asOf"


async def test_a_rebuild_that_changes_nothing_keeps_no_version(graph: GraphClient) -> None:
    raw = person("Gleich" + tag(), email=f"g.{tag()}@example.org")
    person_id = await store(graph, "crm", raw, T0)
    # The same record with a source timestamp of its own, earlier than the time it was
    # first received: the record and the golden record's updatedAt change, the golden
    # values and their lineage do not.
    await store(graph, "crm", replace(raw, recorded_at=T0 - timedelta(days=1)), T0 + MINUTE)
    updated = await graph.read(lambda tx: GraphPersonStore(tx).get_many([person_id]))
    assert updated[person_id].updated_at == T0 + MINUTE  # the person was written again

    rows = await graph.read(
        lambda tx: tx.run(
            "test.versions",
            f"MATCH (:{graph_store.PERSON} {{id: $id}})-[:{graph_store.HAD_VERSION}]->(v) "
            "RETURN count(v) AS n",
            id=person_id,
        )
    )
    assert rows[0]["n"] == 0


async def test_merges_in_force_before_during_and_after(graph: GraphClient, merge_path: str) -> None:
    survivor_mail, merged_phone = f"m.{tag()}@example.org", unique_mobile()
    survivor = await store(graph, "crm", person("Zeitlich" + tag(), email=survivor_mail), T0)
    merged = await store(graph, "shop", person("Zeitlich" + tag(), phone=merged_phone), T0)
    merge = await merge_by(
        merge_path,
        graph,
        survivor,
        merged,
        sources=SOURCES,
        events=Recorder(),
        actor="steward-1",
        reason="same person",
        now=T0 + timedelta(hours=1),
    )
    await do_unmerge(graph, merge.id)  # at T0 + 2 h

    before = await as_of(graph, survivor, T0 + 30 * MINUTE)
    during = await as_of(graph, survivor, T0 + 90 * MINUTE)
    merged_during = await as_of(graph, merged, T0 + 90 * MINUTE)
    merged_before = await as_of(graph, merged, T0 + 30 * MINUTE)
    after = await as_of(graph, survivor, T0 + timedelta(hours=3))
    merged_after = await as_of(graph, merged, T0 + timedelta(hours=3))

    assert (before.person.id, before.person.phone, before.person.merged_from) == (
        survivor,
        None,
        (),
    )
    assert during.person.merged_from == (merged,)
    assert during.person.email == survivor_mail
    assert during.person.phone is not None
    assert during.person.phone.e164 == merged_phone
    assert during.person.lineage["phone"].source == "shop"
    # The merged-away id answered with its survivor while the merge was in force.
    assert merged_during.person == during.person
    assert merged_during.person.id == survivor
    assert (merged_before.person.id, merged_before.person.email) == (merged, None)
    assert (after.person.phone, after.person.merged_from) == (None, ())
    assert merged_after.person.id == merged
    assert merged_after.person.phone is not None


async def test_household_as_it_was(graph: GraphClient) -> None:
    family, street, postal_code = "Haushalt" + tag(), "Lindenweg" + tag(), unique_postal_code()
    address = {
        "street": street,
        "house_number": "4",
        "postal_code": postal_code,
        "city": "Berlin",
        "country": "DE",
    }
    first = await store(graph, "crm", person(family, **address), T0)
    moving = person(family, "Jonas", **address)
    second = await store(graph, "crm", moving, T0)
    together = await as_of(graph, first, T0 + MINUTE)
    assert together.links.household is not None

    moved = RawRecord(
        moving.source_id,
        given_name="Jonas",
        family_name=family,
        street="Birkenweg" + tag(),
        house_number="9",
        postal_code=unique_postal_code(),
        city="Hamburg",
        country="DE",
    )
    # In the past, as every time here: export tests read this graph by change time.
    await store(graph, "crm", moved, T0 + timedelta(hours=5))

    then = await as_of(graph, second, T0 + MINUTE)
    now = await as_of(graph, second, T0 + timedelta(hours=6))
    assert then.links.household == together.links.household
    assert now.links.household != together.links.household
    assert then.person.address is not None
    assert then.person.address.street == street


async def with_a_changed_mail(graph: GraphClient) -> tuple[str, RawRecord, str]:
    """A person whose e-mail address changed at T0 + 1 min: its id, first record and
    first address (kept as a version)."""
    old_mail = f"alt.{tag()}@example.org"
    raw = person("Verlauf" + tag(), email=old_mail)
    person_id = await store(graph, "crm", raw, T0)
    await store(graph, "crm", replace(raw, email=f"neu.{tag()}@example.org"), T0 + MINUTE)
    assert await nodes_holding(graph, [old_mail])
    return person_id, raw, old_mail


async def test_erasure_removes_the_history(graph: GraphClient) -> None:
    person_id, _, old_mail = await with_a_changed_mail(graph)

    await erase(graph, person_id)

    assert await nodes_holding(graph, [old_mail]) == []
    with pytest.raises(NotFound) as erased:
        await as_of(graph, person_id, T0 + MINUTE / 2)
    assert erased.value.details["reason"] == REASON_ERASED


async def test_retention_takes_the_category_out_of_history(graph: GraphClient) -> None:
    person_id, raw, old_mail = await with_a_changed_mail(graph)

    await purge(graph, person_id)  # e-mail and phone, a day later

    assert await nodes_holding(graph, [old_mail]) == []
    then = await as_of(graph, person_id, T0 + MINUTE / 2)
    assert then.person.email is None
    assert then.person.family_name == raw.family_name
