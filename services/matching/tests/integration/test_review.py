"""Steward review against the real graph server: the queue's filters, orders and
counts, assignment rules, and the evidence a decision keeps.

Every test works with persons, a source system and stewards of its own, so that the
other tests' tasks in the same database stay out of its filters.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict, Forbidden
from mdm_common.graph import GraphClient
from mdm_matching.adapters.graph_store import SCHEMA
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain import review
from mdm_matching.domain.engine.features import make_record
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.domain.models import (
    PairEvidence,
    TaskFilter,
    TaskOrder,
    TaskReason,
    TaskStatus,
    Verdict,
)
from mdm_matching.domain.ports import NewTask, Profiles

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXPLANATION = (Contribution("givenName", "exact", 3.5), Contribution("email", None, 0.0))


def _tag() -> str:
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - a throwaway name, not a secret
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(10))


def _steward(name: str, *roles: Role) -> Principal:
    return Principal(f"{name}-{uuid.uuid4().hex[:8]}", frozenset({Role.STEWARD, *roles}))


async def _transactions(graph_for: Callable[[str], GraphClient]) -> GraphTransactions:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    return GraphTransactions(graph)


async def _queue(
    transactions: GraphTransactions, probabilities: list[float], *, family: str, source: str
) -> list[str]:
    """One task per probability, each pair of two new persons, created a minute apart
    (the first oldest); one side of each pair carries ``family`` and ``source``."""
    ids = []
    for n, probability in enumerate(probabilities):
        left, right = str(uuid.uuid4()), str(uuid.uuid4())
        evidence = PairEvidence(
            left, right, probability, 1.0, EXPLANATION, ("birthDate",), "a", "b"
        )
        at = NOW + timedelta(minutes=n)

        async def write(stores, evidence=evidence, at=at, left=left, right=right):  # type: ignore[no-untyped-def]
            subjects = stores.subjects
            for pid, fam, sources in ((left, family, [source]), (right, "Anders", ["crm"])):
                await subjects.register(pid, at=at)
                await subjects.save_features(
                    make_record(pid, family=fam), keys=[], fingerprint="f", at=at, sources=sources
                )
            return await stores.reviews.open_tasks(
                [NewTask(str(uuid.uuid4()), evidence, TaskReason.UNCERTAIN)], at=at
            )

        ids += await transactions.write(write)
    return ids


async def _page(
    transactions: GraphTransactions, wanted: TaskFilter, order: TaskOrder, size: int
) -> list[str]:
    """Every task of the filter, read page by page."""
    found: list[str] = []
    after = None
    while True:
        page = await transactions.read(
            lambda s, after=after: s.reviews.tasks(wanted, order=order, after=after, limit=size)
        )
        found += [t.id for t in page.tasks]
        if not page.has_more:
            return found
        after = page.sort_keys[-1]


class TestQueue:
    async def test_orders_page_stably_and_count(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        source = f"src-{_tag()}"
        probabilities = [0.7, 0.9, 0.7, 0.6, 0.7]
        ids = await _queue(transactions, probabilities, family=f"Mül{_tag()}", source=source)
        wanted = TaskFilter(source=source)
        by_score = [i for _, i in sorted(zip(probabilities, ids, strict=True))]
        assert await _page(transactions, wanted, TaskOrder.PROBABILITY_ASC, 2) == by_score
        assert await _page(transactions, wanted, TaskOrder.PROBABILITY_DESC, 2) == by_score[::-1]
        assert await _page(transactions, wanted, TaskOrder.OLDEST_FIRST, 2) == ids
        assert await _page(transactions, wanted, TaskOrder.NEWEST_FIRST, 3) == ids[::-1]
        assert await transactions.read(lambda s: s.reviews.count_tasks(wanted)) == 5

        band = TaskFilter(source=source, min_probability=0.65, max_probability=0.7)
        assert sorted(await _page(transactions, band, TaskOrder.OLDEST_FIRST, 10)) == sorted(
            [ids[0], ids[2], ids[4]]
        )
        assert await transactions.read(lambda s: s.reviews.count_tasks(band)) == 3
        aged = TaskFilter(
            source=source,
            created_after=NOW + timedelta(minutes=1),
            created_before=NOW + timedelta(minutes=3),
        )
        assert await _page(transactions, aged, TaskOrder.PROBABILITY_DESC, 10) == [ids[1], ids[2]]
        assert await _page(transactions, aged, TaskOrder.OLDEST_FIRST, 1) == [ids[1], ids[2]]

    async def test_tasks_stored_before_the_sort_keys_get_them_and_stay_in_the_queue(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        source = f"src-{_tag()}"
        ids = await _queue(transactions, [0.62, 0.81], family=f"Alt{_tag()}", source=source)
        wanted = TaskFilter(source=source)
        expected = await _page(transactions, wanted, TaskOrder.OLDEST_FIRST, 10)

        async def forget_keys(tx):  # type: ignore[no-untyped-def]
            # As a task stored by an earlier release looks.
            await tx.run(
                "test.forget_keys",
                "MATCH (t:ReviewTask) WHERE t.id IN $ids REMOVE t.scoreKey, t.ageKey",
                ids=ids,
            )

        graph = graph_for("matching")
        await graph.write(forget_keys)
        assert await _page(transactions, wanted, TaskOrder.OLDEST_FIRST, 10) == []
        await graph.apply_schema(SCHEMA)  # as every start of the service does
        assert expected == ids
        assert await _page(transactions, wanted, TaskOrder.OLDEST_FIRST, 10) == ids
        assert await _page(transactions, wanted, TaskOrder.PROBABILITY_DESC, 1) == ids[::-1]

    async def test_a_decided_task_leaves_the_open_queue(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        source = f"src-{_tag()}"
        ids = await _queue(transactions, [0.8, 0.7], family=f"Kunz{_tag()}", source=source)
        await transactions.write(
            lambda s: s.reviews.set_status(ids[0], TaskStatus.RESOLVED, note=None, at=NOW)
        )
        await transactions.write(
            lambda s: s.reviews.set_status(ids[1], TaskStatus.DEFERRED, note=None, at=NOW)
        )
        queue = TaskFilter(source=source)
        assert await _page(transactions, queue, TaskOrder.PROBABILITY_DESC, 5) == [ids[1]]
        everything = TaskFilter(source=source, statuses=tuple(TaskStatus))
        assert await _page(transactions, everything, TaskOrder.PROBABILITY_DESC, 1) == ids
        assert await transactions.read(lambda s: s.reviews.count_tasks(everything)) == 2

    async def test_name_is_a_folded_family_name_prefix_of_either_side(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        family = f"Müller{_tag()}"
        ids = await _queue(transactions, [0.8], family=family, source=f"src-{_tag()}")
        folded = make_record("x", family=family).family
        for prefix in (folded[:12], folded):
            wanted = TaskFilter(family_prefix=prefix)
            assert await _page(transactions, wanted, TaskOrder.PROBABILITY_DESC, 5) == ids
        unknown = TaskFilter(family_prefix=folded + "zz")
        assert await _page(transactions, unknown, TaskOrder.PROBABILITY_DESC, 5) == []
        assert await transactions.read(lambda s: s.reviews.count_tasks(unknown)) == 0


class TestAssignment:
    async def test_assign_release_and_their_rules(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        (task_id,) = await _queue(transactions, [0.8], family=f"Beck{_tag()}", source="crm")
        anna, bert = _steward("anna"), _steward("bert")
        admin = _steward("admin", Role.ADMIN)

        taken = await review.assign(task_id, actor=anna, transactions=transactions, now=NOW)
        assert (taken.assignee, taken.assigned_at) == (anna.subject, NOW)
        again = await review.assign(task_id, actor=anna, transactions=transactions, now=NOW)
        assert again.assignee == anna.subject  # idempotent
        with pytest.raises(Conflict) as held:
            await review.assign(task_id, actor=bert, transactions=transactions, now=NOW)
        assert anna.subject in held.value.message
        with pytest.raises(Forbidden):
            await review.release(task_id, actor=bert, transactions=transactions, now=NOW)

        mine = TaskFilter(assignee=anna.subject)
        assert await _page(transactions, mine, TaskOrder.OLDEST_FIRST, 5) == [task_id]
        summary = await transactions.read(lambda s: s.reviews.summary(assignee=anna.subject))
        assert (summary.open, summary.deferred) == (1, 0)
        assert summary.by_reason[TaskReason.UNCERTAIN] == 1

        freed = await review.release(task_id, actor=admin, transactions=transactions, now=NOW)
        assert (freed.assignee, freed.assigned_at) == (None, None)
        assert await _page(transactions, mine, TaskOrder.OLDEST_FIRST, 5) == []
        await review.assign(task_id, actor=bert, transactions=transactions, now=NOW)
        released = await review.release(task_id, actor=bert, transactions=transactions, now=NOW)
        assert released.assignee is None

    async def test_a_decided_task_is_not_assigned_and_deciding_keeps_the_assignee(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        transactions = await _transactions(graph_for)
        (task_id,) = await _queue(transactions, [0.8], family=f"Roth{_tag()}", source="crm")
        anna = _steward("anna")
        await review.assign(task_id, actor=anna, transactions=transactions, now=NOW)
        decision = await review.decide(
            task_id,
            Verdict.NOT_A_MATCH,
            note="",
            actor=anna,
            profiles=_NoProfiles(),
            transactions=transactions,
            now=NOW,
        )
        assert decision.contributions == EXPLANATION  # the evidence, kept with the decision
        assert decision.conflicts == ("birthDate",)
        stored = await transactions.read(lambda s: s.reviews.get_decision(decision.id))
        assert stored is not None
        assert (stored.contributions, stored.conflicts) == (EXPLANATION, ("birthDate",))
        task = await transactions.read(lambda s: s.reviews.get_task(task_id))
        assert task is not None
        assert task.assignee == anna.subject
        with pytest.raises(Conflict) as decided:
            await review.assign(task_id, actor=anna, transactions=transactions, now=NOW)
        assert decided.value.message == f"Review task {task_id} was decided already."


class _NoProfiles(Profiles):  # type: ignore[misc]
    """NOT_A_MATCH never calls the profile service."""
