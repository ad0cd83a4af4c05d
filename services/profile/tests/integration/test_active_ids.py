"""Every person not merged away, page after page in id order (``activePersonIds``), on
the real graph server: the pages are read in windows of the id range
(``mdm_common.keyset``), and must be those of one ordered statement. The database is
the one the other tests share: the test compares with that statement whatever else is
stored, and takes its bare persons away again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from mdm_common.graph import GraphClient
from mdm_profile.adapters import graph_store
from mdm_profile.adapters.graph_store import PERSON, GraphPersonStore

# Ids at the windows' edges (two characters each), and random ones.
EDGES = ["00", "0f", "0g", "10", "1", "7f", "80", "8000", "a", "ff", "fff", "z"]


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("profile")
    await client.apply_schema(graph_store.SCHEMA)
    return client


@pytest.fixture
async def ids(graph: GraphClient) -> AsyncIterator[list[str]]:
    """Bare persons (an id and a status only), every seventh merged away; removed after
    the test, since no other reader expects persons without their data."""
    made = [f"{edge}-{uuid.uuid4()}" for edge in EDGES] + [str(uuid.uuid4()) for _ in range(40)]
    await graph.write(
        lambda tx: tx.run(
            "test.persons",
            f"UNWIND $rows AS row CREATE (p:{PERSON} {{id: row.id}}) SET p.status = row.status",
            rows=[
                {"id": i, "status": "MERGED" if n % 7 == 0 else None} for n, i in enumerate(made)
            ],
        )
    )
    yield made
    await graph.write(
        lambda tx: tx.run(
            "test.persons_removed", f"MATCH (p:{PERSON}) WHERE p.id IN $ids DELETE p", ids=made
        )
    )


async def _page(graph: GraphClient, after: str, limit: int) -> list[str]:
    return await graph.read(lambda tx: GraphPersonStore(tx).active_ids(after=after, limit=limit))


async def _one_statement(graph: GraphClient, after: str, limit: int) -> list[str]:
    rows = await graph.read(
        lambda tx: tx.run(
            "test.active_ids",
            f"MATCH (p:{PERSON}) WHERE p.status IS NULL AND p.id > $after "
            "RETURN p.id AS id ORDER BY p.id LIMIT $limit",
            after=after,
            limit=limit,
        )
    )
    return [row["id"] for row in rows]


async def test_pages_in_id_order_leave_out_persons_merged_away(
    graph: GraphClient, ids: list[str]
) -> None:
    read: list[str] = []
    while page := await _page(graph, read[-1] if read else "", 3):
        read += page
    assert read == await _one_statement(graph, "", 1_000_000)
    ours = set(ids)
    assert [i for i in read if i in ours] == sorted(i for n, i in enumerate(ids) if n % 7)
    for after, limit in [(sorted(ids)[9], 5), ("0", 100), ("", 1), (read[-1], 5), ("0g", 4)]:
        assert await _page(graph, after, limit) == await _one_statement(graph, after, limit)
    assert await _page(graph, read[-1], 5) == []
