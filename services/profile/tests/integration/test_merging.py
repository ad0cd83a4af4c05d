"""Merge and unmerge against the real graph server: exact restore, old ids, concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graph import GraphClient
from mdm_profile.adapters import company_store, graph_store, household_store, merge_store
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.graph_store import HAD_VERSION, GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.link_history import HAD_LINKS
from mdm_profile.adapters.link_store import RELATED_TO, GraphLinkStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.domain import companies, merge_preview, merging, people
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.households import HouseholdRole
from mdm_profile.domain.links import LinkType
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .ingesting import ingest_one
from .merges import merge_by

SOURCES = SourceRegistry({"crm": 1, "shop": 2})
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema((*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA,
                               *company_store.SCHEMA))  # fmt: skip
    return client


async def person_from(graph: GraphClient, source: str, **fields: str) -> str:
    raw = RawRecord(uuid.uuid4().hex, **fields)
    return await ingest_one(graph, source, raw, sources=SOURCES, now=T0)


MergeFn = Callable[..., Awaitable[merging.Merge]]


@pytest.fixture
def do_merge(merge_path: str) -> MergeFn:
    """A merge by the steward's single path or the batch job's bulk path."""

    async def run(
        graph: GraphClient,
        survivor: str,
        merged: str,
        events: Recorder | None = None,
        at: datetime = T0 + timedelta(hours=1),
    ) -> merging.Merge:
        return await merge_by(
            merge_path,
            graph,
            survivor,
            merged,
            sources=SOURCES,
            events=events or Recorder(),
            actor="steward-1",
            reason="same person",
            now=at,
        )

    return run


async def do_unmerge(graph: GraphClient, merge_id: str, events: Recorder | None = None) -> Any:
    return await graph.write(
        lambda tx: merging.unmerge(
            merge_id, store=GraphMergeStore(tx), households=GraphHouseholdStore(tx),
            sources=SOURCES, rules=DEFAULT_RULES,
            events=events or Recorder(), now=T0 + timedelta(hours=2),
        )
    )  # fmt: skip


_COUNTERS = {"version", "linksSince"}


async def subgraph(graph: GraphClient, *ids: str) -> list[Any]:
    """Everything around the given persons: properties and every relationship with its own."""
    rows = await graph.read(lambda tx: tx.run(
        "test.subgraph",
        "UNWIND $ids AS id MATCH (p:Person {id: id}) OPTIONAL MATCH (p)-[rel]-(n) "
        "WHERE NOT type(rel) IN $history "
        "RETURN id, p {.*} AS p, collect([type(rel), startNode(rel) = p, labels(n), "
        "coalesce(n.id, n.key, n.address, n.e164), properties(rel)]) AS around",
        ids=list(ids),
        history=[HAD_VERSION, HAD_LINKS],
    ))  # fmt: skip
    # `version` is the merge lock's counter: it counts writes, it is not profile data.
    # History grows with every change (its versions and the time links were last
    # recorded): what is restored exactly is the profile as it is.
    return [
        (row["id"], sorted((k, str(v)) for k, v in row["p"].items() if k not in _COUNTERS),
         sorted(map(str, row["around"])))
        for row in rows
    ]  # fmt: skip


async def read(graph: GraphClient, person_id: str) -> Any:
    return await graph.read(lambda tx: people.get_person(person_id, people=GraphPersonStore(tx)))


async def test_merge_then_unmerge_restores_the_exact_prior_graph(
    graph: GraphClient, do_merge: MergeFn
) -> None:
    a = await person_from(graph, "crm", full_name="Anna Müller", email="anna@crm.example",
                          street="Hauptstr. 1", postal_code="10115", city="Berlin")  # fmt: skip
    b = await person_from(graph, "shop", full_name="Anna Mueller", email="anna@shop.example",
                          phone="0171 1234567", language="de")  # fmt: skip
    before = await subgraph(graph, a, b)
    events = Recorder()

    record = await do_merge(graph, a, b, events)
    survivor = await read(graph, a)
    assert survivor.email == "anna@shop.example"  # MOST_RECENT: both T0, then the record key
    assert survivor.phone is not None  # the merged record's phone now belongs to the survivor
    assert survivor.merged_from == (b,)
    assert (await read(graph, b)).id == a  # the old id resolves to the survivor
    assert events.events == [(Event.PERSON_MERGED, {"survivor_id": a, "merged_id": b,
                                                    "merge_id": record.id})]  # fmt: skip

    undo_events = Recorder()
    await do_unmerge(graph, record.id, undo_events)

    assert await subgraph(graph, a, b) == before
    assert (await read(graph, b)).id == b
    assert undo_events.events[0][0] == Event.PERSON_UNMERGED


async def contact_points(graph: GraphClient, person_id: str) -> list[tuple[str, str]]:
    rows = await graph.read(lambda tx: tx.run(
        "test.contact_points",
        "MATCH (:Person {id: $id})-[h:HAS_EMAIL|HAS_PHONE|LIVES_AT]->(c) "
        "RETURN type(h) AS type, coalesce(c.address, c.e164, c.key) AS value",
        id=person_id,
    ))  # fmt: skip
    return sorted((row["type"], row["value"]) for row in rows)


async def test_contact_points_follow_the_records_once_each(
    graph: GraphClient, do_merge: MergeFn
) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.org"
    a = await person_from(graph, "crm", full_name="Lena Vogt", email=email,
                          street="Ringstr. 9", postal_code="50667", city="Köln")  # fmt: skip
    b = await person_from(graph, "shop", full_name="Lena Vogt", email=email.upper(),
                          phone="0171 7654321")  # fmt: skip
    before = await subgraph(graph, a, b)
    phone = await contact_points(graph, b)

    record = await do_merge(graph, a, b)
    # The shared e-mail address stays one link; the phone came with b's record.
    assert [t for t, _ in await contact_points(graph, a)] == ["HAS_EMAIL", "HAS_PHONE",
                                                               "LIVES_AT"]  # fmt: skip
    assert set(phone) <= set(await contact_points(graph, a))
    assert await contact_points(graph, b) == []  # a tombstone keeps none

    await do_unmerge(graph, record.id)
    assert await subgraph(graph, a, b) == before


async def relate(graph: GraphClient, source: str, target: str, kind: str) -> None:
    # No use case writes person-to-person relations yet; the graph model has them.
    await graph.write(lambda tx: tx.run(
        "test.relate",
        f"MATCH (a:Person {{id: $a}}), (b:Person {{id: $b}}) "
        f"CREATE (a)-[:{RELATED_TO} {{kind: $kind}}]->(b)",
        a=source, b=target, kind=kind,
    ))  # fmt: skip


async def employ(graph: GraphClient, person_id: str, company_id: str, role: str) -> None:
    await graph.write(
        lambda tx: companies.link_employee(
            person_id, company_id, role, store=GraphCompanyStore(tx), events=Recorder()
        )
    )


async def company(graph: GraphClient, name: str) -> str:
    created = await graph.write(
        lambda tx: companies.create_company(
            name=name,
            registration_number=None,
            country="DE",
            store=GraphCompanyStore(tx),
            events=Recorder(),
            now=T0,
        )
    )
    return created.id


async def household_of(graph: GraphClient, person_id: str) -> str:
    found = await graph.read(lambda tx: GraphHouseholdStore(tx).household_of([person_id]))
    return found[person_id]


async def set_role(graph: GraphClient, person_id: str, household_id: str, role: str) -> None:
    assert await graph.write(lambda tx: GraphHouseholdStore(tx).set_role(
        person_id, household_id, HouseholdRole(role)))  # fmt: skip


async def test_merge_moves_links_and_unmerge_puts_them_back_exactly(
    graph: GraphClient, do_merge: MergeFn
) -> None:
    street = f"Hauptstr. {uuid.uuid4().int % 9000 + 10}"
    other_street = f"Gartenweg {uuid.uuid4().int % 9000 + 10}"
    berlin = {"postal_code": "10115", "city": "Berlin"}
    hamburg = {"postal_code": "20095", "city": "Hamburg"}
    a = await person_from(graph, "crm", full_name="Anna Linkmann", street=street, **berlin)
    housemate = await person_from(graph, "crm", full_name="Paul Linkmann", street=street, **berlin)
    b = await person_from(graph, "shop", full_name="Anna Linkmann", street=other_street,
                          **hamburg)  # fmt: skip
    other_mate = await person_from(graph, "shop", full_name="Max Linkmann", street=other_street,
                                   **hamburg)  # fmt: skip
    kid = await person_from(graph, "crm", full_name="Kim Linkmann")
    friend = await person_from(graph, "crm", full_name="Fritz Freund")
    home, other_home = await household_of(graph, a), await household_of(graph, b)
    await set_role(graph, a, home, "HEAD")
    await set_role(graph, b, other_home, "PARTNER")
    shared, board = await company(graph, "Link AG"), await company(graph, "Beirat GmbH")
    await employ(graph, a, shared, "Einkauf")
    await employ(graph, b, shared, "Vertrieb")
    await employ(graph, b, board, "Beirat")
    await relate(graph, b, kid, "PARENT_OF")
    await relate(graph, a, kid, "PARENT_OF")
    await relate(graph, friend, b, "KNOWS")
    await relate(graph, a, b, "KNOWS")  # between the two: dropped by the merge
    everyone = [a, b, housemate, other_mate, kid, friend]
    before = await subgraph(graph, *everyone)

    record = await do_merge(graph, a, b)

    found = await graph.read(lambda tx: GraphLinkStore(tx).links([a, b]))
    assert found[b] == []  # the tombstone keeps no links
    links = {(link.type, link.target_id): link.props for link in found[a]}
    assert len(found[a]) == len(links) == 6  # no link twice
    assert {key: props for key, props in links.items() if key[0] is not LinkType.HOUSEHOLD} == {
        (LinkType.EMPLOYER, shared): {"role": "Einkauf"},  # one job, the survivor's role
        (LinkType.EMPLOYER, board): {"role": "Beirat"},
        (LinkType.RELATION_TO, kid): {"kind": "PARENT_OF"},
        (LinkType.RELATION_FROM, friend): {"kind": "KNOWS"},
    }
    memberships = [links[(LinkType.HOUSEHOLD, h)] for h in (home, other_home)]
    assert [m["role"] for m in memberships] == ["HEAD", "PARTNER"]  # roles kept
    assert sum(bool(m["active"]) for m in memberships) == 1  # one household at a time

    await do_unmerge(graph, record.id)
    assert await subgraph(graph, *everyone) == before


async def test_duplicates_in_one_household_leave_one_member_with_the_stewards_role(
    graph: GraphClient,
    do_merge: MergeFn,
) -> None:
    street = f"Ringstr. {uuid.uuid4().int % 9000 + 10}"
    address = {"street": street, "postal_code": "50667", "city": "Köln"}
    a = await person_from(graph, "crm", full_name="Eva Doppelhaus", **address)
    b = await person_from(graph, "shop", full_name="Eva Doppelhaus", **address)
    mate = await person_from(graph, "crm", full_name="Olaf Doppelhaus", **address)
    home = await household_of(graph, a)
    await set_role(graph, b, home, "HEAD")
    before = await subgraph(graph, a, b, mate)

    record = await do_merge(graph, a, b)
    found = await graph.read(lambda tx: GraphHouseholdStore(tx).households([home]))
    members = {(m.person_id, m.role.value) for m in found[home].members}
    assert members == {(a, "HEAD"), (mate, "MEMBER")}

    await do_unmerge(graph, record.id)
    assert await subgraph(graph, a, b, mate) == before


async def test_chained_merges_resolve_in_one_step_and_unwind(
    graph: GraphClient, do_merge: MergeFn
) -> None:
    a, b, c = [await person_from(graph, "crm", full_name=f"Test Kette{i}") for i in range(3)]
    before = await subgraph(graph, a, b, c)
    first = await do_merge(graph, b, c)  # c -> b
    second = await do_merge(graph, a, b, at=T0 + timedelta(hours=3))  # b -> a, so c -> a too
    assert (await read(graph, c)).id == a
    assert sorted((await read(graph, a)).merged_from) == sorted([b, c])

    with pytest.raises(Conflict, match="undo that merge first"):
        await do_unmerge(graph, first.id)  # b, the survivor of the first, is merged itself
    await do_unmerge(graph, second.id)
    assert (await read(graph, c)).id == b
    await do_unmerge(graph, first.id)
    assert await subgraph(graph, a, b, c) == before


@pytest.mark.parametrize(
    ("survivor", "merged", "error", "field"),
    [("same", "same", InvalidInput, "mergedId"), ("ok", "missing", NotFound, "mergedId"),
     ("missing", "ok", NotFound, "survivorId")],
)  # fmt: skip
async def test_refused_merges_write_nothing(
    graph: GraphClient,
    do_merge: MergeFn,
    *,
    survivor: str,
    merged: str,
    error: type[Exception],
    field: str,
) -> None:
    real = await person_from(graph, "crm", full_name="Einzel Person")
    ids = {"same": real, "ok": real, "missing": str(uuid.uuid4())}
    before = await subgraph(graph, real)
    with pytest.raises(error) as raised:
        await do_merge(graph, ids[survivor], ids[merged])
    assert raised.value.field == field  # type: ignore[attr-defined]
    assert await subgraph(graph, real) == before


async def test_a_merged_person_cannot_be_merged_again_nor_unmerged_twice(
    graph: GraphClient,
    do_merge: MergeFn,
) -> None:
    a, b, c = [await person_from(graph, "crm", full_name=f"Test Doppel{i}") for i in range(3)]
    record = await do_merge(graph, a, b)
    with pytest.raises(Conflict, match="merged into"):
        await do_merge(graph, c, b)
    await do_unmerge(graph, record.id)
    with pytest.raises(Conflict, match="undone already"):
        await do_unmerge(graph, record.id)
    with pytest.raises(NotFound):
        await do_unmerge(graph, str(uuid.uuid4()))


async def test_concurrent_merges_touching_one_profile_end_consistent(
    graph: GraphClient, do_merge: MergeFn
) -> None:
    hub = await person_from(graph, "crm", full_name="Zentral Person")
    spokes = [await person_from(graph, "shop", full_name=f"Speiche Person{i}") for i in range(4)]
    # Into the hub, out of the hub, and between spokes, all at once.
    pairs = [(hub, spokes[0]), (hub, spokes[1]), (spokes[2], hub), (spokes[3], spokes[1]),
             (hub, spokes[3])]  # fmt: skip

    async def attempt(survivor: str, merged: str) -> str:
        try:
            await do_merge(graph, survivor, merged)
        except (Conflict, NotFound):
            return "refused"
        return "merged"

    outcomes = await asyncio.gather(*(attempt(s, m) for s, m in pairs))
    assert "merged" in outcomes

    everyone = [hub, *spokes]
    rows = await graph.read(lambda tx: tx.run(
        "test.consistency",
        "UNWIND $ids AS id MATCH (p:Person {id: id}) "
        "OPTIONAL MATCH (p)-[:MERGED_INTO]->(s:Person) "
        "OPTIONAL MATCH (s)-[:MERGED_INTO]->(s2:Person) "
        "OPTIONAL MATCH (p)<-[:DESCRIBES]-(r:SourceRecord) "
        "RETURN id, p.status AS status, s.id AS into, s.status AS intoStatus, s2.id AS second, "
        "count(r) AS records",
        ids=everyone,
    ))  # fmt: skip
    by_id = {row["id"]: row for row in rows}
    merged_away = [pid for pid, row in by_id.items() if row["into"] is not None]
    assert len(merged_away) == outcomes.count("merged")
    for pid in merged_away:
        row = by_id[pid]
        assert row["status"] == "MERGED"
        assert row["intoStatus"] is None  # points straight at an active survivor
        assert row["second"] is None
        assert row["records"] == 0  # its records moved
    # Every source record still describes exactly one active person.
    assert sum(row["records"] for row in rows) == len(everyone)


async def versions(graph: GraphClient, *ids: str) -> list[Any]:
    """The merge lock's counters: a lock writes them, a read leaves them."""
    rows = await graph.read(
        lambda tx: tx.run(
            "test.versions",
            "UNWIND $ids AS id MATCH (p:Person {id: id}) RETURN p.version AS v",
            ids=list(ids),
        )
    )
    return [row["v"] for row in rows]


async def test_a_preview_shows_the_merges_golden_record_and_writes_nothing(
    graph: GraphClient,
    do_merge: MergeFn,
) -> None:
    a = await person_from(graph, "shop", full_name="Vorschau Person", email="v@shop.example")
    b = await person_from(graph, "crm", full_name="Dr. Vorschau Persson", phone="0171 7654321")
    before = (await subgraph(graph, a, b), await versions(graph, a, b))

    preview = await graph.read(
        lambda tx: merge_preview.preview_merge(
            a, b, store=GraphMergeStore(tx), sources=SOURCES, rules=DEFAULT_RULES, now=T0
        )
    )
    assert (await subgraph(graph, a, b), await versions(graph, a, b)) == before

    await do_merge(graph, a, b)
    merged = await read(graph, a)
    rows = {f.field: (f.result_value, f.result_source) for f in preview.fields}
    assert rows["familyName"] == (merged.family_name, "crm")
    assert rows["titles"] == ("Dr.", "crm")
    assert rows["phone"] == (merged.phone.e164 if merged.phone else None, "crm")
    assert rows["email"] == (merged.email, "shop")
