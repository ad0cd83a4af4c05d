"""GraphClient against the real embedded Bolt server."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from neo4j.exceptions import TransientError

from mdm_common.errors import Conflict, Unavailable
from mdm_common.graph import GraphClient, Transaction
from mdm_infra.ports import free_port

LABEL = "GraphClientProbe"


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    client = graph_for("matching")
    await client.apply_schema(
        [f"CREATE CONSTRAINT probe_id IF NOT EXISTS FOR (n:{LABEL}) REQUIRE n.id IS UNIQUE"]
    )
    return client


async def create(tx: Transaction, node_id: str) -> None:
    await tx.run("probe.create", f"CREATE (n:{LABEL} {{id: $id}})", id=node_id)


async def count(graph: GraphClient, node_id: str) -> int:
    rows = await graph.read(
        lambda tx: tx.run(
            "probe.count", f"MATCH (n:{LABEL} {{id: $id}}) RETURN count(n) AS n", id=node_id
        )
    )
    return int(rows[0]["n"])


class TestTransactions:
    async def test_write_then_read(self, graph: GraphClient) -> None:
        node_id = str(uuid.uuid4())
        await graph.write(lambda tx: create(tx, node_id))
        assert await count(graph, node_id) == 1

    async def test_duplicate_key_is_a_conflict(self, graph: GraphClient) -> None:
        node_id = str(uuid.uuid4())
        await graph.write(lambda tx: create(tx, node_id))
        with pytest.raises(Conflict):
            await graph.write(lambda tx: create(tx, node_id))
        assert await count(graph, node_id) == 1

    async def test_a_failing_transaction_writes_nothing(self, graph: GraphClient) -> None:
        node_id = str(uuid.uuid4())

        async def half_then_fail(tx: Transaction) -> None:
            await create(tx, node_id)
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await graph.write(half_then_fail)
        assert await count(graph, node_id) == 0

    async def test_conflicts_retried_in_vain_are_unavailable_and_write_nothing(
        self, graph: GraphClient
    ) -> None:
        node_id, attempts = str(uuid.uuid4()), 0

        async def always_conflicting(tx: Transaction) -> None:
            nonlocal attempts
            attempts += 1
            await create(tx, node_id)
            # What the server answers when concurrent writers keep colliding.
            raise TransientError("Neo.TransientError.Transaction.DeadlockDetected")

        with pytest.raises(Unavailable, match="nothing was written"):
            await graph.write(always_conflicting)
        assert attempts > 1  # the driver retried before giving up
        assert await count(graph, node_id) == 0

    async def test_schema_statements_are_idempotent(self, graph: GraphClient) -> None:
        statement = (
            f"CREATE CONSTRAINT probe_id IF NOT EXISTS FOR (n:{LABEL}) REQUIRE n.id IS UNIQUE"
        )
        await graph.apply_schema([statement, statement])


async def test_unreachable_server_is_unavailable() -> None:
    client = GraphClient(
        uri=f"bolt://127.0.0.1:{free_port()}", user="root", password="x", database="x",
        connect_timeout_s=1,
    )  # fmt: skip
    try:
        with pytest.raises(Unavailable):
            await client.ping()
    finally:
        await client.close()
