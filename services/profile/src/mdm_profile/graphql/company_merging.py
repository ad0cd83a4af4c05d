"""Merge and unmerge of companies in the profile subgraph (``domain/company_merging.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.errors import NotFound
from mdm_profile.adapters.company_merge_store import GraphCompanyMergeStore
from mdm_profile.domain.company_merging import (
    CompanyMerge,
    merge_companies,
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


@strawberry.type
class CompanyMergeMutation:
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
