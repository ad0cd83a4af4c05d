from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from mdm_common.auth import Role
from mdm_common.errors import InvalidInput
from mdm_profile.domain import merge_preview
from mdm_profile.domain.history import LinksState
from mdm_profile.domain.quality.addresses import PostalAddress as AddressModel
from mdm_profile.domain.quality.identifiers import Identifier as IdentifierModel
from mdm_profile.domain.quality.identifiers import Scheme
from mdm_profile.domain.quality.report import QualityReport as QualityModel
from mdm_profile.domain.records import CleanRecord

if TYPE_CHECKING:
    from mdm_profile.domain.models import Person as PersonModel
    from mdm_profile.graphql.organisations import Employment, Household

READ_ROLES = (Role.APP, Role.STEWARD, Role.COMPLIANCE)
WRITE_ROLES = (Role.APP, Role.STEWARD)
MERGE_ROLES = (Role.STEWARD,)


@strawberry.type(description="Something normalisation changed.")
class QualityFix:
    field: str
    code: str
    detail: str


@strawberry.type(description="Something missing or wrong; severity INFO, WARNING or ERROR.")
class QualityIssue:
    field: str
    code: str
    severity: str
    detail: str


@strawberry.type(description="What data-quality checks did to one source record.")
class QualityReport:
    fixes: list[QualityFix]
    issues: list[QualityIssue]

    @classmethod
    def from_model(cls, report: QualityModel) -> QualityReport:
        return cls(
            fixes=[QualityFix(field=f.field, code=f.code, detail=f.detail) for f in report.fixes],
            issues=[QualityIssue(field=i.field, code=i.code, severity=i.severity.value,
                                 detail=i.detail) for i in report.issues],
        )  # fmt: skip


@strawberry.type
class PostalAddress:
    street: str | None
    house_number: str | None
    postal_code: str | None
    city: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2")

    @classmethod
    def from_model(cls, address: AddressModel | None) -> PostalAddress | None:
        if address is None:
            return None
        return cls(
            street=address.street, house_number=address.house_number,
            postal_code=address.postal_code, city=address.city, country=address.country,
        )  # fmt: skip


# Registers the domain's enum with GraphQL; fields are annotated with Scheme itself.
strawberry.enum(
    Scheme,
    name="IdentifierScheme",
    description="TAX_ID_DE (Steuer-IdNr, checksum), SOCIAL_SECURITY, NATIONAL_ID, PASSPORT "
    "(issuer: country), VAT_ID (EU, checksum), CUSTOMER_NUMBER (issuer: system), LOYALTY_CARD.",
)


@strawberry.type(description="An identifier, compacted and validated where a checksum exists.")
class Identifier:
    scheme: Scheme
    issuer: str | None
    value: str

    @classmethod
    def from_model(cls, identifier: IdentifierModel) -> Identifier:
        return cls(
            scheme=Scheme(identifier.scheme),
            issuer=identifier.issuer or None,
            value=identifier.value,
        )


@strawberry.type(description="A golden record's identifier and the source record it came from.")
class PersonIdentifier(Identifier):
    source: str
    source_id: str


@strawberry.type(description="A value that failed its checks, kept as the source sent it.")
class RawValue:
    field: str = strawberry.field(description="As the API spells it, e.g. phone, identifiers[0].")
    value: str


@strawberry.type(description="Where a golden value came from and which rule chose it.")
class Lineage:
    attribute: str
    source: str
    source_id: str
    rule: str


@strawberry.type(description="One record as a source system sent it, cleaned.")
class SourceRecord:
    source: str
    source_id: str
    given_name: str
    family_name: str
    titles: list[str]
    email: str | None
    phone: str | None
    address: PostalAddress | None
    language: str | None
    recorded_at: datetime
    quality: QualityReport
    birth_date: date | None
    birth_date_partial: str | None = strawberry.field(
        description="YYYY or YYYY-MM: the plausible part of an impossible or partial birth date."
    )
    identifiers: list[Identifier]
    kept_raw: list[RawValue] = strawberry.field(
        description="Values that failed their checks, as received: flagged in the quality "
        "report, used neither in the golden record nor in matching."
    )

    @classmethod
    def from_model(cls, record: CleanRecord) -> SourceRecord:
        return cls(
            source=record.source,
            source_id=record.source_id,
            given_name=record.given_name,
            family_name=record.family_name,
            titles=list(record.titles),
            email=record.email,
            phone=record.phone.e164 if record.phone else None,
            address=PostalAddress.from_model(record.address),
            language=record.language,
            recorded_at=record.recorded_at,
            quality=QualityReport.from_model(record.quality),
            birth_date=record.birth_date,
            birth_date_partial=record.birth_date_partial,
            identifiers=[Identifier.from_model(i) for i in record.identifiers],
            kept_raw=[RawValue(field=f, value=v) for f, v in record.kept_raw],
        )


def golden_json(person: PersonModel) -> dict[str, Any]:
    """A golden record as JSON, each field as the ``Person`` type answers it."""
    address = person.address
    return {
        "id": person.id,
        "givenName": person.given_name,
        "familyName": person.family_name,
        "titles": list(person.titles),
        "suffix": person.suffix,
        "salutation": person.salutation,
        "birthDate": person.birth_date.isoformat() if person.birth_date else None,
        "birthDatePartial": person.birth_date_partial,
        "email": person.email,
        "phone": person.phone.e164 if person.phone else None,
        "address": None
        if address is None
        else {
            "street": address.street,
            "houseNumber": address.house_number,
            "postalCode": address.postal_code,
            "city": address.city,
            "country": address.country,
        },
        "language": person.language,
        "identifiers": [
            {
                "scheme": Scheme(i.identifier.scheme).value,
                "issuer": i.identifier.issuer or None,
                "value": i.identifier.value,
            }
            for i in person.identifiers
        ],
        "updatedAt": person.updated_at.isoformat(),
        "processingRestricted": person.processing_restricted,
    }


@strawberry.federation.type(keys=["id"], description="A golden customer profile.")
class Person:
    id: strawberry.ID
    given_name: str
    family_name: str
    titles: list[str]
    suffix: str | None
    salutation: str | None = strawberry.field(
        description="Only as a source sent it; never guessed."
    )
    birth_date: date | None
    birth_date_partial: str | None = strawberry.field(
        description="YYYY or YYYY-MM when no source knows the full birth date."
    )
    identifiers: list[PersonIdentifier] = strawberry.field(
        description="Every valid identifier of every source record (survivorship ALL_VALUES)."
    )
    email: str | None
    phone: str | None = strawberry.field(description="E.164")
    address: PostalAddress | None
    language: str | None = strawberry.field(description="ISO 639-1")
    created_at: datetime
    updated_at: datetime
    lineage: list[Lineage]
    merged_from: list[strawberry.ID] = strawberry.field(
        description="Ids merged into this profile; reading any of them returns this profile."
    )
    processing_restricted: bool = strawberry.field(
        description="Processing restricted (GDPR Art. 18): stored and readable, never merged. "
        "Always as of now, also in an as-of read."
    )
    as_of: datetime | None = strawberry.field(
        default=None,
        description="The time this answer describes (`person(id:, asOf:)`): its values with "
        "their lineage, `mergedFrom`, household and employers are as they were then. Null: "
        "now.",
    )

    # An as-of read's household and employers then (None: a read of now).
    links_then: strawberry.Private[LinksState | None] = None

    @strawberry.field(
        description="Id of the household this person lives in, if detected (as of `asOf`)."
    )
    async def household_id(self, info: strawberry.Info[Any, Any]) -> strawberry.ID | None:
        if self.links_then is not None:
            then = self.links_then.household
            return strawberry.ID(then[0]) if then is not None else None
        found = await info.context.household_ids.load(str(self.id))
        return strawberry.ID(found) if found is not None else None

    @strawberry.field(
        description="The household this person lives in, if detected. In an as-of read: the "
        "household it lived in then, with its address and members as they are now."
    )
    async def household(
        self, info: strawberry.Info[Any, Any]
    ) -> Annotated[Household, strawberry.lazy("mdm_profile.graphql.organisations")] | None:
        from mdm_profile.graphql.organisations import Household  # noqa: PLC0415 - imports this module

        if self.links_then is not None:
            then = self.links_then.household
            found = await info.context.households.load(then[0]) if then is not None else None
        else:
            found = await info.context.household_of.load(str(self.id))
        return Household.from_model(found) if found is not None else None

    @strawberry.field(
        description="The companies this person works for (WORKS_FOR), each with its hierarchy "
        "through Company."
    )
    async def employers(
        self, info: strawberry.Info[Any, Any]
    ) -> list[Annotated[Employment, strawberry.lazy("mdm_profile.graphql.organisations")]]:
        from mdm_profile.graphql.organisations import Employment  # noqa: PLC0415 - imports this module

        if self.links_then is not None:
            return await Employment.of_links(info, self.links_then)
        found = await info.context.employers.load(str(self.id))
        return [Employment.from_model(e) for e in found]

    @strawberry.field(
        description="The source records this profile is built from, as they are now: an as-of "
        "read answers BAD_USER_INPUT (lineage names the records its values came from)."
    )
    async def source_records(self, info: strawberry.Info[Any, Any]) -> list[SourceRecord]:
        if self.as_of is not None:
            raise InvalidInput(
                "Source records are kept as they are now, not as they were; an as-of read "
                "names the records its values came from in lineage.",
                field="sourceRecords",
            )
        records = await info.context.records_of.load(str(self.id))
        return [SourceRecord.from_model(r) for r in records]

    @classmethod
    def from_model(
        cls,
        person: PersonModel,
        *,
        as_of: datetime | None = None,
        links: LinksState | None = None,
    ) -> Person:
        return cls(
            id=strawberry.ID(person.id), as_of=as_of, links_then=links,
            given_name=person.given_name,
            family_name=person.family_name, titles=list(person.titles), suffix=person.suffix,
            salutation=person.salutation, birth_date=person.birth_date, email=person.email,
            phone=person.phone.e164 if person.phone else None,
            address=PostalAddress.from_model(person.address), language=person.language,
            created_at=person.created_at, updated_at=person.updated_at,
            lineage=[Lineage(attribute=v.attribute, source=v.source, source_id=v.source_id,
                             rule=v.rule.value) for v in person.lineage.values()],
            merged_from=[strawberry.ID(i) for i in person.merged_from],
            processing_restricted=person.processing_restricted,
            birth_date_partial=person.birth_date_partial,
            identifiers=[
                PersonIdentifier(
                    scheme=Scheme(i.identifier.scheme), issuer=i.identifier.issuer or None,
                    value=i.identifier.value, source=i.source, source_id=i.source_id,
                )
                for i in person.identifiers
            ],
        )  # fmt: skip

    @classmethod
    async def resolve_reference(
        cls,
        info: strawberry.Info[Any, Any],
        id: strawberry.ID,  # noqa: A002 - federation passes the key by its field name
    ) -> Person | None:
        info.context.require(*READ_ROLES)
        person = await info.context.persons.load(str(id))
        return cls.from_model(person) if person is not None else None


@strawberry.input(description="A new person as an application submits it.")
class CreatePersonInput:
    given_name: str
    family_name: str
    email: str | None = None


@strawberry.type(description="A merge of two persons, kept for audit and for unmerge.")
class MergeInfo:
    id: strawberry.ID
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    at: datetime
    actor: str
    reason: str
    state: str


@strawberry.type
class MergeResult:
    merge: MergeInfo
    survivor: Person


@strawberry.type(description="One golden field before and after a merge that was not made.")
class MergePreviewField:
    field: str = strawberry.field(description="The Person field, e.g. givenName, address.")
    survivor_value: str | None
    merged_value: str | None
    result_value: str | None = strawberry.field(
        description="The survivor's value after the merge, by the survivorship rules. Lists "
        "are joined by spaces, an address reads 'street number, postal code city, country'."
    )
    result_source: str | None = strawberry.field(
        description="The source system the result value comes from (lineage)."
    )


@strawberry.type(description="What merging mergedId into survivorId would make of the survivor.")
class MergePreview:
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    fields: list[MergePreviewField]

    @classmethod
    def from_model(cls, preview: merge_preview.MergePreview) -> MergePreview:
        return cls(
            survivor_id=strawberry.ID(preview.survivor_id),
            merged_id=strawberry.ID(preview.merged_id),
            fields=[
                MergePreviewField(
                    field=f.field,
                    survivor_value=f.survivor_value,
                    merged_value=f.merged_value,
                    result_value=f.result_value,
                    result_source=f.result_source,
                )
                for f in preview.fields
            ],
        )


@strawberry.type
class UnmergeResult:
    merge: MergeInfo
    survivor: Person
    restored: Person


@strawberry.federation.type(
    shareable=True, description="Relay page information; the same type in every subgraph."
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
