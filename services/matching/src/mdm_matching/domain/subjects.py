"""Use cases on match subjects. Runs inside a transaction the caller owns."""

from __future__ import annotations

from datetime import datetime

from mdm_matching.domain.models import MatchSubject
from mdm_matching.domain.ports import SubjectStore


async def on_person_created(
    person_id: str, *, subjects: SubjectStore, now: datetime
) -> MatchSubject:
    return await subjects.register(person_id, at=now)
