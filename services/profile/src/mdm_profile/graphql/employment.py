"""Stewards and people at companies: the employers a source record may mean, and a
steward's choice among them (``domain/employment.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.errors import InvalidInput
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.domain import employment
from mdm_profile.domain.employment import EmploymentProposal as ProposalModel
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.organisations import Company
from mdm_profile.graphql.types import MERGE_ROLES, Person

Info = strawberry.Info[ProfileContext, None]
MAX_PROPOSALS = 200


@strawberry.type(
    description="A source record whose employer is unsure (several companies share its "
    "name or e-mail domain, or name and domain point at different companies): a steward "
    "chooses one, or none."
)
class EmploymentProposal:
    id: strawberry.ID
    person_id: strawberry.ID
    record_source: str
    record_source_id: str
    company_ids: list[strawberry.ID]
    via: str = strawberry.field(
        description="The clues that found the companies: COMPANY_NAME, EMAIL_DOMAIN or "
        "NAME_AND_DOMAIN."
    )
    status: str = strawberry.field(
        description="OPEN; DECIDED by a steward; SETTLED once the record's employer "
        "became sure by itself."
    )
    created_at: datetime
    decided_company_id: strawberry.ID | None
    decided_by: str | None
    decided_at: datetime | None
    note: str | None

    @classmethod
    def from_model(cls, p: ProposalModel) -> EmploymentProposal:
        source, _, source_id = p.record_key.partition("|")
        return cls(
            id=strawberry.ID(p.id),
            person_id=strawberry.ID(p.person_id),
            record_source=source,
            record_source_id=source_id,
            company_ids=[strawberry.ID(c) for c in p.company_ids],
            via=p.via.value,
            status=p.status,
            created_at=p.created_at,
            decided_company_id=strawberry.ID(p.decided_company_id)
            if p.decided_company_id
            else None,
            decided_by=p.decided_by,
            decided_at=p.decided_at,
            note=p.note,
        )

    @strawberry.field(description="The person the record describes.")
    async def person(self, info: Info) -> Person | None:
        found = await info.context.persons.load(str(self.person_id))
        return Person.from_model(found) if found is not None else None

    @strawberry.field(description="The companies the record may mean.")
    async def companies(self, info: Info) -> list[Company]:
        found = await info.context.companies.load_many([str(c) for c in self.company_ids])
        return [Company.from_model(c) for c in found if c is not None]


@strawberry.type
class EmploymentQuery:
    @strawberry.field(
        description="Open employment proposals, oldest first. Role: steward.",
    )
    async def employment_proposals(self, info: Info, first: int = 50) -> list[EmploymentProposal]:
        ctx = info.context
        ctx.require(*MERGE_ROLES)
        if not 1 <= first <= MAX_PROPOSALS:
            raise InvalidInput(f"first must be between 1 and {MAX_PROPOSALS}.", field="first")
        found = await ctx.graph.read(
            lambda tx: GraphEmploymentStore(tx).open_proposals(first=first)
        )
        return [EmploymentProposal.from_model(p) for p in found]


@strawberry.type
class EmploymentMutation:
    @strawberry.mutation(
        description="Decide an open employment proposal: companyId (one of its companies) "
        "links the person to it (via STEWARD, with the record as source); noneOfThem: true "
        "says none of them, and the record is not proposed again with the same companies. "
        "Exactly one of the two (BAD_USER_INPUT otherwise, and for another company); "
        "NOT_FOUND; CONFLICT when decided already. Audited with who decided, when and why. "
        "Role: steward."
    )
    async def decide_employment_proposal(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        company_id: strawberry.ID | None = None,
        none_of_them: bool = False,
        note: str = "",
    ) -> EmploymentProposal:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        if (company_id is None) != none_of_them:
            raise InvalidInput(
                "Give companyId (the company chosen), or noneOfThem: true.", field="companyId"
            )
        now = datetime.now(UTC)
        decided = await ctx.unit_of_work.write(
            lambda tx, events: employment.decide_proposal(
                str(id),
                str(company_id) if company_id is not None else None,
                actor=principal.subject,
                note=note,
                store=GraphEmploymentStore(tx),
                events=events,
                now=now,
            )
        )
        ctx.forget_reads()
        return EmploymentProposal.from_model(decided)
