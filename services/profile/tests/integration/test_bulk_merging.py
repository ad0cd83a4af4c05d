"""Many merges in one transaction: clusters, chains, stale items, replay, exact unmerge.

What holds for a single merge is tested for both paths in ``test_merging.py``; these
are the cases only a batch has.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mdm_common.contracts import Event
from mdm_common.graph import GraphClient
from mdm_profile.adapters import company_store, graph_store, household_store, merge_store
from mdm_profile.adapters.bulk_merge_store import GraphBulkMergeStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.domain.bulk_merging import MergeOutcome, MergeRequest, SkipReason, merge_many
from mdm_profile.domain.golden import DEFAULT_RULES

from .events import Recorder
from .merges import merge_by
from .test_merging import SOURCES, T0, do_unmerge, person_from, read, relate, subgraph

AT = T0 + timedelta(hours=1)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(
        (*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA, *company_store.SCHEMA)
    )
    return client


async def bulk(
    graph: GraphClient, requests: list[MergeRequest], events: Recorder | None = None
) -> list[MergeOutcome]:
    return await graph.write(
        lambda tx: merge_many(
            requests,
            store=GraphBulkMergeStore(tx),
            households=GraphHouseholdStore(tx),
            sources=SOURCES,
            rules=DEFAULT_RULES,
            events=events or Recorder(),
            actor="engine",
            now=AT,
        )
    )


def golden(person: Any) -> Any:
    """A golden record without what differs between two equal persons: ids, times."""
    return (
        person.given_name,
        person.family_name,
        person.email,
        person.phone,
        person.address,
        person.birth_date,
        person.titles,
        person.language,
        sorted((k, v.source) for k, v in person.lineage.items()),
    )


# Each value has one source, so no tie between records decides the golden record.
CLUSTER = [
    {
        "full_name": "Dr. Clara Bündel",
        "email": "clara@crm.example",
        "postal_code": "10115",
        "city": "Berlin",
        "street": "Hauptstr. 5",
    },
    {"full_name": "Dr. Clara Bündel", "phone": "0171 1112223"},
    {"full_name": "Dr. Clara Bündel", "language": "de"},
    {"full_name": "Dr. Clara Bündel", "birth_date": "1980-04-03"},
]


async def cluster(graph: GraphClient, tag: str) -> list[str]:
    ids = []
    for n, fields in enumerate(CLUSTER):
        street = fields.get("street")
        more = {"street": f"{street} {tag}"} if street else {}
        ids.append(await person_from(graph, ("crm", "shop")[n % 2], **(fields | more)))
    return ids


async def test_a_cluster_in_one_batch_makes_the_golden_record_of_single_merges(
    graph: GraphClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    one_by_one, together = await cluster(graph, tag), await cluster(graph, tag)
    for merged in one_by_one[1:]:
        await merge_by(
            "single",
            graph,
            one_by_one[0],
            merged,
            sources=SOURCES,
            events=Recorder(),
            actor="engine",
            reason="",
            now=AT,
        )
    events = Recorder()
    outcomes = await bulk(graph, [MergeRequest(together[0], m) for m in together[1:]], events)

    assert [o.error for o in outcomes] == [None, None, None]
    assert golden(await read(graph, together[0])) == golden(await read(graph, one_by_one[0]))
    assert sorted((await read(graph, together[0])).merged_from) == sorted(together[1:])
    assert events.events == [
        (
            Event.PERSON_MERGED,
            {"survivor_id": together[0], "merged_id": m, "merge_id": o.merge.id if o.merge else ""},
        )
        for m, o in zip(together[1:], outcomes, strict=True)
    ]


async def test_unmerging_a_cluster_last_first_restores_each_step_exactly(
    graph: GraphClient,
) -> None:
    a, b, c, d = await cluster(graph, uuid.uuid4().hex[:6])
    friend = await person_from(graph, "crm", full_name="Fritz Bündelfreund")
    # Relations within the batch and from outside it move with each merge.
    await relate(graph, b, c, "KNOWS")
    await relate(graph, friend, c, "KNOWS")
    await relate(graph, d, a, "KNOWS")
    everyone = [a, b, c, d, friend]
    before = await subgraph(graph, *everyone)

    outcomes = await bulk(graph, [MergeRequest(a, b), MergeRequest(a, c), MergeRequest(a, d)])
    merges = [o.merge for o in outcomes]
    assert all(m is not None for m in merges)
    for m in reversed(merges):
        assert m is not None
        await do_unmerge(graph, m.id)
    assert await subgraph(graph, *everyone) == before


async def test_a_chain_in_one_batch_resolves_in_one_step_and_unwinds(graph: GraphClient) -> None:
    a, b, c = [await person_from(graph, "crm", full_name=f"Test Bündelkette{i}") for i in range(3)]
    before = await subgraph(graph, a, b, c)
    first, second = await bulk(graph, [MergeRequest(b, c), MergeRequest(a, b)])
    assert (await read(graph, c)).id == a
    assert second.merge is not None
    assert second.merge.redirected == (c,)

    assert first.merge is not None
    await do_unmerge(graph, second.merge.id)
    assert (await read(graph, c)).id == b
    await do_unmerge(graph, first.merge.id)
    assert await subgraph(graph, a, b, c) == before


async def test_stale_items_are_skipped_with_their_reason_and_the_rest_merges(
    graph: GraphClient,
) -> None:
    a, b, c, d, e, f = [
        await person_from(graph, "crm", full_name=f"Test Veraltet{i}") for i in range(6)
    ]
    await bulk(graph, [MergeRequest(a, b)])  # merged meanwhile, by someone else
    await graph.write(
        lambda tx: tx.run(
            "test.restrict", "MATCH (p:Person {id: $id}) SET p.processingRestricted = true", id=e
        )
    )
    taken = uuid.uuid4().hex
    await bulk(graph, [MergeRequest(c, d, taken)])
    events = Recorder()

    outcomes = await bulk(
        graph,
        [
            MergeRequest(c, b),  # b was merged into a
            MergeRequest(c, str(uuid.uuid4())),  # no such person
            MergeRequest(c, c),  # with itself
            MergeRequest(f, e),  # e is restricted
            MergeRequest(f, a, taken),  # the id of another pair's merge
            MergeRequest(f, a),  # still merges: one stale item does not stop the batch
        ],
        events,
    )

    assert [o.skip_reason for o in outcomes] == [
        SkipReason.MERGED_ALREADY,
        SkipReason.NOT_FOUND,
        SkipReason.INVALID,
        SkipReason.RESTRICTED,
        SkipReason.MERGE_ID_REUSED,
        None,
    ]
    assert [o.merge is not None for o in outcomes] == [False] * 5 + [True]
    assert [e[1]["merged_id"] for e in events.events] == [a]
    assert (await read(graph, b)).id == f  # b went with a, its survivor
    assert sorted((await read(graph, f)).merged_from) == sorted([a, b])


async def test_a_batch_asked_again_returns_its_first_merges_and_changes_nothing(
    graph: GraphClient,
) -> None:
    a, b, c = [await person_from(graph, "crm", full_name=f"Test Wieder{i}") for i in range(3)]
    requests = [MergeRequest(a, b, uuid.uuid4().hex), MergeRequest(a, c, uuid.uuid4().hex)]
    first = await bulk(graph, requests)
    after = await subgraph(graph, a, b, c)
    events = Recorder()

    again = await bulk(graph, [*requests, MergeRequest(a, b, requests[0].merge_id)], events)

    assert [o.replayed for o in again] == [True, True, True]
    assert [o.merge for o in again] == [first[0].merge, first[1].merge, first[0].merge]
    assert events.events == []
    assert await subgraph(graph, a, b, c) == after
