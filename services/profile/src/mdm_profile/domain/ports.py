"""What the profile domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mdm_profile.domain.models import Person
from mdm_profile.domain.records import CleanRecord


@dataclass(frozen=True)
class StoredRecord:
    person_id: str
    record: CleanRecord


@dataclass(frozen=True)
class ProfileChanges:
    """Everything one ingestion batch writes, in one transaction."""

    records: Sequence[StoredRecord]
    persons: Sequence[Person]
    new_person_ids: frozenset[str]


class PersonStore(Protocol):
    async def get_many(self, ids: Sequence[str]) -> dict[str, Person]: ...

    async def records_by_key(self, keys: Sequence[str]) -> dict[str, StoredRecord]: ...

    async def records_of_persons(self, person_ids: Sequence[str]) -> dict[str, list[CleanRecord]]:
        """All source records describing each person."""
        ...

    async def save(self, changes: ProfileChanges) -> None: ...
