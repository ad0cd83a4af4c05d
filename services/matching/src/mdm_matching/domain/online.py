"""Online matching: a newly created person against the existing profiles.

One call per ``person_created`` event, idempotent (the event may be delivered
twice):

1. ask the profile service for the person (it may already be merged away);
2. in one matching transaction: store its features and blocking keys, find the
   subjects sharing a key, score each pair and plan the decision, opening review
   tasks for the uncertain pairs;
3. above the upper threshold, with exactly one such profile and no identity
   guard, ask the profile service to merge the new person into it, then audit
   the automatic merge.

A pair a steward declared NOT_A_MATCH (or whose merge was undone) is never merged
or proposed again while neither record changes materially (same fingerprints).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.engine.model import Parameters, Score, Scorer, default_parameters
from mdm_matching.domain.models import (
    Decision,
    PairEvidence,
    SubjectKind,
    TaskReason,
    Verdict,
    pair_key,
)
from mdm_matching.domain.ports import NewTask, Profiles, SubjectStore
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import mark_merged

# The engine acts as a steward of its own when it merges automatically.
ENGINE = Principal("service:matching-engine", frozenset({Role.STEWARD}))
REJECTING = frozenset({Verdict.NOT_A_MATCH, Verdict.UNMERGE})


@dataclass(frozen=True)
class Policy:
    """Thresholds on the match probability, configurable per deployment (settings)."""

    auto_merge_at: float = 0.99
    review_at: float = 0.5
    max_block: int = blocking.DEFAULT_MAX_BLOCK
    # Online, a newcomer is scored against this many candidates at most, those
    # sharing the rarest keys (see ``SubjectStore.sharing_keys``); the batch job
    # compares every pair its blocks propose.
    max_candidates: int = blocking.DEFAULT_MAX_CANDIDATES
    # Guards whose veto stewards confirmed so often that an admin stopped the review
    # of pairs they alone hold back (the model's ``unreviewed_guards``).
    unreviewed_guards: frozenset[str] = frozenset()

    def worth_review(self, score: Score) -> bool:
        """Uncertain pairs, and likely pairs one identity guard holds back, unless it
        is a guard no longer reviewed.

        Two or more guards (other given name *and* other birth date: a spouse, a
        child) mean clearly different persons: no steward needs to look.
        """
        if score.probability < self.review_at or len(score.conflicts) >= 2:
            return False
        return not (score.conflicts and score.conflicts[0] in self.unreviewed_guards)

    def for_model(self, parameters: Parameters) -> Policy:
        """The thresholds an admin calibrated for this model (``recalibrateMatchModel``)
        replace the deployment's (without them the settings' hold), and its unreviewed
        guards apply."""
        return replace(
            self,
            review_at=parameters.review_at or self.review_at,
            auto_merge_at=parameters.auto_merge_at or self.auto_merge_at,
            unreviewed_guards=frozenset(parameters.unreviewed_guards),
        )

    def __post_init__(self) -> None:
        if not 0 < self.review_at <= self.auto_merge_at <= 1:
            raise ValueError("Thresholds need 0 < review_at <= auto_merge_at <= 1.")
        if self.max_candidates < 1:
            raise ValueError("At least one candidate must be scored.")


@dataclass
class ScorerCache:
    """One scorer per model version: the stored model (with its name frequencies,
    large at 100k profiles) is read and parsed only when a new one was trained."""

    _scorer: Scorer | None = None
    _pinned: Scorer | None = None

    async def get(self, subjects: SubjectStore) -> Scorer:
        version = await subjects.model_version() or default_parameters().version
        if self._scorer is None or self._scorer.parameters.version != version:
            self._scorer = Scorer(await subjects.load_model() or default_parameters())
        return self._scorer

    async def of_version(self, subjects: SubjectStore, version: str | None) -> Scorer:
        """The scorer of one stored model version (a batch job keeps the model it
        chose, even if another is trained meanwhile); the current one for None, or
        when that version is the current one."""
        current = await self.get(subjects)
        if version is None or current.parameters.version == version:
            return current
        if self._pinned is None or self._pinned.parameters.version != version:
            found = await subjects.load_model_version(version)
            if found is None:
                raise Conflict(f"Model version {version} is not stored.", field="modelVersion")
            self._pinned = Scorer(found)
        return self._pinned


@dataclass
class MatchOutcome:
    person_id: str
    candidates: int = 0
    merged_into: str | None = None
    review_tasks: list[str] = field(default_factory=list)
    decision_ms: float = 0.0  # time of step 2, the decision itself


@dataclass(frozen=True)
class MatchPlan:
    merge_into: str | None
    evidence: PairEvidence | None
    review_tasks: list[str]
    candidates: int


def evidence_of(
    score: Score,
    fingerprints: dict[str, str],
    *,
    model_version: str | None = None,
    kind: SubjectKind = SubjectKind.PERSON,
) -> PairEvidence:
    return PairEvidence(
        left_id=score.left, right_id=score.right, probability=score.probability,
        weight=score.weight, contributions=score.contributions, conflicts=score.conflicts,
        left_fingerprint=fingerprints[score.left], right_fingerprint=fingerprints[score.right],
        model_version=model_version, kind=kind,
    )  # fmt: skip


async def rejected_pairs(
    stores: Stores, fingerprints: dict[str, str], pairs: list[str]
) -> set[str]:
    """Pairs a steward rejected, while both records still look as they did then."""
    found = set()
    for key, decisions in (await stores.reviews.decisions_for_pairs(pairs)).items():
        left, right = key.split("|")
        for decision in decisions:
            if (decision.verdict in REJECTING
                    and decision.left_fingerprint == fingerprints.get(left)
                    and decision.right_fingerprint == fingerprints.get(right)):  # fmt: skip
                found.add(key)
    return found


async def plan_match(
    record: MatchRecord,
    stores: Stores,
    *,
    policy: Policy,
    scorers: ScorerCache,
    now: datetime,
    profile_created_at: datetime | None = None,
    sources: Sequence[str],
    exclude: Sequence[str] = (),
) -> MatchPlan:
    """Store the newcomer's features and keys, score its candidates (leaving out
    ``exclude``: newcomers of the same batch already planned to merge away), open
    review tasks, and plan the merge."""
    keys = blocking.keys_of(record)
    own = fingerprint(record)
    subject = await stores.subjects.register(
        record.id, at=now, profile_created_at=profile_created_at
    )
    if subject is None or subject.restricted:
        # Erased (never registered again) or processing restricted: neither merged
        # nor proposed. A restricted person is matched again once it is lifted.
        return MatchPlan(None, None, [], 0)
    await stores.subjects.save_features(record, keys=keys, fingerprint=own, at=now, sources=sources)
    candidates = await stores.subjects.sharing_keys(
        record.id, keys, max_block=policy.max_block, limit=policy.max_candidates, exclude=exclude
    )
    if not candidates:
        return MatchPlan(None, None, [], 0)
    scorer = await scorers.get(stores.subjects)
    policy = policy.for_model(scorer.parameters)
    version = scorer.parameters.version
    scores = [scorer.score(record, other) for other in candidates]
    fingerprints = {record.id: own} | {c.id: fingerprint(c) for c in candidates}
    rejected = await rejected_pairs(
        stores, fingerprints, [pair_key(s.left, s.right) for s in scores]
    )
    scores = [s for s in scores if pair_key(s.left, s.right) not in rejected]

    sure = [s for s in scores if s.probability >= policy.auto_merge_at and not s.vetoed]
    merge_with = sure[0] if len(sure) == 1 else None
    to_review = [
        NewTask(
            str(uuid.uuid4()),
            evidence_of(score, fingerprints, model_version=version),
            reason_of(score, sure),
        )
        for score in scores
        if score is not merge_with and policy.worth_review(score)
    ]
    tasks = await stores.reviews.open_tasks(to_review, at=now)
    if merge_with is None:
        return MatchPlan(None, None, tasks, len(candidates))
    other = merge_with.right if merge_with.left == record.id else merge_with.left
    evidence = evidence_of(merge_with, fingerprints, model_version=version)
    return MatchPlan(other, evidence, tasks, len(candidates))


def reason_of(score: Score, sure: list[Score]) -> TaskReason:
    if score.vetoed:
        return TaskReason.GUARDED
    return TaskReason.AMBIGUOUS if score in sure else TaskReason.UNCERTAIN


async def match_person(
    person_id: str,
    *,
    profiles: Profiles,
    transactions: Transactions,
    policy: Policy,
    scorers: ScorerCache,
    now: datetime,
) -> MatchOutcome:
    outcome = MatchOutcome(person_id)
    view = await profiles.fetch(person_id)
    if view is None:
        return outcome  # no such person (any more): nothing to match
    if view.merged_into is not None:
        survivor = view.merged_into
        await transactions.write(lambda s: mark_merged(s, person_id, survivor, now))
        outcome.merged_into = survivor
        return outcome

    started = time.perf_counter()
    created = view.created_at
    plan = await transactions.write(
        lambda s: plan_match(
            view.record,
            s,
            policy=policy,
            scorers=scorers,
            now=now,
            profile_created_at=created,
            sources=view.sources,
        )
    )
    outcome.decision_ms = (time.perf_counter() - started) * 1000
    outcome.candidates, outcome.review_tasks = plan.candidates, plan.review_tasks
    if plan.merge_into is None or plan.evidence is None:
        return outcome
    survivor, evidence = plan.merge_into, plan.evidence
    merge_id = await merge_into(profiles, survivor, person_id)
    await transactions.write(
        lambda s: settle_merges(s, [(person_id, survivor, evidence, merge_id)], now)
    )
    outcome.merged_into = survivor
    return outcome


# An automatic merge done: (merged person, survivor, evidence, merge id or None when
# it was merged before, by a redelivered event).
DoneMerge = tuple[str, str, PairEvidence, str | None]


async def merge_into(profiles: Profiles, survivor: str, person_id: str) -> str | None:
    """Ask the profile service to merge the newcomer into ``survivor``; None when it
    was merged there before (a redelivered event)."""
    try:
        return await profiles.merge(
            survivor,
            person_id,
            reason="automatic: match probability above the merge threshold",
            on_behalf_of=ENGINE,
        )
    except Conflict:
        # Already merged (a redelivered event) or no longer mergeable: see what is true.
        again = await profiles.fetch(person_id)
        if again is None or again.merged_into != survivor:
            raise
        return None


async def settle_merges(stores: Stores, merges: Sequence[DoneMerge], now: datetime) -> None:
    """Audit the automatic merges and take the merged persons out of the candidates."""
    for person_id, survivor, evidence, merge_id in merges:
        await audit_auto_merge(stores, evidence, merge_id, now)
        await mark_merged(stores, person_id, survivor, now)


async def audit_auto_merge(
    stores: Stores, evidence: PairEvidence, merge_id: str | None, now: datetime
) -> None:
    existing = await stores.reviews.decisions_for_pairs([evidence.pair_key])
    if any(d.verdict == Verdict.AUTO_MERGE for d in existing.get(evidence.pair_key, [])):
        return  # a redelivered event: audited already
    await stores.reviews.record_decision(
        Decision.about(
            evidence, Verdict.AUTO_MERGE, actor=ENGINE.subject, at=now, merge_id=merge_id
        )
    )
