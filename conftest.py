"""Fixtures shared by the services' own tests and the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_infra.platform import Platform
from mdm_matching.adapters.graph_store import CURRENT_MODEL, MODEL


async def _set_model_aside(graph: GraphClient) -> dict[str, Any] | None:
    async def set_aside(tx: Any) -> dict[str, Any] | None:
        rows = await tx.run("test.model", f"MATCH (m:{MODEL}) RETURN m {{.*}} AS m")
        await tx.run("test.model_aside", f"MATCH (m:{MODEL}) DELETE m")
        return dict(rows[0]["m"]) if rows else None

    return await graph.write(set_aside)


async def _put_model_back(graph: GraphClient, trained: dict[str, Any] | None) -> None:
    # A model the test made (a batch job trains one, a recalibration stores one) goes.
    await graph.write(
        lambda tx: tx.run(
            "test.model_made", f"MATCH (m:{MODEL} {{name: $name}}) DELETE m", name=CURRENT_MODEL
        )
    )
    if trained is not None:
        await graph.write(
            lambda tx: tx.run(
                "test.model_back",
                f"MERGE (m:{MODEL} {{name: $name}}) SET m += $props",
                name=CURRENT_MODEL,
                props=trained,
            )
        )


@pytest.fixture
async def default_model(graph_for: Callable[[str], GraphClient]) -> AsyncIterator[None]:
    """The engine's documented default parameters while a test runs: a model trained
    by an earlier test (test_matching) on the few persons of the test data is set
    aside and put back afterwards."""
    graph = graph_for("matching")
    trained = await _set_model_aside(graph)
    yield
    await _put_model_back(graph, trained)


@pytest.fixture
def default_model_sync(platform: Platform) -> Iterator[None]:
    """``default_model`` for tests that cannot use async fixtures (the browser tests:
    Playwright's sync API runs an event loop of its own); the graph is reached from
    a thread of its own."""
    config = platform.config

    def run(work: Callable[[GraphClient], Any]) -> Any:
        async def with_client() -> Any:
            graph = GraphClient(
                uri=config.graph.bolt_uri,
                user="root",
                password=config.secrets.graph_password,
                database="matching",
            )
            try:
                return await work(graph)
            finally:
                await graph.close()

        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, with_client()).result()

    trained = run(_set_model_aside)
    yield
    run(lambda graph: _put_model_back(graph, trained))
