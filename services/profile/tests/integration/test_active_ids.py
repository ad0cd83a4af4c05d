"""Every person not merged away, page after page in id order (``activePersonIds``), on
the real graph server: the pages are read in windows of the id range
(``mdm_common.keyset``), and must be those of one ordered statement."""

from __future__ import annotations

import uuid
from collections.abc import Callable

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


async def _page(graph: GraphClient, after: str, limit: int) -> list[str]:
    return await graph.read(lambda tx: GraphPersonStore(tx).active_ids(after=after, limit=limit))


async def test_pages_in_id_order_leave_out_persons_merged_away(graph: GraphClient) -> None:
    ids = [f"{edge}-{uuid.uuid4()}" for edge in EDGES] + [str(uuid.uuid4()) for _ in range(40)]
    merged = set(ids[::7])
    await graph.write(
        lambda tx: tx.run(
            "test.persons",
            f"UNWIND $rows AS row CREATE (p:{PERSON} {{id: row.id}}) SET p.status = row.status",
            rows=[{"id": i, "status": "MERGED" if i in merged else None} for i in ids],
        )
    )
    active = sorted(set(ids) - merged)

    read: list[str] = []
    while page := await _page(graph, read[-1] if read else "", 3):
        read += page
    assert read == active
    assert await _page(graph, active[9], 5) == active[10:15]
    assert await _page(graph, "0", 100) == [i for i in active if i > "0"]
    assert await _page(graph, active[-1], 5) == []
