"""``mergePersonsBulk``: many merges in one transaction, for the batch re-matching job."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import strawberry

from mdm_common import metrics
from mdm_profile.adapters.bulk_merge_store import GraphBulkMergeStore
from mdm_profile.domain import bulk_merging
from mdm_profile.domain.bulk_merging import MAX_BULK, MergeOutcome, MergeRequest
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.types import MERGE_ROLES

Info = strawberry.Info[ProfileContext, None]

SkipReason = strawberry.enum(bulk_merging.SkipReason, name="MergeSkipReason")


@strawberry.enum(name="BulkMergeStatus")
class BulkMergeStatus(StrEnum):
    MERGED = "MERGED"
    REPLAYED = "REPLAYED"  # the merge id was used before for this pair: its first merge
    SKIPPED = "SKIPPED"


@strawberry.input(description="One merge of a batch.")
class BulkMergeInput:
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    merge_id: strawberry.ID | None = strawberry.field(
        default=None, description="Makes the item idempotent, as for mergePersons."
    )
    reason: str = ""


@strawberry.type(description="Why an item was not merged; the rest of the batch was.")
class MergeSkip:
    reason: SkipReason  # type: ignore[valid-type]
    code: str = strawberry.field(description="The error code a single mergePersons would give.")
    field: str | None
    message: str


@strawberry.type(description="The answer for one merge of a batch, in the batch's order.")
class BulkMergeItem:
    index: int
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    status: BulkMergeStatus
    merge_id: strawberry.ID | None
    skip: MergeSkip | None


@strawberry.type
class BulkMergeResult:
    merged: int
    replayed: int
    skipped: int
    results: list[BulkMergeItem]


def _item(index: int, outcome: MergeOutcome) -> BulkMergeItem:
    request, error = outcome.request, outcome.error
    status = (
        BulkMergeStatus.SKIPPED
        if error is not None
        else BulkMergeStatus.REPLAYED
        if outcome.replayed
        else BulkMergeStatus.MERGED
    )
    skip = None
    if error is not None and outcome.skip_reason is not None:
        skip = MergeSkip(
            reason=outcome.skip_reason,
            code=error.code.value,
            field=error.field,
            message=error.message,
        )
    return BulkMergeItem(
        index=index,
        survivor_id=strawberry.ID(request.survivor_id),
        merged_id=strawberry.ID(request.merged_id),
        status=status,
        merge_id=strawberry.ID(outcome.merge.id) if outcome.merge is not None else None,
        skip=skip,
    )


@strawberry.type
class BulkMergeMutation:
    @strawberry.mutation(
        description=f"Merge up to {MAX_BULK} pairs in one transaction, in the order given "
        "(several persons into one survivor, or a chain, apply one after another). Each "
        "merge is what mergePersons makes: records, links, golden record, a snapshot for "
        "unmergePersons, one event. An item that cannot be merged (merged away already, "
        "not found, erased, restricted, its merge id used for another pair) is SKIPPED "
        "with its reason and the rest merges; an item whose merge id was used for the "
        "same pair is REPLAYED (the first merge, nothing changed). Role: steward."
    )
    async def merge_persons_bulk(self, info: Info, merges: list[BulkMergeInput]) -> BulkMergeResult:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        requests = [
            MergeRequest(
                str(m.survivor_id),
                str(m.merged_id),
                str(m.merge_id) if m.merge_id is not None else None,
                m.reason,
            )
            for m in merges
        ]
        now = datetime.now(UTC)
        outcomes = await ctx.unit_of_work.write(
            lambda tx, events: bulk_merging.merge_many(
                requests,
                store=GraphBulkMergeStore(tx),
                households=ctx.household_store(tx),
                sources=ctx.sources,
                rules=ctx.rules,
                events=events,
                actor=principal.subject,
                now=now,
            )
        )
        ctx.forget_reads()
        items = [_item(i, o) for i, o in enumerate(outcomes)]
        made = sum(item.status is BulkMergeStatus.MERGED for item in items)
        if made:
            metrics.merges.add(made, {"kind": "merge"})
        return BulkMergeResult(
            merged=made,
            replayed=sum(item.status is BulkMergeStatus.REPLAYED for item in items),
            skipped=sum(item.status is BulkMergeStatus.SKIPPED for item in items),
            results=items,
        )
