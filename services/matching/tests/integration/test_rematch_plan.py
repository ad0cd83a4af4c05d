"""The merge plan of a batch re-matching job, written in slices, against the real graph
server: a delivery that finds a predecessor's half-written plan neither duplicates
nor keeps anything of it that its own plan lacks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from mdm_common.graph import GraphClient
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain import rematch_merge
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint, make_record
from mdm_matching.domain.engine.model import Scorer, default_parameters
from mdm_matching.domain.models import TaskReason, TaskStatus
from mdm_matching.domain.online import Policy, ScorerCache, evidence_of
from mdm_matching.domain.ports import NewTask, SubjectFeatures
from mdm_matching.domain.rematch import MergeStep, RematchPhase, new_job
from mdm_matching.domain.stores import Stores

# The plan scores with the stored model: the defaults, whatever an earlier test trained.
pytestmark = pytest.mark.usefixtures("default_model")

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _family(tag: str, n: int) -> list[MatchRecord]:
    """A person, a duplicate, and the father of the same name at the same address (one
    identity guard: a review task, not a merge)."""
    family = f"Quastenberg{tag}{'abc'[n]}"
    here = {"postal_code": "79098", "city": "Freiburg", "street": f"{family}weg",
            "house_number": "3"}  # fmt: skip
    return [
        make_record(f"{n}a{tag}", given="Xaver", family=family, birth=f"195{n}-04-12",
                    email=f"x.{family}@mail.example", **here),
        make_record(f"{n}b{tag}", given="Xaver", family=family, birth=f"195{n}-04-12",
                    email=f"x.{family}@mail.example", phone="+497613456789", **here),
        make_record(f"{n}c{tag}", given="Xaver", family=family, birth=f"192{n}-09-30",
                    email=f"x.{family}@mail.example", **here),
    ]  # fmt: skip


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rematch_merge, "PLAN_SLICE", 1)


async def test_a_plan_written_again_after_a_kill_adds_nothing_and_drops_stale_steps(
    graph_for: Callable[[str], GraphClient], small_slices: None, rematch_jobs: list[str]
) -> None:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    tag = uuid.uuid4().hex[:8]
    records = [r for n in range(3) for r in _family(tag, n)]
    job = new_job(f"job-{tag}", partitions=1, requested_by="test", now=NOW)
    rematch_jobs.append(job.id)
    scorer = Scorer(default_parameters())
    prints = {r.id: fingerprint(r) for r in records}
    proposals = [evidence_of(scorer.score(a, b), prints)
                 for n in range(3) for a, b in ((records[3 * n], records[3 * n + 1]),
                                                (records[3 * n], records[3 * n + 2]))]  # fmt: skip

    async def prepare(s: Stores) -> None:
        await s.subjects.save_many(
            [SubjectFeatures(r, tuple(blocking.keys_of(r)), prints[r.id]) for r in records],
            at=NOW)  # fmt: skip
        await s.rematch.create(job)
        await s.rematch.save_proposals(job.id, proposals)
        await s.rematch.update(job.id, phase=RematchPhase.SCORING)

    await transactions.write(prepare)
    policy, scorers = Policy(), ScorerCache()
    made = await rematch_merge.make_plan(
        job.id, transactions=transactions, policy=policy, scorers=scorers
    )
    assert [(s.survivor_id, s.merged_id) for s in made.steps] == [
        (records[3 * n].id, records[3 * n + 1].id) for n in range(3)]  # fmt: skip
    assert {t.evidence.pair_key for t in made.tasks} == {
        p.pair_key for p in proposals[1::2]}  # fmt: skip

    # A predecessor claimed the plan, wrote its first slice and a step and two review
    # tasks of a plan made on other features, then was killed. A steward deferred one
    # of the two tasks meanwhile.
    claim = await transactions.write(lambda s: s.rematch.begin_plan(job.id))
    assert claim is not None
    stale = MergeStep(job.id, 9, records[2].id, records[5].id, proposals[1])
    first = made.slices()[0]
    scorer = Scorer(default_parameters())
    unproposed = [
        NewTask(f"{name}-{tag}", evidence_of(scorer.score(a, b), prints), TaskReason.UNCERTAIN,
                job.id)
        for name, a, b in (("stale", records[2], records[5]), ("kept", records[1], records[4]))
    ]  # fmt: skip

    async def predecessor(s: Stores) -> None:
        digests = [rematch_merge._digest(*first), "another plan's slice"]
        assert await s.rematch.record_plan_slice(job.id, attempt=claim.attempt, digests=digests)
        await s.rematch.save_steps([*first[0], stale])
        await s.reviews.open_tasks([*made.tasks[:1], *unproposed], at=NOW)
        await s.reviews.set_status(unproposed[1].id, TaskStatus.DEFERRED, note="ask", at=NOW)

    await transactions.write(predecessor)

    done = await rematch_merge.plan(
        job.id, transactions=transactions, policy=policy, scorers=scorers, now=NOW
    )
    assert done is not None
    assert (done.phase, done.planned_merges, done.review_tasks) == (RematchPhase.MERGING, 3, 3)
    steps = await transactions.read(lambda s: s.rematch.planned_steps(job.id, limit=10))
    assert steps == made.steps
    for n in range(3):
        tasks = await transactions.read(lambda s, n=n: s.reviews.open_tasks_of([records[3 * n].id]))
        assert [t.id for t in tasks[records[3 * n].id]] == [made.tasks[n].id]
    # The predecessor's task the new plan does not propose is resolved; the deferred
    # one is the steward's and stays.
    closed, deferred = [
        await transactions.read(lambda s, t=t: s.reviews.get_task(t.id)) for t in unproposed
    ]
    assert closed is not None
    assert deferred is not None
    assert (closed.status, closed.note) == (
        TaskStatus.RESOLVED, "closed: no longer proposed by the job's plan")  # fmt: skip
    assert (deferred.status, deferred.note) == (TaskStatus.DEFERRED, "ask")
    # Planned already: another delivery changes nothing.
    again = await rematch_merge.plan(
        job.id, transactions=transactions, policy=policy, scorers=scorers, now=NOW
    )
    assert again == done


async def test_the_profile_created_first_survives_whatever_its_id(
    graph_for: Callable[[str], GraphClient], rematch_jobs: list[str]
) -> None:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    tag = uuid.uuid4().hex[:8]
    newer, older, _ = _family(tag, 0)  # ids "0a…" < "0b…"
    job = new_job(f"job-{tag}", partitions=1, requested_by="test", now=NOW)
    rematch_jobs.append(job.id)
    prints = {r.id: fingerprint(r) for r in (newer, older)}
    proposal = evidence_of(Scorer(default_parameters()).score(newer, older), prints)
    created = {
        newer.id: datetime(2024, 5, 1, tzinfo=UTC),
        older.id: datetime(2019, 2, 3, tzinfo=UTC),
    }

    async def prepare(s: Stores) -> None:
        # One sync registers both at the same instant; the profile service created
        # ``older`` five years before ``newer``.
        await s.subjects.save_many(
            [SubjectFeatures(r, tuple(blocking.keys_of(r)), prints[r.id], created[r.id])
             for r in (newer, older)], at=NOW)  # fmt: skip
        await s.rematch.create(job)
        await s.rematch.save_proposals(job.id, [proposal])
        await s.rematch.update(job.id, phase=RematchPhase.SCORING)

    await transactions.write(prepare)
    subjects = await transactions.read(lambda s: s.subjects.get_many([newer.id, older.id]))
    assert {i: s.profile_created_at for i, s in subjects.items()} == created
    made = await rematch_merge.make_plan(
        job.id, transactions=transactions, policy=Policy(), scorers=ScorerCache()
    )
    assert [(s.survivor_id, s.merged_id) for s in made.steps] == [(older.id, newer.id)]
