"""The consent subgraph's part of the federated Person: its consent history, and its
consent state now or at the time of an as-of read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from mdm_consent.domain import checks
from mdm_consent.graphql import types as t
from mdm_consent.graphql.context import ConsentContext

Info = strawberry.Info[ConsentContext, None]


@strawberry.federation.type(keys=["id"])
class Person:
    id: strawberry.ID
    # The profile's: the time of an as-of read (`person(id:, asOf:)`), null for now.
    as_of: datetime | None = strawberry.federation.field(external=True, default=None)

    @strawberry.field(description="Consent history, newest first. Role: compliance; audited.")
    async def consents(self, info: Info) -> list[t.ConsentEvent]:
        info.context.require(*t.READ_ROLES)
        history = await info.context.histories.load(str(self.id))
        return [t.ConsentEvent.from_model(e) for e in history]

    @strawberry.federation.field(
        requires=["asOf"],
        description="The contact check for every registered purpose and each of its channels, "
        "at the time the profile was read as of (`person(id:, asOf:)`), or now. Roles: app, "
        "compliance.",
    )
    async def consent_state(self, info: Info) -> list[t.ContactDecision]:
        info.context.require(*t.CHECK_ROLES)
        at = self.as_of or datetime.now(UTC)
        found = await info.context.transactions.read(
            lambda s: checks.consent_state(str(self.id), s, at=at)
        )
        return [t.ContactDecision.from_model(d) for d in found]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **representation: Any) -> Person:  # noqa: A002 - federation key name
        # The gateway sends the required asOf as the JSON of a DateTime.
        as_of = representation.get("asOf")
        return cls(id=id, as_of=datetime.fromisoformat(as_of) if as_of else None)
