"""Online company matching: a company created or changed against the known companies.

On ``company_created`` and ``company_updated`` events, taken in passes with the
events waiting behind them (as the persons' are, ``online_batch.py``), idempotent (an
event may be delivered twice):

1. ask the profile service for the companies (one may be merged away since; one
   created by hand, without source records, is never merged and not matched);
2. in a matching transaction, each company in its order: store its values and
   blocking keys, score the companies sharing a key (``engine/companies``; a company of
   the pass already planned to merge away is none), and open review tasks of kind
   COMPANY in the stewards' queue for the uncertain pairs; a pair a branch guard
   settles (a branch and its head office, branches of two places) is no task;
3. above the merge threshold, with exactly one such company and no guard, ask the
   profile service to merge the two (the one it knows longer survives), then audit
   the automatic merge; a merge it refuses becomes a task.

The model is the one the training job stored (``company_training.py``, from 1,000
companies on), else the engine's default (``default_company_parameters``), whose
guesses reach F1 0.9965 on the German B2B generator in process (decision 0014). A
pair a steward declared NOT_A_MATCH stays rejected while neither company's compared
values change, as for persons.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mdm_matching.domain.company_ports import CompanyProfiles, CompanyView
from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.comparisons import BRANCH_GUARDS
from mdm_matching.domain.engine.companies.features import company_fingerprint
from mdm_matching.domain.engine.companies.model import (
    DEFAULT_VERSION,
    CompanyScorer,
    default_company_parameters,
)
from mdm_matching.domain.engine.model import Score
from mdm_matching.domain.models import PairEvidence, SubjectKind, TaskReason, pair_key
from mdm_matching.domain.online import (
    ENGINE,
    Policy,
    audit_auto_merge,
    evidence_of,
    reason_of,
    rejected_pairs,
)
from mdm_matching.domain.ports import NewTask
from mdm_matching.domain.stores import Stores, Transactions

# Companies decided in one matching transaction (about 15 ms each).
PASS_SIZE = 50


@dataclass
class CompanyScorers:
    """One scorer per company model version: the model the training job stored
    (``company_training.py``), else the engine's default."""

    _scorer: CompanyScorer | None = None

    async def get(self, stores: Stores) -> CompanyScorer:
        version = await stores.companies.model_version() or DEFAULT_VERSION
        if self._scorer is None or self._scorer.parameters.version != version:
            stored = await stores.companies.load_model()
            self._scorer = CompanyScorer(stored or default_company_parameters())
        return self._scorer


@dataclass
class CompanyOutcome:
    company_id: str
    candidates: int = 0
    merged_into: str | None = None
    review_tasks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    survivor: str | None
    merged: str | None
    evidence: PairEvidence | None
    review_tasks: list[str]
    candidates: int


def worth_review(score: Score, policy: Policy) -> bool:
    """Uncertain pairs, and likely pairs one guard holds back, unless it is a branch
    guard: a branch is not its head office, whatever a steward would look at."""
    return (
        score.probability >= policy.review_at
        and len(score.conflicts) < 2
        and not BRANCH_GUARDS.intersection(score.conflicts)
    )


async def save_view(stores: Stores, view: CompanyView, now: datetime) -> list[str]:
    """Take an active company's values (and blocking keys) as they are now; its keys."""
    record = view.record
    keys = blocking.keys_of(record)
    await stores.companies.register(record.id, at=now, profile_created_at=view.created_at)
    await stores.companies.save_features(
        record, keys=keys, fingerprint=company_fingerprint(record), at=now, sources=view.sources
    )
    return keys


async def _plan(
    view: CompanyView,
    stores: Stores,
    *,
    policy: Policy,
    scorer: CompanyScorer,
    now: datetime,
    exclude: Sequence[str] = (),
) -> _Plan:
    """Store the company's values, score its candidates (leaving out ``exclude``:
    companies of the same pass already planned to merge away), open review tasks, and
    plan the merge."""
    record = view.record
    keys = await save_view(stores, view, now)
    candidates = await stores.companies.sharing_keys(
        record.id, keys, max_block=policy.max_block, limit=policy.max_candidates, exclude=exclude
    )
    if not candidates:
        return _Plan(None, None, None, [], 0)
    fingerprints = {record.id: company_fingerprint(record)}
    fingerprints |= {c.id: company_fingerprint(c) for c in candidates}
    scores = [scorer.score(record, other) for other in candidates]
    rejected = await rejected_pairs(
        stores, fingerprints, [pair_key(s.left, s.right) for s in scores]
    )
    scores = [s for s in scores if pair_key(s.left, s.right) not in rejected]
    sure = [s for s in scores if s.probability >= policy.auto_merge_at and not s.vetoed]
    merge_with = sure[0] if len(sure) == 1 else None

    def evidence(score: Score) -> PairEvidence:
        return evidence_of(
            score,
            fingerprints,
            model_version=scorer.parameters.version,
            kind=SubjectKind.COMPANY,
        )

    to_review = [
        NewTask(str(uuid.uuid4()), evidence(score), reason_of(score, sure))
        for score in scores
        if score is not merge_with and worth_review(score, policy)
    ]
    tasks = await stores.reviews.open_tasks(to_review, at=now)
    if merge_with is None:
        return _Plan(None, None, None, tasks, len(candidates))
    other = merge_with.right if merge_with.left == record.id else merge_with.left
    subjects = await stores.companies.get_many([record.id, other])
    survivor, merged = sorted((record.id, other), key=lambda i: subjects[i].seniority)
    return _Plan(survivor, merged, evidence(merge_with), tasks, len(candidates))


async def mark_merged(stores: Stores, company_id: str, survivor_id: str, now: datetime) -> None:
    """The company was merged away: it leaves the candidates, its open tasks close."""
    await stores.companies.register(company_id, at=now)
    await stores.companies.set_merged_into(company_id, survivor_id)
    await stores.reviews.close_tasks_of(company_id, at=now)


async def match_company(
    company_id: str,
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    policy: Policy,
    now: datetime,
    scorers: CompanyScorers | None = None,
) -> CompanyOutcome:
    """One company: :func:`match_companies` of one."""
    (outcome,) = await match_companies(
        [company_id],
        profiles=profiles,
        transactions=transactions,
        policy=policy,
        now=now,
        scorers=scorers,
    )
    return outcome


async def match_companies(
    company_ids: Sequence[str],
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    policy: Policy,
    now: datetime,
    scorers: CompanyScorers | None = None,
) -> list[CompanyOutcome]:
    """The companies waiting together, in their order, each once: one read of the
    profile service, their decisions in matching transactions of ``PASS_SIZE``
    companies (each sees the ones decided before it), then the merges. An ingest of
    500 company records sends 500 events at once; a read and a transaction each cost
    50 ms a company on their own."""
    scorers = scorers or CompanyScorers()
    ordered = list(dict.fromkeys(company_ids))
    views = await profiles.fetch_companies(ordered) if ordered else {}
    outcomes = {company_id: CompanyOutcome(company_id) for company_id in ordered}
    gone = [(i, v.record.id) for i, v in views.items() if v.merged_into is not None]
    for company_id, survivor in gone:
        outcomes[company_id].merged_into = survivor
    # Unknown, or created by hand (not merged, so not matched), are left out.
    arrivals = [v for i in ordered if (v := views.get(i)) and not v.merged_into and v.sources]
    if gone:
        await transactions.write(lambda s: _mark_merged_many(s, gone, now))
    for start in range(0, len(arrivals), PASS_SIZE):

        async def decide(
            stores: Stores, chunk: Sequence[CompanyView] = arrivals[start : start + PASS_SIZE]
        ) -> list[tuple[str, _Plan]]:
            scorer = await scorers.get(stores)
            return await _plan_in_order(chunk, stores, policy=policy, scorer=scorer, now=now)

        plans = await transactions.write(decide)
        await _apply(plans, outcomes, profiles=profiles, transactions=transactions, now=now)
    return list(outcomes.values())


async def _mark_merged_many(
    stores: Stores, merges: Sequence[tuple[str, str]], now: datetime
) -> None:
    for company_id, survivor in merges:
        await mark_merged(stores, company_id, survivor, now)


async def _plan_in_order(
    arrivals: Sequence[CompanyView],
    stores: Stores,
    *,
    policy: Policy,
    scorer: CompanyScorer,
    now: datetime,
) -> list[tuple[str, _Plan]]:
    away: list[str] = []  # built inside the transaction: a retried attempt starts anew
    plans = []
    for view in arrivals:
        plan = await _plan(view, stores, policy=policy, scorer=scorer, now=now, exclude=away)
        if plan.merged is not None:
            away.append(plan.merged)
        plans.append((view.record.id, plan))
    return plans


async def _apply(
    plans: Sequence[tuple[str, _Plan]],
    outcomes: dict[str, CompanyOutcome],
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    """The planned merges in one call of the profile service, audited together. A merge
    it skips was made before (a redelivered pass: audited once) or refused (one
    company above the other in a group, a tree too deep): a task, and the steward sees
    the reason when deciding MERGE."""
    for company_id, plan in plans:
        outcome = outcomes[company_id]
        outcome.candidates, outcome.review_tasks = plan.candidates, list(plan.review_tasks)
    planned = [
        (company_id, plan.survivor, plan.merged, plan.evidence)
        for company_id, plan in plans
        if plan.survivor is not None and plan.merged is not None and plan.evidence is not None
    ]
    if not planned:
        return
    merge_ids = await profiles.merge_companies_many(
        [(survivor, merged) for _, survivor, merged, _ in planned],
        reason="automatic: match probability above the merge threshold",
        on_behalf_of=ENGINE,
    )
    done: list[tuple[str, str, PairEvidence, str | None]] = []
    refused: list[NewTask] = []
    for (company_id, survivor, merged, evidence), merge_id in zip(planned, merge_ids, strict=True):
        if merge_id is None:
            again = await profiles.fetch_company(merged)
            if again is None or again.merged_into != survivor:
                refused.append(NewTask(str(uuid.uuid4()), evidence, TaskReason.UNCERTAIN))
                continue
        done.append((merged, survivor, evidence, merge_id))
        if merged == company_id:
            outcomes[company_id].merged_into = survivor
    await transactions.write(lambda s: _settle(s, done, refused, outcomes, now))


async def _settle(
    stores: Stores,
    done: Sequence[tuple[str, str, PairEvidence, str | None]],
    refused: Sequence[NewTask],
    outcomes: dict[str, CompanyOutcome],
    now: datetime,
) -> None:
    for merged, survivor, evidence, merge_id in done:
        await audit_auto_merge(stores, evidence, merge_id, now)
        await mark_merged(stores, merged, survivor, now)
    opened = await stores.reviews.open_tasks(refused, at=now)
    for task, task_id in zip(refused, opened, strict=True):
        for side in (task.evidence.left_id, task.evidence.right_id):
            if side in outcomes and task_id not in outcomes[side].review_tasks:
                outcomes[side].review_tasks.append(task_id)


async def refresh_many(
    company_ids: Sequence[str],
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    """Re-read companies whose golden records changed (after merges or an unmerge)."""
    views = await profiles.fetch_companies(sorted(set(company_ids)))
    active = [v for v in views.values() if v.merged_into is None and v.sources]
    if active:
        await transactions.write(lambda s: _save_views(s, active, now))


async def _save_views(stores: Stores, views: Sequence[CompanyView], now: datetime) -> None:
    for view in views:
        await save_view(stores, view, now)


async def on_companies_merged(
    merges: Sequence[tuple[str, str]],
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    """The profile service's merges (automatic or a steward's, here or there), as
    (merged, survivor) pairs in their order: the merged companies leave the candidates,
    each survivor is read again as it is now."""
    if not merges:
        return
    await transactions.write(lambda s: _mark_merged_many(s, merges, now))
    survivors = [survivor for _, survivor in merges]
    await refresh_many(survivors, profiles=profiles, transactions=transactions, now=now)


async def on_company_unmerged(
    survivor_id: str,
    merged_id: str,
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    """A merge undone: both are companies of their own again, read as they are now
    (not matched again: an unmerge says they are two)."""
    await transactions.write(lambda s: s.companies.set_merged_into(merged_id, None))
    await refresh_many(
        [survivor_id, merged_id], profiles=profiles, transactions=transactions, now=now
    )
