"""Rectification (GDPR Art. 16, 19): a value the data subject had corrected.

The consent service tracks the request; once a steward approved it, the profile
applies the correction as a source record of its own: source ``rectification``
(reserved, ``sources.RECTIFICATION``), source id = the request's id, holding only
the corrected attribute. That record wins survivorship for its attribute over every
other source whatever the rule (``golden.build_golden``, rule ``RECTIFIED``), so the
golden record shows the corrected value with lineage pointing at the request, and a
later record of a source system does not silently bring the old value back. The
source systems' records stay as they were received.

A name survives as a whole (given name, family name, titles, suffix: golden.py), so
rectifying one part records the whole name as the golden record had it with that part
corrected. An address is one value too. The value is cleaned by the same data-quality
code as an import, but strictly: a value an import would keep raw (invalid e-mail,
impossible date, postal code not of the country, a partial date) is refused, since the
requester can correct it.

Art. 19: the answer names the source systems whose records hold another value for the
field (the recipients to be told), never the values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import InvalidInput
from mdm_profile.domain.golden import Rule, build_golden
from mdm_profile.domain.households import HouseholdStore
from mdm_profile.domain.models import Person
from mdm_profile.domain.ports import PersonStore, ProfileChanges, StoredRecord
from mdm_profile.domain.privacy import (
    PrivacyStore,
    check_request_id,
    erased_error,
    merge_group,
)
from mdm_profile.domain.quality.addresses import address_key, normalise_address
from mdm_profile.domain.quality.contact import normalise_email, normalise_phone
from mdm_profile.domain.quality.dates import parse_birth_date
from mdm_profile.domain.quality.language import normalise_language
from mdm_profile.domain.quality.names import parse_name
from mdm_profile.domain.quality.report import QualityReport, Severity
from mdm_profile.domain.records import MAX_FIELD_LENGTH, CleanRecord, record_key
from mdm_profile.domain.sources import RECTIFICATION, SourceRegistry

# field (as the API and the export spell it) -> golden attribute it belongs to
FIELDS: Mapping[str, str] = {
    "givenName": "name",
    "familyName": "name",
    "salutation": "salutation",
    "birthDate": "birthDate",
    "email": "email",
    "phone": "phone",
    "address": "address",
    "language": "language",
}
ADDRESS_PARTS = ("street", "houseNumber", "postalCode", "city", "country")
# Quality report fields that belong to the rectified field.
_REPORTED: Mapping[str, tuple[str, ...]] = {
    "givenName": ("givenName",),
    "familyName": ("familyName",),
    "salutation": ("salutation",),
    "birthDate": ("birthDate",),
    "email": ("email",),
    "phone": ("phone",),
    "address": ADDRESS_PARTS,
    "language": ("language",),
}
# Reason codes of refusals besides the quality codes (INVALID, MISSING, IN_FUTURE ...).
UNKNOWN_FIELD = "UNKNOWN_FIELD"
TOO_LONG = "TOO_LONG"
NOT_AN_ADDRESS = "NOT_AN_ADDRESS"
PARTIAL_DATE = "PARTIAL_DATE"

_EMPTY: dict[str, Any] = {
    "given_name": "",
    "family_name": "",
    "titles": (),
    "suffix": None,
    "salutation": None,
    "birth_date": None,
    "email": None,
    "phone": None,
    "address": None,
    "language": None,
}


@dataclass(frozen=True)
class Rectification:
    """What a rectification did, or would do (``check``): no value, only sources."""

    person_ids: list[str]
    field: str
    # Art. 19: source systems whose records of the person hold another value.
    recipients: list[str]
    source: str = RECTIFICATION
    source_id: str | None = None  # the request; None for a check
    already_applied: bool = False


def checked_field(field: str) -> str:
    if field not in FIELDS:
        raise InvalidInput(
            f"field takes one of {', '.join(FIELDS)}.",
            field="field",
            details={"reason": UNKNOWN_FIELD},
        )
    return field


def _refused(field: str, code: str, what: str = "is not a valid value") -> InvalidInput:
    # Never the value itself: messages and details reach logs and the caller's screen.
    return InvalidInput(
        f"{field} {what} ({code}); nothing was changed.", field=field, details={"reason": code}
    )


def _check_report(field: str, report: QualityReport) -> None:
    for issue in report.issues:
        if issue.field in _REPORTED[field] and issue.severity is not Severity.INFO:
            details = {"reason": issue.code} | ({"part": issue.field} if field == "address" else {})
            raise InvalidInput(
                f"{field} is not a valid value ({issue.code}); nothing was changed.",
                field=field,
                details=details,
            )


def _address(text: str, report: QualityReport) -> dict[str, Any]:
    try:
        parts = json.loads(text)
    except ValueError:
        parts = None
    if (
        not isinstance(parts, dict)
        or not set(parts) <= set(ADDRESS_PARTS)
        or not all(isinstance(v, str | None) for v in parts.values())
    ):
        raise _refused(
            "address", NOT_AN_ADDRESS, f"is a JSON object of {', '.join(ADDRESS_PARTS)} (texts)"
        )
    if any(v is not None and len(v) > MAX_FIELD_LENGTH for v in parts.values()):
        raise _refused("address", TOO_LONG, f"parts take at most {MAX_FIELD_LENGTH} characters")
    address = normalise_address(
        street=parts.get("street"),
        house_number=parts.get("houseNumber"),
        postal_code=parts.get("postalCode"),
        city=parts.get("city"),
        country=parts.get("country"),
        report=report,
    )
    if address is None:
        raise _refused("address", "MISSING")
    return {"address": address}


def _name(field: str, text: str, current: Person, report: QualityReport) -> dict[str, Any]:
    given = text if field == "givenName" else current.given_name
    family = text if field == "familyName" else current.family_name
    name = parse_name(given=given, family=family, report=report)
    return {
        "given_name": name.given,
        "family_name": name.family,
        "titles": name.titles or current.titles,
        "suffix": name.suffix or current.suffix,
    }


def _birth_date(text: str, today: date, report: QualityReport) -> dict[str, Any]:
    found = parse_birth_date(text, today=today, report=report)
    _check_report("birthDate", report)  # an unparseable or implausible date first
    if found.full is None:
        raise _refused("birthDate", PARTIAL_DATE, "needs a full date (day, month, year)")
    return {"birth_date": found.full}


_SIMPLE: Mapping[str, Callable[[str, Person, QualityReport], dict[str, Any]]] = {
    "salutation": lambda t, _, r: {"salutation": parse_name(salutation=t, report=r).salutation},
    "email": lambda t, _, r: {"email": normalise_email(t, report=r)},
    "phone": lambda t, p, r: {
        "phone": normalise_phone(t, region=p.address.country if p.address else None, report=r)
    },
    "language": lambda t, _, r: {"language": normalise_language(t, report=r)},
}


def corrected_record(
    field: str, value: str, *, current: Person, request_id: str, now: datetime
) -> CleanRecord:
    """The rectification's source record: the corrected value, cleaned, and nothing else.

    Refused (``InvalidInput`` naming the field, ``reason`` the quality code) when the
    value is not one an import would use as it is.
    """
    checked_field(field)
    text = value.strip()
    if not text:
        raise _refused(field, "MISSING", "needs a value")
    if len(text) > MAX_FIELD_LENGTH and field != "address":
        raise _refused(field, TOO_LONG, f"takes at most {MAX_FIELD_LENGTH} characters")
    report = QualityReport()
    if field in ("givenName", "familyName"):
        values = _name(field, text, current, report)
    elif field == "birthDate":
        values = _birth_date(text, now.date(), report)
    elif field == "address":
        values = _address(text, report)
    else:
        values = _SIMPLE[field](text, current, report)
    _check_report(field, report)
    if all(v in (None, "", ()) for v in values.values()):
        raise _refused(field, "INVALID")
    return CleanRecord(
        source=RECTIFICATION,
        source_id=request_id,
        recorded_at=now,
        quality=report,
        **(_EMPTY | values),
    )


# How a record's value for a field is compared; None when it has none.
_COMPARED: Mapping[str, Callable[[CleanRecord], Any]] = {
    "givenName": lambda r: r.given_name or None,
    "familyName": lambda r: r.family_name or None,
    "salutation": lambda r: r.salutation,
    "birthDate": lambda r: r.birth_date.isoformat() if r.birth_date else r.birth_date_partial,
    "email": lambda r: r.email.lower() if r.email else None,
    "phone": lambda r: r.phone.e164 if r.phone else None,
    "address": lambda r: address_key(r.address) if r.address else None,
    "language": lambda r: r.language,
}


def recipients(field: str, corrected: CleanRecord, records: Sequence[CleanRecord]) -> list[str]:
    """Art. 19: the source systems whose records hold another value for the field.

    A partial birth date that the corrected date completes ("1987-05" of 1987-05-12)
    does not contradict it. Earlier rectifications are not recipients: they are ours.
    """
    wanted = _COMPARED[field](corrected)
    found = set()
    for record in records:
        held = _COMPARED[field](record)
        if record.source == RECTIFICATION or held is None or held == wanted:
            continue
        if field == "birthDate" and record.birth_date is None and str(wanted).startswith(held):
            continue
        found.add(record.source)
    return sorted(found)


def _survivor(
    person_id: str, group_erased: bool, persons: Mapping[str, Person], survivor_id: str
) -> Person:
    if group_erased or survivor_id not in persons:
        raise erased_error(person_id)
    return persons[survivor_id]


async def check(
    person_id: str, field: str, value: str, *, store: PrivacyStore, now: datetime
) -> Rectification:
    """Would the value be accepted, and who holds another one? Writes nothing."""
    checked_field(field)
    group = await merge_group(person_id, store)
    ids = group.person_ids
    current = _survivor(person_id, group.erased, await store.persons(ids), group.survivor_id)
    corrected = corrected_record(field, value, current=current, request_id="check", now=now)
    records = [r for _, r in await store.records(ids)]
    return Rectification(ids, field, recipients(field, corrected, records))


async def rectify(
    person_id: str,
    request_id: str,
    field: str,
    value: str,
    *,
    store: PrivacyStore,
    people: PersonStore,
    households: HouseholdStore,
    sources: SourceRegistry,
    rules: Mapping[str, Rule],
    events: EventRecorder,
    now: datetime,
) -> Rectification:
    """Apply an approved rectification to the person's merge group; idempotent per request.

    Allowed while processing is restricted: contesting accuracy is what a restriction
    under Art. 18(1)(a) waits on, and the correction ends it.
    """
    check_request_id(request_id)
    checked_field(field)
    group = await merge_group(person_id, store)
    ids = group.person_ids
    if group.erased:
        raise erased_error(person_id)
    await store.lock(ids)
    current = _survivor(person_id, group.erased, await store.persons(ids), group.survivor_id)
    stored = await store.records(ids)
    key = record_key(RECTIFICATION, request_id)
    applied = next((r for _, r in stored if r.key == key), None)
    records = [r for described, r in stored if described == group.survivor_id]
    if applied is not None:
        others = [r for r in records if r.key != key]
        return Rectification(
            ids,
            field,
            recipients(field, applied, others),
            source_id=request_id,
            already_applied=True,
        )
    corrected = corrected_record(field, value, current=current, request_id=request_id, now=now)
    golden = build_golden([*records, corrected], priority_of=sources.priority_of, rules=rules)
    rebuilt = Person.from_golden(current.id, golden, created_at=current.created_at, updated_at=now)
    await people.save(
        ProfileChanges(
            records=[StoredRecord(current.id, corrected)],
            persons=[rebuilt],
            new_person_ids=frozenset(),
        )
    )
    await households.refresh_households([current.id], at=now)
    events.record(Event.PERSON_UPDATED, person_id=current.id)  # matching compares it again
    return Rectification(ids, field, recipients(field, corrected, records), source_id=request_id)
