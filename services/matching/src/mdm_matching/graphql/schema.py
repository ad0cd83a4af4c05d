"""The matching subgraph: ``Person.matching`` and ``Person.matchCandidates``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry

from mdm_common.auth import Role
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_matching.adapters.graph_store import GraphSubjectStore
from mdm_matching.domain.models import MatchSubject as SubjectModel
from mdm_matching.graphql.context import MatchingContext

Info = strawberry.Info[MatchingContext, None]

STATUS_ROLES = (Role.APP, Role.STEWARD)
CANDIDATE_ROLES = (Role.STEWARD,)


@strawberry.type(description="Whether the matching service knows this person yet.")
class MatchingState:
    registered: bool
    registered_at: datetime | None
    merged_into: strawberry.ID | None = strawberry.field(
        description="Set when this person was merged into another (profile's merge event)."
    )


@strawberry.type(description="Another profile that may be the same person.")
class MatchCandidate:
    person_id: strawberry.ID
    score: float


@strawberry.federation.type(keys=["id"])
class Person:
    id: strawberry.ID

    @strawberry.field(description="Registration for matching. Roles: app, steward.")
    async def matching(self, info: Info) -> MatchingState:
        info.context.require(*STATUS_ROLES)
        subject = await info.context.subjects.load(str(self.id))
        return MatchingState(
            registered=subject is not None,
            registered_at=subject.registered_at if subject else None,
            merged_into=strawberry.ID(subject.merged_into)
            if subject and subject.merged_into
            else None,
        )

    @strawberry.field(description="Possible duplicates, best first. Role: steward.")
    async def match_candidates(self, info: Info) -> list[MatchCandidate]:
        info.context.require(*CANDIDATE_ROLES)
        found = await info.context.candidates.load(str(self.id))
        return [
            MatchCandidate(person_id=strawberry.ID(c.candidate_id), score=c.score) for c in found
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Person:  # noqa: A002 - federation key name
        return cls(id=id)


@strawberry.type(description="What the matching service knows about one person id.")
class MatchSubject:
    person_id: strawberry.ID
    state: MatchingState


def _state(subject: SubjectModel | None) -> MatchingState:
    return MatchingState(
        registered=subject is not None,
        registered_at=subject.registered_at if subject else None,
        merged_into=strawberry.ID(subject.merged_into) if subject and subject.merged_into else None,
    )


@strawberry.type
class Query:
    @strawberry.field(description="A person id as matching sees it, merged or not. Role: steward.")
    async def match_subject(self, info: Info, person_id: strawberry.ID) -> MatchSubject:
        info.context.require(*CANDIDATE_ROLES)
        subject = await info.context.subjects.load(str(person_id))
        return MatchSubject(person_id=person_id, state=_state(subject))

    @strawberry.field(description="Number of persons registered for matching. Role: steward.")
    async def match_subject_count(self, info: Info) -> int:
        info.context.require(*CANDIDATE_ROLES)
        return await info.context.graph.read(lambda tx: GraphSubjectStore(tx).count())


def build_schema(
    extensions: Sequence[Extension] = (),
) -> SubgraphSchema:
    return SubgraphSchema(query=Query, types=[Person], extensions=list(extensions))
