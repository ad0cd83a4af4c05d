from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mdm_consent.domain.models import ConsentEvent


class ConsentStore(Protocol):
    async def append(self, event: ConsentEvent) -> None: ...

    async def history_of(self, person_ids: Sequence[str]) -> dict[str, list[ConsentEvent]]:
        """Events per person, newest first."""
        ...
