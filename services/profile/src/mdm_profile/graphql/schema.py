"""The profile subgraph: persons (federation entity keyed by ``id``) and ingestion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from mdm_common.auth import Role
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_common.metrics import merges
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.history_store import GraphHistoryStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.domain import history, merge_preview, merging, search
from mdm_profile.domain.privacy import REASON_SUPPRESSED, erased_error
from mdm_profile.domain.records import RawRecord, record_key
from mdm_profile.graphql.bulk_merging import BulkMergeMutation
from mdm_profile.graphql.company_merging import CompanyMergeMutation
from mdm_profile.graphql.company_parents import CompanyParentMutation, CompanyParentQuery
from mdm_profile.graphql.company_records import CompanyRecordMutation, CompanySearchQuery
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.employment import EmploymentMutation, EmploymentQuery
from mdm_profile.graphql.holds import HoldMutation, HoldQuery
from mdm_profile.graphql.households import HouseholdMutation
from mdm_profile.graphql.ingestion import IngestionMutation, store
from mdm_profile.graphql.organisations import (
    Company,
    Household,
    OrganisationMutation,
    OrganisationQuery,
)
from mdm_profile.graphql.privacy import PrivacyMutation, PrivacyQuery
from mdm_profile.graphql.rectification import RectificationMutation, RectificationQuery
from mdm_profile.graphql.types import (
    MERGE_ROLES,
    READ_ROLES,
    WRITE_ROLES,
    CreatePersonInput,
    MergeInfo,
    MergePreview,
    MergeResult,
    PageInfo,
    Person,
    PersonConnection,
    PersonEdge,
    SourceRecord,
    UnmergeResult,
    golden_json,
)

Info = strawberry.Info[ProfileContext, None]
MAX_ID_PAGE = 5000
MAX_PERSONS = 500  # ids a `persons` query takes


@strawberry.type
class Query(
    OrganisationQuery,
    CompanySearchQuery,
    CompanyParentQuery,
    EmploymentQuery,
    PrivacyQuery,
    HoldQuery,
    RectificationQuery,
):
    @strawberry.field(
        description="A person by id; NOT_FOUND if there is none (extensions.reason ERASED "
        "if it was erased)."
    )
    async def person(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        as_of: Annotated[
            datetime | None,
            strawberry.argument(
                description="Answer with the profile as it was at this time: values and their "
                "lineage, the merges in force (a merged-away id gives its survivor of then), "
                "household and employers; NOT_FOUND (field asOf) before the person existed."
            ),
        ] = None,
    ) -> Person:
        info.context.require(*READ_ROLES)
        if as_of is not None:
            then = await _person_as_of(info, str(id), as_of)
            return Person.from_model(then.person, as_of=as_of, links=then.links)
        if _selects(info, "household"):
            # Person and household in one transaction; Person.household then finds
            # the household in its loader's cache.
            found = await info.context.person_with_household(str(id))
        else:
            found = await info.context.persons.load(str(id))
        if found is None:
            raise await _missing_person(info, str(id))
        return Person.from_model(found)

    @strawberry.field(
        description="Persons by id, in the order asked, at most "
        f"{MAX_PERSONS} ids: a merged-away id gives its survivor (as `person` does), an "
        "unknown or erased id null. Roles: as `person`."
    )
    async def persons(self, info: Info, ids: list[strawberry.ID]) -> list[Person | None]:
        found = await info.context.persons.load_many(_asked_ids(info, ids))
        return [Person.from_model(p) if p is not None else None for p in found]

    @strawberry.field(
        description="For services that hand golden records on (the change stream, exports): "
        f"per id, in the order asked, at most {MAX_PERSONS}, one JSON object with the fields "
        "id, givenName, familyName, titles, suffix, salutation, birthDate, birthDatePartial, "
        "email, phone, address {street, houseNumber, postalCode, city, country}, language, "
        "identifiers [{scheme, issuer, value}], updatedAt and processingRestricted, each as "
        "`persons` answers it; null for an unknown or erased id, the survivor for a merged "
        "one. Without per-field resolution. Roles: as `person`; audited as `persons` is."
    )
    async def golden_records(self, info: Info, ids: list[strawberry.ID]) -> list[JSON | None]:
        found = await info.context.persons.load_many(_asked_ids(info, ids))
        return [JSON(golden_json(p)) if p is not None else None for p in found]

    @strawberry.field(description="A source record with its quality report; NOT_FOUND if unknown.")
    async def source_record(self, info: Info, source: str, source_id: str) -> SourceRecord:
        info.context.require(*READ_ROLES)
        key = record_key(source, source_id)
        found = await info.context.graph.read(lambda tx: GraphPersonStore(tx).records_by_key([key]))
        if key not in found:
            raise NotFound("No such source record.", field="sourceId")
        info.context.read_persons([found[key].person_id])
        return SourceRecord.from_model(found[key].record)

    @strawberry.field(
        description="Search by family name (prefix, spelling variants folded), e-mail, phone or "
        "postal code; all given criteria must match. Cursor pagination, at most 100 a page."
    )
    async def search_persons(
        self, info: Info, *, name: str | None = None, email: str | None = None,
        phone: str | None = None, postal_code: str | None = None, first: int = 20,
        after: str | None = None,
    ) -> PersonConnection:  # fmt: skip
        info.context.require(*READ_ROLES)
        criteria = search.criteria_from(
            name=name, email=email, phone=phone, postal_code=postal_code
        )
        page = await info.context.graph.read(
            lambda tx: search.search(criteria, first=first, after=after, store=GraphPersonStore(tx))
        )
        info.context.read_persons(p.id for p, _ in page.persons)
        edges = [PersonEdge(cursor=c, node=Person.from_model(p)) for p, c in page.persons]
        return PersonConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(
        description="Ids of all persons not merged away, in id order, for reconciling services "
        "(matching's batch re-matching). `after` is the last id of the previous page; at most "
        f"{MAX_ID_PAGE} a page. Roles: app, steward."
    )
    async def active_person_ids(
        self, info: Info, after: strawberry.ID | None = None, first: int = 1000
    ) -> list[strawberry.ID]:
        info.context.require(*WRITE_ROLES)
        if not 1 <= first <= MAX_ID_PAGE:
            raise InvalidInput(f"first must be between 1 and {MAX_ID_PAGE}.", field="first")
        ids = await info.context.graph.read(
            lambda tx: GraphPersonStore(tx).active_ids(after=str(after or ""), limit=first)
        )
        return [strawberry.ID(i) for i in ids]

    @strawberry.field(
        description="For reconciling services (matching compares persons by these): per "
        "id, in the order asked, one JSON object with the person's id, createdAt, givenName, "
        "familyName, suffix, birthDate, birthDatePartial, email, phone, address {street, "
        "houseNumber, postalCode, city}, identifiers [{scheme, issuer, value}] (each as the "
        "Person field of that name answers it) and sources (the source systems of its "
        "records, sorted). A merged-away id gives its survivor (whose id differs from the "
        f"one asked), an unknown or erased id null. At most {MAX_PERSONS} ids. One graph "
        "statement and no per-field resolution, for reading every person. Roles: as "
        "`person`."
    )
    async def person_features(self, info: Info, ids: list[strawberry.ID]) -> list[JSON | None]:
        asked = _asked_ids(info, ids)
        found = await info.context.graph.read(
            lambda tx: GraphPersonStore(tx).features(list(dict.fromkeys(asked)))
        )
        # The persons whose data leaves: those asked, and the survivors they gave.
        info.context.read_persons(found.keys())
        info.context.read_persons(features["id"] for features in found.values())
        return [JSON(found[i]) if i in found else None for i in asked]

    @strawberry.field(
        description="What merging mergedId into survivorId would make of the survivor's golden "
        "record, by the merge's own survivorship rules; writes nothing. Refused like the merge "
        "(NOT_FOUND, CONFLICT if processing is restricted); BAD_USER_INPUT for the same id "
        "twice or a person merged away already. Role: steward."
    )
    async def merge_preview(
        self, info: Info, survivor_id: strawberry.ID, merged_id: strawberry.ID
    ) -> MergePreview:
        ctx = info.context
        ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        preview = await ctx.graph.read(
            lambda tx: merge_preview.preview_merge(
                str(survivor_id),
                str(merged_id),
                store=GraphMergeStore(tx),
                sources=ctx.sources,
                rules=ctx.rules,
                now=now,
            )
        )
        ctx.read_persons([preview.survivor_id, preview.merged_id])
        return MergePreview.from_model(preview)

    @strawberry.field(description="A merge by id, for audit. Roles: steward, compliance.")
    async def merge(self, info: Info, id: strawberry.ID) -> MergeInfo:  # noqa: A002 - GraphQL argument name
        info.context.require(*MERGE_ROLES, Role.COMPLIANCE)
        record = await info.context.graph.read(lambda tx: GraphMergeStore(tx).get_merge(str(id)))
        if record is None:
            raise NotFound(f"No merge with id {id}.", field="id")
        return _merge_info(record)


def _asked_ids(info: Info, ids: list[strawberry.ID]) -> list[str]:
    """The ids of a read of many persons (roles as `person`), at most MAX_PERSONS."""
    info.context.require(*READ_ROLES)
    if len(ids) > MAX_PERSONS:
        raise InvalidInput(f"At most {MAX_PERSONS} ids a request.", field="ids")
    return [str(i) for i in ids]


async def _person_as_of(info: Info, person_id: str, at: datetime) -> history.PersonAsOf:
    if at.tzinfo is None:
        raise InvalidInput("asOf needs a time zone.", field="asOf")
    found = await info.context.graph.read(
        lambda tx: history.person_as_of(person_id, at, store=GraphHistoryStore(tx))
    )
    info.context.read_persons([found.person.id])
    return found


async def _missing_person(info: Info, person_id: str) -> NotFound:
    """NOT_FOUND; with reason ERASED for an erased person, to tell it from an unknown id."""
    erased = await info.context.graph.read(lambda tx: GraphPersonStore(tx).erased([person_id]))
    if erased:
        return erased_error(person_id, field="id")
    return NotFound(f"No person with id {person_id}.", field="id")


def _selects(info: Info, name: str) -> bool:
    """True if the field being resolved selects ``name`` directly (not in fragments)."""
    return any(
        getattr(selection, "name", None) == name
        for field in info.selected_fields
        for selection in field.selections
    )


def _merge_info(record: merging.Merge) -> MergeInfo:
    return MergeInfo(
        id=strawberry.ID(record.id), survivor_id=strawberry.ID(record.survivor_id),
        merged_id=strawberry.ID(record.merged_id), at=record.at, actor=record.actor,
        reason=record.reason, state=record.state.value,
    )  # fmt: skip


@strawberry.type
class Mutation(
    IngestionMutation,
    CompanyRecordMutation,
    CompanyMergeMutation,
    CompanyParentMutation,
    EmploymentMutation,
    OrganisationMutation,
    HouseholdMutation,
    PrivacyMutation,
    HoldMutation,
    RectificationMutation,
    BulkMergeMutation,
):
    @strawberry.mutation(
        description="Merge one person into another in one transaction. A caller-chosen "
        "`mergeId` makes it idempotent: the same id and pair again returns the first merge; "
        "the id with another pair is a CONFLICT. Role: steward."
    )
    async def merge_persons(
        self, info: Info, survivor_id: strawberry.ID, merged_id: strawberry.ID, reason: str = "",
        merge_id: strawberry.ID | None = None,
    ) -> MergeResult:  # fmt: skip
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        record, survivor = await ctx.unit_of_work.write(
            lambda tx, events: merging.merge(
                str(survivor_id), str(merged_id), store=GraphMergeStore(tx),
                households=ctx.household_store(tx), sources=ctx.sources,
                rules=ctx.rules, events=events, actor=principal.subject, reason=reason, now=now,
                merge_id=str(merge_id) if merge_id is not None else None,
            )
        )  # fmt: skip
        ctx.forget_reads()
        merges.add(1, {"kind": "merge"})
        # Read back after the commit: with the ids merged into it (all merges so far).
        survivor = await ctx.persons.load(record.survivor_id) or survivor
        return MergeResult(merge=_merge_info(record), survivor=Person.from_model(survivor))

    @strawberry.mutation(description="Undo a merge exactly. Role: steward.")
    async def unmerge_persons(self, info: Info, merge_id: strawberry.ID) -> UnmergeResult:
        ctx = info.context
        ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        survivor, restored = await ctx.unit_of_work.write(
            lambda tx, events: merging.unmerge(
                str(merge_id), store=GraphMergeStore(tx), households=ctx.household_store(tx),
                sources=ctx.sources, rules=ctx.rules,
                events=events, now=now,
            )
        )  # fmt: skip
        ctx.forget_reads()
        merges.add(1, {"kind": "unmerge"})
        record = await ctx.graph.read(lambda tx: GraphMergeStore(tx).get_merge(str(merge_id)))
        assert record is not None  # read after the commit that changed it
        return UnmergeResult(
            merge=_merge_info(record), survivor=Person.from_model(survivor),
            restored=Person.from_model(restored),
        )  # fmt: skip

    @strawberry.mutation(description="Create a person directly (recorded as source 'api').")
    async def create_person(self, info: Info, input: CreatePersonInput) -> Person:  # noqa: A002 - GraphQL argument name
        info.context.require(*WRITE_ROLES)
        if not input.family_name.strip():
            raise InvalidInput("familyName is required.", field="familyName")
        raw = RawRecord(
            source_id=str(uuid.uuid4()), given_name=input.given_name,
            family_name=input.family_name, email=input.email,
        )  # fmt: skip
        _, ingestion = await store(info, "api", [raw], atomic=True, strict=True)
        if ingestion.suppressed:
            raise Conflict(
                "This person's data was erased and may not be stored again.",
                field="input", details={"reason": REASON_SUPPRESSED},
            )  # fmt: skip
        outcome = ingestion.outcomes[0]
        person = await info.context.persons.load(outcome.person_id)
        assert person is not None  # written in the transaction that just committed
        return Person.from_model(person)


def build_schema(extensions: Sequence[Extension] = ()) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query,
        mutation=Mutation,
        types=[Person, Household, Company],
        extensions=list(extensions),
    )
