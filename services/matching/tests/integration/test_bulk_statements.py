"""The bulk statements of batch re-matching (one statement for many rows) against the
real graph server: they must leave the graph exactly as the one-row statements do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from mdm_common.events import PendingEvents
from mdm_common.graph import GraphClient
from mdm_matching.adapters.graph_store import BLOCK_KEY, SCHEMA
from mdm_matching.adapters.rematch_store import SCHEMA as REMATCH_SCHEMA
from mdm_matching.adapters.rematch_store import GraphRematchStore
from mdm_matching.adapters.review_store import GraphReviewStore
from mdm_matching.adapters.transactions import stores_of
from mdm_matching.domain import subjects
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint, make_record
from mdm_matching.domain.engine.model import Scorer, default_parameters
from mdm_matching.domain.models import TaskReason, TaskStatus
from mdm_matching.domain.online import evidence_of
from mdm_matching.domain.ports import NewTask, SubjectFeatures
from mdm_matching.domain.rematch import MergeStep, RematchPhase, StepStatus, new_job

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA + REMATCH_SCHEMA)
    return graph


def _features(record: MatchRecord) -> SubjectFeatures:
    return SubjectFeatures(record, tuple(blocking.keys_of(record)), fingerprint(record))


async def _sizes(graph: GraphClient, keys: set[str]) -> dict[str, int]:
    rows = await graph.read(lambda tx: tx.run(
        "test.block_sizes", f"MATCH (k:{BLOCK_KEY}) WHERE k.key IN $keys "
        "RETURN k.key AS key, k.size AS size", keys=sorted(keys)))  # fmt: skip
    return {row["key"]: int(row["size"]) for row in rows}


async def _blocked(graph: GraphClient, keys: set[str]) -> dict[str, int]:
    """Block sizes counted from the relationships, to compare with the stored ones."""
    rows = await graph.read(lambda tx: tx.run(
        "test.blocked", f"MATCH (k:{BLOCK_KEY})<-[b]-() WHERE k.key IN $keys "
        "RETURN k.key AS key, count(b) AS n", keys=sorted(keys)))  # fmt: skip
    return {row["key"]: int(row["n"]) for row in rows}


class TestSubjectsInBulk:
    async def test_new_keys_shared_within_one_statement_are_created_once_and_counted(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        graph = await _graph(graph_for)
        tag = uuid.uuid4().hex[:8]
        # Names no other test uses: phonetic keys ignore the tag's digits.
        family = f"Zwiebelhuber{tag}"
        records = [make_record(f"{n}{tag}", given=given, family=family, postal_code="10115",
                               email=f"quirin{tag}@example.org")
                   for n, given in enumerate(["Quirin", "Quirinus", "Quirina"])]  # fmt: skip
        keys = {k for r in records for k in blocking.keys_of(r)}

        await graph.write(lambda tx: stores_of(tx, PendingEvents()).subjects.save_many(
            [_features(r) for r in records], at=NOW))  # fmt: skip
        sizes = await _sizes(graph, keys)
        assert sizes == await _blocked(graph, keys)
        assert max(sizes.values()) == 3  # the e-mail and the family name: all three

        # Saving again (a sync repeated) changes nothing; one person's new e-mail
        # moves it out of the shared e-mail block.
        moved = make_record(records[0].id, given="Quirin", family=family, postal_code="10115",
                            email=f"other{tag}@example.org")  # fmt: skip
        await graph.write(lambda tx: stores_of(tx, PendingEvents()).subjects.save_many(
            [_features(moved), *(_features(r) for r in records[1:])], at=NOW))  # fmt: skip
        keys |= set(blocking.keys_of(moved))
        after = await _sizes(graph, keys)
        assert after == await _blocked(graph, keys) | {
            k: 0 for k, n in after.items() if n == 0}  # fmt: skip
        found = await graph.read(lambda tx: stores_of(tx, PendingEvents()).subjects.features(
            [r.id for r in records]))  # fmt: skip
        assert found[moved.id] == moved
        registered = await graph.read(lambda tx: stores_of(tx, PendingEvents()).subjects.get_many(
            [r.id for r in records]))  # fmt: skip
        assert {s.registered_at for s in registered.values()} == {NOW}

    async def test_merged_in_bulk_leave_their_blocks_and_close_their_tasks(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        graph = await _graph(graph_for)
        tag = uuid.uuid4().hex[:8]
        records = [make_record(f"{n}{tag}", given="Xaver", family=f"Zettelmeyer{tag}",
                               postal_code="50667") for n in range(4)]  # fmt: skip
        keys = {k for r in records for k in blocking.keys_of(r)}
        await graph.write(lambda tx: stores_of(tx, PendingEvents()).subjects.save_many(
            [_features(r) for r in records], at=NOW))  # fmt: skip
        scorer = Scorer(default_parameters())
        prints = {r.id: fingerprint(r) for r in records}
        evidence = evidence_of(scorer.score(records[0], records[3]), prints)
        await graph.write(lambda tx: GraphReviewStore(tx).open_task(
            str(uuid.uuid4()), evidence, reason=TaskReason.UNCERTAIN, at=NOW))  # fmt: skip

        merges = [(records[2].id, records[1].id), (records[3].id, records[1].id)]
        await graph.write(
            lambda tx: subjects.mark_merged_many(stores_of(tx, PendingEvents()), merges, NOW)
        )

        sizes = await _sizes(graph, keys)
        assert set(sizes.values()) == {2}  # the two left in each of their blocks
        assert sizes == await _blocked(graph, keys)
        tasks = await graph.read(lambda tx: GraphReviewStore(tx).open_tasks_of([records[0].id]))
        assert tasks[records[0].id] == []
        left = await graph.read(lambda tx: stores_of(tx, PendingEvents()).subjects.features(
            [r.id for r in records]))  # fmt: skip
        assert set(left) == {records[0].id, records[1].id}

    async def test_ids_erased_on_request_are_not_brought_back_and_unused_keys_go(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        graph = await _graph(graph_for)
        tag = uuid.uuid4().hex[:8]
        kept, erased, merged = (
            make_record(f"{n}{tag}", given="Wendelin", family=f"Quastenberg{tag}",
                        email=f"w{n}{tag}@example.org")
            for n in ("k", "e", "m")
        )  # fmt: skip
        await graph.write(lambda tx: stores_of(tx, PendingEvents()).subjects.save_many(
            [_features(kept), _features(merged)], at=NOW))  # fmt: skip
        await graph.write(lambda tx: stores_of(tx, PendingEvents()).privacy.tombstone(
            [erased.id], request_id="r1", at=NOW))  # fmt: skip
        # A sync page and a plan's merges that still name the erased id.
        await graph.write(lambda tx: stores_of(tx, PendingEvents()).subjects.save_many(
            [_features(kept), _features(erased)], at=NOW))  # fmt: skip
        await graph.write(lambda tx: stores_of(tx, PendingEvents()).subjects.merged_many(
            [(erased.id, kept.id), (merged.id, kept.id)], at=NOW))  # fmt: skip
        found = await graph.read(lambda tx: stores_of(tx, PendingEvents()).subjects.get_many(
            [kept.id, erased.id, merged.id]))  # fmt: skip
        assert set(found) == {kept.id, merged.id}
        # The key only the merged-away subject used is deleted (it holds its e-mail).
        email_keys = {k for k in blocking.keys_of(merged) if merged.email and merged.email in k}
        assert email_keys
        assert await _sizes(graph, email_keys) == {}


class TestTasksInBulk:
    async def test_a_pair_keeps_one_unresolved_task_however_often_it_is_written(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        graph = await _graph(graph_for)
        tag = uuid.uuid4().hex[:8]
        anchor = make_record(f"x{tag}", given="Jürgen", family="Müller", postal_code="10115")
        others = [make_record(f"y{i}{tag}", given=g, family="Müller", postal_code="10115")
                  for i, g in enumerate(["Jürgen", "Juergen", "J"])]  # fmt: skip
        scorer = Scorer(default_parameters())
        prints = {r.id: fingerprint(r) for r in (anchor, *others)}
        evidence = [evidence_of(scorer.score(anchor, o), prints) for o in others]
        # Online matching opened a task for the first pair already.
        online = await graph.write(lambda tx: GraphReviewStore(tx).open_task(
            str(uuid.uuid4()), evidence[0], reason=TaskReason.UNCERTAIN, at=NOW))  # fmt: skip
        batch = [NewTask(f"t{n}{tag}", e, TaskReason.GUARDED) for n, e in enumerate(evidence)]
        for _ in range(2):  # a slice written again after a kill
            await graph.write(lambda tx: GraphReviewStore(tx).open_tasks(batch, at=NOW))

        found = await graph.read(lambda tx: GraphReviewStore(tx).open_tasks_of([anchor.id]))
        tasks = found[anchor.id]
        assert sorted(t.id for t in tasks) == sorted([online.id, f"t1{tag}", f"t2{tag}"])
        assert {t.reason for t in tasks} == {TaskReason.GUARDED}  # the first one refreshed
        assert {t.status for t in tasks} == {TaskStatus.OPEN}


class TestStepsInBulk:
    async def test_a_step_settles_once_and_a_new_plan_claim_stops_the_old_one(
        self, graph_for: Callable[[str], GraphClient], rematch_jobs: list[str]
    ) -> None:
        graph = await _graph(graph_for)
        job = new_job(str(uuid.uuid4()), partitions=1, requested_by="test", now=NOW)
        rematch_jobs.append(job.id)
        await graph.write(lambda tx: GraphRematchStore(tx).create(job))
        await graph.write(lambda tx: GraphRematchStore(tx).update(
            job.id, phase=RematchPhase.SCORING))  # fmt: skip
        first = await graph.write(lambda tx: GraphRematchStore(tx).begin_plan(job.id))
        second = await graph.write(lambda tx: GraphRematchStore(tx).begin_plan(job.id))
        assert first is not None
        assert second is not None
        assert second.attempt == first.attempt + 1
        assert not await graph.write(lambda tx: GraphRematchStore(tx).record_plan_slice(
            job.id, attempt=first.attempt, digests=["a"]))  # fmt: skip
        assert await graph.write(lambda tx: GraphRematchStore(tx).record_plan_slice(
            job.id, attempt=second.attempt, digests=["a"]))  # fmt: skip

        scorer = Scorer(default_parameters())
        a, b, c = (make_record(f"{n}{job.id}", given="Jürgen", family="Kraus") for n in "abc")
        prints = {r.id: fingerprint(r) for r in (a, b, c)}
        steps = [MergeStep(job.id, n, a.id, other.id, evidence_of(scorer.score(a, other), prints))
                 for n, other in enumerate((b, c))]  # fmt: skip
        for _ in range(2):
            await graph.write(lambda tx: GraphRematchStore(tx).save_steps(steps))
        assert not await graph.write(lambda tx: GraphRematchStore(tx).finish_plan(
            job.id, attempt=first.attempt, review_tasks=0))  # fmt: skip
        assert await graph.write(lambda tx: GraphRematchStore(tx).finish_plan(
            job.id, attempt=second.attempt, review_tasks=0))  # fmt: skip
        assert await graph.write(lambda tx: GraphRematchStore(tx).begin_plan(job.id)) is None

        planned = await graph.read(lambda tx: GraphRematchStore(tx).planned_steps(job.id, limit=5))
        assert planned == steps
        outcome = [(b.id, StepStatus.DONE), (c.id, StepStatus.SKIPPED)]
        settled = await graph.write(lambda tx: GraphRematchStore(tx).settle_steps(job.id, outcome))
        again = await graph.write(lambda tx: GraphRematchStore(tx).settle_steps(job.id, outcome))
        assert (settled, again) == ({b.id, c.id}, set())
        stored = await graph.read(lambda tx: GraphRematchStore(tx).get(job.id))
        assert stored is not None
        assert (stored.phase, stored.planned_merges, stored.merges_done, stored.merges_skipped) == (
            RematchPhase.MERGING, 2, 1, 1)  # fmt: skip
