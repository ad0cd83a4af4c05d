"""Use cases on persons. Runs inside a transaction the caller owns; never commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from mdm_common.contracts import Event, EventRecorder
from mdm_common.errors import NotFound
from mdm_profile.domain.models import Person, PersonDraft
from mdm_profile.domain.ports import PersonStore


def new_person_id() -> str:
    """Golden ids are random and permanent; they reveal nothing about the person."""
    return str(uuid.uuid4())


async def create_person(
    draft: PersonDraft, *, people: PersonStore, events: EventRecorder, now: datetime
) -> Person:
    clean = draft.validated()
    person = Person(
        id=new_person_id(),
        given_name=clean.given_name,
        family_name=clean.family_name,
        email=clean.email,
        created_at=now,
    )
    await people.add(person)
    events.record(Event.PERSON_CREATED, person_id=person.id)
    return person


async def get_person(person_id: str, *, people: PersonStore) -> Person:
    found = await people.get_many([person_id])
    if person_id not in found:
        raise NotFound(f"No person with id {person_id}.", field="id")
    return found[person_id]
