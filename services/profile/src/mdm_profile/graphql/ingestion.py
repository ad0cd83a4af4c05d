"""Ingestion through GraphQL: source records in, an answer per record out."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

import strawberry
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from mdm_common.errors import Unavailable
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import people
from mdm_profile.domain.quality.identifiers import RawIdentifier, Scheme
from mdm_profile.domain.quality.report import QualityReport as QualityModel
from mdm_profile.domain.quality.report import Severity
from mdm_profile.domain.records import MAX_BATCH, MAX_FIELD_LENGTH, MAX_SOURCE_ID, RawRecord
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.types import WRITE_ROLES, QualityIssue, QualityReport

Info = strawberry.Info[ProfileContext, None]


@strawberry.input(description="An identifier a source knows the person by.")
class IdentifierInput:
    scheme: Scheme
    value: str
    issuer: str | None = strawberry.field(
        default=None,
        description="Issuing country (ISO 3166) for SOCIAL_SECURITY, NATIONAL_ID and PASSPORT; "
        "the issuing system for CUSTOMER_NUMBER (default: the source); the programme for "
        "LOYALTY_CARD.",
    )


@strawberry.input(description="One record as a source system sends it; only sourceId is required.")
class SourceRecordInput:
    source_id: str
    full_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    salutation: str | None = None
    birth_date: str | None = strawberry.field(
        default=None,
        description="ISO (1987-05-12) or DD.MM.YYYY; a year or year and month alone is kept "
        "as a partial birth date.",
    )
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    language: str | None = None
    recorded_at: datetime | None = strawberry.field(
        default=None, description="When the source last changed the record (default: now)."
    )
    identifiers: list[IdentifierInput] | None = strawberry.field(
        default=None, description="At most 20 identifiers."
    )
    company_name: str | None = strawberry.field(
        default=None,
        description='The company the person works for ("Müller Maschinenbau GmbH"): the '
        "person is linked to it (worksFor) when it is known for sure, by this name or a "
        "business e-mail domain, else proposed to a steward (employmentProposals).",
    )

    def to_raw(self) -> RawRecord:
        plain = {name: getattr(self, name) for name in _PLAIN_FIELDS}
        identifiers = tuple(
            RawIdentifier(i.scheme.value, i.value, i.issuer) for i in self.identifiers or ()
        )
        return RawRecord(**plain, identifiers=identifiers)


# The input's fields that RawRecord takes as they are (identifiers are converted).
_PLAIN_FIELDS = [f.name for f in fields(RawRecord) if f.name != "identifiers"]
_RECORD_INPUT = get_object_definition(SourceRecordInput, strict=True)


@cache
def _input_names(names: NameConverter) -> tuple[tuple[str, str], ...]:
    """(name in the schema, name in Python) of the record input's scalar fields."""
    return tuple(
        (names.from_field(f), f.python_name)
        for f in _RECORD_INPUT.fields
        if f.python_name != "identifiers"
    )


def _record_from_input(
    cls: type[SourceRecordInput], value: Mapping[str, Any], context: InputContext
) -> SourceRecordInput:
    """A record input built from its GraphQL value in one step.

    Strawberry's generic conversion resolves each field's type for every record; an
    import sends 500 records a batch, and that was a fifth of the subgraph's CPU. Every
    field but ``identifiers`` is a scalar that graphql-core has already parsed and
    that Strawberry would pass on unchanged; ``identifiers`` is converted as usual.
    """
    kwargs = {
        python: value[name]
        for name, python in _input_names(context.config.name_converter)
        if name in value
    }
    identifiers = value.get("identifiers")
    if identifiers is not None:
        kwargs["identifiers"] = context.convert(identifiers, _IDENTIFIERS_TYPE, "identifiers")
    return cls(**kwargs)


_IDENTIFIERS_TYPE = next(
    f.resolve_type(type_definition=_RECORD_INPUT)
    for f in _RECORD_INPUT.fields
    if f.python_name == "identifiers"
)
# The hook Strawberry offers for inputs that build their own value (``from_input``).
_RECORD_INPUT.from_input = _record_from_input


@strawberry.enum(description="What happened to one record of a batch.")
class RecordStatus(StrEnum):
    STORED = "STORED"
    STORED_WITH_WARNINGS = "STORED_WITH_WARNINGS"
    REFUSED = "REFUSED"
    SUPPRESSED = "SUPPRESSED"


@strawberry.type(description="Why a record was not stored. Never holds personal data.")
class Refusal:
    field: str
    code: str = strawberry.field(
        description="NOT_IDENTIFIABLE (no name, no usable contact point, no identifier), "
        "DUPLICATE_IN_BATCH, or INVALID (the record breaks the API contract)."
    )
    message: str


@strawberry.type(description="The answer for one record of a batch, in the batch's order.")
class RecordResult:
    index: int
    source_id: str
    status: RecordStatus
    person_id: strawberry.ID | None
    created: bool
    refusal: Refusal | None
    report: strawberry.Private[QualityModel | None]

    @strawberry.field(description="The WARNING issues: values flagged and kept raw, or missing.")
    def warnings(self) -> list[QualityIssue]:
        return warnings_of(self.report)

    @strawberry.field(description="Everything cleaning did and found.")
    def quality(self) -> QualityReport | None:
        return quality_of(self.report)


def warnings_of(report: QualityModel | None) -> list[QualityIssue]:
    """The WARNING issues of a record's report (none for a record not stored)."""
    if report is None:
        return []
    return [
        QualityIssue(field=i.field, code=i.code, severity=i.severity.value, detail=i.detail)
        for i in report.issues
        if i.severity is Severity.WARNING
    ]


def quality_of(report: QualityModel | None) -> QualityReport | None:
    # Built only when asked for: importers usually want the status alone.
    return QualityReport.from_model(report) if report is not None else None


@strawberry.type
class IngestedRecord:
    source_id: str
    person_id: strawberry.ID
    created: bool
    report: strawberry.Private[QualityModel]

    @strawberry.field
    def quality(self) -> QualityReport:
        return QualityReport.from_model(self.report)


@strawberry.type
class IngestResult:
    created: int
    updated: int
    with_warnings: int = strawberry.field(description="Stored records that carry a WARNING.")
    refused: int
    records: list[IngestedRecord] = strawberry.field(description="The stored records.")
    results: list[RecordResult] = strawberry.field(
        description="One answer per record sent, in the batch's order."
    )
    suppressed: list[str] = strawberry.field(
        description="Source ids not stored: their person was erased (suppression list)."
    )


async def store(
    info: Info, source: str, raws: list[RawRecord], *, atomic: bool, strict: bool = False
) -> tuple[people.CleanBatch, people.Ingestion]:
    """Clean outside the transaction, store what may be stored in one unit of work."""
    ctx = info.context
    now = datetime.now(UTC)
    batch = people.clean_batch(
        source, raws, sources=ctx.sources, now=now, atomic=atomic, strict=strict
    )
    ingestion = people.Ingestion([], [])
    if batch.records:
        ingestion = await _write_in_turn(info, source, raws, batch, now)
        ctx.forget_reads()
    return batch, ingestion


async def _write_in_turn(
    info: Info, source: str, raws: list[RawRecord], batch: people.CleanBatch, now: datetime
) -> people.Ingestion:
    """The batch stored when the process's earlier ingests are done. Waiting for the
    turn counts against the graph deadline: with the graph stalled, a request waiting
    behind another ends UNAVAILABLE within the deadline too, not one deadline later
    for each batch ahead of it."""
    ctx = info.context
    limit = ctx.graph.timeout_s
    try:
        async with asyncio.timeout(limit), ctx.ingest_turn:
            return await _write(info, source, raws, batch, now)
    except TimeoutError as exc:
        raise Unavailable(
            f"The graph database did not answer within {limit:g} s; try again."
        ) from exc


async def _write(
    info: Info, source: str, raws: list[RawRecord], batch: people.CleanBatch, now: datetime
) -> people.Ingestion:
    ctx = info.context
    return await ctx.unit_of_work.write(
        lambda tx, events: people.ingest(
            source,
            raws,
            store=GraphPersonStore(tx),
            households=ctx.household_store(tx),
            employers=GraphEmploymentStore(tx),
            sources=ctx.sources,
            events=events,
            suppressor=ctx.suppressor,
            suppressions=GraphSuppressionList(tx),
            now=now,
            rules=ctx.rules,
            cleaned=batch.records,
        )
    )


def _result(
    raws: list[RawRecord], batch: people.CleanBatch, ingestion: people.Ingestion
) -> IngestResult:
    refused = {r.index: r for r in batch.refused}
    outcomes = {o.source_id: o for o in ingestion.outcomes}
    suppressed = set(ingestion.suppressed)
    results = []
    for index, raw in enumerate(raws):
        refusal = refused.get(index)
        outcome = outcomes.get(raw.source_id) if refusal is None else None
        if refusal is not None:
            status = RecordStatus.REFUSED
        elif raw.source_id in suppressed or outcome is None:
            status = RecordStatus.SUPPRESSED
        elif any(i.severity is Severity.WARNING for i in outcome.quality.issues):
            status = RecordStatus.STORED_WITH_WARNINGS
        else:
            status = RecordStatus.STORED
        results.append(
            RecordResult(
                index=index,
                source_id=raw.source_id[:MAX_SOURCE_ID],
                status=status,
                person_id=strawberry.ID(outcome.person_id) if outcome else None,
                created=bool(outcome and outcome.created),
                refusal=Refusal(field=refusal.field, code=refusal.code, message=refusal.message)
                if refusal
                else None,
                report=outcome.quality if outcome else None,
            )
        )
    created = sum(o.created for o in ingestion.outcomes)
    return IngestResult(
        created=created,
        updated=len(ingestion.outcomes) - created,
        with_warnings=sum(r.status is RecordStatus.STORED_WITH_WARNINGS for r in results),
        refused=len(batch.refused),
        records=[
            IngestedRecord(
                source_id=o.source_id,
                person_id=strawberry.ID(o.person_id),
                created=o.created,
                report=o.quality,
            )
            for o in ingestion.outcomes
        ],
        results=results,
        suppressed=ingestion.suppressed,
    )


@strawberry.type
class IngestionMutation:
    @strawberry.mutation(
        description=f"Ingest up to {MAX_BATCH} records of one source system (each text at most "
        f"{MAX_FIELD_LENGTH} characters). Each record is answered on its own: stored, stored "
        "with warnings (a value that failed its checks is kept raw and used nowhere), or "
        "refused (it cannot identify anybody, or breaks the contract). The stored ones are "
        "written in one transaction. `atomic: true` refuses the whole batch when one record "
        "is refused (INVALID_INPUT, extensions.rejected)."
    )
    async def ingest_source_records(
        self, info: Info, source: str, records: list[SourceRecordInput], atomic: bool = False
    ) -> IngestResult:
        info.context.require(*WRITE_ROLES)
        raws = [r.to_raw() for r in records]
        batch, ingestion = await store(info, source, raws, atomic=atomic)
        return _result(raws, batch, ingestion)
