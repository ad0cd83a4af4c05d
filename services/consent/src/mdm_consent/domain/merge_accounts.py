"""Why records were joined: every merge of the person's merge group with its evidence.

For an access export (GDPR Art. 15(1)(a), (g), (h)): the profile's merge audit says
who merged which ids when; matching's decisions and review tasks say why, as the
matching model scored the pair (model version, probability, per compared field its
level and weight, the guards that fired) or as a steward decided it (who, the note,
the review task's reason). Only ids, level names and weights: never a compared
value. Each merge is told in plain words too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdm_consent.domain.fulfilment import Held

PROFILE = "profile"
MATCHING = "matching"
ENGINE_PREFIX = "service:matching"


class DecidedBy(StrEnum):
    MATCHING_MODEL = "MATCHING_MODEL"  # merged automatically above the threshold
    STEWARD = "STEWARD"  # a data steward decided


@dataclass(frozen=True)
class FieldComparison:
    field: str
    level: str | None  # None: one side does not know the value
    weight: float


@dataclass(frozen=True)
class Unmerge:
    at: datetime | None
    actor: str
    note: str


@dataclass(frozen=True)
class MergeAccount:
    """One merge of the person's merge group and why it was made."""

    merge_id: str
    at: datetime | None
    survivor_id: str
    merged_id: str
    state: str  # the profile's: ACTIVE or UNDONE
    decided_by: DecidedBy
    actor: str
    note: str | None = None
    model_version: str | None = None
    probability: float | None = None
    comparisons: tuple[FieldComparison, ...] = ()
    guards: tuple[str, ...] = ()
    review_task_id: str | None = None
    review_reason: str | None = None
    unmerges: tuple[Unmerge, ...] = ()

    @property
    def in_words(self) -> str:
        """The merge told to the data subject in plain words."""
        evidence = _evidence_words(self)
        if self.decided_by is DecidedBy.MATCHING_MODEL:
            version = f" (version {self.model_version})" if self.model_version else ""
            text = f"Merged automatically by the matching model{version}"
            text += f": {evidence}." if evidence else "; its comparison was not recorded."
        elif self.review_task_id:
            reason = _REVIEW_REASONS.get(self.review_reason or "", "")
            text = f"Merged by data steward {self.actor} after review"
            text += f" ({reason})" if reason else ""
            text += f"; the review showed: {evidence}." if evidence else "."
        else:
            text = (
                f"Merged by {self.actor} directly in the profile; no field comparison was "
                "made by the matching model."
            )
        if self.note:
            text += f" Note: {self.note}"
            text += "" if self.note.endswith(".") else "."
        for undo in self.unmerges:
            when = f" on {undo.at.date().isoformat()}" if undo.at else ""
            text += f" Undone{when} by {undo.actor}"
            text += f": {undo.note}" if undo.note else ""
            text += "" if text.endswith(".") else "."
        if self.state == "UNDONE" and not self.unmerges:
            text += " Undone later."
        return text

    def document(self) -> dict[str, Any]:
        return {
            "mergeId": self.merge_id,
            "at": self.at.isoformat() if self.at else None,
            "survivorId": self.survivor_id,
            "mergedId": self.merged_id,
            "state": self.state,
            "decidedBy": self.decided_by.value,
            "actor": self.actor,
            "note": self.note,
            "modelVersion": self.model_version,
            "probability": self.probability,
            "comparisons": [
                {"field": c.field, "level": c.level, "weight": c.weight} for c in self.comparisons
            ],
            "guards": list(self.guards),
            "reviewTask": (
                {"taskId": self.review_task_id, "reason": self.review_reason}
                if self.review_task_id
                else None
            ),
            "unmerges": [
                {"at": u.at.isoformat() if u.at else None, "actor": u.actor, "note": u.note}
                for u in self.unmerges
            ],
            "explanation": self.in_words,
        }


_FIELD_WORDS = {
    "givenName": "given name",
    "familyName": "family name",
    "birthDate": "birth date",
    "email": "e-mail",
    "phone": "phone",
    "address": "address",
    "identifiers": "identifier",
}
_REVIEW_REASONS = {
    "UNCERTAIN": "the score lay between the two thresholds",
    "GUARDED": "a safeguard against merging different people had fired",
    "AMBIGUOUS": "several profiles were likely matches",
}


def _evidence_words(merge: MergeAccount) -> str:
    known = sorted((c for c in merge.comparisons if c.level), key=lambda c: -c.weight)
    parts = [
        f"{_FIELD_WORDS.get(c.field, c.field)} {'equal' if c.level == 'exact' else c.level}"
        for c in known
    ]
    if merge.guards:
        parts.append(f"safeguards fired: {', '.join(merge.guards)}")
    text = ", ".join(parts)
    if merge.probability is not None:
        text += f"{'; ' if text else ''}probability {merge.probability:.3f}"
    return text


def merges(items: Iterable[Held]) -> list[MergeAccount]:
    """Every merge of the group (the profile's merge audit) with the evidence matching
    kept: the decision that made it, the review task a steward decided, the unmerges."""
    audited: dict[str, dict[str, Any]] = {}
    made: dict[str, dict[str, Any]] = {}
    undone: dict[str, list[dict[str, Any]]] = {}
    tasks: dict[str, dict[str, Any]] = {}
    at: dict[str, datetime | None] = {}
    for held in items:
        item, value = held.item, _json(held.item.value)
        if held.service == PROFILE and item.origin == "merge" and value.get("mergeId"):
            audited[value["mergeId"]] = value
            at[value["mergeId"]] = item.recorded_at
        elif held.service == MATCHING and item.origin == "reviewTask":
            tasks[value.get("taskId", "")] = value
        elif held.service == MATCHING and item.origin == "decision" and value.get("mergeId"):
            if value.get("verdict") in ("MERGE", "AUTO_MERGE"):
                made[value["mergeId"]] = value
            elif value.get("verdict") == "UNMERGE":
                undone.setdefault(value["mergeId"], []).append(value)
    accounts = [
        _account(
            merge_id,
            audited.get(merge_id, {}),
            decision=made.get(merge_id),
            tasks=tasks,
            undos=undone.get(merge_id, []),
            at=at.get(merge_id),
        )
        for merge_id in {*audited, *made}
    ]
    return sorted(accounts, key=lambda m: (m.at is None, m.at or datetime.min, m.merge_id))


def _account(
    merge_id: str,
    audit: dict[str, Any],
    *,
    decision: dict[str, Any] | None,
    tasks: dict[str, dict[str, Any]],
    undos: list[dict[str, Any]],
    at: datetime | None,
) -> MergeAccount:
    decision = decision or {}
    task = tasks.get(decision.get("taskId") or "", {})
    # A decision recorded before matching kept its evidence: the review task has it.
    source = decision if decision.get("comparisons") else task
    actor = decision.get("actor") or audit.get("actor") or ""
    automatic = decision.get("verdict") == "AUTO_MERGE" or (
        not decision and actor.startswith(ENGINE_PREFIX)
    )
    survivor, merged = audit.get("survivorId"), audit.get("mergedId")
    if (survivor is None or merged is None) and decision:
        # Matching names the pair, not which side survived: the profile's audit does.
        survivor, merged = survivor or "", merged or decision.get("otherPersonId", "")
    return MergeAccount(
        merge_id=merge_id,
        at=at or _time(decision.get("at")),
        survivor_id=survivor or "",
        merged_id=merged or "",
        state=audit.get("state") or ("UNDONE" if undos else "ACTIVE"),
        decided_by=DecidedBy.MATCHING_MODEL if automatic else DecidedBy.STEWARD,
        actor=actor,
        note=(decision.get("note") or audit.get("reason") or None) if not automatic else None,
        model_version=source.get("modelVersion"),
        probability=decision.get("score", task.get("score")),
        comparisons=tuple(
            FieldComparison(c["field"], c.get("level"), float(c.get("weight", 0.0)))
            for c in source.get("comparisons", [])
        ),
        guards=tuple(source.get("guards", [])),
        review_task_id=decision.get("taskId"),
        review_reason=task.get("reason"),
        unmerges=tuple(
            Unmerge(_time(u.get("at")), u.get("actor", ""), u.get("note") or "")
            for u in sorted(undos, key=lambda u: u.get("at", ""))
        ),
    )


def _json(value: str) -> dict[str, Any]:
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
