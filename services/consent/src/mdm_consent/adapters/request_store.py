"""Cypher for data-subject requests: one ``DataSubjectRequest`` node per request.

    (:DataSubjectRequest {id, type, personId, status, receivedAt, dueOn, extensions,
                          personIds, steps, settledAt, ..., version})

``dueOn`` (ISO date) is kept with the node so that the queue sorts and filters by
it; it is recomputed from the receipt and the extensions on every save. Extensions
and steps are compact JSON strings, and so is a rectification's part.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.legal_holds import LegalReference, Restricted
from mdm_consent.domain.rectification import Decision, Rectification
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    Extension,
    IdentityCheck,
    ObjectionOutcome,
    ReceivedVia,
    RequestFilter,
    RequestStatus,
    RequestType,
    Step,
)

REQUEST = "DataSubjectRequest"
_OPEN = [RequestStatus.OPEN.value, RequestStatus.IN_PROGRESS.value]

SCHEMA = (
    f"CREATE CONSTRAINT data_subject_request_id IF NOT EXISTS "
    f"FOR (r:{REQUEST}) REQUIRE r.id IS UNIQUE",
    f"CREATE INDEX data_subject_request_person IF NOT EXISTS FOR (r:{REQUEST}) ON (r.personId)",
    f"CREATE INDEX data_subject_request_due IF NOT EXISTS FOR (r:{REQUEST}) ON (r.dueOn)",
)


class GraphRequestStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, request_id: str, *, lock: bool = False) -> DataSubjectRequest | None:
        # Locking writes the node first: concurrent changes of one request serialise
        # (Neo4j) or one of them fails on commit and is retried (ArcadeDB).
        touch = "SET r.version = coalesce(r.version, 0) + 1 " if lock else ""
        rows = await self._tx.run(
            "requests.get",
            f"MATCH (r:{REQUEST} {{id: $id}}) {touch}RETURN r {{.*}} AS r",
            id=request_id,
        )
        return _request(rows[0]["r"]) if rows else None

    async def save(self, request: DataSubjectRequest) -> None:
        await self._tx.run(
            "requests.save",
            f"MERGE (r:{REQUEST} {{id: $id}}) SET r += $props",
            id=request.id,
            props=_props(request),
        )

    async def of_person(self, person_ids: list[str]) -> list[DataSubjectRequest]:
        rows = await self._tx.run(
            "requests.of_person",
            f"UNWIND $ids AS pid MATCH (r:{REQUEST} {{personId: pid}}) RETURN r {{.*}} AS r",
            ids=person_ids,
        )
        return sorted((_request(row["r"]) for row in rows), key=lambda r: r.received_at)

    async def find(
        self, filters: RequestFilter, *, after: tuple[date, str] | None, limit: int, today: date
    ) -> list[DataSubjectRequest]:
        rows = await self._tx.run(
            "requests.find",
            f"MATCH (r:{REQUEST}) "
            "WHERE ($status IS NULL OR r.status = $status) "
            "AND ($type IS NULL OR r.type = $type) "
            "AND ($personId IS NULL OR r.personId = $personId) "
            "AND (NOT $overdueOnly OR (r.dueOn < $today AND r.status IN $open)) "
            "AND ($afterDue IS NULL OR r.dueOn > $afterDue "
            "OR (r.dueOn = $afterDue AND r.id > $afterId)) "
            "RETURN r {.*} AS r ORDER BY r.dueOn, r.id LIMIT $limit",
            status=filters.status.value if filters.status else None,
            type=filters.type.value if filters.type else None,
            personId=filters.person_id, overdueOnly=filters.overdue_only,
            today=today.isoformat(), open=_OPEN,
            afterDue=after[0].isoformat() if after else None, afterId=after[1] if after else None,
            limit=limit,
        )  # fmt: skip
        return [_request(row["r"]) for row in rows]


def _compact(values: dict[str, Any]) -> str:
    return json.dumps(values, separators=(",", ":"))


def _props(r: DataSubjectRequest) -> dict[str, Any]:
    return {
        "type": r.type.value,
        "personId": r.person_id,
        "status": r.status.value,
        "receivedAt": r.received_at,
        "receivedVia": r.received_via.value,
        "identityCheck": r.identity_check.value,
        "submittedAt": r.submitted_at,
        "submittedBy": r.submitted_by,
        "dueOn": r.due.isoformat(),
        "extensions": [
            _compact({"m": e.months, "r": e.reason, "a": e.at.isoformat(), "b": e.by})
            for e in r.extensions
        ],
        "personIds": list(r.person_ids),
        "steps": [_step_json(s) for s in r.steps],
        "settledAt": r.settled_at,
        "settledBy": r.settled_by,
        "rejectionReason": r.rejection_reason,
        "exports": r.exports,
        "liftedAt": r.lifted_at,
        "liftReason": r.lift_reason,
        "liftedBy": r.lifted_by,
        "note": r.note,
        "rectification": _rectification_props(r.rectification),
    } | _objection_props(r)


def _objection_props(r: DataSubjectRequest) -> dict[str, Any]:
    return {
        "purpose": r.purpose,
        "objection": r.objection.value if r.objection else None,
        "consentEventId": r.consent_event_id,
    }


def _step_json(s: Step) -> str:
    held = [
        {
            "s": r.service,
            "p": r.person_id,
            "w": r.what,
            "c": list(r.categories),
            "d": r.duty,
            "l": r.legal_reference.value,
            "u": r.until.isoformat(),
        }
        for r in s.restricted
    ]
    return _compact(
        {
            "s": s.service,
            "a": s.at.isoformat(),
            "p": list(s.person_ids),
            "d": s.detail,
            "e": list(s.erased),
            "r": held,
        }
    )


def _step(v: dict[str, Any]) -> Step:
    restricted = tuple(
        Restricted(
            r["s"],
            r["p"],
            r["w"],
            tuple(r["c"]),
            r["d"],
            LegalReference(r["l"]),
            date.fromisoformat(r["u"]),
        )
        for r in v.get("r") or ()
    )
    return Step(
        v["s"],
        datetime.fromisoformat(v["a"]),
        tuple(v["p"]),
        v["d"],
        erased=tuple(v.get("e") or ()),
        restricted=restricted,
    )


def _time(value: Any) -> datetime | None:
    return as_utc(value) if value is not None else None


def _request(p: dict[str, Any]) -> DataSubjectRequest:
    extensions = tuple(
        Extension(v["m"], v["r"], datetime.fromisoformat(v["a"]), v["b"])
        for v in map(json.loads, p.get("extensions") or ())
    )
    steps = tuple(_step(v) for v in map(json.loads, p.get("steps") or ()))
    return DataSubjectRequest(
        id=p["id"], type=RequestType(p["type"]), person_id=p["personId"],
        received_at=as_utc(p["receivedAt"]), received_via=ReceivedVia(p["receivedVia"]),
        identity_check=IdentityCheck(p["identityCheck"]), submitted_at=as_utc(p["submittedAt"]),
        submitted_by=p["submittedBy"], status=RequestStatus(p["status"]), extensions=extensions,
        person_ids=tuple(p.get("personIds") or ()), steps=steps,
        settled_at=_time(p.get("settledAt")), settled_by=p.get("settledBy"),
        rejection_reason=p.get("rejectionReason"), exports=int(p.get("exports") or 0),
        lifted_at=_time(p.get("liftedAt")), lift_reason=p.get("liftReason"),
        lifted_by=p.get("liftedBy"), note=p.get("note"),
        rectification=_rectification(p.get("rectification")), purpose=p.get("purpose"),
        objection=ObjectionOutcome(p["objection"]) if p.get("objection") else None,
        consent_event_id=p.get("consentEventId"),
    )  # fmt: skip


# A rectification's part of a request (domain/rectification.py) is one compact JSON
# string; it holds the corrected value only until the request is decided.
def _rectification_props(x: Rectification | None) -> str | None:
    if x is None:
        return None
    return _compact(
        {
            "f": x.field,
            "v": x.value,
            "r": list(x.recipients),
            "d": x.decision.value if x.decision else None,
            "a": x.decided_at.isoformat() if x.decided_at else None,
            "b": x.decided_by,
            "w": x.reason,
        }
    )


def _rectification(text: str | None) -> Rectification | None:
    if not text:
        return None
    v = json.loads(text)
    return Rectification(
        field=v["f"],
        value=v["v"],
        recipients=tuple(v["r"]),
        decision=Decision(v["d"]) if v["d"] else None,
        decided_at=datetime.fromisoformat(v["a"]) if v["a"] else None,
        decided_by=v["b"],
        reason=v["w"],
    )
