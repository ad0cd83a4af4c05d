"""Steward review: decide an open task, undo a merge; every step audited.

A decision is recorded only once it took effect: MERGE after the profile service
merged, so a failed merge leaves the task open and nothing recorded. A task
decided once is not decided again (CONFLICT); a DEFERRED task stays in the queue.
A steward may take an unresolved task (assign) so that others leave it alone, and
give it back (release); deciding leaves the assignment as it is. A pair of companies
(kind COMPANY) is decided the same way; its merge and unmerge are the profile
service's company merge and unmerge.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from mdm_common.auth import Principal, Role
from mdm_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from mdm_matching.domain.models import Decision, ReviewTask, SubjectKind, TaskStatus, Verdict
from mdm_matching.domain.ports import ProfileService
from mdm_matching.domain.stores import Stores, Transactions

MAX_NOTE = 2000
STEWARD_VERDICTS = frozenset({Verdict.MERGE, Verdict.NOT_A_MATCH, Verdict.DEFER})
MERGES = frozenset({Verdict.MERGE, Verdict.AUTO_MERGE})


def _checked_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"A note has at most {MAX_NOTE} characters.", field="note")
    return note


async def _open_task(stores: Stores, task_id: str) -> ReviewTask:
    task = await stores.reviews.get_task(task_id)
    if task is None:
        raise NotFound(f"No review task with id {task_id}.", field="id")
    if task.status == TaskStatus.RESOLVED:
        raise Conflict(f"Review task {task_id} was decided already.", field="id")
    return task


async def _record(
    stores: Stores, task_id: str, verdict: Verdict, *, actor: Principal, note: str,
    now: datetime, merge_id: str | None = None,
) -> Decision:  # fmt: skip
    if merge_id is None:
        task = await _open_task(stores, task_id)  # checked again inside the writing transaction
    else:
        # The merge took effect: record it whatever happened to the task since (the
        # profile's merge event closes the merged person's tasks, possibly first).
        found = await stores.reviews.get_task(task_id)
        if found is None:
            raise NotFound(f"No review task with id {task_id}.", field="id")
        task = found
    decision = Decision.about(task.evidence, verdict, actor=actor.subject, at=now, note=note,
                              task_id=task.id, merge_id=merge_id)  # fmt: skip
    status = TaskStatus.DEFERRED if verdict == Verdict.DEFER else TaskStatus.RESOLVED
    await stores.reviews.set_status(task_id, status, note=note or None, at=now)
    await stores.reviews.record_decision(decision)
    return decision


async def decide(
    task_id: str,
    verdict: Verdict,
    *,
    note: str,
    actor: Principal,
    profiles: ProfileService,
    transactions: Transactions,
    now: datetime,
) -> Decision:
    if verdict not in STEWARD_VERDICTS:
        raise InvalidInput("A steward decides MERGE, NOT_A_MATCH or DEFER.", field="decision")
    note = _checked_note(note)
    if verdict != Verdict.MERGE:
        return await transactions.write(
            lambda s: _record(s, task_id, verdict, actor=actor, note=note, now=now)
        )

    async def pair(stores: Stores) -> tuple[SubjectKind, str, str]:
        task = await _open_task(stores, task_id)
        if task.evidence.kind == SubjectKind.COMPANY:
            return (task.evidence.kind, *await _company_survivor_first(stores, task))
        return (task.evidence.kind, *await _survivor_first(stores, task))

    kind, survivor, merged = await transactions.read(pair)
    reason = f"steward decision on review task {task_id}"
    if kind == SubjectKind.COMPANY:
        merge_id = await profiles.merge_companies(
            survivor, merged, reason=reason, on_behalf_of=actor
        )
    else:
        merge_id = await profiles.merge(survivor, merged, reason=reason, on_behalf_of=actor)
    return await transactions.write(
        lambda s: _record(
            s, task_id, Verdict.MERGE, actor=actor, note=note, now=now, merge_id=merge_id
        )
    )


async def _survivor_first(stores: Stores, task: ReviewTask) -> tuple[str, str]:
    """The profile known longer survives; its id is the one applications hold."""
    left, right = task.evidence.left_id, task.evidence.right_id
    subjects = await stores.subjects.get_many([left, right])
    for pid in (left, right):
        if pid in subjects and subjects[pid].merged_into:
            raise Conflict(f"Person {pid} was merged in the meantime.", field="id")
        if pid in subjects and subjects[pid].restricted:
            raise Conflict(f"Processing of person {pid} is restricted.", field="id")
    if (left in subjects and right in subjects
            and subjects[right].seniority < subjects[left].seniority):  # fmt: skip
        return right, left
    return left, right


async def _company_survivor_first(stores: Stores, task: ReviewTask) -> tuple[str, str]:
    """As for persons: the company known longer survives."""
    left, right = task.evidence.left_id, task.evidence.right_id
    subjects = await stores.companies.get_many([left, right])
    for company_id in (left, right):
        if company_id in subjects and subjects[company_id].merged_into:
            raise Conflict(f"Company {company_id} was merged in the meantime.", field="id")
    if left in subjects and right in subjects:
        older = min(left, right, key=lambda i: subjects[i].seniority)
        return (older, right if older == left else left)
    return left, right


async def undo_merge(
    decision_id: str,
    *,
    note: str,
    actor: Principal,
    profiles: ProfileService,
    transactions: Transactions,
    now: datetime,
) -> Decision:
    """Unmerge what a MERGE or AUTO_MERGE decision merged; the pair counts as rejected."""
    note = _checked_note(note)

    async def merge_decision(stores: Stores) -> Decision:
        found = await stores.reviews.get_decision(decision_id)
        if found is None:
            raise NotFound(f"No decision with id {decision_id}.", field="decisionId")
        if found.verdict not in MERGES or found.merge_id is None:
            raise InvalidInput("Only a recorded merge can be undone.", field="decisionId")
        later = await stores.reviews.decisions_for_pairs([found.pair_key])
        if any(d.verdict == Verdict.UNMERGE and d.merge_id == found.merge_id
               for d in later.get(found.pair_key, [])):  # fmt: skip
            raise Conflict("This merge was undone already.", field="decisionId")
        return found

    merged = await transactions.read(merge_decision)
    assert merged.merge_id is not None  # checked above
    if merged.kind == SubjectKind.COMPANY:
        await profiles.unmerge_companies(merged.merge_id, on_behalf_of=actor)
    else:
        await profiles.unmerge(merged.merge_id, on_behalf_of=actor)
    undo = replace(merged, id=str(uuid.uuid4()), verdict=Verdict.UNMERGE, actor=actor.subject,
                   at=now, note=note)  # fmt: skip
    await transactions.write(lambda s: s.reviews.record_decision(undo))
    return undo


async def assign(
    task_id: str, *, actor: Principal, transactions: Transactions, now: datetime
) -> ReviewTask:
    """The task is the caller's to work on; asking again for one's own task changes nothing."""

    async def take(stores: Stores) -> ReviewTask:
        task = await _open_task(stores, task_id)
        if task.assignee == actor.subject:
            return task
        if task.assignee is not None:
            raise Conflict(
                f"Review task {task_id} is assigned to {task.assignee} already.", field="id"
            )
        await stores.reviews.assign(task_id, actor.subject, at=now)
        return replace(task, assignee=actor.subject, assigned_at=now)

    return await transactions.write(take)


async def release(
    task_id: str, *, actor: Principal, transactions: Transactions, now: datetime
) -> ReviewTask:
    """Give the task back to the queue: its assignee may, and an admin."""

    async def give_back(stores: Stores) -> ReviewTask:
        task = await _open_task(stores, task_id)
        if task.assignee is None:
            return task
        if task.assignee != actor.subject and Role.ADMIN not in actor.roles:
            raise Forbidden(
                f"Review task {task_id} is assigned to {task.assignee}: only they or an "
                "admin can release it.",
                field="id",
            )
        await stores.reviews.assign(task_id, None, at=now)
        return replace(task, assignee=None, assigned_at=None)

    return await transactions.write(give_back)
