"""Retention duties and legal holds: data the controller must keep is restricted at
erasure instead of erased, and erased when the duty ends (GDPR Art. 17(3)(b), (e);
BDSG §35(3)).

A compliance officer registers each duty as master data: which source systems'
records it covers (``erp``: invoices and contracts) and/or which data categories, the
period in years and when it starts (HGB §257(5), AO §147(4): at the end of the
calendar year in which the record was made). At erasure the consent service names
the duties to the profile, which keeps what they cover as held records, restricted,
each with its duty, legal reference and end (``mdm_profile.domain.holds``). The UWG
§7a proof of a phone consent is a duty of its own, derived from the contact uses
(:mod:`mdm_consent.domain.contact_uses`): the phone number stays until five years
after the last use. The daily retention job erases what was held once its end has
passed (:func:`release_expired`), with evidence like its purges.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.contracts import DataCategory
from mdm_common.errors import Conflict, InvalidInput
from mdm_consent.domain import contact_uses
from mdm_consent.domain.stores import Stores

CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")
SOURCE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
MAX_YEARS = 30
MAX_NAME = 200
MAX_SOURCES = 20
PHONE_PROOF_DUTY = "uwg-7a-phone-proof"


class LegalReference(StrEnum):
    """The provisions a duty may rest on (a fixed list: a new one is a code change)."""

    HGB_257 = "HGB_257"  # commercial books, annual accounts, business letters: 6 or 10 years
    AO_147 = "AO_147"  # records relevant for taxation: 6, 8 or 10 years
    UWG_7A = "UWG_7A"  # proof of consent to telephone advertising: 5 years after last use
    BGB_195 = "BGB_195"  # data needed for legal claims during the limitation period
    GWG_8 = "GWG_8"  # anti-money-laundering records: 5 years

    @property
    def text(self) -> str:
        return _TEXTS[self]


_TEXTS = {
    LegalReference.HGB_257: "HGB §257: commercial records and business letters",
    LegalReference.AO_147: "AO §147: records relevant for taxation",
    LegalReference.UWG_7A: "UWG §7a: proof of consent to telephone advertising",
    LegalReference.BGB_195: "BGB §195 with GDPR Art. 17(3)(e): legal claims",
    LegalReference.GWG_8: "GwG §8: anti-money-laundering records",
}


class PeriodStart(StrEnum):
    END_OF_YEAR = "END_OF_YEAR"  # HGB §257(5), AO §147(4)
    RECORD_DATE = "RECORD_DATE"


@dataclass(frozen=True)
class RetentionDuty:
    code: str
    name: str
    legal_reference: LegalReference
    source_systems: tuple[str, ...]
    data_categories: tuple[str, ...]
    period_years: int
    starts: PeriodStart
    registered_at: datetime
    registered_by: str


@dataclass(frozen=True)
class DutyDraft:
    code: str
    name: str
    legal_reference: LegalReference
    period_years: int
    starts: PeriodStart = PeriodStart.END_OF_YEAR
    source_systems: Sequence[str] = ()
    data_categories: Sequence[str] = ()


@dataclass(frozen=True)
class LegalHold:
    """A duty as the profile applies it at erasure; ``until`` is a fixed end (§7a)."""

    duty: str
    name: str
    legal_reference: LegalReference
    source_systems: tuple[str, ...] = ()
    data_categories: tuple[str, ...] = ()
    period_years: int = 0
    starts: PeriodStart = PeriodStart.END_OF_YEAR
    until: date | None = None


@dataclass(frozen=True)
class Restricted:
    """What a service keeps, restricted, instead of erasing it, and why."""

    service: str
    person_id: str
    what: str  # e.g. the source record's key, "consent events"
    categories: tuple[str, ...]
    duty: str
    legal_reference: LegalReference
    until: date

    @property
    def why(self) -> str:
        return self.legal_reference.text


class DutyStore(Protocol):
    async def create(self, duty: RetentionDuty) -> bool:
        """False if a duty with the code exists."""
        ...

    async def all(self) -> list[RetentionDuty]: ...


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not 1 <= len(cleaned) <= limit:
        raise InvalidInput(f"{field} needs 1-{limit} characters.", field=field)
    return cleaned


def checked(draft: DutyDraft, *, by: str, now: datetime) -> RetentionDuty:
    if not CODE.fullmatch(draft.code):
        raise InvalidInput(
            "code is 2-64 lower-case letters, digits or _.-",
            field="code",
            details={"reason": "BAD_CODE"},
        )
    sources = tuple(dict.fromkeys(s.strip() for s in draft.source_systems))
    bad = [s for s in sources if not SOURCE.fullmatch(s)]
    if bad or len(sources) > MAX_SOURCES:
        raise InvalidInput(
            f"sourceSystems takes up to {MAX_SOURCES} source system names.",
            field="sourceSystems",
            details={"reason": "BAD_SOURCE_SYSTEM"},
        )
    categories = tuple(dict.fromkeys(draft.data_categories))
    unknown = [c for c in categories if c not in DataCategory.ATTRIBUTES]
    if unknown:
        raise InvalidInput(
            f"dataCategories takes {', '.join(DataCategory.ATTRIBUTES)}.",
            field="dataCategories",
            details={"reason": "UNKNOWN_CATEGORY", "unknown": unknown},
        )
    if not (sources or categories):
        raise InvalidInput(
            "A duty covers source systems, data categories or both.",
            field="sourceSystems",
            details={"reason": "COVERS_NOTHING"},
        )
    if not 1 <= draft.period_years <= MAX_YEARS:
        raise InvalidInput(
            f"periodYears is 1-{MAX_YEARS}.", field="periodYears", details={"reason": "BAD_PERIOD"}
        )
    return RetentionDuty(
        code=draft.code,
        name=_text(draft.name, "name", MAX_NAME),
        legal_reference=draft.legal_reference,
        source_systems=sources,
        data_categories=categories,
        period_years=draft.period_years,
        starts=draft.starts,
        registered_at=now,
        registered_by=by,
    )


async def register(draft: DutyDraft, *, stores: Stores, by: str, now: datetime) -> RetentionDuty:
    """Register a duty (compliance); a code is registered once."""
    duty = checked(draft, by=by, now=now)
    if draft.legal_reference is LegalReference.UWG_7A:
        # The §7a proof follows from the contact uses; a period counted from the
        # record would end too early.
        raise InvalidInput(
            "The UWG §7a proof is kept by the contact uses (built in).",
            field="legalReference",
            details={"reason": "BUILT_IN_DUTY"},
        )
    if not await stores.duties.create(duty):
        raise Conflict(
            f"A retention duty {duty.code} exists.",
            field="code",
            details={"reason": "DUPLICATE_DUTY"},
        )
    return duty


def as_hold(duty: RetentionDuty) -> LegalHold:
    return LegalHold(
        duty.code,
        duty.name,
        duty.legal_reference,
        duty.source_systems,
        duty.data_categories,
        duty.period_years,
        duty.starts,
    )


def phone_proof_hold(until: date) -> LegalHold:
    return LegalHold(
        PHONE_PROOF_DUTY,
        "Proof of consent to telephone advertising",
        LegalReference.UWG_7A,
        data_categories=(DataCategory.PHONE,),
        until=until,
    )


# --------------------------------------------------------------- the hold ends


@dataclass(frozen=True)
class Expired:
    """A held record whose every duty has ended, as the profile lists it."""

    person_id: str
    what: str
    categories: tuple[str, ...]
    until: date
    legal_references: tuple[str, ...]


class HoldReleaser(Protocol):
    """The profile's end of holds (signed calls, as the retention job)."""

    async def expired_holds(self, *, first: int) -> list[Expired]: ...

    async def release_holds(self, person_id: str, reference: str) -> tuple[tuple[str, ...], int]:
        """Erase the group's expired held records; its ids and how many went."""
        ...


async def group_of(stores: Stores, person_ids: Sequence[str]) -> list[str]:
    """The ids of the persons' merge groups as the consent service knows them."""
    links = await stores.merges.active_around(person_ids)
    return sorted({*person_ids, *(p for x in links for p in (x.survivor_id, x.merged_id))})


async def for_erasure(
    stores: Stores, person_ids: Sequence[str], *, now: datetime
) -> list[LegalHold]:
    """The holds an erasure of the persons' group applies: every registered duty, and
    the §7a proof of a phone consent while it runs."""
    holds = [as_hold(d) for d in await stores.duties.all()]
    uses = await stores.contact_uses.of_persons(await group_of(stores, person_ids))
    until = contact_uses.proof_until(uses, now)
    if until is not None:
        holds.append(phone_proof_hold(until))
    return holds


async def proof_kept(
    stores: Stores, group: Sequence[str], *, service: str, now: datetime
) -> tuple[Restricted, ...]:
    """UWG §7a: the consent events (pseudonymised at erasure) prove a phone consent
    while the proof runs; what the consent service keeps, for the erasure's answer."""
    uses = await stores.contact_uses.of_persons(await group_of(stores, group))
    until = contact_uses.proof_until(uses, now)
    if until is None:
        return ()
    return (
        Restricted(
            service,
            group[0],
            "consent events",
            (DataCategory.CONSENT,),
            PHONE_PROOF_DUTY,
            LegalReference.UWG_7A,
            until,
        ),
    )
