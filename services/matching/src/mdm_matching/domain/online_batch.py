"""Online matching of the persons waiting together: many arrivals in one pass.

The same decisions as :func:`online.match_person` for each person, taken in arrival
order, but with one profile read for all of them, their decisions in one matching
transaction (or a few: about a second of work each) and the merges of each such
transaction settled in one more, instead of three transactions and a broker round
trip each: an ingest of 500 records sends 500 ``person_created`` events at once.

Two newcomers of one pass that match each other still match: each decision sees the
newcomers decided before it in the same transaction (their features are stored by
then), as it would have seen them one task later. A newcomer planned to merge into a
profile leaves the candidates of the later ones, as its merge (done right after the
transaction) would have taken it out. Idempotent like the single path: a pass done
again registers, scores and merges nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mdm_matching.domain.engine.model import Scorer
from mdm_matching.domain.online import (
    DoneMerge,
    MatchOutcome,
    MatchPlan,
    Policy,
    ScorerCache,
    merge_into,
    plan_match,
    settle_merges,
)
from mdm_matching.domain.ports import Profiles, ProfileView, SubjectStore
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import mark_merged

# Decisions one matching transaction holds, in seconds of work: well under the graph
# client's timeout (5 s by default) even when the machine is busy.
TRANSACTION_BUDGET_S = 1.0


@dataclass(frozen=True)
class _Decided:
    person_id: str
    plan: MatchPlan
    decision_ms: float


async def match_persons(
    person_ids: Sequence[str],
    *,
    profiles: Profiles,
    transactions: Transactions,
    policy: Policy,
    scorers: ScorerCache,
    clock: Callable[[], datetime],
) -> list[MatchOutcome]:
    """Match each person (in this order, each once) against the existing profiles and
    the ones before it, and apply the automatic merges."""
    ordered = list(dict.fromkeys(person_ids))
    views = await profiles.fetch_many(ordered) if ordered else {}
    outcomes = {person_id: MatchOutcome(person_id) for person_id in ordered}
    gone = [(i, v.record.id) for i, v in views.items() if v.merged_into is not None]
    arrivals = [views[i] for i in ordered if i in views and views[i].merged_into is None]

    for person_id, was_merged_into in gone:
        outcomes[person_id].merged_into = was_merged_into
    decided = 0
    first = True
    while (first and gone) or decided < len(arrivals):
        # A transaction holds the decisions of about TRANSACTION_BUDGET_S (the graph
        # client gives up on a longer one); their merges follow at once, so that no
        # newcomer waits for the whole pass; the next transaction goes on after them.
        rest = arrivals[decided:]

        async def decide(
            stores: Stores, rest: list[ProfileView] = rest, first: bool = first
        ) -> list[_Decided]:
            if first:
                now = clock()
                for person_id, survivor in gone:
                    await mark_merged(stores, person_id, survivor, now)
            return await _decide_in_order(rest, stores, policy=policy, scorers=scorers, clock=clock)

        chunk = await transactions.write(decide)
        first, decided = False, decided + len(chunk)
        await _merge(chunk, outcomes, profiles=profiles, transactions=transactions, clock=clock)
    return list(outcomes.values())


async def _merge(
    decided: Sequence[_Decided],
    outcomes: dict[str, MatchOutcome],
    *,
    profiles: Profiles,
    transactions: Transactions,
    clock: Callable[[], datetime],
) -> None:
    """Apply the planned merges in order and settle them in one transaction (a
    merged-away newcomer leaves the candidates of the transactions after it)."""
    done: list[DoneMerge] = []
    try:
        for item in decided:
            outcome = outcomes[item.person_id]
            outcome.candidates, outcome.review_tasks = item.plan.candidates, item.plan.review_tasks
            outcome.decision_ms = item.decision_ms
            survivor, evidence = item.plan.merge_into, item.plan.evidence
            if survivor is None or evidence is None:
                continue
            merge_id = await merge_into(profiles, survivor, item.person_id)
            done.append((item.person_id, survivor, evidence, merge_id))
            outcome.merged_into = survivor
    finally:
        # What was merged is settled even when a later merge failed: the event that
        # fails is delivered again, and its repeated merge finds the merge done.
        if done:
            now = clock()
            await transactions.write(lambda s: settle_merges(s, done, now))


async def _decide_in_order(
    arrivals: Sequence[ProfileView],
    stores: Stores,
    *,
    policy: Policy,
    scorers: ScorerCache,
    clock: Callable[[], datetime],
    budget_s: float | None = None,
) -> list[_Decided]:
    """Plan each newcomer in order, at least one, until ``budget_s`` is used up
    (default ``TRANSACTION_BUDGET_S``)."""
    # Built inside the transaction: a retried attempt starts from nothing.
    away: list[str] = []
    budget = TRANSACTION_BUDGET_S if budget_s is None else budget_s
    begun = time.perf_counter()
    decided: list[_Decided] = []
    # The model is looked up once for the whole batch, not once a person.
    scorers = _Fixed(await scorers.get(stores.subjects))
    for view in arrivals:
        started = time.perf_counter()
        if decided and started - begun > budget:
            break
        plan = await plan_match(
            view.record,
            stores,
            policy=policy,
            scorers=scorers,
            now=clock(),
            profile_created_at=view.created_at,
            sources=view.sources,
            exclude=away,
        )
        if plan.merge_into is not None:
            away.append(view.record.id)
        decided.append(_Decided(view.record.id, plan, (time.perf_counter() - started) * 1000))
    return decided


class _Fixed(ScorerCache):
    """The scorer of one batch: the current one when the batch began."""

    def __init__(self, scorer: Scorer) -> None:
        super().__init__()
        self._fixed = scorer

    async def get(self, subjects: SubjectStore) -> Scorer:
        return self._fixed
