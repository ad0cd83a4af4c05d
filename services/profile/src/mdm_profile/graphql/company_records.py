"""Company source records through GraphQL (an answer per record), and company search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime

import strawberry
from strawberry.scalars import JSON

from mdm_common.errors import InvalidInput
from mdm_profile.adapters.company_record_store import GraphCompanyRecordStore
from mdm_profile.adapters.company_store import GraphCompanyStore
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.domain import company_search
from mdm_profile.domain.company_ingest import CompanyOutcome, ingest_companies
from mdm_profile.domain.company_records import (
    RawCompanyRecord,
    clean_company,
)
from mdm_profile.domain.people import Refusal as RefusalModel
from mdm_profile.domain.people import clean_each
from mdm_profile.domain.quality.report import QualityReport as QualityModel
from mdm_profile.domain.quality.report import Severity
from mdm_profile.domain.records import MAX_BATCH, MAX_FIELD_LENGTH, MAX_SOURCE_ID
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.ingestion import RecordStatus, Refusal, quality_of, warnings_of
from mdm_profile.graphql.organisations import Company
from mdm_profile.graphql.types import READ_ROLES, WRITE_ROLES, PageInfo, QualityIssue, QualityReport

Info = strawberry.Info[ProfileContext, None]
MAX_COMPANIES = 500  # ids a `companyFeatures` query takes


@strawberry.input(
    description="One company record as a source system sends it; only sourceId is required. "
    "The parent* fields name the parent company as the source knows it (any one suffices)."
)
class CompanyRecordInput:
    source_id: str
    name: str | None = strawberry.field(
        default=None, description='With or without its legal form ("Müller GmbH").'
    )
    legal_form: str | None = strawberry.field(
        default=None, description="Where the source keeps it apart from the name."
    )
    registry_court: str | None = strawberry.field(
        default=None, description='The court keeping the register ("Amtsgericht München").'
    )
    registry_number: str | None = strawberry.field(
        default=None, description='"HRB 123456", with or without the court.'
    )
    vat_id: str | None = None
    lei: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    industry_code: str | None = strawberry.field(default=None, description="WZ 2008 / NACE.")
    parent_source_id: str | None = strawberry.field(
        default=None, description="The parent's record id in the same source."
    )
    parent_vat_id: str | None = None
    parent_lei: str | None = None
    parent_registry_court: str | None = None
    parent_registry_number: str | None = None
    recorded_at: datetime | None = strawberry.field(
        default=None, description="When the source last changed the record (default: now)."
    )

    def to_raw(self) -> RawCompanyRecord:
        return RawCompanyRecord(**{f.name: getattr(self, f.name) for f in fields(RawCompanyRecord)})


@strawberry.type(description="The answer for one company record, in the batch's order.")
class CompanyRecordResult:
    index: int
    source_id: str
    status: RecordStatus
    company_id: strawberry.ID | None
    created: bool
    refusal: Refusal | None
    report: strawberry.Private[QualityModel | None]

    @strawberry.field(description="The WARNING issues: values flagged and kept raw.")
    def warnings(self) -> list[QualityIssue]:
        return warnings_of(self.report)

    @strawberry.field(description="Everything cleaning did and found.")
    def quality(self) -> QualityReport | None:
        return quality_of(self.report)


@strawberry.type
class CompanyIngestResult:
    created: int
    updated: int = strawberry.field(description="Records of companies known before.")
    with_warnings: int
    refused: int
    results: list[CompanyRecordResult] = strawberry.field(
        description="One answer per record sent, in the batch's order."
    )


def _results(
    raws: Sequence[RawCompanyRecord], refused: list[RefusalModel], outcomes: list[CompanyOutcome]
) -> CompanyIngestResult:
    by_source_id = {o.source_id: o for o in outcomes}
    by_index = {r.index: r for r in refused}
    results = []
    for index, raw in enumerate(raws):
        refusal = by_index.get(index)
        outcome = by_source_id.get(raw.source_id) if refusal is None else None
        if outcome is None:
            status = RecordStatus.REFUSED
        elif any(i.severity is Severity.WARNING for i in outcome.quality.issues):
            status = RecordStatus.STORED_WITH_WARNINGS
        else:
            status = RecordStatus.STORED
        results.append(
            CompanyRecordResult(
                index=index,
                source_id=raw.source_id[:MAX_SOURCE_ID],
                status=status,
                company_id=strawberry.ID(outcome.company_id) if outcome else None,
                created=bool(outcome and outcome.created),
                refusal=Refusal(field=refusal.field, code=refusal.code, message=refusal.message)
                if refusal
                else None,
                report=outcome.quality if outcome else None,
            )
        )
    created = sum(o.created for o in outcomes)
    return CompanyIngestResult(
        created=created,
        updated=len(outcomes) - created,
        with_warnings=sum(r.status is RecordStatus.STORED_WITH_WARNINGS for r in results),
        refused=len(refused),
        results=results,
    )


@strawberry.type
class CompanyRecordMutation:
    @strawberry.mutation(
        description=f"Ingest up to {MAX_BATCH} company records of one source system (each text "
        f"at most {MAX_FIELD_LENGTH} characters). Each record is answered on its own: stored, "
        "stored with warnings (a value that failed its checks is kept raw and used nowhere), "
        "or refused (no name, register entry, VAT id or LEI; or it breaks the contract). A "
        "record seen before updates its company; every touched company's golden record is "
        "built again from all its records, and parents the records name are linked once they "
        "are known (also when the parent arrives later). The stored ones are written in one "
        "transaction; `atomic: true` refuses the whole batch when one record is refused. "
        "Roles: app, steward."
    )
    async def ingest_company_records(
        self, info: Info, source: str, records: list[CompanyRecordInput], atomic: bool = False
    ) -> CompanyIngestResult:
        ctx = info.context
        ctx.require(*WRITE_ROLES)
        now = datetime.now(UTC)
        raws = [r.to_raw() for r in records]
        system = ctx.sources.get(source)
        cleaned, refused = clean_each(
            raws, lambda raw: clean_company(raw, source=system, received_at=now), atomic=atomic
        )
        outcomes: list[CompanyOutcome] = []
        if cleaned:
            outcomes = await ctx.unit_of_work.write(
                lambda tx, events: ingest_companies(
                    cleaned,
                    records=GraphCompanyRecordStore(tx),
                    hierarchy=GraphCompanyStore(tx),
                    employers=GraphEmploymentStore(tx),
                    priority_of=ctx.sources.priority_of,
                    events=events,
                    now=now,
                )
            )
            ctx.forget_reads()
        return _results(raws, refused, outcomes)


@strawberry.type
class CompanyEdge:
    cursor: str
    node: Company


@strawberry.type
class CompanyConnection:
    edges: list[CompanyEdge]
    page_info: PageInfo


@strawberry.type
class CompanySearchQuery:
    @strawberry.field(
        description="For matching (it compares companies by these): per id, in the order "
        "asked, one JSON object with the company's id, createdAt, nameKey (name without "
        'legal form, folded), legalForm, register ("HRB 12345 B"), court (folded), vatId, '
        "lei, domains, address {street, houseNumber, postalCode, city} and sources (the "
        "source systems of its records, sorted; empty for a company created by hand). A "
        "merged-away id gives the company it was merged into (whose id differs from the one "
        f"asked), an unknown id null. At most {MAX_COMPANIES} ids. Roles: as `company`."
    )
    async def company_features(self, info: Info, ids: list[strawberry.ID]) -> list[JSON | None]:
        info.context.require(*READ_ROLES)
        if len(ids) > MAX_COMPANIES:
            raise InvalidInput(f"At most {MAX_COMPANIES} ids a request.", field="ids")
        asked = [str(i) for i in ids]
        found = await info.context.graph.read(
            lambda tx: GraphCompanyStore(tx).features(list(dict.fromkeys(asked)))
        )
        return [JSON(found[i]) if i in found else None for i in asked]

    @strawberry.field(
        description="Search companies by name (a prefix; legal form, case and umlaut spellings "
        'folded away: "mueller masch" finds "Müller Maschinenbau GmbH"), register number '
        '("HRB 123456"), VAT id, web domain or postal code; all given criteria must match. '
        "Ordered by name; cursor pagination, at most 100 a page. Roles: as `company`."
    )
    async def search_companies(
        self,
        info: Info,
        *,
        name: str | None = None,
        registry_number: str | None = None,
        vat_id: str | None = None,
        domain: str | None = None,
        postal_code: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> CompanyConnection:
        info.context.require(*READ_ROLES)
        criteria = company_search.criteria_from(
            name=name,
            registry_number=registry_number,
            vat_id=vat_id,
            domain=domain,
            postal_code=postal_code,
        )
        page = await info.context.graph.read(
            lambda tx: company_search.search_companies(
                criteria, first=first, after=after, store=GraphCompanyRecordStore(tx)
            )
        )
        edges = [CompanyEdge(cursor=c, node=Company.from_model(x)) for x, c in page.companies]
        return CompanyConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )
