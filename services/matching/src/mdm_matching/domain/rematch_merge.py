"""Phase 3 of batch re-matching: the merge plan, then the merges.

The plan is made once all partitions are scored. At 100,000 persons a job holds
about 100,000 proposals and plans about 20,000 merges, so no transaction may hold
the whole plan:

- read: proposals page by page, the current features and registrations of the
  persons in them, steward rejections, in read transactions of bounded size;
- compute in memory: proposals scored again on the current features (persons may
  have changed while the job ran), pairs a steward rejected dropped (and kept
  incompatible in clustering), non-chaining clusters, the profile created first
  survives (``MatchSubject.seniority``);
- write in slices of ``PLAN_SLICE`` (merge steps first, then review tasks), a
  transaction each, with bulk statements. Steps are keyed by job and merged
  person, tasks by job and pair: writing a slice again adds nothing. Each slice
  transaction records the slice's digest on the job, so a redelivered task (its
  worker was killed) skips the slices written already when its plan came out the
  same, and rewrites them when persons changed meanwhile (steps of the earlier plan
  that are not in the new one are dropped first, its open review tasks the new one
  does not propose resolved). Each delivery claims the plan
  (``planAttempt``); an earlier delivery still running stops at its next slice.
  The last transaction makes the job MERGING.

The steps then merge through the profile service, ``SETTLE_SLICE`` at a time in one
``mergePersonsBulk`` call (one profile transaction with bulk statements; a step the
profile service skips, because its persons were merged or erased since the plan, is
SKIPPED), each with a merge id derived from job and merged person: repeated after a
kill, the profile service returns the first merge instead of merging twice. Each
slice is then settled in one matching transaction, while the next slice merges: steps
marked DONE (or SKIPPED) if still PLANNED, their ``AUTO_MERGE`` audits, subjects marked
merged. A step's merge
therefore happens once and is audited once, whichever delivery settles it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from mdm_common.errors import Unavailable
from mdm_matching.domain.engine import clustering
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
from mdm_matching.domain.ports import NewTask, PairToMerge, Profiles
from mdm_matching.domain.rematch import (
    MergeStep,
    PlanClaim,
    RematchJob,
    RematchPhase,
    RematchStatus,
    StepStatus,
)
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import mark_merged_many

PROPOSALS_PAGE = 5000  # proposals per read
LOOKUP_CHUNK = 2000  # ids or pair keys per lookup
PLAN_SLICE = 2000  # steps or review tasks per write transaction
SETTLE_SLICE = 250  # merges per profile call (one transaction there) and per settle
_TASK_NAMESPACE = uuid.UUID("0c6a8a52-58a3-4d0c-9f0e-7d1b3c2e4a61")

T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    steps: list[MergeStep]
    tasks: list[NewTask]

    def slices(self) -> list[tuple[list[MergeStep], list[NewTask]]]:
        """Steps first, then review tasks, ``PLAN_SLICE`` rows a slice."""
        steps = [self.steps[i : i + PLAN_SLICE] for i in range(0, len(self.steps), PLAN_SLICE)]
        tasks = [self.tasks[i : i + PLAN_SLICE] for i in range(0, len(self.tasks), PLAN_SLICE)]
        return [(part, []) for part in steps] + [([], part) for part in tasks]


def _digest(steps: Sequence[MergeStep], tasks: Sequence[NewTask]) -> str:
    """What a slice writes, in short: equal digests, equal rows."""
    return hashlib.sha256(repr((list(steps), list(tasks))).encode()).hexdigest()[:32]


def _chunks(items: Sequence[T], size: int = LOOKUP_CHUNK) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def merge_phase(
    job_id: str, *, profiles: Profiles, transactions: Transactions, policy: Policy,
    scorers: ScorerCache, now: datetime, max_steps: int,
) -> RematchJob | None:  # fmt: skip
    """Plan (once all partitions are scored) and apply up to ``max_steps`` merges;
    DONE when none is left (otherwise the job stays MERGING: call again)."""
    job = await _job(job_id, transactions)
    if job is None or not job.active:
        return job
    if job.phase == RematchPhase.SCORING:
        if job.partitions_done < job.partitions:
            return job  # the last partition to finish asks again
        job = await plan(job_id, transactions=transactions, policy=policy, scorers=scorers,
                         now=now)  # fmt: skip
    if job is None or job.phase != RematchPhase.MERGING:
        return job  # another delivery writes the plan
    planned = await transactions.read(lambda s: s.rematch.planned_steps(job_id, limit=max_steps))
    await _apply(planned, profiles=profiles, transactions=transactions, now=now)
    if len(planned) == max_steps:
        return await _job(job_id, transactions)  # maybe more: queued again

    async def done(stores: Stores) -> RematchJob | None:
        await stores.rematch.update(job_id, status=RematchStatus.DONE, phase=RematchPhase.DONE,
                                    finished_at=now)  # fmt: skip
        return await stores.rematch.get(job_id)

    return await transactions.write(done)


async def _job(job_id: str, transactions: Transactions) -> RematchJob | None:
    return await transactions.read(lambda s: s.rematch.get(job_id))


# --- the plan ------------------------------------------------------------------


async def plan(
    job_id: str, *, transactions: Transactions, policy: Policy, scorers: ScorerCache,
    now: datetime,
) -> RematchJob | None:  # fmt: skip
    """Make the plan and write it slice by slice; the job is MERGING afterwards (or
    still SCORING if another delivery took the plan over meanwhile)."""
    claim = await transactions.write(lambda s: s.rematch.begin_plan(job_id))
    if claim is None:
        return await _job(job_id, transactions)  # planned already
    made = await make_plan(job_id, transactions=transactions, policy=policy, scorers=scorers)
    if claim.digests and not await _drop_stale(job_id, claim, made, transactions, now):
        return await _job(job_id, transactions)
    digests = list(claim.digests)
    for index, (steps, tasks) in enumerate(made.slices()):
        digest = _digest(steps, tasks)
        if index < len(digests) and digests[index] == digest:
            continue  # written by an earlier delivery of the same plan
        digests = [*digests[:index], digest, *digests[index + 1 :]]

        async def write(
            stores: Stores,
            steps: list[MergeStep] = steps,
            tasks: list[NewTask] = tasks,
            recorded: list[str] = digests,
        ) -> bool:
            if not await stores.rematch.record_plan_slice(
                job_id, attempt=claim.attempt, digests=recorded
            ):
                return False  # superseded by a later delivery
            if steps:
                await stores.rematch.save_steps(steps)
            if tasks:
                await stores.reviews.open_tasks(tasks, at=now)
            return True

        if not await transactions.write(write):
            return await _job(job_id, transactions)
    await transactions.write(lambda s: s.rematch.finish_plan(
        job_id, attempt=claim.attempt, review_tasks=len(made.tasks)))  # fmt: skip
    return await _job(job_id, transactions)


async def _drop_stale(
    job_id: str, claim: PlanClaim, made: Plan, transactions: Transactions, now: datetime
) -> bool:
    """An earlier delivery wrote part of a plan: drop its steps the new plan lacks
    (none was applied: merging starts only once the whole plan is written) and
    resolve the review tasks it opened that the new plan does not propose (persons
    changed in between); tasks a steward deferred or decided stay as they are."""
    stored = await transactions.read(lambda s: s.rematch.step_persons(job_id))
    stale = sorted(set(stored) - {step.merged_id for step in made.steps})
    opened = await transactions.read(lambda s: s.reviews.open_job_tasks(job_id))
    unproposed = sorted(set(opened) - {task.id for task in made.tasks})
    for chunk in _chunks(stale):

        async def drop(stores: Stores, chunk: Sequence[str] = chunk) -> None:
            await stores.rematch.delete_steps(job_id, chunk)

        if not await _while_claimed(job_id, claim, drop, transactions):
            return False
    for chunk in _chunks(unproposed):

        async def close(stores: Stores, chunk: Sequence[str] = chunk) -> None:
            await stores.reviews.resolve_open_tasks(
                chunk, note="closed: no longer proposed by the job's plan", at=now
            )

        if not await _while_claimed(job_id, claim, close, transactions):
            return False
    return True


async def _while_claimed(
    job_id: str, claim: PlanClaim, work: Callable[[Stores], Awaitable[None]],
    transactions: Transactions,
) -> bool:  # fmt: skip
    """Does ``work`` in a transaction that first checks this delivery still holds the
    plan; False (nothing done) when a later delivery took it over."""

    async def unit(stores: Stores) -> bool:
        if not await stores.rematch.record_plan_slice(
            job_id, attempt=claim.attempt, digests=claim.digests
        ):
            return False
        await work(stores)
        return True

    return await transactions.write(unit)


async def make_plan(
    job_id: str, *, transactions: Transactions, policy: Policy, scorers: ScorerCache
) -> Plan:
    """The merge steps and review tasks of a job, from its proposals and the persons
    as they are now; reads only."""
    proposals = await _proposals(job_id, transactions)
    ids = sorted({i for p in proposals for i in (p.left_id, p.right_id)})
    records = await _features(ids, transactions)
    job = await _job(job_id, transactions)
    # The model the job chose before scoring decides (with its thresholds), even if
    # another one was trained or calibrated meanwhile.
    chosen = job.model_version if job is not None else None
    scorer = await transactions.read(lambda s: scorers.of_version(s.subjects, chosen))
    policy = policy.for_model(scorer.parameters)
    version = scorer.parameters.version
    fingerprints = {i: fingerprint(r) for i, r in records.items()}
    scores = [scorer.score(records[p.left_id], records[p.right_id]) for p in proposals
              if p.left_id in records and p.right_id in records]  # fmt: skip
    keys = [pair_key(s.left, s.right) for s in scores]
    rejected: set[str] = set()
    for part in _chunks(keys):

        async def find(stores: Stores, part: Sequence[str] = part) -> set[str]:
            return await rejected_pairs(stores, fingerprints, list(part))

        rejected |= await transactions.read(find)
    # A rejected pair may neither be merged nor let its two sides join one cluster.
    known = {pair_key(s.left, s.right): s for s in scores}
    for key in rejected:
        known[key] = dataclasses.replace(known[key], probability=0.0)

    def score_pair(a: str, b: str) -> Score:
        return known.get(pair_key(a, b)) or scorer.score(records[a], records[b])

    groups = clustering.cluster(
        known.values(), accept=policy.auto_merge_at, keep=policy.review_at, score_pair=score_pair
    )
    members = sorted({i for group in groups for i in group})
    registered = await _registered(members, transactions)
    steps = _steps(job_id, groups, registered, score_pair, fingerprints, version=version)
    merged = {step.merged_id for step in steps}
    tasks = []
    for key, score in known.items():
        if score.left in merged or score.right in merged or not policy.worth_review(score):
            continue  # merged away by this job, or not worth a steward's time
        reason = (TaskReason.GUARDED if score.vetoed
                  else TaskReason.AMBIGUOUS if score.probability >= policy.auto_merge_at
                  else TaskReason.UNCERTAIN)  # fmt: skip
        task_id = str(uuid.uuid5(_TASK_NAMESPACE, f"{job_id}|{key}"))
        evidence = evidence_of(score, fingerprints, model_version=version)
        tasks.append(NewTask(task_id, evidence, reason, job_id))
    return Plan(steps, tasks)


def _steps(
    job_id: str, groups: list[frozenset[str]], registered: dict[str, MatchSubject],
    score_pair: Callable[[str, str], Score], fingerprints: dict[str, str], *, version: str,
) -> list[MergeStep]:  # fmt: skip
    steps: list[MergeStep] = []
    for group in sorted(groups, key=min):
        # The profile known longest survives, as when a steward merges.
        survivor = min(group, key=lambda i: registered[i].seniority)
        for member in sorted(group - {survivor}):
            evidence = evidence_of(
                score_pair(survivor, member), fingerprints, model_version=version
            )
            steps.append(MergeStep(job_id, len(steps), survivor, member, evidence))
    return steps


async def _proposals(job_id: str, transactions: Transactions) -> list[PairEvidence]:
    proposals: list[PairEvidence] = []
    after = ""
    while True:

        async def page(stores: Stores, after: str = after) -> list[PairEvidence]:
            return await stores.rematch.proposals_page(job_id, after=after, limit=PROPOSALS_PAGE)

        found = await transactions.read(page)
        proposals += found
        if len(found) < PROPOSALS_PAGE:
            return proposals
        after = found[-1].pair_key


async def _features(ids: Sequence[str], transactions: Transactions) -> dict[str, MatchRecord]:
    found: dict[str, MatchRecord] = {}
    for part in _chunks(ids):

        async def read(stores: Stores, part: Sequence[str] = part) -> dict[str, MatchRecord]:
            return await stores.subjects.features(part)

        found |= await transactions.read(read)
    return found


async def _registered(ids: Sequence[str], transactions: Transactions) -> dict[str, MatchSubject]:
    found: dict[str, MatchSubject] = {}
    for part in _chunks(ids):

        async def read(stores: Stores, part: Sequence[str] = part) -> dict[str, MatchSubject]:
            return await stores.subjects.get_many(part)

        found |= await transactions.read(read)
    return found


# --- the merges ----------------------------------------------------------------


async def _apply(
    steps: Sequence[MergeStep], *, profiles: Profiles, transactions: Transactions, now: datetime
) -> None:
    """Merge the steps through the profile service, ``SETTLE_SLICE`` in one call (one
    transaction there), and settle each slice in one matching transaction while the
    next slice merges: the profile service and matching's graph work at the same time.
    Killed in between, the redelivered task asks again with the same merge ids and gets
    the first merges back, and settles what was not settled."""
    settling: asyncio.Future[None] | None = None
    try:
        for start in range(0, len(steps), SETTLE_SLICE):
            outcomes = await _merge(steps[start : start + SETTLE_SLICE], profiles=profiles)
            if settling is not None:
                await settling
            settling = None
            if outcomes:
                settling = asyncio.ensure_future(_settle_slice(outcomes, transactions, now))
        if settling is not None:
            await settling
    finally:
        if settling is not None and not settling.done():
            # A merge failed while the slice before it settled: that settle finishes
            # (its merges were made); the merge's error is what the task reports.
            await asyncio.wait([settling])


async def _merge(
    steps: Sequence[MergeStep], *, profiles: Profiles
) -> list[tuple[MergeStep, StepStatus, str]]:
    """Each step DONE with its merge id, or SKIPPED: merged elsewhere or gone since the
    plan (the profile service skipped it)."""
    pairs = [
        PairToMerge(step.survivor_id, step.merged_id, step.merge_id, f"automatic: {_note(step)}")
        for step in steps
    ]
    try:
        merged = await profiles.merge_many(pairs, on_behalf_of=ENGINE)
    except Unavailable:
        # The profile service gives a transaction a few seconds; on a machine too busy
        # for the whole slice, halves go through (a half that did commit is replayed).
        if len(steps) == 1:
            raise
        half = len(steps) // 2
        first = await _merge(steps[:half], profiles=profiles)
        return [*first, *await _merge(steps[half:], profiles=profiles)]
    return [
        (step, StepStatus.SKIPPED, step.merge_id)
        if merge_id is None
        else (step, StepStatus.DONE, merge_id)
        for step, merge_id in zip(steps, merged, strict=True)
    ]


async def _settle_slice(
    outcomes: Sequence[tuple[MergeStep, StepStatus, str]], transactions: Transactions, now: datetime
) -> None:
    await transactions.write(lambda s: _settle(s, outcomes, now))


async def _settle(
    stores: Stores, outcomes: Sequence[tuple[MergeStep, StepStatus, str]], now: datetime
) -> None:
    job_id = outcomes[0][0].job_id
    planned = await stores.rematch.settle_steps(
        job_id, [(step.merged_id, status) for step, status, _ in outcomes]
    )  # steps settled by an earlier delivery are left out below
    done = [(step, merge_id) for step, status, merge_id in outcomes
            if status == StepStatus.DONE and step.merged_id in planned]  # fmt: skip
    if not done:
        return
    await stores.reviews.record_decisions([
        Decision.about(step.evidence, Verdict.AUTO_MERGE, actor=ENGINE.subject, at=now,
                       merge_id=merge_id, note=_note(step))
        for step, merge_id in done
    ])  # fmt: skip
    await mark_merged_many(stores, [(step.merged_id, step.survivor_id) for step, _ in done], now)


def _note(step: MergeStep) -> str:
    """What the audit says about a merge of the job: which job, which model decided."""
    return f"batch re-matching job {step.job_id}, model {step.evidence.model_version}"
