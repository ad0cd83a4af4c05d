"""What the profile domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mdm_profile.domain.models import Person


class PersonStore(Protocol):
    async def add(self, person: Person) -> None: ...

    async def get_many(self, ids: Sequence[str]) -> dict[str, Person]: ...
