"""Both ways to merge, for tests that must hold for each: one ``merging.merge`` per
transaction (the steward's mutation), and ``bulk_merging.merge_many`` (the batch job's)
with a batch of one. A bulk item that is skipped raises its error, as a single merge
does, so the same assertions apply to both."""

from __future__ import annotations

from datetime import datetime

from mdm_common.contracts import EventRecorder
from mdm_common.graph import GraphClient
from mdm_profile.adapters.bulk_merge_store import GraphBulkMergeStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.domain import bulk_merging, merging
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.sources import SourceRegistry

PATHS = ("single", "bulk")


async def merge_by(
    path: str,
    graph: GraphClient,
    survivor: str,
    merged: str,
    *,
    sources: SourceRegistry,
    events: EventRecorder,
    actor: str,
    reason: str,
    now: datetime,
    merge_id: str | None = None,
) -> merging.Merge:
    if path == "single":
        record, _ = await graph.write(
            lambda tx: merging.merge(
                survivor,
                merged,
                store=GraphMergeStore(tx),
                households=GraphHouseholdStore(tx),
                sources=sources,
                rules=DEFAULT_RULES,
                events=events,
                actor=actor,
                reason=reason,
                now=now,
                merge_id=merge_id,
            )
        )
        return record
    request = bulk_merging.MergeRequest(survivor, merged, merge_id, reason)
    [outcome] = await graph.write(
        lambda tx: bulk_merging.merge_many(
            [request],
            store=GraphBulkMergeStore(tx),
            households=GraphHouseholdStore(tx),
            sources=sources,
            rules=DEFAULT_RULES,
            events=events,
            actor=actor,
            now=now,
        )
    )
    if outcome.error is not None:
        raise outcome.error
    assert outcome.merge is not None
    return outcome.merge
