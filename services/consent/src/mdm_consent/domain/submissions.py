"""One form asking for several purposes: one event per purpose and channel (GDPR Art. 7(2)).

A request for consent that also concerns other matters must keep them clearly
distinguishable; each purpose is consented to on its own, and granting one never
implies another. So a submission records one event for each purpose and channel the
person ticked, each with its own proof (the notice version shown for that purpose
and its hash), all linked by one ``submissionId``, and all of them or none in one
transaction. What was not ticked gets no event. E-mail marketing items become
double opt-in requests (:mod:`mdm_consent.domain.double_opt_in`), announced like
any other.

The submission is recorded as it happens, under the rules of ``recordConsentEvent``
(time within the skew, no method ``IMPORT``, the proof a grant needs).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from mdm_common.errors import DomainError, InvalidInput, NotFound
from mdm_consent.domain import double_opt_in
from mdm_consent.domain.consents import (
    CLOCK_SKEW,
    CUSTOMER_ACTS,
    EventDraft,
    against_purpose,
    age_from_profile,
    append_announced,
    append_now,
    happening_now,
    with_person,
)
from mdm_consent.domain.models import ActorType, Channel, ConsentEvent, EventType, Method
from mdm_consent.domain.ports import PersonDirectory
from mdm_consent.domain.stores import Stores, Transactions

MAX_ITEMS = 50


@dataclass(frozen=True)
class SubmissionItem:
    """One purpose and channel the person ticked, with the notice shown for it."""

    purpose: str
    channel: Channel
    notice_version: int | None
    language: str | None = None  # default: the submission's


@dataclass(frozen=True)
class SubmissionDraft:
    person_id: str
    collection_point: str
    method: Method
    actor: ActorType
    items: tuple[SubmissionItem, ...]
    occurred_at: datetime | None = None
    language: str | None = None
    staff_id: str | None = None
    evidence_ref: str | None = None
    ip_address: str | None = None

    def event_draft(self, item: SubmissionItem) -> EventDraft:
        return EventDraft(
            person_id=self.person_id,
            type=EventType.GRANTED,
            collection_point=self.collection_point,
            method=self.method,
            actor=self.actor,
            occurred_at=self.occurred_at,
            purpose=item.purpose,
            channel=item.channel,
            notice_version=item.notice_version,
            language=item.language or self.language,
            staff_id=self.staff_id,
            evidence_ref=self.evidence_ref,
            ip_address=self.ip_address,
        )


@dataclass(frozen=True)
class ConsentSubmission:
    submission_id: str
    events: tuple[ConsentEvent, ...]


async def record_submission(
    draft: SubmissionDraft,
    *,
    directory: PersonDirectory,
    transactions: Transactions,
    now: datetime,
    recorded_by: str,
    skew: timedelta = CLOCK_SKEW,
    confirm_within: timedelta = double_opt_in.DEFAULT_WINDOW,
) -> ConsentSubmission:
    """Check every item's proof, then the person (profile service), then each purpose
    and append every event in one transaction; refused as a whole."""
    if not 1 <= len(draft.items) <= MAX_ITEMS:
        raise InvalidInput(f"A submission holds 1 to {MAX_ITEMS} items.", field="items")
    _no_item_twice(draft.items)
    # Time and method are the submission's: checked once, as for recordConsentEvent.
    happening_now(draft.event_draft(draft.items[0]), now=now, may_record=CUSTOMER_ACTS, skew=skew)
    submission_id = str(uuid.uuid4())
    events = []
    for index, item in enumerate(draft.items):
        check = partial(draft.event_draft(item).to_event, now=now, recorded_by=recorded_by)
        events.append(replace(_at(index, check), submission_id=submission_id))
    person = await directory.lookup(draft.person_id)
    if person is None:
        raise NotFound(f"No person with id {draft.person_id}.", field="personId")

    async def append(stores: Stores) -> ConsentSubmission:
        stored = []
        for index, event in enumerate(events):
            try:
                checked = await against_purpose(stores, with_person(event, person.id))
            except DomainError as error:
                error.details.setdefault("index", index)
                raise
            checked = double_opt_in.as_request(checked, window=confirm_within)
            # The profile's birth date as evidence of age, as for recordConsentEvent (Art. 8).
            evidence = await age_from_profile(stores, checked, person)
            await append_now(stores, checked)
            if evidence is not None:
                await append_announced(stores, evidence)
            stored.append(checked)
        return ConsentSubmission(submission_id, tuple(stored))

    return await transactions.write(append)


def _no_item_twice(items: tuple[SubmissionItem, ...]) -> None:
    seen: set[tuple[str, Channel]] = set()
    for index, item in enumerate(items):
        key = (item.purpose, item.channel)
        if key in seen:
            raise InvalidInput(
                f"{item.purpose} over {item.channel.value} is in the submission twice.",
                field="items",
                details={"reason": "DUPLICATE_ITEM", "index": index},
            )
        seen.add(key)


def _at(index: int, check: Callable[[], ConsentEvent]) -> ConsentEvent:
    """``check()``, with the index of the refused item added to its error."""
    try:
        return check()
    except DomainError as error:
        error.details.setdefault("index", index)
        raise
