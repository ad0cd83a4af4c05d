"""GraphQL for households and companies (federation entities keyed by ``id``)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.errors import InvalidInput, NotFound
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.domain import companies, households
from mdm_profile.domain.companies import MAX_DEPTH, CompanyDetails
from mdm_profile.domain.companies import Company as CompanyModel
from mdm_profile.domain.companies import Employment as EmploymentModel
from mdm_profile.domain.history import LinksState
from mdm_profile.domain.households import Household as HouseholdModel
from mdm_profile.domain.households import HouseholdMember as HouseholdMemberModel
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.types import MERGE_ROLES, READ_ROLES, WRITE_ROLES, Person, PostalAddress

Info = strawberry.Info[ProfileContext, None]


async def _person(info: Info, person_id: str) -> Person:
    found = await info.context.persons.load(person_id)
    if found is None:
        raise NotFound(f"No person with id {person_id}.", field="personId")
    return Person.from_model(found)


@strawberry.type
class HouseholdMember:
    person_id: strawberry.ID
    role: str
    detected: bool = strawberry.field(description="True if detection put it there.")
    evidence: list[str] = strawberry.field(
        description="Why detection took it for a member: SAME_FAMILY_NAME, DOUBLE_NAME, "
        "PREVIOUS_NAME, SHARED_LANDLINE, FAMILY_EMAIL_DOMAIN, SHARED_MOBILE (the same "
        "address always). Empty for members a steward placed."
    )
    confidence: float | None = strawberry.field(
        description="Detection's confidence (0-1) in its strongest link to another member."
    )
    confirmed: bool = strawberry.field(
        description="A steward confirmed or placed it: detection does not undo it."
    )

    @strawberry.field
    async def person(self, info: Info) -> Person:
        return await _person(info, str(self.person_id))


def _member(member: HouseholdMemberModel) -> HouseholdMember:
    return HouseholdMember(
        person_id=strawberry.ID(member.person_id),
        role=member.role.value,
        detected=member.detected,
        evidence=sorted(e.value for e in member.evidence),
        confidence=member.confidence,
        confirmed=member.pinned,
    )


@strawberry.federation.type(keys=["id"], description="People living together at one address.")
class Household:
    id: strawberry.ID
    address: PostalAddress | None
    members: list[HouseholdMember]
    decision: str | None = strawberry.field(
        description="A steward's last decision: CONFIRMED or SPLIT; null if only detected."
    )
    decided_at: datetime | None = strawberry.field(description="When.")
    actor: strawberry.Private[str | None] = None

    @strawberry.field(description="Who made that decision. Roles: steward, compliance.")
    def decided_by(self, info: Info) -> str | None:
        info.context.require(*MERGE_ROLES, Role.COMPLIANCE)
        return self.actor

    @classmethod
    def from_model(cls, household: HouseholdModel) -> Household:
        audit = household.audit
        return cls(
            id=strawberry.ID(household.id),
            address=PostalAddress.from_model(household.address),
            members=[_member(m) for m in household.members],
            decision=audit.decision.value if audit else None,
            decided_at=audit.at if audit else None,
            actor=audit.actor if audit else None,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Household | None:  # noqa: A002 - federation key name
        info.context.require(*READ_ROLES)
        found = await info.context.households.load(str(id))
        return cls.from_model(found) if found is not None else None


@strawberry.type
class Employee:
    person_id: strawberry.ID
    role: str

    @strawberry.field
    async def person(self, info: Info) -> Person:
        return await _person(info, str(self.person_id))


@strawberry.federation.type(
    keys=["id"],
    description="A company in a group hierarchy. One built from source records "
    "(`ingestCompanyRecords`) holds their golden values: what says which company it is from "
    "the most trusted source, how to reach it from the source that changed it last.",
)
class Company:
    id: strawberry.ID
    name: str = strawberry.field(description="With its legal form, as the register writes it.")
    registration_number: str | None = strawberry.field(
        description='The register entry: register, number and court ("HRB 123456, München").'
    )
    country: str | None
    parent_id: strawberry.ID | None
    created_at: datetime
    legal_form: str | None = strawberry.field(
        default=None, description='As the register writes it: "GmbH", "GmbH & Co. KG", "e.K.".'
    )
    vat_id: str | None = strawberry.field(default=None, description="EU VAT id, compact.")
    lei: str | None = strawberry.field(default=None, description="Legal Entity Identifier.")
    industry_code: str | None = strawberry.field(
        default=None, description='WZ 2008 / NACE code ("62.01").'
    )
    address: PostalAddress | None = None
    phone: str | None = strawberry.field(default=None, description="E.164.")
    email: str | None = None
    domains: list[str] = strawberry.field(
        default_factory=list,
        description="Its web domains: the websites' and those of business e-mail addresses.",
    )
    sources: list[str] = strawberry.field(
        default_factory=list,
        description="The source systems of its records; empty for a company created by hand.",
    )

    @classmethod
    def from_model(cls, company: CompanyModel) -> Company:
        parent = strawberry.ID(company.parent_id) if company.parent_id else None
        details = company.details or CompanyDetails()
        return cls(
            id=strawberry.ID(company.id),
            name=company.name,
            registration_number=company.registration_number,
            country=company.country,
            parent_id=parent,
            created_at=company.created_at,
            legal_form=details.legal_form,
            vat_id=details.vat_id,
            lei=details.lei,
            industry_code=details.industry_code,
            address=PostalAddress.from_model(details.address),
            phone=details.phone,
            email=details.email,
            domains=list(details.domains),
            sources=list(details.sources),
        )

    @strawberry.field(description="The direct parent, if any.")
    async def parent(self, info: Info) -> Company | None:
        return await _company(info, str(self.parent_id)) if self.parent_id else None

    @strawberry.field(description="The top of the hierarchy (the company itself at the top).")
    async def ultimate_parent(self, info: Info) -> Company:
        top = await info.context.ultimate_parents.load(str(self.id))
        if top is None:
            raise NotFound(f"No company with id {self.id}.", field="id")
        return Company.from_model(top)

    @strawberry.field(description=f"Subsidiaries down to depth (1-{MAX_DEPTH}), nearest first.")
    async def subsidiaries(self, info: Info, depth: int = 1) -> list[Subsidiary]:
        bounded = max(1, min(depth, MAX_DEPTH))
        found = await info.context.subsidiaries.load((str(self.id), bounded))
        return [Subsidiary(company=Company.from_model(s.company), depth=s.depth) for s in found]

    @strawberry.field
    async def employees(self, info: Info) -> list[Employee]:
        found = await info.context.employees.load(str(self.id))
        return [Employee(person_id=strawberry.ID(p), role=r) for p, r in found]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Company | None:  # noqa: A002 - federation key name
        info.context.require(*READ_ROLES)
        found = await info.context.companies.load(str(id))
        return cls.from_model(found) if found is not None else None


@strawberry.type
class Subsidiary:
    company: Company
    depth: int


@strawberry.type(description="A company the person works for.")
class Employment:
    company_id: strawberry.ID
    role: str
    company: Company
    source: str | None = strawberry.field(
        default=None,
        description="The source system whose record linked the person; null: linked by hand.",
    )
    source_id: str | None = None
    via: str | None = strawberry.field(
        default=None,
        description="What linked it: NAME_AND_DOMAIN, COMPANY_NAME, EMAIL_DOMAIN (the record's "
        "companyName and business e-mail domain) or STEWARD (a decided employment proposal); "
        "null: linked by hand (linkEmployee).",
    )

    @classmethod
    def from_model(cls, employment: EmploymentModel) -> Employment:
        # The company is read with the employment (one statement), not loaded after it.
        company = Company.from_model(employment.company)
        return cls(
            company_id=company.id,
            role=employment.role,
            company=company,
            source=employment.source,
            source_id=employment.source_id,
            via=employment.via,
        )

    @classmethod
    async def of_links(cls, info: Info, links: LinksState) -> list[Employment]:
        """The employers of an as-of read: the companies it worked for then, as they are
        now (a company merged away since answers as its survivor)."""
        companies = await info.context.companies.load_many([e[0] for e in links.employers])
        return [
            cls(
                company_id=strawberry.ID(company_id),
                role=role,
                company=Company.from_model(company),
                source=source,
                source_id=source_id,
                via=via,
            )
            for (company_id, role, source, source_id, via), company in zip(
                links.employers, companies, strict=True
            )
            if company is not None
        ]


async def _company(info: Info, company_id: str) -> Company:
    found = await info.context.companies.load(company_id)
    if found is None:
        raise NotFound(f"No company with id {company_id}.", field="id")
    return Company.from_model(found)


@strawberry.type
class OrganisationQuery:
    @strawberry.field(description="A household with its active members.")
    async def household(self, info: Info, id: strawberry.ID) -> Household:  # noqa: A002 - GraphQL argument name
        info.context.require(*READ_ROLES)
        found = await info.context.households.load(str(id))
        if found is None:
            raise NotFound(f"No household with id {id}.", field="id")
        return Household.from_model(found)

    @strawberry.field(description="A company; ask for parent, subsidiaries, ultimateParent.")
    async def company(self, info: Info, id: strawberry.ID) -> Company:  # noqa: A002 - GraphQL argument name
        info.context.require(*READ_ROLES)
        return await _company(info, str(id))


@strawberry.type
class OrganisationMutation:
    @strawberry.mutation(description="Create a company. Roles: app, steward.")
    async def create_company(
        self, info: Info, name: str, registration_number: str | None = None,
        country: str | None = None,
    ) -> Company:  # fmt: skip
        info.context.require(*WRITE_ROLES)
        now = datetime.now(UTC)
        company = await info.context.unit_of_work.write(
            lambda tx, events: companies.create_company(
                name=name,
                registration_number=registration_number,
                country=country,
                store=GraphCompanyStore(tx),
                events=events,
                now=now,
            )
        )
        return Company.from_model(company)

    @strawberry.mutation(
        description="Place a company below a parent (null: detach). Cycles are refused."
    )
    async def set_parent_company(
        self,
        info: Info,
        company_id: strawberry.ID,
        # Nullable, since null detaches; but left out it says nothing, and a company
        # is not detached by an argument forgotten.
        parent_id: strawberry.ID | None = strawberry.UNSET,
    ) -> Company:
        info.context.require(*WRITE_ROLES)
        if parent_id is strawberry.UNSET:
            raise InvalidInput(
                "parentId is required: a parent's id, or null to detach.", field="parentId"
            )
        parent = str(parent_id) if parent_id is not None else None
        company = await info.context.unit_of_work.write(
            lambda tx, events: companies.set_parent(
                str(company_id), parent, store=GraphCompanyStore(tx), events=events
            )
        )
        info.context.forget_reads()
        return Company.from_model(company)

    @strawberry.mutation(description="Record that a person works for a company.")
    async def link_employee(
        self, info: Info, person_id: strawberry.ID, company_id: strawberry.ID, role: str = ""
    ) -> Company:
        info.context.require(*WRITE_ROLES)
        await info.context.unit_of_work.write(
            lambda tx, events: companies.link_employee(
                str(person_id), str(company_id), role, store=GraphCompanyStore(tx), events=events
            )
        )
        info.context.forget_reads()
        return await _company(info, str(company_id))

    @strawberry.mutation(description="Set a member's role (HEAD, PARTNER, CHILD, ...). Steward.")
    async def set_household_role(
        self, info: Info, person_id: strawberry.ID, household_id: strawberry.ID, role: str
    ) -> Household:
        info.context.require(*MERGE_ROLES)
        household = await info.context.unit_of_work.write(
            lambda tx, _: households.set_member_role(
                str(person_id), str(household_id), role, store=info.context.household_store(tx)
            )
        )
        info.context.forget_reads()
        return Household.from_model(household)
