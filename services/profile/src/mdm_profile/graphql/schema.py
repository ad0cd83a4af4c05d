"""The profile subgraph: persons (federation entity keyed by ``id``) and ingestion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime

import strawberry

from mdm_common.errors import NotFound
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.domain import people
from mdm_profile.domain.records import RawRecord, record_key
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.types import (
    READ_ROLES,
    WRITE_ROLES,
    CreatePersonInput,
    IngestedRecord,
    IngestResult,
    Person,
    QualityReport,
    SourceRecord,
    SourceRecordInput,
)

Info = strawberry.Info[ProfileContext, None]
_RAW_FIELDS = [f.name for f in fields(RawRecord)]


@strawberry.type
class Query:
    @strawberry.field(description="A person by id; NOT_FOUND if there is none.")
    async def person(self, info: Info, id: strawberry.ID) -> Person:  # noqa: A002 - GraphQL argument name
        info.context.require(*READ_ROLES)
        found = await info.context.persons.load(str(id))
        if found is None:
            raise NotFound(f"No person with id {id}.", field="id")
        return Person.from_model(found)

    @strawberry.field(description="A source record with its quality report; NOT_FOUND if unknown.")
    async def source_record(self, info: Info, source: str, source_id: str) -> SourceRecord:
        info.context.require(*READ_ROLES)
        key = record_key(source, source_id)
        found = await info.context.graph.read(lambda tx: GraphPersonStore(tx).records_by_key([key]))
        if key not in found:
            raise NotFound("No such source record.", field="sourceId")
        return SourceRecord.from_model(found[key].record)


async def _ingest(info: Info, source: str, raws: list[RawRecord]) -> list[people.IngestOutcome]:
    ctx = info.context
    now = datetime.now(UTC)
    return await ctx.unit_of_work.write(
        lambda tx: people.ingest(
            source, raws, store=GraphPersonStore(tx), sources=ctx.sources, events=ctx.outbox,
            now=now, rules=ctx.rules,
        )
    )  # fmt: skip


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Ingest up to 500 records of one source system: all of them, or none."
    )
    async def ingest_source_records(
        self, info: Info, source: str, records: list[SourceRecordInput]
    ) -> IngestResult:
        info.context.require(*WRITE_ROLES)
        raws = [RawRecord(**{name: getattr(r, name) for name in _RAW_FIELDS}) for r in records]
        outcomes = await _ingest(info, source, raws)
        created = sum(o.created for o in outcomes)
        return IngestResult(
            created=created,
            updated=len(outcomes) - created,
            records=[
                IngestedRecord(source_id=o.source_id, person_id=strawberry.ID(o.person_id),
                               created=o.created, quality=QualityReport.from_model(o.quality))
                for o in outcomes
            ],
        )  # fmt: skip

    @strawberry.mutation(description="Create a person directly (recorded as source 'api').")
    async def create_person(self, info: Info, input: CreatePersonInput) -> Person:  # noqa: A002 - GraphQL argument name
        info.context.require(*WRITE_ROLES)
        raw = RawRecord(
            source_id=str(uuid.uuid4()), given_name=input.given_name,
            family_name=input.family_name, email=input.email,
        )  # fmt: skip
        outcome = (await _ingest(info, "api", [raw]))[0]
        person = await info.context.persons.load(outcome.person_id)
        assert person is not None  # written in the transaction that just committed
        return Person.from_model(person)


def build_schema(extensions: Sequence[Extension] = ()) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query, mutation=Mutation, types=[Person], extensions=list(extensions)
    )
