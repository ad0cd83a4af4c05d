"""Cypher for review tasks and the decisions about pairs (the stewards' audit).

    (:ReviewTask {id, pairKey, leftId, rightId, probability, contributions, ...})
    (:MatchDecision {id, pairKey, verdict, actor, at, ...})      append-only audit

A pair has at most one unresolved task: proposing it again refreshes the task's
evidence. Labels come from constants; every value is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_matching.adapters.graph_store import DECISION, REVIEW_TASK
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.domain.models import (
    Decision,
    MatchCandidate,
    PairEvidence,
    ReviewTask,
    TaskReason,
    TaskStatus,
    Verdict,
)
from mdm_matching.domain.ports import NewTask, TaskPage


def evidence_props(evidence: PairEvidence) -> dict[str, Any]:
    return {
        "pairKey": evidence.pair_key, "leftId": evidence.left_id, "rightId": evidence.right_id,
        "probability": evidence.probability, "weight": evidence.weight,
        "contributions": json.dumps([[c.comparison, c.level, c.weight]
                                     for c in evidence.contributions]),
        "conflicts": list(evidence.conflicts),
        "leftFingerprint": evidence.left_fingerprint,
        "rightFingerprint": evidence.right_fingerprint,
    }  # fmt: skip


def evidence_from(p: dict[str, Any]) -> PairEvidence:
    return PairEvidence(
        left_id=p["leftId"], right_id=p["rightId"], probability=float(p["probability"]),
        weight=float(p["weight"]),
        contributions=tuple(Contribution(c, level, float(w))
                            for c, level, w in json.loads(p["contributions"])),
        conflicts=tuple(p.get("conflicts") or ()), left_fingerprint=p["leftFingerprint"],
        right_fingerprint=p["rightFingerprint"],
    )  # fmt: skip


def decision_props(decision: Decision) -> dict[str, Any]:
    return {
        "pairKey": decision.pair_key, "verdict": decision.verdict.value,
        "actor": decision.actor, "at": decision.at, "note": decision.note,
        "taskId": decision.task_id, "mergeId": decision.merge_id,
        "probability": decision.probability,
        "leftFingerprint": decision.left_fingerprint,
        "rightFingerprint": decision.right_fingerprint,
    }  # fmt: skip


def task_from(p: dict[str, Any]) -> ReviewTask:
    return ReviewTask(
        id=p["id"], evidence=evidence_from(p), reason=TaskReason(p["reason"]),
        status=TaskStatus(p["status"]), created_at=as_utc(p["createdAt"]),
        updated_at=as_utc(p["updatedAt"]), note=p.get("note"),
    )  # fmt: skip


def decision_from(p: dict[str, Any]) -> Decision:
    return Decision(
        id=p["id"], pair_key=p["pairKey"], verdict=Verdict(p["verdict"]), actor=p["actor"],
        at=as_utc(p["at"]), note=p.get("note") or "", task_id=p.get("taskId"),
        merge_id=p.get("mergeId"),
        probability=float(p["probability"]) if p.get("probability") is not None else None,
        left_fingerprint=p["leftFingerprint"], right_fingerprint=p["rightFingerprint"],
    )  # fmt: skip


# A task's two persons, each property indexed. ArcadeDB's Cypher answers
# ``t.leftId = $id OR t.rightId = $id`` by reading every task (20-33 ms at 20,000
# tasks against 3 ms for two index lookups): one lookup per side instead.
_SIDES = ("leftId", "rightId")


class GraphReviewStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def open_task(
        self, task_id: str, evidence: PairEvidence, *, reason: TaskReason, at: datetime
    ) -> ReviewTask:
        (task_id,) = await self.open_tasks([NewTask(task_id, evidence, reason)], at=at)
        task = await self.get_task(task_id)
        assert task is not None  # written just now
        return task

    async def open_tasks(self, tasks: Sequence[NewTask], *, at: datetime) -> list[str]:
        """``open_task`` for many pairs in two statements: an unresolved task of a pair
        is refreshed; the others are created under their given ids (so writing them
        again adds none). Returns the task id of each pair, in order."""
        rows: list[dict[str, Any]] = [
            {"id": t.id, "pairKey": t.evidence.pair_key, "jobId": t.job_id,
             "props": evidence_props(t.evidence) | {"reason": t.reason.value, "updatedAt": at}}
            for t in tasks
        ]  # fmt: skip
        if not rows:
            return []
        refreshed = await self._tx.run(
            "review.refresh_many",
            f"UNWIND $rows AS row MATCH (t:{REVIEW_TASK} {{pairKey: row.pairKey}}) "
            "WHERE t.status <> $resolved SET t += row.props "
            "RETURN row.pairKey AS key, t.id AS id",
            rows=rows,
            resolved=TaskStatus.RESOLVED.value,
        )
        known = {row["key"]: row["id"] for row in refreshed}
        new = [row for row in rows if row["pairKey"] not in known]
        if new:
            await self._tx.run(
                "review.create_many",
                f"UNWIND $rows AS row MERGE (t:{REVIEW_TASK} {{id: row.id}}) "
                "ON CREATE SET t += row.props, t.status = $open, t.createdAt = $at, "
                "t.jobId = row.jobId",
                rows=new,
                open=TaskStatus.OPEN.value,
                at=at,
            )
        return [known.get(row["pairKey"], row["id"]) for row in rows]

    async def get_task(self, task_id: str) -> ReviewTask | None:
        rows = await self._tx.run(
            "review.get", f"MATCH (t:{REVIEW_TASK} {{id: $id}}) RETURN t {{.*}} AS t", id=task_id
        )
        return task_from(rows[0]["t"]) if rows else None

    async def tasks(
        self,
        *,
        statuses: Sequence[TaskStatus],
        min_probability: float,
        person_id: str | None,
        after: tuple[float, str] | None,
        limit: int,
    ) -> TaskPage:
        rows = await self._tx.run(
            "review.list",
            f"MATCH (t:{REVIEW_TASK}) WHERE t.status IN $statuses "
            "AND t.probability >= $minProbability "
            "AND ($personId IS NULL OR t.leftId = $personId OR t.rightId = $personId) "
            "AND ($afterP IS NULL OR t.probability < $afterP "
            "OR (t.probability = $afterP AND t.id > $afterId)) "
            "RETURN t {.*} AS t ORDER BY t.probability DESC, t.id LIMIT $limit",
            statuses=[s.value for s in statuses],
            minProbability=min_probability,
            personId=person_id,
            afterP=after[0] if after else None,
            afterId=after[1] if after else None,
            limit=limit + 1,
        )
        tasks = [task_from(row["t"]) for row in rows]
        return TaskPage(tasks[:limit], has_more=len(tasks) > limit)

    async def open_tasks_of(self, person_ids: Sequence[str]) -> dict[str, list[ReviewTask]]:
        rows = await self._tx.run(
            "review.open_of",
            " UNION ALL ".join(
                f"UNWIND $ids AS id MATCH (t:{REVIEW_TASK} {{{side}: id}}) "
                "WHERE t.status <> $resolved RETURN id, t {.*} AS t"
                for side in _SIDES
            ),
            ids=list(person_ids),
            resolved=TaskStatus.RESOLVED.value,
        )
        found: dict[str, list[ReviewTask]] = {pid: [] for pid in person_ids}
        for row in rows:
            found[row["id"]].append(task_from(row["t"]))
        for tasks in found.values():
            tasks.sort(key=lambda t: (-t.evidence.probability, t.id))
        return found

    async def set_status(
        self, task_id: str, status: TaskStatus, *, note: str | None, at: datetime
    ) -> None:
        await self._tx.run(
            "review.set_status",
            f"MATCH (t:{REVIEW_TASK} {{id: $id}}) SET t.status = $status, t.note = $note, "
            "t.updatedAt = $at",
            id=task_id,
            status=status.value,
            note=note,
            at=at,
        )

    async def close_tasks_of(self, person_id: str, *, at: datetime) -> int:
        return await self.close_tasks_of_many([person_id], at=at)

    async def close_tasks_of_many(self, person_ids: Sequence[str], *, at: datetime) -> int:
        """Resolves the unresolved tasks of these persons; returns how many."""
        closed = 0
        for side in _SIDES:  # one indexed lookup per side
            rows = await self._tx.run(
                "review.close_of",
                f"UNWIND $ids AS id MATCH (t:{REVIEW_TASK} {{{side}: id}}) "
                "WHERE t.status <> $resolved "
                "SET t.status = $resolved, t.updatedAt = $at, t.note = $note RETURN count(t) AS n",
                ids=list(person_ids),
                resolved=TaskStatus.RESOLVED.value,
                at=at,
                note="closed: one of the persons was merged",
            )
            closed += int(rows[0]["n"]) if rows else 0
        return closed

    async def open_job_tasks(self, job_id: str) -> list[str]:
        rows = await self._tx.run(
            "review.open_job_tasks",
            f"MATCH (t:{REVIEW_TASK} {{jobId: $jobId}}) WHERE t.status = $open RETURN t.id AS id",
            jobId=job_id,
            open=TaskStatus.OPEN.value,
        )
        return [row["id"] for row in rows]

    async def resolve_open_tasks(self, task_ids: Sequence[str], *, note: str, at: datetime) -> None:
        await self._tx.run(
            "review.resolve_open",
            f"UNWIND $ids AS id MATCH (t:{REVIEW_TASK} {{id: id}}) WHERE t.status = $open "
            "SET t.status = $resolved, t.updatedAt = $at, t.note = $note",
            ids=list(task_ids),
            open=TaskStatus.OPEN.value,
            resolved=TaskStatus.RESOLVED.value,
            at=at,
            note=note,
        )

    async def record_decisions(self, decisions: Sequence[Decision]) -> None:
        await self._tx.run(
            "decision.record_many",
            f"UNWIND $rows AS row CREATE (d:{DECISION} {{id: row.id}}) SET d += row.props",
            rows=[{"id": d.id, "props": decision_props(d)} for d in decisions],
        )

    async def record_decision(self, decision: Decision) -> None:
        await self._tx.run(
            "decision.record",
            f"CREATE (d:{DECISION} {{id: $id}}) SET d += $props",
            id=decision.id,
            props=decision_props(decision),
        )

    async def decisions_for_pairs(self, pair_keys: Sequence[str]) -> dict[str, list[Decision]]:
        rows = await self._tx.run(
            "decision.for_pairs",
            f"MATCH (d:{DECISION}) WHERE d.pairKey IN $keys RETURN d {{.*}} AS d ORDER BY d.at",
            keys=list(pair_keys),
        )
        found: dict[str, list[Decision]] = {}
        for row in rows:
            decision = decision_from(row["d"])
            found.setdefault(decision.pair_key, []).append(decision)
        return found

    async def decisions_of_tasks(self, task_ids: Sequence[str]) -> dict[str, list[Decision]]:
        rows = await self._tx.run(
            "decision.of_tasks",
            f"MATCH (d:{DECISION}) WHERE d.taskId IN $ids RETURN d {{.*}} AS d ORDER BY d.at",
            ids=list(task_ids),
        )
        found: dict[str, list[Decision]] = {tid: [] for tid in task_ids}
        for row in rows:
            decision = decision_from(row["d"])
            found[decision.task_id or ""].append(decision)
        return found

    async def decisions_of_person(self, person_id: str) -> list[Decision]:
        rows = await self._tx.run(
            "decision.of_person",
            f"MATCH (d:{DECISION}) "
            "WHERE d.pairKey STARTS WITH $prefix OR d.pairKey ENDS WITH $suffix "
            "RETURN d {.*} AS d ORDER BY d.at",
            prefix=person_id + "|",
            suffix="|" + person_id,
        )
        return [decision_from(row["d"]) for row in rows]

    async def get_decision(self, decision_id: str) -> Decision | None:
        rows = await self._tx.run(
            "decision.get", f"MATCH (d:{DECISION} {{id: $id}}) RETURN d {{.*}} AS d", id=decision_id
        )
        return decision_from(rows[0]["d"]) if rows else None


def candidates_from(tasks: dict[str, list[ReviewTask]]) -> dict[str, list[MatchCandidate]]:
    """Open review tasks as each person's candidates, best first."""
    found: dict[str, list[MatchCandidate]] = {}
    for person_id, person_tasks in tasks.items():
        found[person_id] = [
            MatchCandidate(
                person_id,
                t.evidence.right_id if t.evidence.left_id == person_id else t.evidence.left_id,
                t.evidence.probability,
            )
            for t in person_tasks
        ]
    return found
