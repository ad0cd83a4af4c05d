"""Fixtures of the matching integration tests (the real graph server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from mdm_common.graph import GraphClient
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
