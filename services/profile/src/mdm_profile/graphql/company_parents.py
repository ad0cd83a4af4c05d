"""Stewards and company parents: the companies whose sources name different parents,
and a steward's decision, which stands against every source from then on."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.errors import InvalidInput
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.domain import companies
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.organisations import Company
from mdm_profile.graphql.types import MERGE_ROLES

Info = strawberry.Info[ProfileContext, None]
MAX_CONFLICTS = 200


@strawberry.type(description="A company whose sources name different parents.")
class CompanyParentConflict:
    company: Company
    parents_named: list[Company] = strawberry.field(
        description="The parents its sources name, the one linked (most trusted) first."
    )


@strawberry.type
class CompanyParentQuery:
    @strawberry.field(
        description="Companies whose sources name different parents, by name: the most "
        "trusted source's parent is linked until a steward decides (decideParentCompany). "
        "Role: steward."
    )
    async def company_parent_conflicts(
        self, info: Info, first: int = 50
    ) -> list[CompanyParentConflict]:
        ctx = info.context
        ctx.require(*MERGE_ROLES)
        if not 1 <= first <= MAX_CONFLICTS:
            raise InvalidInput(f"first must be between 1 and {MAX_CONFLICTS}.", field="first")
        found = await ctx.graph.read(lambda tx: GraphCompanyStore(tx).parent_conflicts(first))
        ids = sorted({p for conflict in found for p in conflict.parents_named})
        # By the id asked: a parent merged away since is the company it is part of now.
        by_id = {
            asked: company
            for asked, company in zip(ids, await ctx.companies.load_many(ids), strict=True)
            if company is not None
        }
        return [
            CompanyParentConflict(
                company=Company.from_model(conflict.company),
                parents_named=[
                    Company.from_model(by_id[p]) for p in conflict.parents_named if p in by_id
                ],
            )
            for conflict in found
        ]


@strawberry.type
class CompanyParentMutation:
    @strawberry.mutation(
        description="A steward's decision on a company's parent (parentId null: it has "
        "none), with the reason: made like setParentCompany (cycles and depth refused), "
        "it ends the company's parent conflict and no source's reference moves the parent "
        "any more. Role: steward."
    )
    async def decide_parent_company(
        self,
        info: Info,
        company_id: strawberry.ID,
        note: str,
        # Null says "no parent"; left out it says nothing (as for setParentCompany).
        parent_id: strawberry.ID | None = strawberry.UNSET,
    ) -> Company:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        if parent_id is strawberry.UNSET:
            raise InvalidInput(
                "parentId is required: the parent's id, or null for none.", field="parentId"
            )
        now = datetime.now(UTC)
        company = await ctx.unit_of_work.write(
            lambda tx, events: companies.decide_parent(
                str(company_id),
                str(parent_id) if parent_id is not None else None,
                actor=principal.subject,
                note=note,
                store=GraphCompanyStore(tx),
                events=events,
                now=now,
            )
        )
        ctx.forget_reads()
        return Company.from_model(company)
