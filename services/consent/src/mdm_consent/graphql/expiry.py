"""GraphQL for the expiry job: start a run by hand, follow it (counts only)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import expiry_runs as er
from mdm_consent.domain.requests import checked_id
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.retention import RunStatus

Info = strawberry.Info[ConsentContext, None]
EXPIRY_ROLES = (Role.COMPLIANCE,)


@strawberry.type(
    description="A run of the expiry job: EXPIRED events for consents lapsed by their "
    "purpose's consentValidityDays. Counts only, no personal data."
)
class ExpiryRun:
    id: strawberry.ID
    started_at: datetime
    started_by: str = strawberry.field(description="The officer, or 'schedule'.")
    status: RunStatus  # type: ignore[valid-type]
    checked: int = strawberry.field(
        description="Persons with events for a purpose with a consent validity looked at."
    )
    expired: int = strawberry.field(description="EXPIRED events recorded by this run.")
    finished_at: datetime | None
    error: str | None

    @classmethod
    def from_model(cls, x: er.ExpiryRun) -> ExpiryRun:
        return cls(
            id=strawberry.ID(x.id),
            started_at=x.started_at,
            started_by=x.started_by,
            status=x.status,
            checked=x.checked,
            expired=x.expired,
            finished_at=x.finished_at,
            error=x.error,
        )


@strawberry.type
class ExpiryQuery:
    @strawberry.field(description="An expiry run. Role: compliance.")
    async def expiry_run(self, info: Info, id: strawberry.ID) -> ExpiryRun:  # noqa: A002 - GraphQL argument name
        info.context.require(*EXPIRY_ROLES)
        run_id = checked_id(str(id))
        found = await info.context.transactions.read(lambda s: er.known_run(s, run_id))
        return ExpiryRun.from_model(found)

    @strawberry.field(description="The latest expiry runs first. Role: compliance.")
    async def expiry_runs(self, info: Info, first: int = 20) -> list[ExpiryRun]:
        info.context.require(*EXPIRY_ROLES)
        found = await info.context.transactions.read(lambda s: er.runs(s, first=first))
        return [ExpiryRun.from_model(x) for x in found]


@strawberry.type
class ExpiryMutation:
    @strawberry.mutation(
        description="Start an expiry run now (it also runs daily): an EXPIRED event for every "
        "consent lapsed by its purpose's consentValidityDays; CONFLICT while one is running. "
        "Role: compliance."
    )
    async def start_expiry_run(self, info: Info) -> ExpiryRun:
        ctx = info.context
        actor = ctx.require(*EXPIRY_ROLES)
        run = await er.start(
            transactions=ctx.transactions, started_by=actor.subject, now=datetime.now(UTC)
        )
        return ExpiryRun.from_model(run)

    @strawberry.mutation(
        description="Queue the next page of a run that is still RUNNING again (its message "
        "was lost; a page delivered twice is done once). CONFLICT for a finished run. "
        "Role: compliance."
    )
    async def resume_expiry_run(self, info: Info, id: strawberry.ID) -> ExpiryRun:  # noqa: A002 - GraphQL argument name
        ctx = info.context
        ctx.require(*EXPIRY_ROLES)
        run = await er.resume(checked_id(str(id)), transactions=ctx.transactions)
        return ExpiryRun.from_model(run)
