"""Merge and unmerge of companies in the profile subgraph (``domain/company_merging.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.scalars import JSON

from mdm_common.errors import NotFound
from mdm_profile.adapters.company_merge_store import GraphCompanyMergeStore
from mdm_profile.domain.company_merging import (
    MAX_BULK,
    CompanyMerge,
    CompanyMergeOutcome,
    CompanyMergeRequest,
    merge_companies,
    merge_companies_many,
    unmerge_companies,
)
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.organisations import Company
from mdm_profile.graphql.types import MERGE_ROLES

Info = strawberry.Info[ProfileContext, None]


@strawberry.type(description="A merge of two companies, as audited.")
class CompanyMergeInfo:
    id: strawberry.ID
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    at: datetime
    actor: str
    reason: str
    state: str = strawberry.field(description="ACTIVE, or UNDONE after unmergeCompanies.")

    @classmethod
    def from_model(cls, merge: CompanyMerge) -> CompanyMergeInfo:
        return cls(
            id=strawberry.ID(merge.id),
            survivor_id=strawberry.ID(merge.survivor_id),
            merged_id=strawberry.ID(merge.merged_id),
            at=merge.at,
            actor=merge.actor,
            reason=merge.reason,
            state=merge.state.value,
        )


@strawberry.type
class CompanyMergeResult:
    merge: CompanyMergeInfo
    survivor: Company


@strawberry.type
class CompanyUnmergeResult:
    merge: CompanyMergeInfo
    survivor: Company
    restored: Company


async def _company(info: Info, company_id: str) -> Company:
    found = await info.context.companies.load(company_id)
    if found is None:  # written in the transaction that just committed
        raise NotFound(f"No company with id {company_id}.", field="id")
    return Company.from_model(found)


@strawberry.input(description="One company merge of a batch.")
class CompanyMergeInput:
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    reason: str = ""


@strawberry.type(description="The answer for one merge of a batch, in the batch's order.")
class CompanyMergeItem:
    index: int
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    merged: bool
    merge_id: strawberry.ID | None
    code: str | None = strawberry.field(
        description="Skipped: the error code a single mergeCompanies would give."
    )
    message: str | None
    details: JSON | None = strawberry.field(description="Skipped: its extensions (reason).")


@strawberry.type
class CompanyMergeBulkResult:
    merged: int
    skipped: int
    results: list[CompanyMergeItem]


def _item(index: int, outcome: CompanyMergeOutcome) -> CompanyMergeItem:
    request, error = outcome.request, outcome.error
    return CompanyMergeItem(
        index=index,
        survivor_id=strawberry.ID(request.survivor_id),
        merged_id=strawberry.ID(request.merged_id),
        merged=outcome.merge is not None,
        merge_id=strawberry.ID(outcome.merge.id) if outcome.merge is not None else None,
        code=error.code.value if error is not None else None,
        message=error.message if error is not None else None,
        details=JSON(error.details) if error is not None and error.details else None,
    )


@strawberry.type
class CompanyMergeMutation:
    @strawberry.mutation(
        description=f"Many company merges in one transaction (at most {MAX_BULK}), in order, "
        "each as mergeCompanies makes it; one that cannot be made is skipped with its error "
        "and the others are made (an automatic first load merges thousands). Role: steward."
    )
    async def merge_companies_bulk(
        self, info: Info, merges: list[CompanyMergeInput]
    ) -> CompanyMergeBulkResult:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        requests = [
            CompanyMergeRequest(str(m.survivor_id), str(m.merged_id), m.reason) for m in merges
        ]
        outcomes = await ctx.unit_of_work.write(
            lambda tx, events: merge_companies_many(
                requests,
                store=GraphCompanyMergeStore(tx),
                priority_of=ctx.sources.priority_of,
                events=events,
                actor=principal.subject,
                now=now,
            )
        )
        ctx.forget_reads()
        items = [_item(i, o) for i, o in enumerate(outcomes)]
        done = sum(1 for item in items if item.merged)
        return CompanyMergeBulkResult(merged=done, skipped=len(items) - done, results=items)

    @strawberry.mutation(
        description="Merge one company into another in one transaction: its source records, "
        "subsidiaries and employees move to the survivor, whose golden record is built again; "
        "the survivor keeps its parent (or takes the merged company's). The merged id keeps "
        "resolving to the survivor. CONFLICT when one company is above the other by more than "
        "one level (reason HIERARCHY_CYCLE), the tree would be too deep (HIERARCHY_TOO_DEEP), "
        "or one was merged already; BAD_USER_INPUT for a company created by hand (no source "
        "records). Role: steward."
    )
    async def merge_companies(
        self, info: Info, survivor_id: strawberry.ID, merged_id: strawberry.ID, reason: str = ""
    ) -> CompanyMergeResult:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        record, _ = await ctx.unit_of_work.write(
            lambda tx, events: merge_companies(
                str(survivor_id),
                str(merged_id),
                store=GraphCompanyMergeStore(tx),
                priority_of=ctx.sources.priority_of,
                events=events,
                actor=principal.subject,
                reason=reason,
                now=now,
            )
        )
        ctx.forget_reads()
        return CompanyMergeResult(
            merge=CompanyMergeInfo.from_model(record),
            survivor=await _company(info, record.survivor_id),
        )

    @strawberry.mutation(
        description="Undo a company merge: the merged company back with its records, parent, "
        "subsidiaries and employees; the survivor keeps what it gained since. CONFLICT when "
        "undone already or the survivor was merged since. Role: steward."
    )
    async def unmerge_companies(self, info: Info, merge_id: strawberry.ID) -> CompanyUnmergeResult:
        ctx = info.context
        ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        record, _ = await ctx.unit_of_work.write(
            lambda tx, events: unmerge_companies(
                str(merge_id),
                store=GraphCompanyMergeStore(tx),
                priority_of=ctx.sources.priority_of,
                events=events,
                now=now,
            )
        )
        ctx.forget_reads()
        return CompanyUnmergeResult(
            merge=CompanyMergeInfo.from_model(record),
            survivor=await _company(info, record.survivor_id),
            restored=await _company(info, record.merged_id),
        )
