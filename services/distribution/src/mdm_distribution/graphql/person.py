"""The distribution subgraph's part of the federated Person: who was sent their data."""

from __future__ import annotations

from typing import Any

import strawberry

from mdm_distribution.adapters.recipient_store import GraphRecipientStore
from mdm_distribution.graphql import types as t
from mdm_distribution.graphql.context import DistributionContext

Info = strawberry.Info[DistributionContext, None]


@strawberry.federation.type(keys=["id"])
class Person:
    id: strawberry.ID

    @strawberry.field(
        description="The subscribers sent this person's data, and when (Art. 19). Role: compliance."
    )
    async def distribution_recipients(self, info: Info) -> list[t.DistributionRecipient]:
        info.context.require(*t.RECIPIENT_ROLES)
        found = await info.context.graph.read(
            lambda tx: GraphRecipientStore(tx).of_person(str(self.id))
        )
        return [t.DistributionRecipient.of(r) for r in found if r.ever_sent]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Person:  # noqa: A002 - federation key name
        return cls(id=id)
