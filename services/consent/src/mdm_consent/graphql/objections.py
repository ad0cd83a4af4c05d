"""GraphQL for objections received as requests (GDPR Art. 21(1)): uphold or reject."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_consent.domain import objections
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.requests import REQUEST_ROLES, DataSubjectRequest

Info = strawberry.Info[ConsentContext, None]


@strawberry.type
class ObjectionMutation:
    @strawberry.mutation(
        description="Uphold an open OBJECTION to a purpose on public task or legitimate "
        "interest (Art. 21(1)): records the OBJECTED consent event with the request as "
        "evidence, so the contact check refuses the purpose. Role: compliance."
    )
    async def uphold_objection(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
    ) -> DataSubjectRequest:
        actor = info.context.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: objections.uphold(str(id), stores=s, by=actor.subject, now=now)
        )
        return DataSubjectRequest.from_model(found, now)

    @strawberry.mutation(
        description="Reject an open OBJECTION (Art. 21(1)) with the compelling legitimate "
        "grounds that override the person's interests, or the legal claims the processing "
        "serves (10-2,000 characters). Role: compliance."
    )
    async def reject_objection(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        grounds: str,
    ) -> DataSubjectRequest:
        actor = info.context.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: objections.reject(
                str(id), grounds=grounds, stores=s, by=actor.subject, now=now
            )
        )
        return DataSubjectRequest.from_model(found, now)
