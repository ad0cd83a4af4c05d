"""Fixtures shared by the services' own tests and the end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_matching.adapters.graph_store import CURRENT_MODEL, MODEL


@pytest.fixture
async def default_model(graph_for: Callable[[str], GraphClient]) -> AsyncIterator[None]:
    """The engine's documented default parameters while a test runs: a model trained
    by an earlier test (test_matching) on the few persons of the test data is set
    aside and put back afterwards."""
    graph = graph_for("matching")

    async def set_aside(tx: Any) -> dict[str, Any] | None:
        rows = await tx.run("test.model", f"MATCH (m:{MODEL}) RETURN m {{.*}} AS m")
        await tx.run("test.model_aside", f"MATCH (m:{MODEL}) DELETE m")
        return dict(rows[0]["m"]) if rows else None

    trained = await graph.write(set_aside)
    yield
    if trained is not None:
        await graph.write(lambda tx: tx.run(
            "test.model_back", f"MERGE (m:{MODEL} {{name: $name}}) SET m += $props",
            name=CURRENT_MODEL, props=trained))  # fmt: skip
