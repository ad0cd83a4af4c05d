"""Purposes the shared end-to-end documents (queries.py) refer to, registered once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_infra import demo
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform
from mdm_matching.adapters.graph_store import CURRENT_MODEL, MODEL

PROFILING = {
    "code": "profiling", "name": "Personalised offers",
    "description": "Offers on our website chosen from what a customer bought.",
    "legalBasis": "CONSENT", "channels": ["PERSONALISED_WEB"],
    "dataCategories": ["purchases"], "retentionDays": 365, "directMarketing": True,
}  # fmt: skip


@pytest.fixture(scope="session")
def platform(platform: Platform, token_for: Callable[..., str]) -> Platform:
    """The platform of mdm_infra.testing, with the purposes queries.py uses registered."""
    client = GatewayClient(platform.config.gateway_url, token_for("compliance"))
    try:
        demo.ensure_newsletter(client)
        client.execute(demo.REGISTER_PURPOSE, {"input": PROFILING})
        client.execute(demo.PUBLISH_NOTICE, {"input": {
            "purpose": "profiling", "language": "de", "text": "Ja, zeigt mir passende Angebote.",
        }})  # fmt: skip
    finally:
        client.close()
    return platform


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
