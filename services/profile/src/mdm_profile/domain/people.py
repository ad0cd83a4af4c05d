"""Use cases on persons. Runs inside a transaction the caller owns; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import InvalidInput, NotFound
from mdm_profile.domain import employment
from mdm_profile.domain.employment import EmploymentStore
from mdm_profile.domain.golden import DEFAULT_RULES, Rule, build_golden
from mdm_profile.domain.households import HouseholdStore
from mdm_profile.domain.models import Person
from mdm_profile.domain.ports import PersonStore, ProfileChanges, StoredRecord
from mdm_profile.domain.quality.report import QualityReport
from mdm_profile.domain.records import (
    MAX_BATCH,
    MAX_SOURCE_ID,
    CleanRecord,
    RawRecord,
    RecordRejected,
    clean,
    record_key,
)
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.domain.suppression import SuppressionList, Suppressor


def new_person_id() -> str:
    """Golden ids are random and permanent; they reveal nothing about the person."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class IngestOutcome:
    source_id: str
    person_id: str
    created: bool
    quality: QualityReport


@dataclass(frozen=True)
class Ingestion:
    """What a batch did: the records stored, and the source ids refused as erased."""

    outcomes: list[IngestOutcome]
    suppressed: list[str]


async def _without_suppressed(
    records: list[CleanRecord], *, suppressor: Suppressor, suppressions: SuppressionList
) -> tuple[list[CleanRecord], list[str]]:
    """Split off the records of erased persons (one lookup for the whole batch)."""
    hashes = {r.key: [e.hash for e in suppressor.entries(r)] for r in records}
    listed = await suppressions.matching(sorted({h for found in hashes.values() for h in found}))
    if not listed:
        return records, []
    kept = [r for r in records if listed.isdisjoint(hashes[r.key])]
    return kept, [r.source_id for r in records if not listed.isdisjoint(hashes[r.key])]


@dataclass(frozen=True)
class Refusal:
    """A record of a batch that was not stored, and why (no personal data)."""

    index: int
    source_id: str
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class CleanBatch:
    """A batch after cleaning: the records to store and the ones refused."""

    records: list[CleanRecord]
    refused: list[Refusal]


def refusal_of(index: int, source_id: str, exc: InvalidInput) -> Refusal:
    """Why a record (of persons or companies) cleaning refused is not stored."""
    if isinstance(exc, RecordRejected):
        first = exc.report.errors[0]
        return Refusal(index, source_id, first.field, first.code, exc.message)
    return Refusal(index, source_id[:MAX_SOURCE_ID], exc.field or "record", "INVALID", exc.message)


class _Received(Protocol):
    @property
    def source_id(self) -> str: ...


class _Cleaned(Protocol):
    @property
    def kept_raw(self) -> tuple[tuple[str, str], ...]: ...


Received = TypeVar("Received", bound=_Received)
Cleaned = TypeVar("Cleaned", bound=_Cleaned)


def clean_each(
    raws: Sequence[Received],
    clean_one: Callable[[Received], Cleaned],
    *,
    atomic: bool = False,
    strict: bool = False,
) -> tuple[list[Cleaned], list[Refusal]]:
    """Clean a batch of records of persons or companies, each with ``clean_one``.

    A record that breaks the contract or cannot identify anybody is refused alone, as
    is a second record with the same source id; with ``atomic`` one refusal refuses
    the whole batch (InvalidInput). ``strict`` is for a record created interactively:
    the caller can correct a value, so one that would be kept raw refuses the call.
    """
    if not raws:
        raise InvalidInput("A batch needs at least one record.", field="records")
    if len(raws) > MAX_BATCH:
        raise InvalidInput(f"At most {MAX_BATCH} records per batch.", field="records")
    seen: set[str] = set()
    cleaned, refused = [], []
    for index, raw in enumerate(raws):
        if raw.source_id in seen:
            message = "The batch holds this sourceId twice; the first one was taken."
            refused.append(
                Refusal(
                    index, raw.source_id[:MAX_SOURCE_ID], "sourceId", "DUPLICATE_IN_BATCH", message
                )
            )
            continue
        seen.add(raw.source_id)
        try:
            record = clean_one(raw)
        except InvalidInput as exc:
            refused.append(refusal_of(index, raw.source_id, exc))
            continue
        if strict and record.kept_raw:
            field = record.kept_raw[0][0]
            raise InvalidInput(f"{field} is not valid; nothing was written.", field=field)
        cleaned.append(record)
    if atomic and refused:
        raise InvalidInput(
            f"{len(refused)} of {len(raws)} records refused; nothing was written.",
            field=refused[0].field,
            details={
                "rejected": [
                    {"index": r.index, "sourceId": r.source_id, "field": r.field, "code": r.code}
                    for r in refused
                ]
            },
        )
    return cleaned, refused


def clean_batch(
    source: str,
    raws: Sequence[RawRecord],
    *,
    sources: SourceRegistry,
    now: datetime,
    atomic: bool = False,
    strict: bool = False,
) -> CleanBatch:
    """Clean a batch of person records (pure work): done before the transaction
    opens, so that a large batch does not spend the graph's deadline on parsing.
    Refusals as :func:`clean_each` makes them."""
    system = sources.get(source)
    cleaned, refused = clean_each(
        raws,
        lambda raw: clean(raw, source=system, received_at=now),
        atomic=atomic,
        strict=strict,
    )
    return CleanBatch(cleaned, refused)


async def ingest(
    source: str,
    raws: Sequence[RawRecord],
    *,
    store: PersonStore,
    households: HouseholdStore,
    employers: EmploymentStore,
    sources: SourceRegistry,
    events: EventRecorder,
    suppressor: Suppressor,
    suppressions: SuppressionList,
    now: datetime,
    rules: Mapping[str, Rule] = DEFAULT_RULES,
    cleaned: Sequence[CleanRecord] | None = None,
) -> Ingestion:
    """Link and store the cleaned records of a batch of one source, in the caller's
    transaction: all of them, or nothing.

    A record seen before (same source and id) updates its person; a new record
    creates a person. Each touched person's golden record is rebuilt from all of
    its source records. A record of an erased person (it yields a suppression
    entry) is not stored; the rest of the batch is. Without ``cleaned`` the batch
    is cleaned here, all or nothing (``atomic``).
    """
    if cleaned is None:
        cleaned = clean_batch(source, raws, sources=sources, now=now, atomic=True).records
    cleaned, suppressed = await _without_suppressed(
        list(cleaned), suppressor=suppressor, suppressions=suppressions
    )
    if not cleaned:
        return Ingestion([], suppressed)
    existing = await store.records_by_key([r.key for r in cleaned])
    explicit_time = {raw.source_id for raw in raws if raw.recorded_at is not None}
    cleaned = [_keep_time_if_unchanged(r, existing, explicit_time) for r in cleaned]
    # Records identical to what is stored change nothing: re-ingesting is a no-op.
    changed = [r for r in cleaned if r.key not in existing or existing[r.key].record != r]

    person_of: dict[str, str] = {}
    created: set[str] = set()
    for record in cleaned:
        if record.key in existing:
            person_of[record.key] = existing[record.key].person_id
        else:
            person_of[record.key] = new_person_id()
            created.add(person_of[record.key])

    updated_ids = sorted({person_of[r.key] for r in changed} - created)
    by_person: dict[str, dict[str, CleanRecord]] = {person_of[r.key]: {} for r in changed}
    for person_id, records in (await store.records_of_persons(updated_ids)).items():
        by_person[person_id] = {r.key: r for r in records}
    for record in changed:
        by_person[person_of[record.key]][record.key] = record

    previous = await store.get_many(updated_ids)
    persons = []
    for person_id, records_by_key in by_person.items():
        golden = build_golden(
            list(records_by_key.values()), priority_of=sources.priority_of, rules=rules
        )
        created_at = previous[person_id].created_at if person_id in previous else now
        persons.append(Person.from_golden(person_id, golden, created_at=created_at, updated_at=now))

    await store.save(
        ProfileChanges(
            records=[StoredRecord(person_of[r.key], r) for r in changed],
            persons=persons,
            new_person_ids=frozenset(created),
        )
    )
    await households.refresh_households([p.id for p in persons], at=now)
    # The companies the changed records name, or whose domain their e-mail is at.
    clues = [employment.clue_of(person_of[r.key], r) for r in changed]
    await employment.link_people(clues, store=employers, now=now)
    for person_id in sorted(created):
        events.record(Event.PERSON_CREATED, person_id=person_id)
    for person_id in updated_ids:  # matching compares the changed profile again
        events.record(Event.PERSON_UPDATED, person_id=person_id)
    return Ingestion(
        [
            IngestOutcome(r.source_id, person_of[r.key], person_of[r.key] in created, r.quality)
            for r in cleaned
        ],
        suppressed,
    )


def _keep_time_if_unchanged(
    record: CleanRecord, existing: Mapping[str, StoredRecord], explicit_time: set[str]
) -> CleanRecord:
    """A record sent again without a source timestamp keeps the time it was first seen."""
    stored = existing.get(record.key)
    if stored is None or record.source_id in explicit_time:
        return record
    same_time = replace(record, recorded_at=stored.record.recorded_at)
    return same_time if same_time == stored.record else record


async def get_person(person_id: str, *, people: PersonStore) -> Person:
    found = await people.get_many([person_id])
    if person_id not in found:
        raise NotFound(f"No person with id {person_id}.", field="id")
    return found[person_id]


__all__ = [
    "CleanBatch",
    "IngestOutcome",
    "Ingestion",
    "Refusal",
    "get_person",
    "ingest",
    "new_person_id",
    "record_key",
]
