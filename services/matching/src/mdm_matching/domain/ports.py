from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from mdm_matching.domain.models import MatchCandidate, MatchSubject


class SubjectStore(Protocol):
    async def register(self, person_id: str, *, at: datetime) -> MatchSubject:
        """Idempotent: registering twice keeps the first registration."""
        ...

    async def set_merged_into(self, person_id: str, survivor_id: str | None) -> None: ...

    async def get_many(self, person_ids: Sequence[str]) -> dict[str, MatchSubject]: ...

    async def candidates_of(self, person_ids: Sequence[str]) -> dict[str, list[MatchCandidate]]: ...
