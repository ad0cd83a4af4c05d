"""What the consent domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from mdm_common.read_audit.records import ReadAudit
from mdm_consent.domain.lineage import GroupFacts, Lineage
from mdm_consent.domain.models import (
    ConsentEvent,
    EventType,
    Hold,
    MergeLink,
    NoticeVersion,
    Purpose,
)

if TYPE_CHECKING:
    from mdm_consent.domain.expiry_runs import ExpiryRun
    from mdm_consent.domain.processing import Controller, ProcessingDescription
    from mdm_consent.domain.purposes import PurposeChange
    from mdm_consent.domain.requests import DataSubjectRequest, RequestFilter
    from mdm_consent.domain.retention_runs import Purge, RetentionRun


class PurposeStore(Protocol):
    async def create(self, purpose: Purpose) -> bool:
        """Store a new purpose; ``False`` if its code is taken."""
        ...

    async def get(self, code: str, *, texts: bool = False) -> Purpose | None:
        """A purpose with all its notice versions (their texts only if ``texts``)."""
        ...

    async def all(self) -> list[Purpose]: ...

    async def update(
        self, purpose: Purpose, *, expected_revision: int | None, change: PurposeChange
    ) -> bool:
        """Store the purpose's new values and the change record, if its revision is
        still ``expected_revision``; ``False`` if it was changed meanwhile."""
        ...

    async def changes(self, code: str) -> list[PurposeChange]:
        """The purpose's changes, oldest first."""
        ...

    async def add_notice(self, notice: NoticeVersion) -> bool:
        """Store a new notice version; ``False`` if that version exists already."""
        ...


class ConsentStore(Protocol):
    async def append(self, event: ConsentEvent) -> None:
        """Append an event and, in the same transaction, the facts the check reads."""
        ...

    async def history_of(self, person_ids: Sequence[str]) -> dict[str, list[ConsentEvent]]:
        """Events per person id, newest first: those of every member of its merge group,
        each under its own person id."""
        ...

    async def facts_of(self, person_ids: Sequence[str], purpose: str) -> dict[str, GroupFacts]:
        """Per person id: the facts of ``purpose`` and those that count for every
        purpose, of every member of its merge group, with the group's lineage."""
        ...

    async def facts_of_one(
        self, person_id: str, purpose: str
    ) -> tuple[GroupFacts, int | None] | None:
        """The single check's read: the person's facts as ``facts_of`` gives them and
        the purpose's revision, in one statement; ``None`` if there is no such purpose."""
        ...

    async def event_times(
        self, purpose: str, *, since: datetime, until: datetime
    ) -> list[tuple[EventType, datetime]]:
        """Type and time of every event recorded for ``purpose`` in ``[since, until)``."""
        ...

    async def persons_of(self, purpose: str) -> list[str]:
        """Every person id with at least one event recorded for ``purpose``."""
        ...

    async def persons_after(self, after: str, limit: int) -> list[str]:
        """Person ids with consent events, in id order after ``after``."""
        ...

    async def holds_of(self, person_ids: Sequence[str]) -> dict[str, list[Hold]]:
        """Each person's own restrictions and erasures, oldest first."""
        ...

    async def set_holds(self, holds: dict[str, list[Hold]]) -> None:
        """Replace the persons' restrictions and erasures."""
        ...

    async def pseudonymise(self, person_ids: Sequence[str]) -> int:
        """Drop what identifies the persons from their events and facts; the number of
        events changed."""
        ...


class MergeStore(Protocol):
    async def lock(self, person_ids: Sequence[str]) -> None:
        """Write-lock the persons' consent subjects: merges touching them serialise."""
        ...

    async def get(self, merge_id: str) -> MergeLink | None: ...

    async def get_many(self, merge_ids: Sequence[str]) -> dict[str, MergeLink]: ...

    async def save(self, link: MergeLink) -> None:
        """Store a link, or its new state (an undo)."""
        ...

    async def save_many(self, links: Sequence[MergeLink]) -> None: ...

    async def active_around(self, person_ids: Sequence[str]) -> list[MergeLink]:
        """The active links of the groups the persons belong to (followed link by link)."""
        ...

    async def set_lineages(self, lineages: dict[str, Lineage]) -> None:
        """Record each person's group: whom it was merged into and the group's links."""
        ...

    async def of_person(self, person_id: str) -> list[MergeLink]:
        """Every link (active or undone) naming the person, oldest first."""
        ...


class AuditStore(Protocol):
    async def record(self, audit: ReadAudit) -> None: ...

    async def of_person(
        self, person_id: str, *, since: datetime | None, limit: int
    ) -> list[ReadAudit]:
        """Reads of this person's records, newest first."""
        ...

    async def without_person(self, *, since: datetime | None, limit: int) -> list[ReadAudit]:
        """Reads of views that name no person (figures, records of processing), newest
        first."""
        ...


@dataclass(frozen=True)
class ProfilePerson:
    """A person as the profile service holds it now: its current id and the golden
    birth date, full or partial (``"YYYY"``, ``"YYYY-MM"``) where no source knows more."""

    id: str
    birth_date: date | None = None
    birth_date_partial: str | None = None


class PersonDirectory(Protocol):
    async def resolve(self, person_id: str) -> str | None:
        """The profile service's current id for ``person_id`` (a merged-away id resolves
        to its survivor), or ``None`` if there is no such person."""
        ...

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        """As ``resolve``, with the golden birth date, in the same single call."""
        ...


class RequestStore(Protocol):
    async def get(self, request_id: str, *, lock: bool = False) -> DataSubjectRequest | None:
        """A request; ``lock`` takes its write lock (changes of one request serialise)."""
        ...

    async def save(self, request: DataSubjectRequest) -> None: ...

    async def of_person(self, person_ids: list[str]) -> list[DataSubjectRequest]:
        """The requests made for any of these person ids, oldest first."""
        ...

    async def find(
        self, filters: RequestFilter, *, after: tuple[date, str] | None, limit: int, today: date
    ) -> list[DataSubjectRequest]:
        """Requests by due date, then id, after the cursor (due date, id)."""
        ...


class RetentionStore(Protocol):
    async def save_run(self, run: RetentionRun) -> None: ...

    async def get_run(self, run_id: str) -> RetentionRun | None: ...

    async def running(self) -> RetentionRun | None:
        """The run in progress, if any."""
        ...

    async def runs(self, *, limit: int) -> list[RetentionRun]:
        """The latest runs first."""
        ...

    async def record_purges(
        self, purges: Sequence[Purge], *, replace_existing: bool = False
    ) -> list[Purge]:
        """Store evidence of removals; an existing entry wins unless ``replace_existing``."""
        ...

    async def purges_of(self, person_id: str) -> list[Purge]:
        """Evidence of removals from the person's data, oldest first."""
        ...


class ProcessingStore(Protocol):
    """The record of processing: controller and purpose descriptions, by revision."""

    async def controller(self) -> Controller | None:
        """The latest revision of the controller's details."""
        ...

    async def add_controller(self, controller: Controller) -> bool: ...

    async def description(self, purpose: str) -> ProcessingDescription | None:
        """The purpose's latest description."""
        ...

    async def descriptions(self) -> dict[str, ProcessingDescription]:
        """The latest description of every described purpose, by purpose code."""
        ...

    async def add_description(self, description: ProcessingDescription) -> bool: ...


class ExpiryStore(Protocol):
    async def save_run(self, run: ExpiryRun) -> None: ...

    async def get_run(self, run_id: str) -> ExpiryRun | None: ...

    async def running(self) -> ExpiryRun | None:
        """The run in progress, if any."""
        ...

    async def runs(self, *, limit: int) -> list[ExpiryRun]:
        """The latest runs first."""
        ...

    async def persons_after(self, purposes: Sequence[str], *, after: str, limit: int) -> list[str]:
        """Person ids with events for any of ``purposes``, in id order after ``after``."""
        ...

    async def recorded(self, event_ids: Sequence[str]) -> set[str]:
        """Those of the event ids that are recorded already."""
        ...
