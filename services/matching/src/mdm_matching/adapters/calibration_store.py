"""Cypher for learning from stewards: labelling decisions, scored pairs, model changes.

    (:MatchModelChange {id, actor, at, note, previousVersion, version, reviewAt, ...})
                                                                 append-only audit

Labels come from constants; every value is a parameter.
"""

from __future__ import annotations

from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_matching.adapters.graph_store import DECISION, REVIEW_TASK
from mdm_matching.domain.models import UNRESOLVED, Decision, PairEvidence, TaskReason, Verdict
from mdm_matching.domain.recalibration import ModelChange

MODEL_CHANGE = "MatchModelChange"
_LABELLING = (Verdict.MERGE, Verdict.NOT_A_MATCH, Verdict.UNMERGE, Verdict.AUTO_MERGE)

SCHEMA = (
    f"CREATE CONSTRAINT match_model_change_id IF NOT EXISTS "
    f"FOR (c:{MODEL_CHANGE}) REQUIRE c.id IS UNIQUE",
    f"CREATE INDEX match_decision_verdict IF NOT EXISTS FOR (d:{DECISION}) ON (d.verdict)",
    f"CREATE INDEX review_task_status IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.status)",
)

_CHANGE_FIELDS = {
    "id": "id", "actor": "actor", "at": "at", "note": "note",
    "previous_version": "previousVersion", "version": "version",
    "previous_review_at": "previousReviewAt", "previous_auto_merge_at": "previousAutoMergeAt",
    "review_at": "reviewAt", "auto_merge_at": "autoMergeAt",
    "previous_unreviewed_guards": "previousUnreviewedGuards",
    "unreviewed_guards": "unreviewedGuards",
}  # fmt: skip
# Fields a change recorded before guards could be left unreviewed lacks.
_GUARD_FIELDS = ("previous_unreviewed_guards", "unreviewed_guards")


class GraphCalibrationStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def labelling_decisions(self) -> list[Decision]:
        # Only what a label needs: neither notes nor explanations are read.
        rows = await self._tx.run(
            "calibration.decisions",
            # The person model's labels: company pairs (kind COMPANY) are another model's.
            f"MATCH (d:{DECISION}) WHERE d.verdict IN $verdicts AND d.kind IS NULL "
            "RETURN d.id AS id, d.pairKey AS pairKey, d.verdict AS verdict, d.actor AS actor, "
            "d.at AS at, d.mergeId AS mergeId, d.probability AS probability, "
            "d.conflicts AS conflicts, d.modelVersion AS modelVersion",
            verdicts=[v.value for v in _LABELLING],
        )
        return [
            Decision(
                id=r["id"],
                pair_key=r["pairKey"],
                verdict=Verdict(r["verdict"]),
                actor=r["actor"],
                at=as_utc(r["at"]),
                note="",
                task_id=None,
                merge_id=r.get("mergeId"),
                probability=float(r["probability"]) if r.get("probability") is not None else None,
                left_fingerprint="",
                right_fingerprint="",
                conflicts=tuple(r.get("conflicts") or ()),
                model_version=r.get("modelVersion"),
            )
            for r in rows
        ]

    async def unresolved_evidence(self) -> list[tuple[PairEvidence, TaskReason]]:
        rows = await self._tx.run(
            "calibration.unresolved",
            f"MATCH (t:{REVIEW_TASK}) WHERE t.status IN $statuses AND t.kind IS NULL "
            "RETURN t.leftId AS leftId, t.rightId AS rightId, t.probability AS probability, "
            "t.weight AS weight, t.conflicts AS conflicts, t.modelVersion AS modelVersion, "
            "t.reason AS reason",
            statuses=[s.value for s in UNRESOLVED],
        )
        return [
            (
                PairEvidence(
                    left_id=r["leftId"],
                    right_id=r["rightId"],
                    probability=float(r["probability"]),
                    weight=float(r["weight"]),
                    contributions=(),
                    conflicts=tuple(r.get("conflicts") or ()),
                    left_fingerprint="",
                    right_fingerprint="",
                    model_version=r.get("modelVersion"),
                ),
                TaskReason(r["reason"]),
            )
            for r in rows
        ]

    async def record_change(self, change: ModelChange) -> None:
        props = {name: getattr(change, field) for field, name in _CHANGE_FIELDS.items()}
        for field in _GUARD_FIELDS:
            props[_CHANGE_FIELDS[field]] = list(getattr(change, field))
        await self._tx.run(
            "calibration.record_change",
            f"CREATE (c:{MODEL_CHANGE} {{id: $id}}) SET c += $props",
            id=change.id,
            props=props,
        )

    async def changes(self, *, limit: int) -> list[ModelChange]:
        rows = await self._tx.run(
            "calibration.changes",
            f"MATCH (c:{MODEL_CHANGE}) RETURN c {{.*}} AS c ORDER BY c.at DESC LIMIT $limit",
            limit=limit,
        )
        return [_change_from(row["c"]) for row in rows]


def _change_from(c: dict[str, Any]) -> ModelChange:
    values: dict[str, Any] = {field: c.get(name) for field, name in _CHANGE_FIELDS.items()}
    values["at"] = as_utc(values["at"])
    for field in _GUARD_FIELDS:
        values[field] = tuple(values[field] or ())
    return ModelChange(**values)
