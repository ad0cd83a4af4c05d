"""Online company matching: a company created or changed against the known companies.

One call per ``company_created`` or ``company_updated`` event, idempotent (the event
may be delivered twice), as for persons (``online.py``):

1. ask the profile service for the company (it may be merged away since; one created
   by hand, without source records, is never merged and not matched);
2. in one matching transaction: store its values and blocking keys, score the
   companies sharing a key (``engine/companies``), and open review tasks of kind
   COMPANY in the stewards' queue for the uncertain pairs; a pair a branch guard
   settles (a branch and its head office, branches of two places) is no task;
3. above the merge threshold, with exactly one such company and no guard, ask the
   profile service to merge the two (the one it knows longer survives), then audit
   the automatic merge.

The model is the company engine's default (``default_company_parameters``): its
guesses reach F1 0.9965 on the German B2B generator in process, level with the model
EM trains on the same records (decision 0014); a trained company model is not stored
yet. A pair a steward declared NOT_A_MATCH stays rejected while neither company's
compared values change, as for persons.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from mdm_common.errors import Conflict
from mdm_matching.domain.company_ports import CompanyProfiles, CompanyView
from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.comparisons import BRANCH_GUARDS
from mdm_matching.domain.engine.companies.features import company_fingerprint
from mdm_matching.domain.engine.companies.model import (
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

# The version tasks and decisions name as the model that scored a company pair.
COMPANY_MODEL_VERSION = "company-default-1"
DEFAULT_SCORER = CompanyScorer(default_company_parameters())


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
    view: CompanyView, stores: Stores, *, policy: Policy, scorer: CompanyScorer, now: datetime
) -> _Plan:
    record = view.record
    keys = await save_view(stores, view, now)
    candidates = await stores.companies.sharing_keys(
        record.id, keys, max_block=policy.max_block, limit=policy.max_candidates
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
            score, fingerprints, model_version=COMPANY_MODEL_VERSION, kind=SubjectKind.COMPANY
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
    scorer: CompanyScorer = DEFAULT_SCORER,
) -> CompanyOutcome:
    outcome = CompanyOutcome(company_id)
    view = await profiles.fetch_company(company_id)
    if view is None or not view.sources:
        return outcome  # unknown, or created by hand: not merged, so not matched
    if view.merged_into is not None:
        survivor = view.merged_into
        await transactions.write(lambda s: mark_merged(s, company_id, survivor, now))
        outcome.merged_into = survivor
        return outcome
    plan = await transactions.write(lambda s: _plan(view, s, policy=policy, scorer=scorer, now=now))
    outcome.candidates, outcome.review_tasks = plan.candidates, plan.review_tasks
    if plan.survivor is None or plan.merged is None or plan.evidence is None:
        return outcome
    survivor, merged, evidence = plan.survivor, plan.merged, plan.evidence
    try:
        merge_id = await _merge(profiles, survivor, merged)
    except Conflict:
        # Refused by the profile service (one is above the other in a group, or the
        # tree would grow too deep): a steward sees the pair, and the reason on MERGE.
        task = NewTask(str(uuid.uuid4()), evidence, TaskReason.UNCERTAIN)
        outcome.review_tasks += await transactions.write(
            lambda s: s.reviews.open_tasks([task], at=now)
        )
        return outcome

    async def settle(stores: Stores) -> None:
        await audit_auto_merge(stores, evidence, merge_id, now)
        await mark_merged(stores, merged, survivor, now)

    await transactions.write(settle)
    outcome.merged_into = survivor if merged == company_id else None
    return outcome


async def _merge(profiles: CompanyProfiles, survivor: str, merged: str) -> str | None:
    """The merge id; None when the two were merged before (a redelivered event).
    Conflict when the profile service refuses the merge."""
    try:
        return await profiles.merge_companies(
            survivor,
            merged,
            reason="automatic: match probability above the merge threshold",
            on_behalf_of=ENGINE,
        )
    except Conflict:
        again = await profiles.fetch_company(merged)
        if again is None or again.merged_into != survivor:
            raise
        return None


async def refresh(
    company_id: str, *, profiles: CompanyProfiles, transactions: Transactions, now: datetime
) -> None:
    """Re-read a company whose golden record changed (after a merge or an unmerge)."""
    view = await profiles.fetch_company(company_id)
    if view is None or view.merged_into is not None or not view.sources:
        return
    await transactions.write(lambda s: save_view(s, view, now))


async def on_company_merged(
    survivor_id: str,
    merged_id: str,
    *,
    profiles: CompanyProfiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    """A merge (automatic or a steward's, here or in the profile service): the merged
    company leaves the candidates, the survivor is read again as it is now."""
    await transactions.write(lambda s: mark_merged(s, merged_id, survivor_id, now))
    await refresh(survivor_id, profiles=profiles, transactions=transactions, now=now)


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
    for company_id in (survivor_id, merged_id):
        await refresh(company_id, profiles=profiles, transactions=transactions, now=now)
