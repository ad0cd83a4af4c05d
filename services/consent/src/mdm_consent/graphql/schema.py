"""The consent subgraph: consent events, and ``Person.consents`` on the shared entity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import strawberry

from mdm_common.auth import Role
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_consent.adapters.graph_store import GraphConsentStore
from mdm_consent.domain import consents
from mdm_consent.domain.models import Channel, ConsentDraft, ConsentEvent, ConsentStatus
from mdm_consent.graphql.context import ConsentContext

Info = strawberry.Info[ConsentContext, None]

READ_ROLES = (Role.COMPLIANCE,)
WRITE_ROLES = (Role.APP, Role.COMPLIANCE)

ConsentStatusEnum = strawberry.enum(ConsentStatus, name="ConsentStatus")
ChannelEnum = strawberry.enum(Channel, name="Channel")


@strawberry.type(description="One event in a person's append-only consent history.")
class Consent:
    id: strawberry.ID
    purpose: str
    status: ConsentStatusEnum  # type: ignore[valid-type]
    channel: ChannelEnum  # type: ignore[valid-type]
    source: str = strawberry.field(description="Collection point, e.g. a form's name.")
    recorded_at: datetime

    @classmethod
    def from_model(cls, event: ConsentEvent) -> Consent:
        return cls(
            id=strawberry.ID(event.id),
            purpose=event.purpose,
            status=event.status,
            channel=event.channel,
            source=event.source,
            recorded_at=event.recorded_at,
        )


@strawberry.federation.type(keys=["id"])
class Person:
    id: strawberry.ID

    @strawberry.field(description="Consent history, newest first. Role: compliance.")
    async def consents(self, info: Info) -> list[Consent]:
        info.context.require(*READ_ROLES)
        history = await info.context.histories.load(str(self.id))
        return [Consent.from_model(e) for e in history]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Person:  # noqa: A002 - federation key name
        return cls(id=id)


@strawberry.input
class RecordConsentInput:
    person_id: strawberry.ID
    purpose: str
    status: ConsentStatusEnum  # type: ignore[valid-type]
    channel: ChannelEnum  # type: ignore[valid-type]
    source: str


@strawberry.type
class Query:
    @strawberry.field(description="The consent history of one person. Role: compliance.")
    async def consent_history(self, info: Info, person_id: strawberry.ID) -> list[Consent]:
        info.context.require(*READ_ROLES)
        history = await info.context.histories.load(str(person_id))
        return [Consent.from_model(e) for e in history]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Append a consent event. Roles: app, compliance.")
    async def record_consent(self, info: Info, input: RecordConsentInput) -> Consent:  # noqa: A002 - GraphQL argument name
        principal = info.context.require(*WRITE_ROLES)
        draft = ConsentDraft(
            person_id=str(input.person_id),
            purpose=input.purpose,
            status=ConsentStatus(input.status),
            channel=Channel(input.channel),
            source=input.source,
        )
        now = datetime.now(UTC)
        event = await info.context.graph.write(
            lambda tx: consents.record_consent(
                draft, consents=GraphConsentStore(tx), now=now, recorded_by=principal.subject
            )
        )
        return Consent.from_model(event)


def build_schema(
    extensions: Sequence[Extension] = (),
) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query, mutation=Mutation, types=[Person], extensions=list(extensions)
    )
