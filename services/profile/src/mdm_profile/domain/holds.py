"""Legal holds at erasure: what a retention duty keeps, restricted, instead of erasing it.

GDPR Art. 17(3)(b) and (e) (and BDSG §35(3)) let the controller keep data it is
obliged to keep (HGB §257, AO §147: commercial and tax records) or needs to establish
or defend legal claims (UWG §7a: the proof of consent to telephone advertising).
The consent service, which keeps the duties, tells the profile at erasure which
duties apply (:class:`HoldInstruction`); the profile decides per source record:

* a record of a source system a duty covers is kept whole (only the attribute values
  it carries), until the duty's end for that record;
* of any other record, the values of the categories a duty covers are kept (the phone
  number that proves a phone consent), nothing else;
* everything else is erased as before.

What is kept becomes a *held record*: no longer a source record of the person, so the
golden record, search, matching and exports other than to compliance never see it;
it names each duty, its legal reference and its end, and the daily retention job
erases it once the last end has passed (:func:`expired`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.contracts import DataCategory
from mdm_common.errors import InvalidInput
from mdm_profile.domain.quality.report import QualityReport
from mdm_profile.domain.records import CleanRecord

MAX_HOLDS = 200
MAX_YEARS = 30


class PeriodStart(StrEnum):
    """When a duty's period starts for a record."""

    # HGB §257(5), AO §147(4): at the end of the calendar year the record was made.
    END_OF_YEAR = "END_OF_YEAR"
    RECORD_DATE = "RECORD_DATE"  # on the day the record was made


@dataclass(frozen=True)
class HoldInstruction:
    """A duty that applies to the erasure: which records or values it covers and how
    long. ``until`` is a fixed end (the §7a proof: five years after the last use);
    otherwise the end follows from each record's date and ``period_years``."""

    duty: str
    name: str
    legal_reference: str
    source_systems: tuple[str, ...] = ()
    data_categories: tuple[str, ...] = ()
    period_years: int = 0
    starts: PeriodStart = PeriodStart.END_OF_YEAR
    until: date | None = None

    def end_for(self, record: CleanRecord) -> date:
        if self.until is not None:
            return self.until
        made = record.recorded_at.date()
        if self.starts is PeriodStart.END_OF_YEAR:
            return date(made.year + self.period_years, 12, 31)
        try:
            return made.replace(year=made.year + self.period_years)
        except ValueError:  # 29 February
            return date(made.year + self.period_years, 3, 1)

    def covers_whole(self, record: CleanRecord) -> bool:
        return record.source in self.source_systems


@dataclass(frozen=True)
class HoldReason:
    """Why a held record is kept: a duty, its legal reference, and until when."""

    duty: str
    name: str
    legal_reference: str
    until: date


@dataclass(frozen=True)
class HeldRecord:
    """What is kept of one source record, restricted, and why."""

    person_id: str
    record: CleanRecord
    categories: tuple[str, ...]  # the attribute categories kept
    reasons: tuple[HoldReason, ...]
    request_id: str
    held_at: datetime

    @property
    def key(self) -> str:
        # One record may be held by a retention run and later by an erasure.
        return f"{self.record.key}|{self.request_id}"

    @property
    def until(self) -> date:
        """The day the last duty ends; the record is erased after it."""
        return max(r.until for r in self.reasons)


def checked(instructions: Sequence[HoldInstruction]) -> tuple[HoldInstruction, ...]:
    if len(instructions) > MAX_HOLDS:
        raise InvalidInput(f"holds takes at most {MAX_HOLDS} duties.", field="holds")
    for h in instructions:
        unknown = [c for c in h.data_categories if c not in DataCategory.ATTRIBUTES]
        if unknown:
            raise InvalidInput(
                "holds names an unknown data category.",
                field="holds",
                details={"reason": "UNKNOWN_CATEGORY", "unknown": unknown},
            )
        if not (h.source_systems or h.data_categories):
            raise InvalidInput(
                f"Duty {h.duty} covers neither source systems nor categories.",
                field="holds",
                details={"reason": "HOLDS_NOTHING"},
            )
        if h.until is None and not 1 <= h.period_years <= MAX_YEARS:
            raise InvalidInput(
                f"Duty {h.duty} needs 1-{MAX_YEARS} years or an end date.",
                field="holds",
                details={"reason": "NO_PERIOD"},
            )
    return tuple(instructions)


def _categories_of(record: CleanRecord) -> tuple[str, ...]:
    values = {
        DataCategory.IDENTITY: record.given_name
        or record.family_name
        or record.titles
        or record.suffix
        or record.salutation,
        DataCategory.BIRTH_DATE: record.birth_date or record.birth_date_partial,
        DataCategory.EMAIL: record.email,
        DataCategory.PHONE: record.phone,
        DataCategory.POSTAL_ADDRESS: record.address,
        DataCategory.LANGUAGE: record.language,
    }
    return tuple(c for c, v in values.items() if v)


def only(record: CleanRecord, categories: set[str]) -> CleanRecord:
    """The record with the values of the categories only (raw values that failed their
    checks and identifiers belong to none of them)."""

    def keep(category: str) -> bool:
        return category in categories

    identity = keep(DataCategory.IDENTITY)
    birth = keep(DataCategory.BIRTH_DATE)
    return replace(
        record,
        given_name=record.given_name if identity else "",
        family_name=record.family_name if identity else "",
        titles=record.titles if identity else (),
        suffix=record.suffix if identity else None,
        salutation=record.salutation if identity else None,
        birth_date=record.birth_date if birth else None,
        birth_date_partial=record.birth_date_partial if birth else None,
        email=record.email if keep(DataCategory.EMAIL) else None,
        phone=record.phone if keep(DataCategory.PHONE) else None,
        address=record.address if keep(DataCategory.POSTAL_ADDRESS) else None,
        language=record.language if keep(DataCategory.LANGUAGE) else None,
        kept_raw=(),
        identifiers=(),
        quality=QualityReport(),
    )


def held_parts(
    records: Iterable[tuple[str, CleanRecord]],
    instructions: Sequence[HoldInstruction],
    *,
    request_id: str,
    today: date,
    now: datetime,
) -> list[HeldRecord]:
    """What the duties keep of each record (records they do not reach are left out).

    A duty whose end for a record has passed already holds nothing of it."""
    held = []
    for person_id, record in records:
        present = _categories_of(record)
        whole: list[HoldReason] = []
        partial: list[HoldReason] = []
        kept: set[str] = set()
        for h in instructions:
            end = h.end_for(record)
            if end < today:
                continue
            reason = HoldReason(h.duty, h.name, h.legal_reference, end)
            if h.covers_whole(record):
                whole.append(reason)
            elif covered := set(h.data_categories) & set(present):
                partial.append(reason)
                kept |= covered
        if whole:
            held.append(HeldRecord(person_id, record, present, (*whole, *partial), request_id, now))
        elif partial:
            held.append(
                HeldRecord(
                    person_id,
                    only(record, kept),
                    tuple(c for c in present if c in kept),
                    tuple(partial),
                    request_id,
                    now,
                )
            )
    return held


def for_purge(
    instructions: Sequence[HoldInstruction], categories: Sequence[str]
) -> list[HoldInstruction]:
    """The holds as they apply to removing ``categories`` (retention): a purge erases
    values, never whole records, so only the duties' categories among them count."""
    found = []
    for x in checked(instructions):
        covered = tuple(c for c in x.data_categories if c in categories)
        if covered:
            found.append(replace(x, source_systems=(), data_categories=covered))
    return found


def erased_categories(
    records: Iterable[CleanRecord], held: Sequence[HeldRecord], *, linked: bool
) -> tuple[str, ...]:
    """The categories of which at least one value was erased."""
    kept: dict[str, set[str]] = {}
    for r in held:
        kept.setdefault(r.record.key, set()).update(r.categories)
    erased: set[str] = set()
    for record in records:
        if record.key not in kept:
            erased.add(DataCategory.SOURCE_RECORD)
        erased |= set(_categories_of(record)) - kept.get(record.key, set())
    if linked:
        erased.add(DataCategory.RELATIONSHIPS)
    order = (*DataCategory.ATTRIBUTES, DataCategory.SOURCE_RECORD, DataCategory.RELATIONSHIPS)
    return tuple(c for c in order if c in erased)


def expired(held: Sequence[HeldRecord], today: date) -> list[HeldRecord]:
    """Held records whose every duty has ended before ``today``: to be erased."""
    return [h for h in held if h.until < today]


class HoldStore(Protocol):
    async def save(self, held: Sequence[HeldRecord]) -> None:
        """Store held records (a record held again keeps its first hold)."""
        ...

    async def of_persons(self, person_ids: Sequence[str]) -> list[HeldRecord]: ...

    async def expired(self, today: date, *, limit: int) -> list[HeldRecord]:
        """Held records whose last duty ended before ``today``, the oldest end first."""
        ...

    async def delete(self, keys: Sequence[str]) -> int: ...


MAX_LISTED = 500


async def expired_holds(held: HoldStore, *, today: date, first: int) -> list[HeldRecord]:
    if not 1 <= first <= MAX_LISTED:
        raise InvalidInput(f"first must be 1-{MAX_LISTED}.", field="first")
    return await held.expired(today, limit=first)


async def release(person_ids: Sequence[str], *, held: HoldStore, today: date) -> list[HeldRecord]:
    """Erase what the group's duties held once every one of them has ended; the rest
    stays. Asking again releases nothing more."""
    gone = expired(await held.of_persons(person_ids), today)
    await held.delete([h.key for h in gone])
    return gone
