"""GraphQL for the retention job: start a run, follow it, read the evidence of removals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_consent.domain import retention as rt
from mdm_consent.domain import retention_runs as rr
from mdm_consent.domain.consents import PERSON_ID
from mdm_consent.domain.requests import checked_id
from mdm_consent.graphql.context import ConsentContext

Info = strawberry.Info[ConsentContext, None]
RETENTION_ROLES = (Role.COMPLIANCE,)

RunStatus = strawberry.enum(rr.RunStatus, name="RetentionRunStatus")
Standing = strawberry.enum(rt.Standing, name="PurposeStanding",
                           description="How a purpose stands for a person.")  # fmt: skip
PurgeStatus = strawberry.enum(rr.PurgeStatus, name="RetentionPurgeStatus")


@strawberry.type(description="A run of the retention job.")
class RetentionRun:
    id: strawberry.ID
    started_at: datetime
    started_by: str = strawberry.field(description="The officer, or 'schedule'.")
    status: RunStatus  # type: ignore[valid-type]
    checked: int = strawberry.field(description="Persons with consent records looked at.")
    purged: int = strawberry.field(description="Persons whose data had categories removed.")
    finished_at: datetime | None
    error: str | None

    @classmethod
    def from_model(cls, x: rr.RetentionRun) -> RetentionRun:
        return cls(id=strawberry.ID(x.id), started_at=x.started_at, started_by=x.started_by,
                   status=x.status, checked=x.checked, purged=x.purged,
                   finished_at=x.finished_at, error=x.error)  # fmt: skip


@strawberry.type(description="A purpose's standing when the removal was decided.")
class LapsedPurpose:
    purpose: str
    standing: Standing  # type: ignore[valid-type]
    since: datetime | None


@strawberry.type(description="Evidence of one removal of attribute categories.")
class RetentionPurge:
    run_id: strawberry.ID
    person_id: strawberry.ID
    person_ids: list[strawberry.ID] = strawberry.field(
        description="The merge group the profile removed the categories from."
    )
    categories: list[str]
    purposes: list[LapsedPurpose] = strawberry.field(
        description="Every purpose binding a removed category, and how it had lapsed."
    )
    decided_at: datetime
    status: PurgeStatus  # type: ignore[valid-type]
    detail: str = strawberry.field(description="What the profile service reported (counts).")
    done_at: datetime | None
    released: bool = strawberry.field(
        description="The end of a legal hold: what a retention duty held was erased."
    )
    phone_proof_until: date | None = strawberry.field(
        description="UWG §7a: the phone number went from the person but is kept, restricted, "
        "until this day as the proof of a phone consent."
    )

    @classmethod
    def from_model(cls, x: rr.Purge) -> RetentionPurge:
        return cls(
            run_id=strawberry.ID(x.run_id), person_id=strawberry.ID(x.person_id),
            person_ids=[strawberry.ID(p) for p in x.person_ids], categories=list(x.categories),
            purposes=[LapsedPurpose(purpose=s.purpose, standing=s.standing, since=s.since)
                      for s in x.standings],
            decided_at=x.decided_at, status=x.status, detail=x.detail, done_at=x.done_at,
            released=x.released, phone_proof_until=x.phone_proof_until,
        )  # fmt: skip


@strawberry.type
class RetentionQuery:
    @strawberry.field(description="A retention run. Role: compliance.")
    async def retention_run(self, info: Info, id: strawberry.ID) -> RetentionRun:  # noqa: A002 - GraphQL argument name
        info.context.require(*RETENTION_ROLES)
        run_id = checked_id(str(id))
        found = await info.context.transactions.read(lambda s: s.retention.get_run(run_id))
        if found is None:
            raise NotFound(f"No retention run {id}.", field="id")
        return RetentionRun.from_model(found)

    @strawberry.field(description="The latest retention runs first. Role: compliance.")
    async def retention_runs(self, info: Info, first: int = 20) -> list[RetentionRun]:
        info.context.require(*RETENTION_ROLES)
        found = await info.context.transactions.read(lambda s: rr.runs(s, first=first))
        return [RetentionRun.from_model(x) for x in found]

    @strawberry.field(
        description="Evidence of every removal of the person's attribute categories by the "
        "retention job, oldest first. Role: compliance."
    )
    async def retention_purges(self, info: Info, person_id: strawberry.ID) -> list[RetentionPurge]:
        info.context.require(*RETENTION_ROLES)
        if not PERSON_ID.match(str(person_id)):
            raise InvalidInput("personId is not a person id.", field="personId")
        found = await info.context.transactions.read(lambda s: rr.purges_of(s, str(person_id)))
        return [RetentionPurge.from_model(x) for x in found]


@strawberry.type
class RetentionMutation:
    @strawberry.mutation(
        description="Start a retention run now (it also runs daily); CONFLICT while one is "
        "running. Role: compliance."
    )
    async def start_retention_run(self, info: Info) -> RetentionRun:
        ctx = info.context
        actor = ctx.require(*RETENTION_ROLES)
        run = await rr.start(transactions=ctx.transactions, started_by=actor.subject,
                             now=datetime.now(UTC))  # fmt: skip
        return RetentionRun.from_model(run)

    @strawberry.mutation(
        description="Queue the next page of a run that is still RUNNING again (its message "
        "was lost; a page delivered twice is done once). CONFLICT for a finished run. The "
        "daily schedule does the same for a run it finds running. Role: compliance."
    )
    async def resume_retention_run(self, info: Info, id: strawberry.ID) -> RetentionRun:  # noqa: A002 - GraphQL argument name
        ctx = info.context
        ctx.require(*RETENTION_ROLES)
        run_id = checked_id(str(id))
        found = await ctx.transactions.read(lambda s: s.retention.get_run(run_id))
        if found is None:
            raise NotFound(f"No retention run {id}.", field="id")
        if found.status is not rr.RunStatus.RUNNING:
            raise Conflict(f"Retention run {id} is {found.status.value}.", field="id",
                           details={"reason": "RUN_FINISHED"})  # fmt: skip
        await ctx.transactions.write(lambda s: rr.queue_page(s, found.id))
        return RetentionRun.from_model(found)
