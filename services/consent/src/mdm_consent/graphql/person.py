"""The consent subgraph's part of the federated Person: its consent history."""

from __future__ import annotations

from typing import Any

import strawberry

from mdm_consent.graphql import types as t
from mdm_consent.graphql.context import ConsentContext

Info = strawberry.Info[ConsentContext, None]


@strawberry.federation.type(keys=["id"])
class Person:
    id: strawberry.ID

    @strawberry.field(description="Consent history, newest first. Role: compliance; audited.")
    async def consents(self, info: Info) -> list[t.ConsentEvent]:
        info.context.require(*t.READ_ROLES)
        history = await info.context.histories.load(str(self.id))
        return [t.ConsentEvent.from_model(e) for e in history]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Person:  # noqa: A002 - federation key name
        return cls(id=id)
