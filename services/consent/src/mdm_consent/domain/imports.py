"""Importing consent histories from another system: a compliance officer's operation.

Applications record what a customer does now (domain/consents.py). What happened
before, in a system the platform replaces or takes over from, comes in here: events
of any type and any past time, each with the proof its type needs, all of a batch
or none. Every event is stored marked as imported with the import's evidence: the
system it came from, the reference of the batch, the SHA-256 of the document it was
taken from (the export file, the scanned forms), who imported it and when. The mark
is kept in the history, the printable document and the data-subject export, and an
imported grant counts as an import for the contact check (it never lifts an
objection, as a grant recorded with method ``IMPORT`` never did).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from mdm_common.errors import DomainError, InvalidInput, NotFound
from mdm_consent.domain import double_opt_in
from mdm_consent.domain.consents import (
    MAX_TEXT,
    EventDraft,
    against_purpose,
    age_from_profile,
    append_announced,
    with_person,
)
from mdm_consent.domain.models import ConsentEvent, ImportProof
from mdm_consent.domain.ports import PersonDirectory, ProfilePerson
from mdm_consent.domain.stores import Stores, Transactions

MAX_EVENTS = 500
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ImportDraft:
    source: str
    reference: str
    document_sha256: str
    events: tuple[EventDraft, ...]


@dataclass(frozen=True)
class ConsentImport:
    proof: ImportProof
    events: tuple[ConsentEvent, ...]


async def import_events(
    draft: ImportDraft,
    *,
    directory: PersonDirectory,
    transactions: Transactions,
    now: datetime,
    imported_by: str,
    confirm_within: timedelta = double_opt_in.DEFAULT_WINDOW,
) -> ConsentImport:
    """Check the batch and each event's proof, the persons and the purposes, then
    append every event in one transaction. An imported double opt-in request is not
    announced: the former system sent its mail."""
    proof = ImportProof(
        import_id=str(uuid.uuid4()),
        source=_text(draft.source, "source"),
        reference=_text(draft.reference, "reference"),
        document_sha256=_sha256(draft.document_sha256),
        imported_by=imported_by,
        imported_at=now,
    )
    if not 1 <= len(draft.events) <= MAX_EVENTS:
        raise InvalidInput(f"An import holds 1 to {MAX_EVENTS} events.", field="events")
    events = [
        _at(index, partial(_imported, e, now=now, proof=proof, confirm_within=confirm_within))
        for index, e in enumerate(draft.events)
    ]
    resolved: dict[str, ProfilePerson] = {}
    for index, event in enumerate(events):
        if event.person_id not in resolved:
            found = await directory.lookup(event.person_id)
            if found is None:
                raise NotFound(
                    f"No person with id {event.person_id}.",
                    field="personId",
                    details={"index": index},
                )
            resolved[event.person_id] = found

    async def append(stores: Stores) -> ConsentImport:
        stored = []
        for index, event in enumerate(events):
            person = resolved[event.person_id]
            checked = await _at_async(index, against_purpose(stores, with_person(event, person.id)))
            # The profile's birth date counts for an imported consent as for one recorded
            # now (domain/minors.py): kept once, beside the first consent that needs it.
            evidence = await age_from_profile(stores, checked, person)
            await append_announced(stores, checked)
            if evidence is not None:
                await append_announced(stores, evidence)
            stored.append(checked)
        return ConsentImport(proof=proof, events=tuple(stored))

    return await transactions.write(append)


def _imported(
    draft: EventDraft, *, now: datetime, proof: ImportProof, confirm_within: timedelta
) -> ConsentEvent:
    if draft.occurred_at is None:
        raise InvalidInput("An imported event says when it happened.", field="occurredAt")
    event = draft.to_event(now=now, recorded_by=proof.imported_by, confirm_within=confirm_within)
    return replace(event, imported=proof)


def _at(index: int, check: Callable[[], ConsentEvent]) -> ConsentEvent:
    """``check()``, with the index of the refused event added to its error."""
    try:
        return check()
    except DomainError as error:
        error.details.setdefault("index", index)
        raise


async def _at_async(index: int, checking: Awaitable[ConsentEvent]) -> ConsentEvent:
    try:
        return await checking
    except DomainError as error:
        error.details.setdefault("index", index)
        raise


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(f"{field} needs 1 to {MAX_TEXT} characters.", field=field)
    return text


def _sha256(value: str) -> str:
    digest = value.strip().lower()
    if not SHA256.match(digest):
        raise InvalidInput(
            "documentSha256 is the SHA-256 (64 hex digits) of the document the events "
            "were taken from.",
            field="documentSha256",
        )
    return digest
