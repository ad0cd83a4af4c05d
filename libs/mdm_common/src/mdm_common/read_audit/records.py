"""What a read audit keeps: who read which persons' data, through which operation, when.

Shared by the services: profile and matching buffer their records (:mod:`.log`),
consent writes its own in the reading transaction. ``reader`` is the token's
subject (an opaque id), never a name; the record holds person ids, no values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from mdm_common.auth import Principal


@dataclass(frozen=True)
class ReadAudit:
    """Someone read data of these persons, or a view that names no person
    (``person_ids`` empty; ``scope`` says what was read)."""

    id: str
    reader: str
    roles: tuple[str, ...]
    operation: str
    person_ids: tuple[str, ...]
    at: datetime
    scope: str | None = None
    # Root fields of the GraphQL operation, where the reader chose no operation name.
    fields: tuple[str, ...] = ()


@dataclass
class ReadTrail:
    """The persons whose data one request read so far (in first-read order)."""

    _person_ids: dict[str, None] = field(default_factory=dict)

    def saw(self, person_ids: Iterable[str]) -> None:
        for person_id in person_ids:
            self._person_ids[person_id] = None

    @property
    def person_ids(self) -> tuple[str, ...]:
        return tuple(self._person_ids)


def roles_of(principal: Principal) -> tuple[str, ...]:
    return tuple(sorted(r.value for r in principal.roles))
