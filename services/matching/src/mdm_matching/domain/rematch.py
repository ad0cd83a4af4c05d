"""Batch re-matching: every candidate pair scored again, as a restartable job.

Online matching sees a person once, when it arrives, with the model of that
moment. After a new model was trained, after events were lost (the profile
service logs a failed publish rather than failing its writes) or after the
thresholds changed, a batch job scores all candidate pairs again and applies the
same policy. It runs in phases; every step is idempotent, so a redelivered task
(late acks: a killed worker's task goes back to the queue) or a steward's
``resumeRematch`` simply continues where the job stood:

1. SYNCING (one task): subjects are reconciled with the profile service. Persons
   matching never heard of are registered with their features; subjects whose
   person was merged away (or is active again) are brought up to date
   (:mod:`mdm_matching.domain.rematch_sync`).
2. TRAINING (the same task): the model that decides is chosen by
   :mod:`mdm_matching.domain.batch_model`: the current one if it was trained
   recently on about as many profiles, else one trained now on all of them. The
   job keeps its version; partitions and the plan score with that version.
3. SCORING (one task per partition, on any worker): a partition blocks all
   active subjects (so every partition sees the same candidate pairs) and scores
   the pairs that hash to it, column-wise (:mod:`mdm_matching.domain.rematch_scoring`).
   Pairs at or above the review threshold are stored as proposals (in slices, a
   transaction each), then the partition is marked done.
4. MERGING (one task; every finished partition asks for it, it goes ahead once
   all are done): planned and applied in :mod:`mdm_matching.domain.rematch_merge`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_matching.domain.batch_model import ModelRule, kept_reason, training_reason
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.engine.model import Score, default_parameters
from mdm_matching.domain.models import (
    PairEvidence,
)
from mdm_matching.domain.online import Policy, ScorerCache, evidence_of
from mdm_matching.domain.rematch_scoring import score_partition_pairs
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import (
    all_active_features,
    all_training_features,
)
from mdm_matching.domain.training import train_on

MAX_PARTITIONS = 64
PROPOSALS_PER_WRITE = 2000
_STEP_NAMESPACE = uuid.UUID("6f1d2c8e-3b7a-4f0e-9c55-2a9e8d4b7c10")


class RematchStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"  # waits for a steward's resume


class RematchPhase(StrEnum):
    SYNCING = "SYNCING"
    TRAINING = "TRAINING"
    SCORING = "SCORING"
    MERGING = "MERGING"
    DONE = "DONE"


class StepStatus(StrEnum):
    PLANNED = "PLANNED"
    DONE = "DONE"
    SKIPPED = "SKIPPED"  # one of the persons was merged elsewhere or gone since planning


@dataclass(frozen=True)
class RematchJob:
    """A job as stored, with its progress counted from partitions and steps."""

    id: str
    status: RematchStatus
    phase: RematchPhase
    partitions: int
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    synced_persons: int = 0  # persons the sync registered or brought up to date
    partitions_done: int = 0
    subjects: int = 0  # active subjects the partitions blocked
    scored_pairs: int = 0
    proposals: int = 0
    planned_merges: int = 0
    merges_done: int = 0
    merges_skipped: int = 0
    review_tasks: int = 0
    error: str | None = None
    model_version: str | None = None  # the model that decides, once chosen
    model_trained: bool = False  # the job trained it
    model_reason: str | None = None  # why that model

    @property
    def active(self) -> bool:
        return self.status in (RematchStatus.QUEUED, RematchStatus.RUNNING)

    @property
    def progress(self) -> float:
        """A rough share of the work done: syncing and training 10 %, scoring 60 %, merging
        30 %."""
        if self.phase == RematchPhase.DONE:
            return 1.0
        if self.phase == RematchPhase.MERGING:
            settled = self.merges_done + self.merges_skipped
            return 0.7 + 0.3 * (settled / self.planned_merges if self.planned_merges else 1.0)
        if self.phase == RematchPhase.SCORING:
            return 0.1 + 0.6 * self.partitions_done / self.partitions
        return 0.0 if self.phase == RematchPhase.SYNCING else 0.05


@dataclass(frozen=True)
class PlanClaim:
    """The delivery now writing a job's merge plan, and the slices written before it
    (a digest each, in plan order)."""

    attempt: int
    digests: list[str]


@dataclass(frozen=True)
class MergeStep:
    job_id: str
    order: int
    survivor_id: str
    merged_id: str
    evidence: PairEvidence
    status: StepStatus = StepStatus.PLANNED

    @property
    def merge_id(self) -> str:
        """The idempotency key the profile service's merge gets for this step."""
        return str(uuid.uuid5(_STEP_NAMESPACE, f"{self.job_id}|{self.merged_id}"))


def new_job(job_id: str, *, partitions: int, requested_by: str, now: datetime) -> RematchJob:
    if not 1 <= partitions <= MAX_PARTITIONS:
        raise InvalidInput(f"partitions must be between 1 and {MAX_PARTITIONS}.",
                           field="partitions")  # fmt: skip
    return RematchJob(
        id=job_id, status=RematchStatus.QUEUED, phase=RematchPhase.SYNCING,
        partitions=partitions, requested_by=requested_by, requested_at=now,
    )  # fmt: skip


# --- 2. the model ----------------------------------------------------------------


async def choose_model(
    job_id: str, *, transactions: Transactions, rule: ModelRule, max_block: int, now: datetime
) -> RematchJob | None:
    """Keep the current model or train one (``batch_model``); then the job is SCORING.
    The new model, the job's choice and its phase are stored in one transaction, so a
    worker killed while training trains again on redelivery."""
    job = await transactions.read(lambda s: s.rematch.get(job_id))
    if job is None or not job.active or job.phase != RematchPhase.TRAINING:
        return job
    records = await all_training_features(transactions)
    current = await transactions.read(lambda s: s.subjects.load_model())
    reason = training_reason(current, subjects=len(records), now=now, rule=rule)
    trained = None
    if reason is not None:
        trained, _ = train_on(
            records,
            max_block=max_block,
            version=f"{now.isoformat()}/rematch/{job_id}",
            now=now,
            keep_thresholds_of=current,
        )
    elif current is not None:
        reason = kept_reason(current, subjects=len(records))
    deciding = trained or current or default_parameters()

    async def scoring(stores: Stores) -> RematchJob | None:
        # Another delivery (the visibility timeout ran out while this one trained)
        # may have chosen meanwhile: its choice stands, this one writes nothing.
        latest = await stores.rematch.lock(job_id)
        if latest is None or latest.phase != RematchPhase.TRAINING:
            return latest
        if trained is not None:
            await stores.subjects.save_model(trained, at=now)
        await stores.rematch.update(
            job_id,
            phase=RematchPhase.SCORING,
            model_version=deciding.version,
            model_trained=trained is not None,
            model_reason=reason,
        )
        return await stores.rematch.get(job_id)

    return await transactions.write(scoring)


# --- 3. scoring ----------------------------------------------------------------


async def score_partition(
    job_id: str,
    number: int,
    *,
    transactions: Transactions,
    policy: Policy,
    scorers: ScorerCache,
    features: Callable[[], Awaitable[list[MatchRecord]]] | None = None,
) -> RematchJob | None:
    """Score one partition's pairs and store its proposals; a no-op once done.

    ``features``: where the active subjects' features come from, by default the graph
    (every partition reads them all); a scorer off the graph passes an export's reader
    (docs/scaling.md). Proposals, claims and the plan are the same either way."""
    job = await transactions.read(lambda s: s.rematch.get(job_id))
    if job is None or not job.active or job.phase != RematchPhase.SCORING:
        return job
    if not await transactions.write(lambda s: s.rematch.begin_partition(job_id, number)):
        return job  # scored already (a redelivered task)
    records = await (features() if features else all_active_features(transactions))
    by_id = {r.id: r for r in records}
    scorer = await transactions.read(lambda s: scorers.of_version(s.subjects, job.model_version))
    policy = policy.for_model(scorer.parameters)
    found = score_partition_pairs(
        records,
        scorer,
        partitions=job.partitions,
        number=number,
        review_at=policy.review_at,
        max_block=policy.max_block,
    )
    scored = found.scored
    proposals = [_evidence(s, by_id, scorer.parameters.version) for s in found.proposals]

    # Proposals go in slices, a transaction each, so that no transaction grows with
    # the data set (a partition of the German 100k set has about 50,000); rewriting
    # one is harmless, so a task killed in between simply writes them again.
    for start in range(0, len(proposals), PROPOSALS_PER_WRITE):

        async def save(
            stores: Stores,
            part: list[PairEvidence] = proposals[start : start + PROPOSALS_PER_WRITE],
        ) -> None:
            await stores.rematch.save_proposals(job_id, part)

        await transactions.write(save)

    async def finish(stores: Stores) -> RematchJob | None:
        await stores.rematch.finish_partition(
            job_id, number, proposals=len(proposals), scored_pairs=scored, subjects=len(records)
        )
        return await stores.rematch.get(job_id)

    return await transactions.write(finish)


def _evidence(score: Score, records: dict[str, MatchRecord], version: str) -> PairEvidence:
    fingerprints = {i: fingerprint(records[i]) for i in (score.left, score.right)}
    return evidence_of(score, fingerprints, model_version=version)


# --- starting, resuming, handing on ---------------------------------------------


@dataclass(frozen=True)
class NextWork:
    """What to queue to continue a job where it stands."""

    job: RematchJob
    sync: bool = False
    partitions: tuple[int, ...] = ()
    merge: bool = False

    def announce(self, events: EventRecorder) -> None:
        if self.sync:
            events.record(Event.REMATCH_REQUESTED, job_id=self.job.id)
        for number in self.partitions:
            events.record(Event.REMATCH_PARTITION_QUEUED, job_id=self.job.id,
                          partition=str(number))  # fmt: skip
        if self.merge:
            events.record(Event.REMATCH_PARTITION_SCORED, job_id=self.job.id)


async def hand_on(stores: Stores, job: RematchJob) -> NextWork:
    """Announce, in the caller's write transaction, what continues ``job``."""
    work = await next_work(stores, job)
    work.announce(stores.events)
    return work


async def next_work(stores: Stores, job: RematchJob) -> NextWork:
    if not job.active:
        return NextWork(job)
    if job.phase in (RematchPhase.SYNCING, RematchPhase.TRAINING):
        return NextWork(job, sync=True)  # the sync task chooses the model too
    if job.phase == RematchPhase.SCORING:
        pending = tuple(await stores.rematch.pending_partitions(job.id))
        return NextWork(job, partitions=pending, merge=not pending)
    return NextWork(job, merge=job.phase == RematchPhase.MERGING)


async def start(
    job_id: str, *, partitions: int, requested_by: str, transactions: Transactions, now: datetime
) -> NextWork:
    """A new job, refused while another one is queued or running."""
    job = new_job(job_id, partitions=partitions, requested_by=requested_by, now=now)

    async def create(stores: Stores) -> NextWork:
        running = await stores.rematch.recent(limit=1, active_only=True)
        if running:
            raise Conflict(f"Re-matching job {running[0].id} is still {running[0].status.value}; "
                           "resume it or wait until it is done.", field="partitions")  # fmt: skip
        await stores.rematch.create(job)
        work = NextWork(job, sync=True)
        work.announce(stores.events)
        return work

    return await transactions.write(create)


async def resume(job_id: str, *, transactions: Transactions) -> NextWork:
    """Continue a failed or stalled job (its worker died) where it stood."""

    async def work(stores: Stores) -> NextWork:
        job = await stores.rematch.get(job_id)
        if job is None:
            raise NotFound(f"No re-matching job with id {job_id}.", field="id")
        if job.status == RematchStatus.DONE:
            raise Conflict("The job is done; start a new one.", field="id")
        await stores.rematch.update(job_id, status=RematchStatus.RUNNING, error=None)
        job = await stores.rematch.get(job_id)
        assert job is not None  # updated just now
        return await hand_on(stores, job)

    return await transactions.write(work)


async def fail(job_id: str, error: str, *, transactions: Transactions) -> None:
    await transactions.write(
        lambda s: s.rematch.update(job_id, status=RematchStatus.FAILED, error=error)
    )
