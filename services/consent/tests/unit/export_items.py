"""Items of an access export as the profile and matching send them (plain values, no
servers), for the export's unit tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_consent.domain.fulfilment import Held

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
A, B, C = "a" * 8 + "-0000-4000-8000-" + "0" * 12, "b" * 36, "c" * 36
ENGINE = "service:matching-engine"
COMPARED: list[dict[str, Any]] = [
    {"field": "givenName", "level": "exact", "weight": 3.1},
    {
        "field": "familyName",
        "level": "similar (Jaro-Winkler >= 0.8, one edit or initial)",
        "weight": 2.0,
    },
    {"field": "birthDate", "level": "exact", "weight": 9.5},
    {"field": "email", "level": "exact", "weight": 12.25},
    {"field": "phone", "level": None, "weight": 0.0},
]


def item(service: str, origin: str, value: dict[str, Any], **more: Any) -> Held:
    category = more.pop("category", DataCategory.RELATIONSHIPS)
    field = more.pop("field", origin)
    return Held(service, PersonalDataItem(A, origin, category, field, json.dumps(value), **more))


def profile_merge(
    merge_id: str,
    merged: str,
    *,
    actor: str,
    reason: str = "",
    state: str = "ACTIVE",
    at: datetime = T0,
) -> Held:
    value = {
        "mergeId": merge_id,
        "survivorId": A,
        "mergedId": merged,
        "actor": actor,
        "reason": reason,
        "state": state,
    }
    return item("profile", "merge", value, recorded_at=at)


def decision(
    merge_id: str,
    verdict: str,
    *,
    actor: str,
    other: str,
    note: str = "",
    task: str | None = None,
    comparisons: list[dict[str, Any]] | None = None,
    at: datetime = T0,
) -> Held:
    value = {
        "decisionId": f"d-{verdict}-{merge_id}",
        "verdict": verdict,
        "at": at.isoformat(),
        "actor": actor,
        "note": note,
        "otherPersonId": other,
        "taskId": task,
        "mergeId": merge_id,
        "score": 0.9981,
        "comparisons": comparisons or [],
        "guards": [],
        "modelVersion": "2026-05-01T00:00:00/m1" if comparisons else None,
    }
    return item("matching", "decision", value, category=DataCategory.MATCHING, field="decision")
