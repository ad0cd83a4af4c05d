"""Deciding what each subscriber is told, from what is true now and what it was sent.

Distribution is state-based: for every person a change touched, the golden record as
it is now and each subscriber's contact check are compared with what that subscriber
was last sent (digests of the values, :mod:`categories`). The messages follow from the
difference: a record the purpose now allows and the subscriber does not hold yet is
sent whole (``created``); one it holds gets the attributes of its categories that
changed (``updated``); one the purpose no longer allows is taken back (``stopped``).
An event read twice, late or out of order therefore sends nothing wrong: the
difference to what was sent is empty, or brings the subscriber up to date.

Pure: no I/O. :mod:`distribute` gathers the facts inside the transaction that keeps
the result.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mdm_distribution.domain import categories
from mdm_distribution.domain.models import (
    CONSENT_CHANGES,
    Cause,
    ChangeMessage,
    ChangeType,
    PersonView,
    Recipient,
    Subscriber,
    Verdict,
)

# The stop reason of a person merged into one the subscriber does not receive, and
# of a record whose processing is restricted (Art. 18) in the profile.
MERGED_AWAY = "MERGED"
RESTRICTED = "PROCESSING_RESTRICTED"


@dataclass(frozen=True)
class Facts:
    """What is true now, and what was sent, for the persons of one pass."""

    views: dict[str, PersonView | None]  # asked id -> golden record; None: erased/unknown
    subscribers: Sequence[Subscriber]
    verdicts: dict[tuple[str, str], Verdict]  # (subscriber id, person id) of live persons
    states: dict[str, dict[str, str]]  # person id -> digests of the values last sent
    recipients: dict[tuple[str, str], Recipient]  # (subscriber id, person id)


@dataclass
class Plan:
    messages: list[ChangeMessage] = field(default_factory=list)
    states: dict[str, dict[str, str] | None] = field(default_factory=dict)  # None: forget
    recipients: dict[tuple[str, str], Recipient] = field(default_factory=dict)


def persons_of(causes: Sequence[Cause]) -> list[str]:
    """The ids a pass must look at, in the order heard, each once."""
    ids: dict[str, None] = {}
    for cause in causes:
        ids[cause.person_id] = None
        if cause.other_id:
            ids[cause.other_id] = None
    return list(ids)


class _Planner:
    def __init__(self, facts: Facts, now: datetime, new_id: Callable[[], str]) -> None:
        self.facts = facts
        self.now = now
        self.new_id = new_id
        self.plan = Plan()

    def recipient(self, subscriber: Subscriber, person_id: str) -> Recipient:
        key = (subscriber.id, person_id)
        if key not in self.plan.recipients:
            known = self.facts.recipients.get(key)
            self.plan.recipients[key] = (
                Recipient(**vars(known)) if known else Recipient(subscriber.id, person_id)
            )
        return self.plan.recipients[key]

    def send(
        self, subscriber: Subscriber, person_id: str, type_: ChangeType, data: dict[str, Any]
    ) -> None:
        recipient = self.recipient(subscriber, person_id)
        recipient.sequence += 1
        recipient.last_sent_at = self.now
        self.plan.messages.append(
            ChangeMessage(
                id=self.new_id(),
                subscriber_id=subscriber.id,
                purpose=subscriber.purpose,
                person_id=person_id,
                type=type_,
                sequence=recipient.sequence,
                time=self.now,
                data=data,
            )
        )

    def receiving(self, subscriber: Subscriber, person_id: str) -> bool:
        return self.recipient(subscriber, person_id).receiving

    # --- the steps of a pass, in the order a consumer must apply them ----------------

    def consent(self, cause: Cause, live: set[str]) -> None:
        type_ = CONSENT_CHANGES.get(cause.change or "")
        person = self.facts.views.get(cause.person_id)
        if type_ is None or person is None or person.id not in live:
            return
        for subscriber in self.facts.subscribers:
            verdict = self.facts.verdicts.get((subscriber.id, person.id))
            if cause.purpose and subscriber.purpose != cause.purpose:
                continue
            # An objection to all direct marketing names no purpose: it is news for the
            # subscribers whose purpose it stops.
            if not cause.purpose and not (verdict and verdict.reason == "OBJECTED"):
                continue
            if self.receiving(subscriber, person.id) or (verdict and verdict.allowed):
                data = {"personId": person.id, "purpose": subscriber.purpose}
                if cause.channel:
                    data["channel"] = cause.channel
                self.send(subscriber, person.id, type_, data)

    def unmerged(self, cause: Cause) -> None:
        if not cause.other_id:
            return
        for subscriber in self.facts.subscribers:
            if self.receiving(subscriber, cause.person_id):
                data = {"survivorId": cause.person_id, "restoredId": cause.other_id}
                self.send(subscriber, cause.person_id, ChangeType.PERSON_UNMERGED, data)

    def live(self, person: PersonView) -> None:
        before = self.facts.states.get(person.id, {})
        now = categories.fingerprints(person.attributes)
        changed = categories.changed(before, now)
        for subscriber in self.facts.subscribers:
            verdict = self.facts.verdicts.get((subscriber.id, person.id), Verdict(False, "?"))
            if person.restricted:
                verdict = Verdict(False, RESTRICTED)
            recipient = self.recipient(subscriber, person.id)
            if verdict.allowed and not recipient.receiving:
                values = categories.shared(person.attributes, subscriber.categories)
                self.send(
                    subscriber,
                    person.id,
                    ChangeType.PERSON_CREATED,
                    {"personId": person.id, "attributes": values},
                )
                recipient.receiving = True
                recipient.first_sent_at = recipient.first_sent_at or self.now
                recipient.stopped_at = recipient.stop_reason = None
            elif verdict.allowed:
                names = [a for a in categories.attributes_of(subscriber.categories) if a in changed]
                if names:
                    values = {name: person.attributes.get(name) for name in names}
                    data = {"personId": person.id, "changed": values}
                    self.send(subscriber, person.id, ChangeType.PERSON_UPDATED, data)
            elif recipient.receiving:
                self.stop(subscriber, person.id, verdict.reason)
        if before != now:
            self.plan.states[person.id] = now

    def stop(self, subscriber: Subscriber, person_id: str, reason: str) -> None:
        data = {"personId": person_id, "purpose": subscriber.purpose, "reason": reason}
        self.send(subscriber, person_id, ChangeType.PERSON_STOPPED, data)
        recipient = self.recipient(subscriber, person_id)
        recipient.receiving = False
        recipient.stopped_at = self.now
        recipient.stop_reason = reason

    def merged_away(self, merged_id: str, survivor_id: str) -> None:
        for subscriber in self.facts.subscribers:
            if not self.receiving(subscriber, merged_id):
                continue
            if self.receiving(subscriber, survivor_id):
                data = {"survivorId": survivor_id, "mergedId": merged_id}
                self.send(subscriber, merged_id, ChangeType.PERSON_MERGED, data)
                recipient = self.recipient(subscriber, merged_id)
                recipient.receiving = False
                recipient.stopped_at = self.now
                recipient.stop_reason = MERGED_AWAY
            else:
                self.stop(subscriber, merged_id, MERGED_AWAY)
        if merged_id in self.facts.states:
            self.plan.states[merged_id] = None

    def gone(self, person_id: str) -> None:
        """Erased (or never known): every subscriber that ever received the person is
        told, once (Art. 19), whether it still receives them or not."""
        for subscriber in self.facts.subscribers:
            recipient = self.recipient(subscriber, person_id)
            if recipient.ever_sent and recipient.erasure_notified_at is None:
                data = {"personId": person_id}
                self.send(subscriber, person_id, ChangeType.PERSON_ERASED, data)
                recipient.receiving = False
                recipient.erasure_notified_at = self.now
        if person_id in self.facts.states:
            self.plan.states[person_id] = None


def plan(
    causes: Sequence[Cause],
    facts: Facts,
    *,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Plan:
    """The messages of one pass, and what the subscribers hold afterwards."""
    planner = _Planner(facts, now, new_id)
    asked = persons_of(causes)
    live = [facts.views[i] for i in asked if facts.views.get(i) is not None]
    survivors = list({v.id: v for v in live if v is not None}.values())
    live_ids = {v.id for v in survivors}
    for cause in causes:
        if cause.kind == "CONSENT":
            planner.consent(cause, live_ids)
        elif cause.kind == "UNMERGED":
            planner.unmerged(cause)
    for person in survivors:
        planner.live(person)
    for person_id in asked:
        view = facts.views.get(person_id)
        if view is None:
            planner.gone(person_id)
        elif view.id != person_id:
            planner.merged_away(person_id, view.id)
    planner.plan.recipients = {
        key: r
        for key, r in planner.plan.recipients.items()
        if r != facts.recipients.get(key, Recipient(*key))
    }
    return planner.plan
