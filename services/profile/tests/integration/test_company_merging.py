"""Company merge and unmerge against the real graph server: records, subsidiaries
and employees move with the merge, the merged-away company is found by nothing but
its id, and the unmerge restores the tree exactly."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict
from mdm_common.graph import GraphClient, Transaction
from mdm_profile.adapters import (
    company_merge_store,
    company_record_store,
    company_store,
    graph_store,
    household_store,
)
from mdm_profile.adapters.company_merge_store import GraphCompanyMergeStore
from mdm_profile.adapters.company_record_store import GraphCompanyRecordStore
from mdm_profile.adapters.company_store import COMPANY, SUBSIDIARY_OF, WORKS_FOR, GraphCompanyStore
from mdm_profile.adapters.graph_store import DESCRIBES, MERGED_INTO
from mdm_profile.domain.company_merging import (
    CompanyMergeRequest,
    merge_companies,
    merge_companies_many,
    unmerge_companies,
)
from mdm_profile.domain.company_records import ParentReference, RawCompanyRecord
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry

from .events import Recorder
from .ingesting import ingest_one
from .test_company_ingest import PRIORITY, ingest, sid, vat_id

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(
        (
            *graph_store.SCHEMA,
            *household_store.SCHEMA,
            *company_store.SCHEMA,
            *company_record_store.SCHEMA,
            *company_merge_store.SCHEMA,
        )
    )
    return client


async def employee(graph: GraphClient, company_id: str, role: str) -> str:
    raw = RawRecord(uuid.uuid4().hex, given_name="Anna", family_name="Kessel" + sid())
    person = await ingest_one(graph, "crm", raw, sources=SourceRegistry({"crm": 1}), now=T0)
    await graph.write(lambda tx: GraphCompanyStore(tx).employ(person, company_id, role))
    return person


async def tree(graph: GraphClient, ids: list[str]) -> dict[str, Any]:
    """Everything a merge may change of these companies, as the graph holds it."""

    async def read(tx: Transaction) -> list[dict[str, Any]]:
        return await tx.run(
            "test.company_tree",
            f"UNWIND $ids AS id MATCH (c:{COMPANY} {{id: id}}) "
            f"RETURN id, c {{.*}} AS props, "
            f"[(c)-[:{SUBSIDIARY_OF}]->(p:{COMPANY}) | p.id] AS parent, "
            f"[(x:{COMPANY})-[:{SUBSIDIARY_OF}]->(c) | x.id] AS children, "
            f"[(w)-[r:{WORKS_FOR}]->(c) | [w.id, r.role]] AS employees, "
            f"[(r)-[:{DESCRIBES}]->(c) | r.key] AS records, "
            f"[(c)-[:{MERGED_INTO}]->(s) | s.id] AS mergedInto",
            ids=ids,
        )

    rows = await graph.read(read)
    found = {}
    for row in rows:
        props = dict(row["props"])
        props.pop("version", None)  # a lock counter, not the company's state
        props.pop("updatedAt", None)
        found[row["id"]] = {
            "props": props,
            "parent": row["parent"],
            "children": sorted(row["children"]),
            "employees": sorted(map(tuple, row["employees"])),
            "records": sorted(row["records"]),
            "mergedInto": row["mergedInto"],
        }
    return found


async def test_merge_moves_the_tree_and_unmerge_restores_it_exactly(graph: GraphClient) -> None:
    vat, holding_id, other_id = vat_id(), sid(), sid()
    holding, other = await ingest(
        graph,
        "erp",
        RawCompanyRecord(holding_id, name="Kessel Holding AG", vat_id=vat_id()),
        RawCompanyRecord(other_id, name="Kessel Beteiligungen GmbH", vat_id=vat_id()),
    )
    service_id = sid()
    service, technik = await ingest(
        graph,
        "erp",
        RawCompanyRecord(
            service_id, name="Kessel Service GmbH", vat_id=vat, parent_source_id=holding_id
        ),
        RawCompanyRecord(sid(), name="Kessel Technik GmbH", parent_source_id=holding_id),
    )
    duplicate_id = sid()
    (duplicate,) = await ingest(
        graph,
        "crm",
        RawCompanyRecord(
            duplicate_id,
            name="Kessel Service G.m.b.H.",
            vat_id=vat,
            city="Köln",
            parent_vat_id=None,
        ),
    )
    (child,) = await ingest(
        graph,
        "crm",
        RawCompanyRecord(sid(), name="Kessel Kind GmbH", parent_source_id=duplicate_id),
    )
    await graph.write(
        lambda tx: GraphCompanyStore(tx).set_parent(duplicate.company_id, other.company_id)
    )
    cfo = await employee(graph, service.company_id, "CFO")
    buyer = await employee(graph, duplicate.company_id, "buyer")
    ids = [c.company_id for c in (holding, other, service, technik, duplicate, child)]
    before = await tree(graph, ids)

    events = Recorder()
    record, golden = await graph.write(
        lambda tx: merge_companies(
            service.company_id,
            duplicate.company_id,
            store=GraphCompanyMergeStore(tx),
            priority_of=PRIORITY.__getitem__,
            events=events,
            actor="steward-1",
            reason="same VAT id",
            now=T0,
        )
    )
    merged = await tree(graph, ids)
    survivor = merged[service.company_id]
    assert survivor["parent"] == [holding.company_id]  # it kept its own parent
    assert survivor["children"] == [child.company_id]
    assert survivor["employees"] == sorted([(cfo, "CFO"), (buyer, "buyer")])
    assert len(survivor["records"]) == 2
    assert survivor["props"]["city"] == "Köln"  # the CRM record's address now counts
    gone = merged[duplicate.company_id]
    assert (gone["mergedInto"], gone["parent"], gone["records"]) == (
        [service.company_id],
        [],
        [],
    )
    assert "vatId" not in gone["props"]  # no lookup finds it
    named = await graph.read(
        lambda tx: GraphCompanyRecordStore(tx).companies_named(
            [("crm", ParentReference(vat_id=vat))]
        )
    )
    assert named == [{service.company_id}]
    assert golden.name == "Kessel Service GmbH"
    assert events.events == [
        (
            Event.COMPANY_MERGED,
            {
                "survivor_id": service.company_id,
                "merged_id": duplicate.company_id,
                "merge_id": record.id,
            },
        )
    ]

    await graph.write(
        lambda tx: unmerge_companies(
            record.id,
            store=GraphCompanyMergeStore(tx),
            priority_of=PRIORITY.__getitem__,
            events=Recorder(),
            now=T0,
        )
    )
    assert await tree(graph, ids) == before
    with pytest.raises(Conflict):
        await graph.write(
            lambda tx: unmerge_companies(
                record.id,
                store=GraphCompanyMergeStore(tx),
                priority_of=PRIORITY.__getitem__,
                events=Recorder(),
                now=T0,
            )
        )


async def test_a_parent_conflict_is_kept_until_the_sources_agree(graph: GraphClient) -> None:
    vat, first_vat, second_vat, word = vat_id(), vat_id(), vat_id(), sid()
    first, second, company = await ingest(
        graph,
        "erp",
        RawCompanyRecord(f"{word}-p1", name="Kessel Holding AG", vat_id=first_vat),
        RawCompanyRecord(f"{word}-p2", name="Kessel Beteiligungen AG", vat_id=second_vat),
        RawCompanyRecord(
            f"{word}-a", name="Kessel Kontor GmbH", vat_id=vat, parent_source_id=f"{word}-p1"
        ),
    )
    shop = RawCompanyRecord(f"{word}-c", name="Kessel Kontor", vat_id=vat, parent_vat_id=second_vat)
    (copy,) = await ingest(graph, "crm", shop)
    await graph.write(
        lambda tx: merge_companies(
            company.company_id,
            copy.company_id,
            store=GraphCompanyMergeStore(tx),
            priority_of=PRIORITY.__getitem__,
            events=Recorder(),
            actor="steward-1",
            reason="same VAT id",
            now=T0,
        )
    )

    async def conflicts() -> dict[str, tuple[str, ...]]:
        found = await graph.read(lambda tx: GraphCompanyStore(tx).parent_conflicts(200))
        return {c.company.id: c.parents_named for c in found}

    await ingest(graph, "crm", replace(shop, city="Köln"))  # the sources disagree
    assert (await conflicts())[company.company_id] == (first.company_id, second.company_id)
    await ingest(graph, "crm", replace(shop, city="Bonn", parent_vat_id=first_vat))
    assert company.company_id not in await conflicts()  # they agree again


async def test_a_batch_of_merges_skips_what_a_single_merge_refuses(graph: GraphClient) -> None:
    """``merge_companies_many``: in order, each to the state the earlier ones left; a
    merge a single one would refuse is skipped with its error, the rest are made."""
    first, second, third = await ingest(
        graph,
        "crm",
        *(RawCompanyRecord(sid(), name=f"Kessel Stapel {n} GmbH", vat_id=vat_id()) for n in "abc"),
    )
    a, b, c = first.company_id, second.company_id, third.company_id
    events = Recorder()
    outcomes = await graph.write(
        lambda tx: merge_companies_many(
            [
                CompanyMergeRequest(a, b, "same firm"),
                CompanyMergeRequest(a, b, "again"),  # b is merged away by now
                CompanyMergeRequest(c, a, "same firm"),  # a chain: a, with b, into c
            ],
            store=GraphCompanyMergeStore(tx),
            priority_of={"crm": 1}.__getitem__,
            events=events,
            actor="service:matching-engine",
            now=T0,
        )
    )
    assert [o.merge is not None for o in outcomes] == [True, False, True]
    assert isinstance(outcomes[1].error, Conflict)
    assert [name for name, _ in events.events] == [Event.COMPANY_MERGED] * 2
    found = await tree(graph, [a, b, c])
    assert (found[b]["mergedInto"], found[a]["mergedInto"]) == ([a], [c])
    assert len(found[c]["records"]) == 3  # every record with the survivor of the chain
