"""GraphQL for rectification (GDPR Art. 16, 19; docs/data-subject-requests.md).

Role ``compliance`` (``admin`` holds every role): the consent service calls these on
behalf of the steward or officer who decides the request.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore
from mdm_profile.domain import rectification
from mdm_profile.graphql.context import ProfileContext

Info = strawberry.Info[ProfileContext, None]
RECTIFICATION_ROLES = (Role.COMPLIANCE,)
_FIELDS = ", ".join(rectification.FIELDS)


@strawberry.type(description="What a rectification did, or would do; never the values.")
class ProfileRectification:
    person_ids: list[strawberry.ID] = strawberry.field(
        description="The merge group: the survivor first, then merged-away ids."
    )
    field: str
    recipients: list[str] = strawberry.field(
        description="Art. 19: source systems whose records hold another value for the field "
        "(to be told of the rectification)."
    )
    source: str = strawberry.field(description="Lineage of the corrected value: rectification.")
    source_id: strawberry.ID | None = strawberry.field(
        description="The request the value was corrected for; null for a check."
    )
    already_applied: bool = strawberry.field(description="Applied before for this request.")

    @classmethod
    def from_model(cls, done: rectification.Rectification) -> ProfileRectification:
        return cls(
            person_ids=[strawberry.ID(i) for i in done.person_ids],
            field=done.field,
            recipients=done.recipients,
            source=done.source,
            source_id=strawberry.ID(done.source_id) if done.source_id else None,
            already_applied=done.already_applied,
        )


@strawberry.type
class RectificationQuery:
    @strawberry.field(
        description=f"Would this corrected value be accepted ({_FIELDS}; an address as compact "
        "JSON like the export's)? BAD_USER_INPUT naming the field if not. Writes nothing. "
        "Role: compliance."
    )
    async def profile_rectification_check(
        self, info: Info, person_id: strawberry.ID, field: str, value: str
    ) -> ProfileRectification:
        info.context.require(*RECTIFICATION_ROLES)
        now = datetime.now(UTC)
        found = await info.context.graph.read(
            lambda tx: rectification.check(
                str(person_id), field, value, store=GraphPrivacyStore(tx), now=now
            )
        )
        return ProfileRectification.from_model(found)


@strawberry.type
class RectificationMutation:
    @strawberry.mutation(
        description="Rectification (Art. 16): the corrected value becomes a source record of "
        "source 'rectification' (sourceId = the request), which wins survivorship for its "
        "field over every source; the other records stay as received. Idempotent per "
        "request. Role: compliance."
    )
    async def rectify_profile_value(
        self,
        info: Info,
        person_id: strawberry.ID,
        request_id: strawberry.ID,
        field: str,
        value: str,
    ) -> ProfileRectification:
        ctx = info.context
        ctx.require(*RECTIFICATION_ROLES)
        now = datetime.now(UTC)
        done = await ctx.unit_of_work.write(
            lambda tx, events: rectification.rectify(
                str(person_id),
                str(request_id),
                field,
                value,
                store=GraphPrivacyStore(tx),
                people=GraphPersonStore(tx),
                households=ctx.household_store(tx),
                sources=ctx.sources,
                rules=ctx.rules,
                events=events,
                now=now,
            )
        )
        ctx.forget_reads()
        return ProfileRectification.from_model(done)
