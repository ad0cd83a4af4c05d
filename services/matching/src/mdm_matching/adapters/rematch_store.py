"""Cypher for batch re-matching jobs. Labels come from constants; every value is a parameter.

    (:RematchJob {id, status, phase, partitions, requestedBy, requestedAt, ...})
    (:RematchPartition {key: "<job>/<n>", jobId, number, status, attempts, scoredPairs, ...})
    (:RematchProposal {key: "<job>/<pair>", jobId, <pair evidence>})
    (:RematchStep {key: "<job>/<merged>", jobId, order, survivorId, mergedId, status, <evidence>})

Progress is counted from partitions and steps when a job is read, so that
partitions finishing at the same time never write the same node. While the merge
plan is written, the job holds ``planAttempt`` (the delivery writing it) and
``planDigests`` (one digest per slice written, in plan order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_common.keyset import any_key_reader, in_window, keyset_page, window_params
from mdm_matching.adapters.review_store import evidence_from, evidence_props
from mdm_matching.domain.models import PairEvidence
from mdm_matching.domain.rematch import (
    MergeStep,
    PlanClaim,
    RematchJob,
    RematchPhase,
    RematchStatus,
    StepStatus,
)

JOB = "RematchJob"
PARTITION = "RematchPartition"
PROPOSAL = "RematchProposal"
STEP = "RematchStep"
PENDING, SCORED = "PENDING", "SCORED"

SCHEMA = (
    f"CREATE CONSTRAINT rematch_job_id IF NOT EXISTS FOR (j:{JOB}) REQUIRE j.id IS UNIQUE",
    f"CREATE CONSTRAINT rematch_partition_key IF NOT EXISTS "
    f"FOR (p:{PARTITION}) REQUIRE p.key IS UNIQUE",
    f"CREATE CONSTRAINT rematch_proposal_key IF NOT EXISTS "
    f"FOR (p:{PROPOSAL}) REQUIRE p.key IS UNIQUE",
    f"CREATE CONSTRAINT rematch_step_key IF NOT EXISTS FOR (s:{STEP}) REQUIRE s.key IS UNIQUE",
    f"CREATE INDEX rematch_partition_job IF NOT EXISTS FOR (p:{PARTITION}) ON (p.jobId)",
    f"CREATE INDEX rematch_proposal_job IF NOT EXISTS FOR (p:{PROPOSAL}) ON (p.jobId)",
    f"CREATE INDEX rematch_step_job IF NOT EXISTS FOR (s:{STEP}) ON (s.jobId)",
)

_JOB_FIELDS = {  # RematchJob attribute -> property, for the fields a job node stores
    "status": "status", "phase": "phase", "finished_at": "finishedAt",
    "synced_persons": "syncedPersons", "review_tasks": "reviewTasks", "error": "error",
    "model_version": "modelVersion", "model_trained": "modelTrained",
    "model_reason": "modelReason",
}  # fmt: skip


def _value(value: Any) -> Any:
    return value.value if isinstance(value, RematchStatus | RematchPhase) else value


class GraphRematchStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def create(self, job: RematchJob) -> None:
        await self._tx.run(
            "rematch.create",
            f"CREATE (j:{JOB} {{id: $id}}) SET j += $props",
            id=job.id,
            props={
                "status": job.status.value, "phase": job.phase.value,
                "partitions": job.partitions, "requestedBy": job.requested_by,
                "requestedAt": job.requested_at, "syncedPersons": 0, "reviewTasks": 0,
            },
        )  # fmt: skip
        rows = [{"key": f"{job.id}/{n}", "jobId": job.id, "number": n, "status": PENDING,
                 "attempts": 0} for n in range(job.partitions)]  # fmt: skip
        await self._tx.run(
            "rematch.create_partitions",
            f"UNWIND $rows AS row CREATE (p:{PARTITION}) SET p = row",
            rows=rows,
        )

    async def get(self, job_id: str) -> RematchJob | None:
        found = await self._jobs(
            f"MATCH (j:{JOB} {{id: $id}}) RETURN j {{.*}} AS j", "rematch.get", id=job_id
        )
        return found[0] if found else None

    async def lock(self, job_id: str) -> RematchJob | None:
        # Writing a version first makes concurrent writers of the job conflict (or
        # wait, on Neo4j) here; the later one then reads what the earlier one wrote.
        found = await self._jobs(
            f"MATCH (j:{JOB} {{id: $id}}) SET j.version = coalesce(j.version, 0) + 1 "
            "RETURN j {.*} AS j",
            "rematch.lock",
            id=job_id,
        )
        return found[0] if found else None

    async def recent(self, *, limit: int, active_only: bool = False) -> list[RematchJob]:
        return await self._jobs(
            f"MATCH (j:{JOB}) WHERE NOT $activeOnly OR j.status IN $active "
            "RETURN j {.*} AS j ORDER BY j.requestedAt DESC, j.id LIMIT $limit",
            "rematch.recent",
            limit=limit,
            activeOnly=active_only,
            active=[RematchStatus.QUEUED.value, RematchStatus.RUNNING.value],
        )

    async def _jobs(self, query: str, name: str, **params: Any) -> list[RematchJob]:
        rows = await self._tx.run(name, query, **params)
        if not rows:
            return []
        ids = [row["j"]["id"] for row in rows]
        partitions = await self._tx.run(
            "rematch.partitions_of",
            f"MATCH (p:{PARTITION}) WHERE p.jobId IN $ids "
            "RETURN p.jobId AS job, p.status AS status, p.scoredPairs AS scored, "
            "p.subjects AS subjects, p.proposals AS proposals",
            ids=ids,
        )
        steps = await self._tx.run(
            "rematch.steps_of",
            f"MATCH (s:{STEP}) WHERE s.jobId IN $ids "
            "RETURN s.jobId AS job, s.status AS status, count(s) AS n",
            ids=ids,
        )
        step_counts: dict[str, Counter[str]] = {i: Counter() for i in ids}
        for row in steps:
            step_counts[row["job"]][row["status"]] += int(row["n"])
        jobs = []
        for row in rows:
            j = row["j"]
            scored = [p for p in partitions if p["job"] == j["id"] and p["status"] == SCORED]
            counts = step_counts[j["id"]]
            jobs.append(RematchJob(
                id=j["id"], status=RematchStatus(j["status"]), phase=RematchPhase(j["phase"]),
                partitions=int(j["partitions"]), requested_by=j["requestedBy"],
                requested_at=as_utc(j["requestedAt"]),
                finished_at=as_utc(j["finishedAt"]) if j.get("finishedAt") else None,
                synced_persons=int(j.get("syncedPersons") or 0), partitions_done=len(scored),
                subjects=max((int(p["subjects"]) for p in scored), default=0),
                scored_pairs=sum(int(p["scored"]) for p in scored),
                proposals=sum(int(p["proposals"]) for p in scored),
                planned_merges=sum(counts.values()), merges_done=counts[StepStatus.DONE.value],
                merges_skipped=counts[StepStatus.SKIPPED.value],
                review_tasks=int(j.get("reviewTasks") or 0), error=j.get("error"),
                model_version=j.get("modelVersion"), model_trained=bool(j.get("modelTrained")),
                model_reason=j.get("modelReason"),
            ))  # fmt: skip
        return jobs

    async def update(self, job_id: str, **fields: Any) -> None:
        props = {_JOB_FIELDS[k]: _value(v) for k, v in fields.items()}
        await self._tx.run(
            "rematch.update", f"MATCH (j:{JOB} {{id: $id}}) SET j += $props", id=job_id,
            props=props,
        )  # fmt: skip

    async def begin_partition(self, job_id: str, number: int) -> bool:
        rows = await self._tx.run(
            "rematch.begin_partition",
            f"MATCH (p:{PARTITION} {{key: $key}}) SET p.attempts = p.attempts + 1 "
            "RETURN p.status AS status",
            key=f"{job_id}/{number}",
        )
        return bool(rows) and rows[0]["status"] == PENDING

    async def save_proposals(self, job_id: str, proposals: Sequence[PairEvidence]) -> None:
        rows = [{"key": f"{job_id}/{e.pair_key}", "props": evidence_props(e)} for e in proposals]
        await self._tx.run(
            "rematch.save_proposals",
            f"UNWIND $rows AS row MERGE (p:{PROPOSAL} {{key: row.key}}) "
            "SET p += row.props, p.jobId = $jobId",
            jobId=job_id,
            rows=rows,
        )

    async def finish_partition(
        self, job_id: str, number: int, *, proposals: int, scored_pairs: int, subjects: int
    ) -> None:
        await self._tx.run(
            "rematch.finish_partition",
            f"MATCH (p:{PARTITION} {{key: $key}}) WHERE p.status = $pending "
            "SET p.status = $scored, p.scoredPairs = $scoredPairs, p.subjects = $subjects, "
            "p.proposals = $proposals RETURN p.key AS key",
            key=f"{job_id}/{number}", pending=PENDING, scored=SCORED, scoredPairs=scored_pairs,
            subjects=subjects, proposals=proposals,
        )  # fmt: skip

    async def pending_partitions(self, job_id: str) -> list[int]:
        rows = await self._tx.run(
            "rematch.pending_partitions",
            f"MATCH (p:{PARTITION}) WHERE p.jobId = $jobId AND p.status = $pending "
            "RETURN p.number AS n ORDER BY n",
            jobId=job_id,
            pending=PENDING,
        )
        return [int(row["n"]) for row in rows]

    async def save_steps(self, steps: Sequence[MergeStep]) -> None:
        rows = [{"key": f"{s.job_id}/{s.merged_id}",
                 "props": evidence_props(s.evidence) | {
                     "jobId": s.job_id, "order": s.order, "survivorId": s.survivor_id,
                     "mergedId": s.merged_id, "status": s.status.value}}
                for s in steps]  # fmt: skip
        await self._tx.run(
            "rematch.save_steps",
            f"UNWIND $rows AS row MERGE (s:{STEP} {{key: row.key}}) SET s += row.props",
            rows=rows,
        )

    async def begin_plan(self, job_id: str) -> PlanClaim | None:
        """Claim the plan's writing for this delivery (an earlier one stops at its next
        slice); None once the job is past SCORING."""
        rows = await self._tx.run(
            "rematch.begin_plan",
            f"MATCH (j:{JOB} {{id: $id}}) WHERE j.phase = $scoring "
            "SET j.planAttempt = coalesce(j.planAttempt, 0) + 1 "
            "RETURN j.planAttempt AS attempt, j.planDigests AS digests",
            id=job_id,
            scoring=RematchPhase.SCORING.value,
        )
        if not rows:
            return None
        return PlanClaim(int(rows[0]["attempt"]), list(rows[0]["digests"] or []))

    async def record_plan_slice(self, job_id: str, *, attempt: int, digests: list[str]) -> bool:
        """Record the slices written, if this delivery still owns the plan."""
        rows = await self._tx.run(
            "rematch.record_plan_slice",
            f"MATCH (j:{JOB} {{id: $id}}) WHERE j.phase = $scoring AND j.planAttempt = $attempt "
            "SET j.planDigests = $digests RETURN j.id AS id",
            id=job_id, scoring=RematchPhase.SCORING.value, attempt=attempt, digests=digests,
        )  # fmt: skip
        return bool(rows)

    async def finish_plan(self, job_id: str, *, attempt: int, review_tasks: int) -> bool:
        rows = await self._tx.run(
            "rematch.finish_plan",
            f"MATCH (j:{JOB} {{id: $id}}) WHERE j.phase = $scoring AND j.planAttempt = $attempt "
            "SET j.phase = $merging, j.reviewTasks = $reviewTasks RETURN j.id AS id",
            id=job_id, scoring=RematchPhase.SCORING.value, attempt=attempt,
            merging=RematchPhase.MERGING.value, reviewTasks=review_tasks,
        )  # fmt: skip
        return bool(rows)

    async def proposals_page(self, job_id: str, *, after: str, limit: int) -> list[PairEvidence]:
        # Keys are "<job id>/<pair>": read in windows of the pair (mdm_common.keyset),
        # by the key's range alone (with ``p.jobId`` in the condition the graph server
        # reads all of the job's proposals through that index: 2.5 s against 0.1 s a
        # window at a million persons).
        prefix = f"{job_id}/"
        job_end = job_id + chr(ord("/") + 1)  # after every key of the job

        async def window(lower: str, strict: bool, upper: str, n: int) -> list[PairEvidence]:
            rows = await self._tx.run(
                "rematch.proposals_page",
                f"MATCH (p:{PROPOSAL}) WHERE {in_window('p', 'key')} "
                "RETURN p {.*} AS p ORDER BY p.key LIMIT $limit",
                **window_params(lower, strict, min(upper, job_end)),
                limit=n,
            )
            return [evidence_from(row["p"]) for row in rows]

        any_key = any_key_reader(
            self._tx, "rematch.any_proposal_key_from", PROPOSAL, "key", below=job_end
        )
        return await keyset_page(
            after=prefix + after,
            limit=limit,
            read_window=window,
            any_key_from=any_key,
            prefix=prefix,
        )

    async def step_persons(self, job_id: str) -> list[str]:
        rows = await self._tx.run(
            "rematch.step_persons",
            f"MATCH (s:{STEP}) WHERE s.jobId = $jobId RETURN s.mergedId AS id",
            jobId=job_id,
        )
        return [row["id"] for row in rows]

    async def delete_steps(self, job_id: str, merged_ids: Sequence[str]) -> None:
        await self._tx.run(
            "rematch.delete_steps",
            f"UNWIND $keys AS key MATCH (s:{STEP} {{key: key}}) WHERE s.status = $planned DELETE s",
            keys=[f"{job_id}/{i}" for i in merged_ids],
            planned=StepStatus.PLANNED.value,
        )

    async def planned_steps(self, job_id: str, *, limit: int) -> list[MergeStep]:
        rows = await self._tx.run(
            "rematch.planned_steps",
            f"MATCH (s:{STEP}) WHERE s.jobId = $jobId AND s.status = $planned "
            "RETURN s {.*} AS s ORDER BY s.order LIMIT $limit",
            jobId=job_id, planned=StepStatus.PLANNED.value, limit=limit,
        )  # fmt: skip
        return [_step_from(row["s"]) for row in rows]

    async def settle_steps(
        self, job_id: str, outcomes: Sequence[tuple[str, StepStatus]]
    ) -> set[str]:
        """Mark planned steps (merged person, new status); returns the merged persons
        whose steps were still planned."""
        rows = await self._tx.run(
            "rematch.settle_steps",
            f"UNWIND $rows AS row MATCH (s:{STEP} {{key: row.key}}) WHERE s.status = $planned "
            "SET s.status = row.status RETURN s.mergedId AS id",
            rows=[
                {"key": f"{job_id}/{merged}", "status": status.value} for merged, status in outcomes
            ],
            planned=StepStatus.PLANNED.value,
        )
        return {row["id"] for row in rows}


def _step_from(s: dict[str, Any]) -> MergeStep:
    return MergeStep(
        job_id=s["jobId"], order=int(s["order"]), survivor_id=s["survivorId"],
        merged_id=s["mergedId"], evidence=evidence_from(s), status=StepStatus(s["status"]),
    )  # fmt: skip
