"""Cypher for review tasks and the decisions about pairs (the stewards' audit).

    (:ReviewTask {id, pairKey, leftId, rightId, probability, contributions, status,
                  scoreKey, ageKey, assignee, assignedAt, ...})
    (:MatchDecision {id, pairKey, verdict, actor, at, contributions, conflicts, ...})
                                                                 append-only audit

A pair has at most one unresolved task: proposing it again refreshes the task's
evidence. Labels come from constants; every value is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_matching.adapters.graph_store import DECISION, REVIEW_TASK, SUBJECT
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.domain.models import (
    UNRESOLVED,
    Decision,
    MatchCandidate,
    PairEvidence,
    QueueSummary,
    ReviewTask,
    SubjectKind,
    TaskFilter,
    TaskOrder,
    TaskReason,
    TaskStatus,
    Verdict,
)
from mdm_matching.domain.ports import NewTask, TaskPage


def evidence_props(evidence: PairEvidence) -> dict[str, Any]:
    return _explanation_props(evidence.contributions, evidence.conflicts) | {
        "pairKey": evidence.pair_key,
        "leftId": evidence.left_id,
        "rightId": evidence.right_id,
        "probability": evidence.probability,
        "weight": evidence.weight,
        "leftFingerprint": evidence.left_fingerprint,
        "rightFingerprint": evidence.right_fingerprint,
        "modelVersion": evidence.model_version,
        # Only a company pair says so: the tasks and decisions stored before companies
        # were matched are persons' (SET t += {kind: null} leaves no property).
        "kind": _kind_prop(evidence.kind),
    }


def _kind_prop(kind: SubjectKind) -> str | None:
    return None if kind == SubjectKind.PERSON else kind.value


def _kind_from(p: dict[str, Any]) -> SubjectKind:
    return SubjectKind(p.get("kind") or SubjectKind.PERSON)


def evidence_from(p: dict[str, Any]) -> PairEvidence:
    return PairEvidence(
        left_id=p["leftId"],
        right_id=p["rightId"],
        probability=float(p["probability"]),
        weight=float(p["weight"]),
        contributions=_contributions_from(p["contributions"]),
        conflicts=tuple(p.get("conflicts") or ()),
        left_fingerprint=p["leftFingerprint"],
        right_fingerprint=p["rightFingerprint"],
        model_version=p.get("modelVersion"),
        kind=_kind_from(p),
    )


def decision_props(decision: Decision) -> dict[str, Any]:
    return _explanation_props(decision.contributions, decision.conflicts) | {
        "pairKey": decision.pair_key,
        "verdict": decision.verdict.value,
        "actor": decision.actor,
        "at": decision.at,
        "note": decision.note,
        "taskId": decision.task_id,
        "mergeId": decision.merge_id,
        "probability": decision.probability,
        "leftFingerprint": decision.left_fingerprint,
        "rightFingerprint": decision.right_fingerprint,
        "modelVersion": decision.model_version,
        "kind": _kind_prop(decision.kind),
    }


def _explanation_props(
    contributions: Sequence[Contribution], conflicts: Sequence[str]
) -> dict[str, Any]:
    """A pair's evidence as stored on tasks and decisions alike."""
    return {
        "contributions": json.dumps([[c.comparison, c.level, c.weight] for c in contributions]),
        "conflicts": list(conflicts),
    }


def _contributions_from(stored: str | None) -> tuple[Contribution, ...]:
    return tuple(Contribution(c, level, float(w)) for c, level, w in json.loads(stored or "[]"))


def task_from(p: dict[str, Any]) -> ReviewTask:
    return ReviewTask(
        id=p["id"],
        evidence=evidence_from(p),
        reason=TaskReason(p["reason"]),
        status=TaskStatus(p["status"]),
        created_at=as_utc(p["createdAt"]),
        updated_at=as_utc(p["updatedAt"]),
        note=p.get("note"),
        assignee=p.get("assignee"),
        assigned_at=as_utc(p["assignedAt"]) if p.get("assignedAt") else None,
    )


def decision_from(p: dict[str, Any]) -> Decision:
    return Decision(
        id=p["id"],
        pair_key=p["pairKey"],
        verdict=Verdict(p["verdict"]),
        actor=p["actor"],
        at=as_utc(p["at"]),
        note=p.get("note") or "",
        task_id=p.get("taskId"),
        merge_id=p.get("mergeId"),
        probability=float(p["probability"]) if p.get("probability") is not None else None,
        left_fingerprint=p["leftFingerprint"],
        right_fingerprint=p["rightFingerprint"],
        contributions=_contributions_from(p.get("contributions")),
        conflicts=tuple(p.get("conflicts") or ()),
        model_version=p.get("modelVersion"),
        kind=_kind_from(p),
    )


# A task's two persons, each property indexed. ArcadeDB's Cypher answers
# ``t.leftId = $id OR t.rightId = $id`` by reading every task (20-33 ms at 20,000
# tasks against 3 ms for two index lookups): one lookup per side instead.
_SIDES = ("leftId", "rightId")


# The queue's orders. ArcadeDB uses an index only for a WHERE that is a range on the
# property it sorts by: any other condition (status, a second sort property for
# ties) makes it read every task. So each task carries one sort key per order,
# unique and led by a letter for its status: "O0.734200000000 <id>" (score)
# and "O2026-12-05T10:00:00.000000 <id>" (age). A page reads one key range per
# wanted status, and the ranges are merged here.
_STATUS_CODE = {TaskStatus.OPEN: "O", TaskStatus.DEFERRED: "D", TaskStatus.RESOLVED: "R"}
SCORE_KEY, AGE_KEY = "scoreKey", "ageKey"
_TOP = "~"  # sorts after every key character
_BY_SCORE = frozenset({TaskOrder.PROBABILITY_DESC, TaskOrder.PROBABILITY_ASC})
_DESCENDING = frozenset({TaskOrder.PROBABILITY_DESC, TaskOrder.NEWEST_FIRST})


def score_value(probability: float) -> str:
    return f"{probability:.12f}"


def age_value(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%f")


# Sets both sort keys to another status (a leading letter swapped), in any statement
# that changes a task's status; ``$code`` is the new status's letter.
_REKEY = (
    f"t.{SCORE_KEY} = $code + substring(t.{SCORE_KEY}, 1), "
    f"t.{AGE_KEY} = $code + substring(t.{AGE_KEY}, 1)"
)


@dataclass(frozen=True)
class _Range:
    """Where one status's tasks lie in an order's key index, and what else must hold."""

    status: TaskStatus
    low: str  # inclusive
    high: str  # exclusive


def _ranges(wanted: TaskFilter, key: str, *, after: str | None, descending: bool) -> list[_Range]:
    ranges = []
    for status in dict.fromkeys(wanted.statuses):
        code = _STATUS_CODE[status]
        if key == SCORE_KEY:
            low = code + score_value(wanted.min_probability)
            high = code + score_value(wanted.max_probability) + _TOP
        else:
            low = code + (age_value(wanted.created_after) if wanted.created_after else "")
            high = code + (age_value(wanted.created_before) if wanted.created_before else _TOP)
        if after is not None and descending:
            high = min(high, code + after)
        elif after is not None:
            low = max(low, code + after + " ")  # keys are unique: none starts with another
        if low < high:
            ranges.append(_Range(status, low, high))
    return ranges


# ArcadeDB reads and sorts the whole key range before LIMIT applies (380 ms for a page
# of 20,000 open tasks under load; 35 ms for a range of 400). So a page by score walks
# the range in windows from its start, narrow first and twice as wide each time,
# until it has a page: about as many rows are read as the page needs.
_FIRST_WINDOW = 0.002


def _score_of(key: str) -> float:
    return float(key[1:].split(" ", maxsplit=1)[0].rstrip(_TOP) or 0)


def _score_windows(part: _Range, descending: bool) -> Iterator[_Range]:
    """Consecutive windows covering ``part`` in the order of the page."""
    code = part.low[0]
    width = _FIRST_WINDOW
    low, high = part.low, part.high
    while low < high:
        if descending:
            edge = max(low, code + score_value(max(_score_of(high) - width, 0.0)))
            yield _Range(part.status, edge, high)
            high = edge
        else:
            edge = min(high, code + score_value(min(_score_of(low) + width, 1.0)) + _TOP)
            yield _Range(part.status, low, edge)
            low = edge
        width *= 2


_FIRST_AGE_WINDOW = timedelta(hours=1)
# Probes that narrow down where the oldest task of an oldest-first page lies: the
# first window then holds about 1/64 of the time the tasks span.
_BISECTIONS = 6
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no review task is older
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_AGE_LENGTH = len("2026-12-05T10:00:00.000000")


def _time_of(key: str) -> datetime | None:
    """The time an age key or range edge starts with; None for an open edge."""
    text = key[1 : 1 + _AGE_LENGTH]
    if len(text) < _AGE_LENGTH:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        return None


def _age_windows(
    part: _Range, *, descending: bool, start: datetime, width: timedelta
) -> Iterator[_Range]:
    """Consecutive windows covering ``part`` in the order of the page, from ``start``
    (descending: backwards from it), twice as wide each time."""
    code = part.low[0]
    low, high = part.low, part.high
    at = start
    while low < high:
        if descending:
            at -= width
            edge = max(low, code + age_value(at)) if at > _EARLIEST else low
            edge = min(edge, high)
            yield _Range(part.status, edge, high)
            high = edge
        else:
            at += width
            edge = min(high, code + age_value(at)) if at < _LATEST else high
            edge = max(edge, low)
            yield _Range(part.status, low, edge)
            low = edge
        width *= 2


def _conditions(
    wanted: TaskFilter, key: str, persons: list[str] | None
) -> tuple[str, dict[str, Any]]:
    """The filters that are not the key range, as Cypher and its parameters."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if key == AGE_KEY and (wanted.min_probability > 0 or wanted.max_probability < 1):
        parts.append("t.probability >= $minP AND t.probability <= $maxP")
        params |= {"minP": wanted.min_probability, "maxP": wanted.max_probability}
    if key == SCORE_KEY and wanted.created_after is not None:
        parts.append("t.createdAt >= $createdAfter")
        params["createdAfter"] = wanted.created_after
    if key == SCORE_KEY and wanted.created_before is not None:
        parts.append("t.createdAt < $createdBefore")
        params["createdBefore"] = wanted.created_before
    if wanted.reasons is not None:
        parts.append("t.reason IN $reasons")
        params["reasons"] = [reason.value for reason in wanted.reasons]
    if wanted.person_id is not None:
        parts.append("(t.leftId = $personId OR t.rightId = $personId)")
        params["personId"] = wanted.person_id
    if wanted.assignee is not None:
        parts.append("t.assignee = $assignee")
        params["assignee"] = wanted.assignee
    if wanted.kind == SubjectKind.PERSON:
        parts.append("t.kind IS NULL")
    elif wanted.kind is not None:
        parts.append("t.kind = $kind")
        params["kind"] = wanted.kind.value
    if persons is not None:
        parts.append("(t.leftId IN $persons OR t.rightId IN $persons)")
        params["persons"] = persons
    return "".join(f" AND {part}" for part in parts), params


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
            {
                "id": t.id,
                "pairKey": t.evidence.pair_key,
                "jobId": t.job_id,
                "score": score_value(t.evidence.probability),
                "keys": {
                    SCORE_KEY: f"{_STATUS_CODE[TaskStatus.OPEN]}"
                    f"{score_value(t.evidence.probability)} {t.id}",
                    AGE_KEY: f"{_STATUS_CODE[TaskStatus.OPEN]}{age_value(at)} {t.id}",
                },
                "props": evidence_props(t.evidence) | {"reason": t.reason.value, "updatedAt": at},
            }
            for t in tasks
        ]
        if not rows:
            return []
        refreshed = await self._tx.run(
            "review.refresh_many",
            f"UNWIND $rows AS row MATCH (t:{REVIEW_TASK} {{pairKey: row.pairKey}}) "
            "WHERE t.status <> $resolved SET t += row.props, "
            f"t.{SCORE_KEY} = substring(t.{SCORE_KEY}, 0, 1) + row.score + ' ' + t.id "
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
                "ON CREATE SET t += row.props, t += row.keys, t.status = $open, "
                "t.createdAt = $at, t.jobId = row.jobId",
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
        self, wanted: TaskFilter, *, order: TaskOrder, after: str | None, limit: int
    ) -> TaskPage:
        key = SCORE_KEY if order in _BY_SCORE else AGE_KEY
        descending = order in _DESCENDING
        persons = await self._persons(wanted)
        if persons == []:
            return TaskPage([], has_more=False)
        extra, params = _conditions(wanted, key, persons)
        found: list[dict[str, Any]] = []
        for part in _ranges(wanted, key, after=after, descending=descending):
            if key == SCORE_KEY:
                windows = _score_windows(part, descending)
            else:
                windows = await self._age_windows(part, extra, params, descending=descending)
            of_part: list[dict[str, Any]] = []
            for window in windows:
                if window.low >= window.high:
                    continue
                rows = await self._tx.run(
                    "review.page",
                    # ``RETURN t``, not a map projection: ArcadeDB projects every row
                    # before it applies LIMIT.
                    f"MATCH (t:{REVIEW_TASK}) WHERE t.{key} >= $low AND t.{key} < $high"
                    f"{extra} RETURN t ORDER BY t.{key}{' DESC' if descending else ''} "
                    "LIMIT $limit",
                    low=window.low,
                    high=window.high,
                    limit=limit + 1 - len(of_part),
                    **params,
                )
                of_part += [row["t"] for row in rows]
                if len(of_part) > limit:
                    break
            found += of_part
        found.sort(key=lambda t: t[key][1:], reverse=descending)
        page = found[: limit + 1]
        return TaskPage(
            [task_from(t) for t in page[:limit]],
            has_more=len(page) > limit,
            sort_keys=[t[key][1:] for t in page[:limit]],
        )

    async def count_tasks(self, wanted: TaskFilter) -> int:
        persons = await self._persons(wanted)
        if persons == []:
            return 0
        extra, params = _conditions(wanted, SCORE_KEY, persons)
        total = 0
        for part in _ranges(wanted, SCORE_KEY, after=None, descending=False):
            rows = await self._tx.run(
                "review.count",
                f"MATCH (t:{REVIEW_TASK}) WHERE t.{SCORE_KEY} >= $low AND t.{SCORE_KEY} < $high"
                f"{extra} RETURN count(t) AS n",
                low=part.low,
                high=part.high,
                **params,
            )
            total += int(rows[0]["n"])
        return total

    async def _age_windows(
        self, part: _Range, extra: str, params: dict[str, Any], *, descending: bool
    ) -> Iterator[_Range]:
        """Windows over a page by age, like ``_score_windows``. Time has no natural end:
        a newest-first page starts at its upper edge (else now) and walks back; an
        oldest-first page without a lower edge first finds a time older than every
        task it may show, by probes (one task at most, about 3 ms each whatever the
        range holds), and walks forward from there. The clock only says where to
        start: the windows cover the whole range in any case."""
        now = datetime.now(UTC)
        if descending:
            return _age_windows(
                part, descending=True, start=_time_of(part.high) or now, width=_FIRST_AGE_WINDOW
            )
        start = _time_of(part.low)
        if start is not None:
            return _age_windows(part, descending=False, start=start, width=_FIRST_AGE_WINDOW)

        # Back from now, four times as far each probe, until no task is older; then
        # halve the interval between that time and the last one a task is older than.
        async def any_older_than(at: datetime) -> bool:
            rows = await self._tx.run(
                "review.probe_older",
                f"MATCH (t:{REVIEW_TASK}) WHERE t.{AGE_KEY} >= $low AND t.{AGE_KEY} < $edge"
                f"{extra} RETURN t.id AS id LIMIT 1",
                low=part.low,
                edge=part.low[0] + age_value(at),
                **params,
            )
            return bool(rows)

        none_older, some_older = now - _FIRST_AGE_WINDOW, now
        while none_older > _EARLIEST and await any_older_than(none_older):
            some_older = none_older
            none_older = now - (now - none_older) * 4
        none_older = max(none_older, _EARLIEST)
        for _ in range(_BISECTIONS):
            middle = none_older + (some_older - none_older) / 2
            if await any_older_than(middle):
                some_older = middle
            else:
                none_older = middle
        return _age_windows(
            part,
            descending=False,
            start=none_older,
            width=max(some_older - none_older, _FIRST_AGE_WINDOW),
        )

    async def _persons(self, wanted: TaskFilter) -> list[str] | None:
        """The persons a name or source filter allows (None: no such filter), from
        indexed lookups of the subjects."""
        found: set[str] | None = None
        if wanted.family_prefix is not None:
            rows = await self._tx.run(
                "review.persons_by_name",
                f"MATCH (s:{SUBJECT}) WHERE s.family >= $prefix AND s.family < $end "
                "RETURN s.personId AS id",
                prefix=wanted.family_prefix,
                end=wanted.family_prefix + _TOP,
            )
            found = {row["id"] for row in rows}
        if wanted.source is not None:
            rows = await self._tx.run(
                "review.persons_by_source",
                f"MATCH (s:{SUBJECT}) WHERE $source IN s.sources RETURN s.personId AS id",
                source=wanted.source,
            )
            from_source = {row["id"] for row in rows}
            found = from_source if found is None else found & from_source
        return sorted(found) if found is not None else None

    async def summary(self, *, assignee: str | None) -> QueueSummary:
        counts: dict[tuple[str, str], int] = {}
        if assignee is not None:
            rows = await self._tx.run(
                "review.summary_of",
                f"MATCH (t:{REVIEW_TASK} {{assignee: $assignee}}) WHERE t.status IN $statuses "
                "RETURN t.status AS status, t.reason AS reason, count(t) AS n",
                assignee=assignee,
                statuses=[s.value for s in UNRESOLVED],
            )
            counts = {(row["status"], row["reason"]): int(row["n"]) for row in rows}
        else:
            for part in _ranges(TaskFilter(), SCORE_KEY, after=None, descending=False):
                rows = await self._tx.run(
                    "review.summary",
                    f"MATCH (t:{REVIEW_TASK}) WHERE t.{SCORE_KEY} >= $low "
                    f"AND t.{SCORE_KEY} < $high RETURN t.reason AS reason, count(t) AS n",
                    low=part.low,
                    high=part.high,
                )
                for row in rows:
                    counts[(part.status.value, row["reason"])] = int(row["n"])
        by_reason = dict.fromkeys(TaskReason, 0)
        for (_, reason), n in counts.items():
            by_reason[TaskReason(reason)] += n

        def of(status: TaskStatus) -> int:
            return sum(n for (s, _), n in counts.items() if s == status.value)

        return QueueSummary(
            open=of(TaskStatus.OPEN), deferred=of(TaskStatus.DEFERRED), by_reason=by_reason
        )

    async def assign(self, task_id: str, assignee: str | None, *, at: datetime) -> None:
        await self._tx.run(
            "review.assign",
            f"MATCH (t:{REVIEW_TASK} {{id: $id}}) SET t.assignee = $assignee, t.assignedAt = $at",
            id=task_id,
            assignee=assignee,
            at=at if assignee is not None else None,
        )

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
            f"t.updatedAt = $at, {_REKEY}",
            id=task_id,
            status=status.value,
            code=_STATUS_CODE[status],
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
                f"SET t.status = $resolved, t.updatedAt = $at, t.note = $note, {_REKEY} "
                "RETURN count(t) AS n",
                ids=list(person_ids),
                resolved=TaskStatus.RESOLVED.value,
                code=_STATUS_CODE[TaskStatus.RESOLVED],
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
            f"SET t.status = $resolved, t.updatedAt = $at, t.note = $note, {_REKEY}",
            ids=list(task_ids),
            open=TaskStatus.OPEN.value,
            resolved=TaskStatus.RESOLVED.value,
            code=_STATUS_CODE[TaskStatus.RESOLVED],
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
