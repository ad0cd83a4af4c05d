"""Use cases on match subjects. Runs inside a transaction the caller owns."""

from __future__ import annotations

from datetime import datetime

from mdm_matching.domain.models import MatchSubject
from mdm_matching.domain.ports import SubjectStore


async def on_person_created(
    person_id: str, *, subjects: SubjectStore, now: datetime
) -> MatchSubject:
    return await subjects.register(person_id, at=now)


async def on_person_merged(survivor_id: str, merged_id: str, *, subjects: SubjectStore) -> None:
    await subjects.set_merged_into(merged_id, survivor_id)


async def on_person_unmerged(merged_id: str, *, subjects: SubjectStore) -> None:
    await subjects.set_merged_into(merged_id, None)
