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
   person was merged away (or is active again) are brought up to date.
2. SCORING (one task per partition, on any worker): a partition blocks all
   active subjects (so every partition sees the same candidate pairs) and scores
   the pairs whose key hashes to it. Pairs at or above the review threshold are
   stored as proposals, and the partition is marked done, in one transaction.
3. MERGING (one task; every finished partition asks for it, it goes ahead once
   all are done): proposals are scored again on the current features (persons
   may have changed while the job ran), pairs a steward rejected are dropped,
   the rest is clustered without chaining and planned as merge steps, all in one
   transaction. Each step merges through the profile service with a merge id
   derived from job and person: repeated after a kill, the profile service
   returns the first merge instead of merging twice. Marking the step done,
   auditing the merge and marking the subject are one transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_matching.domain.engine import blocking, clustering
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.engine.model import Score
from mdm_matching.domain.models import (
    Decision,
    MatchSubject,
    PairEvidence,
    TaskReason,
    Verdict,
    pair_key,
)
from mdm_matching.domain.online import ENGINE, Policy, ScorerCache, evidence_of, rejected_pairs
from mdm_matching.domain.ports import Profiles
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import all_active_features, mark_merged, save_view

MAX_PARTITIONS = 64
SYNC_PAGE = 1000
PROPOSALS_PER_WRITE = 2000
_STEP_NAMESPACE = uuid.UUID("6f1d2c8e-3b7a-4f0e-9c55-2a9e8d4b7c10")


class RematchStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"  # waits for a steward's resume


class RematchPhase(StrEnum):
    SYNCING = "SYNCING"
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

    @property
    def active(self) -> bool:
        return self.status in (RematchStatus.QUEUED, RematchStatus.RUNNING)

    @property
    def progress(self) -> float:
        """A rough share of the work done: scoring counts 70 %, merging 30 %."""
        if self.phase == RematchPhase.DONE:
            return 1.0
        if self.phase == RematchPhase.MERGING:
            settled = self.merges_done + self.merges_skipped
            return 0.7 + 0.3 * (settled / self.planned_merges if self.planned_merges else 1.0)
        if self.phase == RematchPhase.SCORING:
            return 0.7 * self.partitions_done / self.partitions
        return 0.0


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


def partition_of(left: str, right: str, partitions: int) -> int:
    """The partition a pair belongs to, the same in every worker process
    (``hash()`` of a string differs between processes)."""
    return zlib.crc32(f"{left}|{right}".encode()) % partitions


# --- 1. syncing ----------------------------------------------------------------


async def sync(job_id: str, *, profiles: Profiles, transactions: Transactions,
               now: datetime) -> RematchJob | None:  # fmt: skip
    """Reconcile subjects with the profile service; then the job is SCORING."""
    job = await transactions.read(lambda s: s.rematch.get(job_id))
    if job is None or not job.active or job.phase != RematchPhase.SYNCING:
        return job
    await transactions.write(lambda s: s.rematch.update(job_id, status=RematchStatus.RUNNING))
    synced, active = 0, set[str]()
    after = ""
    while True:
        ids = await profiles.active_ids(after=after, first=SYNC_PAGE)
        active.update(ids)

        async def known(stores: Stores, ids: list[str] = ids) -> dict[str, MatchSubject]:
            return await stores.subjects.get_many(ids)

        subjects = await transactions.read(known)
        stale = [i for i in ids
                 if i not in subjects or subjects[i].compared_at is None
                 or subjects[i].merged_into is not None]  # fmt: skip
        synced += await _refresh(stale, profiles=profiles, transactions=transactions, now=now)
        if len(ids) < SYNC_PAGE:
            break
        after = ids[-1]
    # Subjects matching holds as active whose persons are no longer: merged away.
    gone = [r.id for r in await all_active_features(transactions) if r.id not in active]
    synced += await _refresh(gone, profiles=profiles, transactions=transactions, now=now)

    async def scoring(stores: Stores) -> RematchJob | None:
        await stores.rematch.update(job_id, phase=RematchPhase.SCORING, synced_persons=synced)
        return await stores.rematch.get(job_id)

    return await transactions.write(scoring)


async def _refresh(ids: Sequence[str], *, profiles: Profiles, transactions: Transactions,
                   now: datetime) -> int:  # fmt: skip
    if not ids:
        return 0
    views = await profiles.fetch_many(ids)

    async def save(stores: Stores) -> int:
        changed = 0
        for person_id in ids:
            view = views.get(person_id)
            if view is None:
                continue  # gone from the profile service: nothing to compare with
            if view.merged_into is not None:
                await mark_merged(stores, person_id, view.merged_into, now)
            else:
                await save_view(stores, view, now)
            changed += 1
        return changed

    return await transactions.write(save)


# --- 2. scoring ----------------------------------------------------------------


async def score_partition(
    job_id: str, number: int, *, transactions: Transactions, policy: Policy, scorers: ScorerCache
) -> RematchJob | None:
    """Score one partition's pairs and store its proposals; a no-op once done."""
    job = await transactions.read(lambda s: s.rematch.get(job_id))
    if job is None or not job.active or job.phase != RematchPhase.SCORING:
        return job
    if not await transactions.write(lambda s: s.rematch.begin_partition(job_id, number)):
        return job  # scored already (a redelivered task)
    records = await all_active_features(transactions)
    by_id = {r.id: r for r in records}
    scorer = await transactions.read(lambda s: scorers.get(s.subjects))
    scored, proposals = 0, []
    for left, right in blocking.candidate_pairs(records, max_block=policy.max_block):
        if partition_of(left, right, job.partitions) != number:
            continue
        scored += 1
        score = scorer.score(by_id[left], by_id[right])
        if score.probability >= policy.review_at:
            proposals.append(_evidence(score, by_id))

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


def _evidence(score: Score, records: dict[str, MatchRecord]) -> PairEvidence:
    fingerprints = {i: fingerprint(records[i]) for i in (score.left, score.right)}
    return evidence_of(score, fingerprints)


# --- 3. merging ----------------------------------------------------------------


async def merge_phase(
    job_id: str, *, profiles: Profiles, transactions: Transactions, policy: Policy,
    scorers: ScorerCache, now: datetime, max_steps: int,
) -> RematchJob | None:  # fmt: skip
    """Plan (once all partitions are scored) and apply up to ``max_steps`` merges;
    DONE when none is left (otherwise the job stays MERGING: call again)."""
    job = await transactions.read(lambda s: s.rematch.get(job_id))
    if job is None or not job.active:
        return job
    if job.phase == RematchPhase.SCORING:
        if job.partitions_done < job.partitions:
            return job  # the last partition to finish asks again
        job = await transactions.write(lambda s: _plan(job_id, s, policy, scorers, now))
    if job is None or job.phase != RematchPhase.MERGING:
        return job
    steps = await transactions.read(lambda s: s.rematch.steps(job_id))
    planned = [step for step in steps if step.status == StepStatus.PLANNED]
    for step in planned[:max_steps]:
        await _apply(step, profiles=profiles, transactions=transactions, now=now)
    if len(planned) > max_steps:
        return await transactions.read(lambda s: s.rematch.get(job_id))

    async def done(stores: Stores) -> RematchJob | None:
        await stores.rematch.update(job_id, status=RematchStatus.DONE, phase=RematchPhase.DONE,
                                    finished_at=now)  # fmt: skip
        return await stores.rematch.get(job_id)

    return await transactions.write(done)


async def _plan(
    job_id: str, stores: Stores, policy: Policy, scorers: ScorerCache, now: datetime
) -> RematchJob | None:
    job = await stores.rematch.get(job_id)
    if job is None or job.phase != RematchPhase.SCORING:
        return job  # planned already (another delivery got here first)
    proposals = await stores.rematch.proposals(job_id)
    ids = sorted({i for p in proposals for i in (p.left_id, p.right_id)})
    records = await stores.subjects.features(ids)  # active subjects only
    registered = await stores.subjects.get_many(ids)
    scorer = await scorers.get(stores.subjects)
    fingerprints = {i: fingerprint(r) for i, r in records.items()}
    scores = [scorer.score(records[p.left_id], records[p.right_id]) for p in proposals
              if p.left_id in records and p.right_id in records]  # fmt: skip
    keys = [pair_key(s.left, s.right) for s in scores]
    rejected = await rejected_pairs(stores, fingerprints, keys)
    # A rejected pair may neither be merged nor let its two sides join one cluster.
    known = {pair_key(s.left, s.right): s for s in scores}
    for key in rejected:
        known[key] = dataclasses.replace(known[key], probability=0.0)

    def score_pair(a: str, b: str) -> Score:
        return known.get(pair_key(a, b)) or scorer.score(records[a], records[b])

    groups = clustering.cluster(
        known.values(), accept=policy.auto_merge_at, keep=policy.review_at, score_pair=score_pair
    )
    steps: list[MergeStep] = []
    group_of: dict[str, str] = {}
    for group in sorted(groups, key=min):
        # The profile known longest survives, as when a steward merges.
        survivor = min(group, key=lambda i: (registered[i].registered_at, i))
        for member in sorted(group - {survivor}):
            group_of[member] = survivor
            evidence = evidence_of(score_pair(survivor, member), fingerprints)
            steps.append(MergeStep(job_id, len(steps), survivor, member, evidence))
    tasks = 0
    for score in known.values():
        if score.left in group_of or score.right in group_of or not policy.worth_review(score):
            continue  # merged away by this job, or not worth a steward's time
        reason = (TaskReason.GUARDED if score.vetoed
                  else TaskReason.AMBIGUOUS if score.probability >= policy.auto_merge_at
                  else TaskReason.UNCERTAIN)  # fmt: skip
        await stores.reviews.open_task(
            str(uuid.uuid4()), evidence_of(score, fingerprints), reason=reason, at=now
        )
        tasks += 1
    await stores.rematch.save_steps(steps)
    await stores.rematch.update(job_id, phase=RematchPhase.MERGING, review_tasks=tasks)
    return await stores.rematch.get(job_id)


async def _apply(step: MergeStep, *, profiles: Profiles, transactions: Transactions,
                 now: datetime) -> None:  # fmt: skip
    status, merge_id = StepStatus.DONE, step.merge_id
    try:
        merge_id = await profiles.merge(
            step.survivor_id, step.merged_id, on_behalf_of=ENGINE, merge_id=step.merge_id,
            reason=f"automatic: batch re-matching job {step.job_id}",
        )  # fmt: skip
    except (Conflict, NotFound):
        status = StepStatus.SKIPPED  # merged elsewhere or gone since the plan was made

    async def settle(stores: Stores) -> None:
        if not await stores.rematch.settle_step(step.job_id, step.merged_id, status):
            return  # settled already by an earlier delivery
        if status == StepStatus.DONE:
            await stores.reviews.record_decision(Decision.about(
                step.evidence, Verdict.AUTO_MERGE, actor=ENGINE.subject, at=now,
                merge_id=merge_id, note=f"batch re-matching job {step.job_id}",
            ))  # fmt: skip
            await mark_merged(stores, step.merged_id, step.survivor_id, now)

    await transactions.write(settle)


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


async def next_work(stores: Stores, job: RematchJob) -> NextWork:
    if not job.active:
        return NextWork(job)
    if job.phase == RematchPhase.SYNCING:
        return NextWork(job, sync=True)
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
        return NextWork(job, sync=True)

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
        return await next_work(stores, job)

    return await transactions.write(work)


async def fail(job_id: str, error: str, *, transactions: Transactions) -> None:
    await transactions.write(
        lambda s: s.rematch.update(job_id, status=RematchStatus.FAILED, error=error)
    )
