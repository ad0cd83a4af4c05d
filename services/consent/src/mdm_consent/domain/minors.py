"""Minors (GDPR Art. 8(1); 16 in Germany, BDSG sets no lower age): the birth date the
profile holds counts as evidence of age, not only what was recorded as AGE_EVIDENCE.

When a consent is recorded (GRANTED, PENDING_DOUBLE_OPT_IN, CONFIRMED), the birth date
of the person's golden record, read with the person in the one call that checks the
person exists, is kept as an AGE_EVIDENCE event of its own (method and actor
``SYSTEM``, collection point ``profile``) when it adds something: when no evidence of
the person's merge group holds that birth date yet. It is an event, not only a fact,
so that the history shows where the age came from and the facts stay derivable.

A partial birth date (``"YYYY"``, ``"YYYY-MM"``, docs/profile-model.md) is read at
its latest possible day, 31 December of the year or the month's last day: the person
counts as under 16 whenever they could be (the protective reading). Pure functions.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Iterable
from datetime import date

from mdm_consent.domain.models import ActorType, ConsentEvent, EventType, Fact, Method
from mdm_consent.domain.ports import ProfilePerson

# The events by which a person consents: their age at that moment decides (rules.py).
CONSENT_ACTS = frozenset({EventType.GRANTED, EventType.PENDING_DOUBLE_OPT_IN, EventType.CONFIRMED})
PROFILE_SOURCE = "profile"
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def latest_possible_birth_date(person: ProfilePerson) -> tuple[date, str] | None:
    """The latest day the person can have been born on, with how precise the profile
    was; ``None`` when the profile holds no (readable) birth date."""
    if person.birth_date is not None:
        return person.birth_date, "full date"
    found = _PARTIAL.match(person.birth_date_partial or "")
    if found is None or int(found[1]) < 1:
        return None
    year, month = int(found[1]), int(found[2] or 0)
    if not 1 <= month <= 12:
        return date(year, 12, 31), "year only, latest possible day taken"
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last), "year and month only, latest possible day taken"


def profile_age_evidence(
    event: ConsentEvent, person: ProfilePerson, known: Iterable[Fact]
) -> ConsentEvent | None:
    """The AGE_EVIDENCE to keep with a consent ``event`` from the profile's birth date;
    ``None`` for other events, without a birth date, or when the ``known`` facts of the
    person's group hold evidence of that birth date already."""
    if event.type not in CONSENT_ACTS:
        return None
    reading = latest_possible_birth_date(person)
    if reading is None:
        return None
    birth, precision = reading
    if any(f.type is EventType.AGE_EVIDENCE and f.birth_date == birth for f in known):
        return None
    # It stands beside the consent it was taken with: same time, same recorder.
    return ConsentEvent(
        id=str(uuid.uuid4()),
        person_id=event.person_id,
        type=EventType.AGE_EVIDENCE,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        recorded_by=event.recorded_by,
        collection_point=PROFILE_SOURCE,
        method=Method.SYSTEM,
        actor=ActorType.SYSTEM,
        evidence_ref=f"golden record birth date ({precision})",
        birth_date=birth,
    )
