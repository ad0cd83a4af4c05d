"""Batch re-matching jobs in the matching subgraph: start, follow, resume."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.errors import InvalidInput, NotFound
from mdm_matching.domain import rematch
from mdm_matching.graphql.context import MatchingContext

Info = strawberry.Info[MatchingContext, None]

STEWARD_ROLES = (Role.STEWARD,)
MAX_JOBS = 100

RematchStatus = strawberry.enum(rematch.RematchStatus, name="RematchStatus")
RematchPhase = strawberry.enum(
    rematch.RematchPhase, name="RematchPhase",
    description="SYNCING: subjects reconciled with the profile service; TRAINING: the model "
    "that decides is chosen or trained; SCORING: partitions score all candidate pairs; "
    "MERGING: merges planned and applied; DONE.",
)  # fmt: skip


@strawberry.type(
    description="Every candidate pair scored again with the current model and thresholds, "
    "partitioned across workers; restartable. Counts grow while the job runs."
)
class RematchJob:
    id: strawberry.ID
    status: RematchStatus  # type: ignore[valid-type]
    phase: RematchPhase  # type: ignore[valid-type]
    progress: float = strawberry.field(
        description="Share done, 0 to 1 (syncing and training 10 %, scoring 60 %, merging 30 %)."
    )
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    partitions: int
    partitions_done: int
    synced_persons: int = strawberry.field(
        description="Persons the sync registered or brought up to date (events matching missed)."
    )
    subjects: int = strawberry.field(description="Profiles the partitions compared.")
    scored_pairs: int
    proposals: int = strawberry.field(description="Pairs at or above the review threshold.")
    planned_merges: int
    merges_done: int
    merges_skipped: int = strawberry.field(
        description="Planned merges left out: a person was merged elsewhere or gone meanwhile."
    )
    review_tasks: int = strawberry.field(description="Review tasks opened or refreshed.")
    error: str | None = strawberry.field(description="Error type when FAILED.")
    model_version: str | None = strawberry.field(
        default=None,
        description="The model version that decides the job's merges and review tasks (set "
        "once TRAINING is over); their explanations name it too.",
    )
    model_trained: bool = strawberry.field(
        default=False, description="Whether the job trained that model itself."
    )
    model_reason: str | None = strawberry.field(
        default=None, description="Why that model: trained (and why) or the current one kept."
    )

    @classmethod
    def from_model(cls, j: rematch.RematchJob) -> RematchJob:
        return cls(
            id=strawberry.ID(j.id), status=j.status, phase=j.phase, progress=j.progress,
            requested_by=j.requested_by, requested_at=j.requested_at, finished_at=j.finished_at,
            partitions=j.partitions, partitions_done=j.partitions_done,
            synced_persons=j.synced_persons, subjects=j.subjects, scored_pairs=j.scored_pairs,
            proposals=j.proposals, planned_merges=j.planned_merges, merges_done=j.merges_done,
            merges_skipped=j.merges_skipped, review_tasks=j.review_tasks, error=j.error,
            model_version=j.model_version, model_trained=j.model_trained,
            model_reason=j.model_reason,
        )  # fmt: skip


@strawberry.type
class RematchQuery:
    @strawberry.field(description="A re-matching job; NOT_FOUND if unknown. Role: steward.")
    async def rematch_job(self, info: Info, id: strawberry.ID) -> RematchJob:  # noqa: A002 - GraphQL argument name
        info.context.require(*STEWARD_ROLES)
        job = await info.context.transactions.read(lambda s: s.rematch.get(str(id)))
        if job is None:
            raise NotFound(f"No re-matching job with id {id}.", field="id")
        return RematchJob.from_model(job)

    @strawberry.field(description="Re-matching jobs, latest first. Role: steward.")
    async def rematch_jobs(self, info: Info, first: int = 20) -> list[RematchJob]:
        info.context.require(*STEWARD_ROLES)
        if not 1 <= first <= MAX_JOBS:
            raise InvalidInput(f"first must be between 1 and {MAX_JOBS}.", field="first")
        jobs = await info.context.transactions.read(lambda s: s.rematch.recent(limit=first))
        return [RematchJob.from_model(j) for j in jobs]


@strawberry.type
class RematchMutation:
    @strawberry.mutation(
        description="Re-match all profiles now (a background job in `partitions` parts, "
        f"1 to {rematch.MAX_PARTITIONS}): merges above the upper threshold, review tasks between "
        "the thresholds, pairs rejected by a steward left alone. CONFLICT while another job is "
        "queued or running. Role: steward."
    )
    async def start_rematch(self, info: Info, partitions: int = 4) -> RematchJob:
        ctx = info.context
        principal = ctx.require(*STEWARD_ROLES)
        work = await rematch.start(
            str(uuid.uuid4()), partitions=partitions, requested_by=principal.subject,
            transactions=ctx.transactions, now=datetime.now(UTC),
        )  # fmt: skip
        return await _hand_on(ctx, work)

    @strawberry.mutation(
        description="Continue a FAILED job, or one whose worker died, where it stood (finished "
        "partitions and merges are not repeated). CONFLICT when it is DONE. Role: steward."
    )
    async def resume_rematch(self, info: Info, id: strawberry.ID) -> RematchJob:  # noqa: A002 - GraphQL argument name
        ctx = info.context
        ctx.require(*STEWARD_ROLES)
        return await _hand_on(ctx, await rematch.resume(str(id), transactions=ctx.transactions))


async def _hand_on(ctx: MatchingContext, work: rematch.NextWork) -> RematchJob:
    # The work was announced in the transaction that started or resumed the job.
    return RematchJob.from_model(work.job)
