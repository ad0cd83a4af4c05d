"""The profile subgraph: persons (federation entity keyed by ``id``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import strawberry

from mdm_common.errors import NotFound
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.domain import people
from mdm_profile.domain.models import PersonDraft
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.types import READ_ROLES, WRITE_ROLES, CreatePersonInput, Person

Info = strawberry.Info[ProfileContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="A person by id; NOT_FOUND if there is none.")
    async def person(self, info: Info, id: strawberry.ID) -> Person:  # noqa: A002 - GraphQL argument name
        info.context.require(*READ_ROLES)
        found = await info.context.persons.load(str(id))
        if found is None:
            raise NotFound(f"No person with id {id}.", field="id")
        return Person.from_model(found)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a person; announces profile.person_created.")
    async def create_person(self, info: Info, input: CreatePersonInput) -> Person:  # noqa: A002 - GraphQL argument name
        info.context.require(*WRITE_ROLES)
        draft = PersonDraft(
            given_name=input.given_name, family_name=input.family_name, email=input.email
        )
        now = datetime.now(UTC)
        person = await info.context.unit_of_work.write(
            lambda tx: people.create_person(
                draft, people=GraphPersonStore(tx), events=info.context.outbox, now=now
            )
        )
        return Person.from_model(person)


def build_schema(
    extensions: Sequence[Extension] = (),
) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query, mutation=Mutation, types=[Person], extensions=list(extensions)
    )
