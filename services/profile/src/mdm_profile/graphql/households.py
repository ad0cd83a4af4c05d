"""GraphQL for a steward's household decisions: confirm one, split one.

Both are recorded with who and when on the household, announced through the unit of
work's events, and not undone by the next automatic detection.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import strawberry

from mdm_profile.domain import households
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.organisations import Household
from mdm_profile.graphql.types import MERGE_ROLES

Info = strawberry.Info[ProfileContext, None]


@strawberry.type(description="A household after a split, and the one its members moved into.")
class HouseholdSplit:
    household: Household
    into: Household


@strawberry.type
class HouseholdMutation:
    @strawberry.mutation(
        description="Confirm that the active members live together: detection keeps them "
        "in this household (it may still add newcomers with evidence). Role: steward."
    )
    async def confirm_household(self, info: Info, household_id: strawberry.ID) -> Household:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        household = await ctx.unit_of_work.write(
            lambda tx, events: households.confirm_household(
                str(household_id),
                store=ctx.household_store(tx),
                events=events,
                actor=principal.subject,
                now=now,
            )
        )
        ctx.forget_reads()
        return Household.from_model(household)

    @strawberry.mutation(
        description="Move members out of a household: into `intoHouseholdId` (at the same "
        "address) or, without it, into a new household. They keep their roles; their old "
        "memberships stay, inactive. Detection does not undo it. Role: steward."
    )
    async def split_household(
        self,
        info: Info,
        household_id: strawberry.ID,
        person_ids: list[strawberry.ID],
        into_household_id: strawberry.ID | None = None,
    ) -> HouseholdSplit:
        ctx = info.context
        principal = ctx.require(*MERGE_ROLES)
        now = datetime.now(UTC)
        new_id = str(uuid.uuid4())
        split = await ctx.unit_of_work.write(
            lambda tx, events: households.split_household(
                str(household_id),
                [str(p) for p in person_ids],
                into_id=str(into_household_id) if into_household_id is not None else None,
                new_id=new_id,
                store=ctx.household_store(tx),
                events=events,
                actor=principal.subject,
                now=now,
            )
        )
        ctx.forget_reads()
        return HouseholdSplit(
            household=Household.from_model(split.household), into=Household.from_model(split.into)
        )
