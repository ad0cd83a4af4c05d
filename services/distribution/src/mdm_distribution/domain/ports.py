"""What the distribution domain needs from the outside: the other services and its stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from mdm_distribution.domain.models import (
    ChangeMessage,
    PersonView,
    Recipient,
    Subscriber,
    SubscriberSecrets,
    Verdict,
)

if TYPE_CHECKING:
    from mdm_distribution.exporting.jobs import ExportJob


@dataclass(frozen=True)
class PurposeTerms:
    """What the purpose registry says of a purpose a subscriber registers for."""

    code: str
    channels: tuple[str, ...]
    data_categories: tuple[str, ...]


class GoldenRecords(Protocol):
    """The profile service's golden records, read by id (merged ids answer with their
    survivor, erased and unknown ids with None)."""

    async def persons(self, ids: Sequence[str]) -> dict[str, PersonView | None]: ...

    async def active_ids(self, *, after: str | None, first: int) -> list[str]: ...


class ContactChecks(Protocol):
    """The consent service: the contact check, and the purpose registry."""

    async def check(
        self, person_ids: Sequence[str], *, purpose: str, channel: str, at: datetime
    ) -> dict[str, Verdict]: ...

    async def purpose(self, code: str) -> PurposeTerms | None: ...


class SubscriberStore(Protocol):
    async def add(self, subscriber: Subscriber, secret: str | None) -> None: ...

    async def get(self, subscriber_id: str) -> Subscriber | None: ...

    async def all(self, *, removed: bool = False) -> list[Subscriber]: ...

    async def remove(self, subscriber_id: str, *, now: datetime) -> None: ...

    async def name_taken(self, name: str) -> bool: ...

    async def set_paused(self, subscriber_id: str, *, paused: bool, now: datetime) -> None: ...

    async def secrets(self, subscriber_id: str) -> SubscriberSecrets | None: ...

    async def rotate_secret(
        self, subscriber_id: str, secret: str, *, now: datetime, previous_until: datetime
    ) -> None: ...


class RecipientStore(Protocol):
    """Per person: the digests of the values last distributed (which also serialise
    the passes on one person); per subscriber and person: what it was sent."""

    async def lock(self, person_ids: Iterable[str], *, now: datetime) -> None: ...

    async def states(self, person_ids: Iterable[str]) -> dict[str, dict[str, str]]: ...

    async def save_states(self, states: Mapping[str, dict[str, str] | None]) -> None: ...

    async def of_persons(self, person_ids: Iterable[str]) -> dict[tuple[str, str], Recipient]: ...

    async def save(self, recipients: Iterable[Recipient]) -> None: ...


class ExportJobStore(Protocol):
    async def save(self, job: ExportJob) -> None: ...

    async def get(self, job_id: str) -> ExportJob | None: ...

    async def latest(self, first: int) -> list[ExportJob]: ...


class MessageStore(Protocol):
    """The messages decided in a transaction, kept with it until the stream relay has
    appended them to the subscribers' streams (an outbox of its own)."""

    async def add(self, messages: Sequence[ChangeMessage]) -> None: ...


class Inbox(Protocol):
    """The messages a pass handles, remembered in its transaction: the pass's work and
    the record that it was done commit together (``mdm_common.inbox``)."""

    async def remember_many(self, message_ids: Sequence[str], *, now: datetime) -> None: ...
