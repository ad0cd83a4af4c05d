"""Cypher for data-subject requests on the matching graph: export, erasure, restriction.

Reads and writes the nodes the other adapters own, by their label constants:
subjects and block keys, review tasks, decisions (graph_store), re-matching
proposals and steps (rematch_store). Adds

    (:ErasedSubject {personId, erasedAt, requestId})   subjects erased on request

and on a subject ``restrictedAt`` / ``restrictionRequestId`` while its processing
is restricted (``restrictionLiftedAt`` / ``restrictionLiftRequestId`` once lifted).
Every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_matching.adapters.graph_store import (
    BLOCK_KEY,
    BLOCKED_BY,
    DECISION,
    ERASED,
    REVIEW_TASK,
    SUBJECT,
    delete_unused_keys,
    record_from,
)
from mdm_matching.adapters.rematch_store import PROPOSAL, STEP
from mdm_matching.adapters.review_store import decision_from, task_from
from mdm_matching.domain.models import Decision, ReviewTask
from mdm_matching.domain.privacy import ErasedSubject, RematchEntry, RematchKind, StoredSubject
from mdm_matching.domain.rematch import StepStatus

# A decision's pair key is "<left>|<right>"; either side may be the person.
_DECISIONS_OF = (
    f"MATCH (d:{DECISION}) "
    "WHERE split(d.pairKey, '|')[0] IN $ids OR split(d.pairKey, '|')[1] IN $ids "
)
_STEPS_OF = f"MATCH (s:{STEP}) WHERE (s.survivorId IN $ids OR s.mergedId IN $ids) "


def _subject_from(s: dict[str, Any], block_keys: int) -> StoredSubject:
    def when(prop: str) -> datetime | None:
        return as_utc(s[prop]) if s.get(prop) is not None else None

    return StoredSubject(
        person_id=s["personId"], registered_at=as_utc(s["registeredAt"]),
        merged_into=s.get("mergedInto"), features_at=when("featuresAt"),
        record=record_from(s) if s.get("fingerprint") else None,
        fingerprint=s.get("fingerprint"), block_keys=block_keys,
        restricted_at=when("restrictedAt"), restriction_request_id=s.get("restrictionRequestId"),
    )  # fmt: skip


class GraphPrivacyStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    # --- export ------------------------------------------------------------------

    async def subjects_of(self, person_ids: Sequence[str]) -> list[StoredSubject]:
        rows = await self._tx.run(
            "privacy.subjects_of",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids RETURN s {{.*}} AS s",
            ids=list(person_ids),
        )
        counts = await self._tx.run(
            "privacy.block_counts",
            f"UNWIND $ids AS id "
            f"MATCH (:{SUBJECT} {{personId: id}})-[:{BLOCKED_BY}]->(k:{BLOCK_KEY}) "
            "RETURN id, count(k) AS n",
            ids=list(person_ids),
        )
        keys = {row["id"]: int(row["n"]) for row in counts}
        order = {pid: n for n, pid in enumerate(person_ids)}
        found = [_subject_from(row["s"], keys.get(row["s"]["personId"], 0)) for row in rows]
        return sorted(found, key=lambda s: order[s.person_id])

    async def erased_of(self, person_ids: Sequence[str]) -> list[ErasedSubject]:
        rows = await self._tx.run(
            "privacy.erased_of",
            f"MATCH (e:{ERASED}) WHERE e.personId IN $ids "
            "RETURN e.personId AS personId, e.erasedAt AS erasedAt, e.requestId AS requestId "
            "ORDER BY e.personId",
            ids=list(person_ids),
        )
        return [ErasedSubject(r["personId"], as_utc(r["erasedAt"]), r["requestId"]) for r in rows]

    async def tasks_of(self, person_ids: Sequence[str]) -> list[ReviewTask]:
        found: dict[str, ReviewTask] = {}
        for side in ("leftId", "rightId"):  # each an indexed lookup
            rows = await self._tx.run(
                f"privacy.tasks_by_{side}",
                f"UNWIND $ids AS id MATCH (t:{REVIEW_TASK}) WHERE t.{side} = id "
                "RETURN t {.*} AS t",
                ids=list(person_ids),
            )
            for row in rows:
                found.setdefault(row["t"]["id"], task_from(row["t"]))
        return sorted(found.values(), key=lambda t: (t.created_at, t.id))

    async def decisions_of(self, person_ids: Sequence[str]) -> list[Decision]:
        rows = await self._tx.run(
            "privacy.decisions_of",
            _DECISIONS_OF + "RETURN d {.*} AS d ORDER BY d.at, d.id",
            ids=list(person_ids),
        )
        return [decision_from(row["d"]) for row in rows]

    async def rematch_entries_of(self, person_ids: Sequence[str]) -> list[RematchEntry]:
        proposals = await self._tx.run(
            "privacy.rematch_proposals_of",
            f"MATCH (p:{PROPOSAL}) WHERE p.leftId IN $ids OR p.rightId IN $ids "
            "RETURN p.jobId AS jobId, p.leftId AS left, p.rightId AS right, "
            "p.probability AS probability ORDER BY p.key",
            ids=list(person_ids),
        )
        steps = await self._tx.run(
            "privacy.rematch_steps_of",
            _STEPS_OF + "RETURN s.jobId AS jobId, s.survivorId AS left, s.mergedId AS right, "
            "s.probability AS probability, s.status AS status ORDER BY s.key",
            ids=list(person_ids),
        )
        return [
            RematchEntry(RematchKind.PROPOSAL, r["jobId"], r["left"], r["right"],
                         float(r["probability"]))
            for r in proposals
        ] + [
            RematchEntry(RematchKind.STEP, r["jobId"], r["left"], r["right"],
                         float(r["probability"]), r["status"])
            for r in steps
        ]  # fmt: skip

    # --- erasure -----------------------------------------------------------------

    async def delete_subjects(self, person_ids: Sequence[str], *, keys: Sequence[str]) -> int:
        ids = list(person_ids)
        touched = await self._tx.run(
            "privacy.unblock",
            f"UNWIND $ids AS id "
            f"MATCH (:{SUBJECT} {{personId: id}})-[b:{BLOCKED_BY}]->(k:{BLOCK_KEY}) "
            "SET k.size = k.size - 1 DELETE b RETURN k.key AS key",
            ids=ids,
        )
        # With ``keys`` also those a merge or a change left empty before such keys
        # were deleted right away (older data).
        await delete_unused_keys(self._tx, [row["key"] for row in touched] + list(keys))
        rows = await self._tx.run(
            "privacy.count_subjects",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids RETURN count(s) AS n",
            ids=ids,
        )
        await self._tx.run(
            "privacy.delete_subjects",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids DETACH DELETE s",
            ids=ids,
        )
        return int(rows[0]["n"]) if rows else 0

    async def delete_tasks(self, person_ids: Sequence[str]) -> int:
        task_ids = [t.id for t in await self.tasks_of(person_ids)]
        await self._tx.run(
            "privacy.delete_tasks",
            f"UNWIND $taskIds AS id MATCH (t:{REVIEW_TASK} {{id: id}}) DELETE t",
            taskIds=task_ids,
        )
        return len(task_ids)

    async def scrub_decisions(self, person_ids: Sequence[str], *, request_id: str) -> int:
        rows = await self._tx.run(
            "privacy.scrub_decisions",
            _DECISIONS_OF + "SET d.note = '', d.leftFingerprint = '', d.rightFingerprint = '', "
            "d.erasureRequestId = coalesce(d.erasureRequestId, $requestId) "
            "RETURN count(d) AS n",
            ids=list(person_ids),
            requestId=request_id,
        )
        return int(rows[0]["n"]) if rows else 0

    async def forget_rematch(self, person_ids: Sequence[str]) -> None:
        ids = list(person_ids)
        await self._tx.run(
            "privacy.delete_proposals",
            f"MATCH (p:{PROPOSAL}) WHERE p.leftId IN $ids OR p.rightId IN $ids DELETE p",
            ids=ids,
        )
        # A planned merge of an erased person is not carried out any more.
        await self._tx.run(
            "privacy.skip_steps",
            _STEPS_OF + "AND s.status = $planned SET s.status = $skipped",
            ids=ids,
            planned=StepStatus.PLANNED.value,
            skipped=StepStatus.SKIPPED.value,
        )
        await self._tx.run(
            "privacy.scrub_steps",
            _STEPS_OF + "SET s.leftFingerprint = '', s.rightFingerprint = ''",
            ids=ids,
        )

    async def tombstone(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> None:
        await self._tx.run(
            "privacy.tombstone",
            f"UNWIND $ids AS id MERGE (e:{ERASED} {{personId: id}}) "
            "ON CREATE SET e.erasedAt = $at, e.requestId = $requestId",
            ids=list(person_ids),
            at=at,
            requestId=request_id,
        )

    # --- restriction -------------------------------------------------------------

    async def restrict(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> None:
        erased = {e.person_id for e in await self.erased_of(person_ids)}
        await self._tx.run(
            "privacy.restrict",
            f"UNWIND $ids AS id MERGE (s:{SUBJECT} {{personId: id}}) "
            "ON CREATE SET s.registeredAt = $at "
            "SET s.restrictedAt = coalesce(s.restrictedAt, $at), "
            "s.restrictionRequestId = coalesce(s.restrictionRequestId, $requestId)",
            ids=[i for i in person_ids if i not in erased],
            at=at,
            requestId=request_id,
        )

    async def lift(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> None:
        await self._tx.run(
            "privacy.lift",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids AND s.restrictedAt IS NOT NULL "
            "SET s.restrictedAt = null, s.restrictionRequestId = null, "
            "s.restrictionLiftedAt = $at, s.restrictionLiftRequestId = $requestId",
            ids=list(person_ids),
            at=at,
            requestId=request_id,
        )
