"""Fixtures of the matching integration tests (the real graph server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from mdm_common.graph import GraphClient, Transaction
from mdm_matching.adapters.graph_store import REVIEW_TASK
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain import rematch


@pytest.fixture
async def rematch_jobs(graph_for: Callable[[str], GraphClient]) -> AsyncIterator[list[str]]:
    """Ids of the re-matching jobs a test creates. They end FAILED afterwards: one job
    at a time may be active, and the tests after this one (end to end too) start
    their own on the same database."""
    ids: list[str] = []
    yield ids
    transactions = GraphTransactions(graph_for("matching"))
    for job_id in ids:
        await rematch.fail(job_id, "test over", transactions=transactions)


@pytest.fixture(autouse=True)
async def _no_orphan_review_tasks(
    graph_for: Callable[[str], GraphClient],
) -> AsyncIterator[None]:
    """These tests open review tasks between made-up person ids straight in matching's
    database; they are removed afterwards, so that a steward's whole queue in the
    later end-to-end and browser tests holds only persons the profile knows."""
    graph = graph_for("matching")

    async def task_ids(tx: Transaction) -> list[dict[str, Any]]:
        return await tx.run("test.task_ids", f"MATCH (t:{REVIEW_TASK}) RETURN t.id AS id")

    before = {row["id"] for row in await graph.read(task_ids)}
    yield
    made = [row["id"] for row in await graph.read(task_ids) if row["id"] not in before]
    if made:
        await graph.write(
            lambda tx: tx.run(
                "test.remove_tasks",
                f"MATCH (t:{REVIEW_TASK}) WHERE t.id IN $ids DETACH DELETE t",
                ids=made,
            )
        )
