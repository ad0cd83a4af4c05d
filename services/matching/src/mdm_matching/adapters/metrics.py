"""Matching's own gauges for ``/metrics`` (mdm_common.metrics)."""

from __future__ import annotations

from mdm_common.graph import GraphClient
from mdm_common.metrics import Source, Values
from mdm_matching.adapters.review_store import GraphReviewStore


def review_queue_size(graph: GraphClient) -> Source:
    """Unresolved review tasks by status: the stewards' backlog."""

    async def read() -> Values:
        found = await graph.read(lambda tx: GraphReviewStore(tx).summary(assignee=None))
        return {(("status", "open"),): found.open, (("status", "deferred"),): found.deferred}

    return read
