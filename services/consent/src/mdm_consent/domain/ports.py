"""What the consent domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from mdm_consent.domain.models import ConsentEvent, Fact, NoticeVersion, Purpose, ReadAudit


class PurposeStore(Protocol):
    async def create(self, purpose: Purpose) -> bool:
        """Store a new purpose; ``False`` if its code is taken."""
        ...

    async def get(self, code: str, *, texts: bool = False) -> Purpose | None:
        """A purpose with all its notice versions (their texts only if ``texts``)."""
        ...

    async def all(self) -> list[Purpose]: ...

    async def add_notice(self, notice: NoticeVersion) -> bool:
        """Store a new notice version; ``False`` if that version exists already."""
        ...


class ConsentStore(Protocol):
    async def append(self, event: ConsentEvent) -> None:
        """Append an event and, in the same transaction, the facts the check reads."""
        ...

    async def history_of(self, person_ids: Sequence[str]) -> dict[str, list[ConsentEvent]]:
        """Events per person, newest first."""
        ...

    async def facts_of(self, person_ids: Sequence[str], purpose: str) -> dict[str, list[Fact]]:
        """Per person: the facts of ``purpose`` and those that count for every purpose."""
        ...


class AuditStore(Protocol):
    async def record(self, audit: ReadAudit) -> None: ...

    async def of_person(
        self, person_id: str, *, since: datetime | None, limit: int
    ) -> list[ReadAudit]:
        """Reads of this person's records, newest first."""
        ...


class PersonDirectory(Protocol):
    async def resolve(self, person_id: str) -> str | None:
        """The profile service's current id for ``person_id`` (a merged-away id resolves
        to its survivor), or ``None`` if there is no such person."""
        ...
