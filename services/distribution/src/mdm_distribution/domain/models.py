"""What the distribution service knows: subscribers, what each was sent, change messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Delivery(StrEnum):
    STREAM = "STREAM"  # the subscriber reads its Redis stream itself (consumer groups)
    WEBHOOK = "WEBHOOK"  # the platform posts each event to the subscriber's URL


class ChangeType(StrEnum):
    """The CloudEvents ``type`` of each change a subscriber is told of."""

    PERSON_CREATED = "mdm.person.created"  # data: personId, attributes (a full record)
    PERSON_UPDATED = "mdm.person.updated"  # data: personId, changed (null: value removed)
    PERSON_MERGED = "mdm.person.merged"  # data: survivorId, mergedId
    PERSON_UNMERGED = "mdm.person.unmerged"  # data: survivorId, restoredId
    PERSON_ERASED = "mdm.person.erased"  # data: personId; delete everything held on them
    # The subscriber's purpose lapsed for the person: stop processing, delete the data.
    PERSON_STOPPED = "mdm.person.stopped"  # data: personId, purpose, reason
    CONSENT_GRANTED = "mdm.consent.granted"  # data: personId, purpose, channel
    CONSENT_WITHDRAWN = "mdm.consent.withdrawn"
    CONSENT_OBJECTED = "mdm.consent.objected"
    CONSENT_EXPIRED = "mdm.consent.expired"


# The consent event types (consent service) that are news for a subscriber of the
# purpose; the others (a pending double opt-in, a sale, evidence) may change what the
# subscriber receives, but are not told themselves.
CONSENT_CHANGES = {
    "GRANTED": ChangeType.CONSENT_GRANTED,
    "CONFIRMED": ChangeType.CONSENT_GRANTED,
    "WITHDRAWN": ChangeType.CONSENT_WITHDRAWN,
    "OBJECTED": ChangeType.CONSENT_OBJECTED,
    "EXPIRED": ChangeType.CONSENT_EXPIRED,
}


@dataclass(frozen=True)
class Subscriber:
    """A downstream system, registered for one processing purpose over one channel
    and the data categories it needs (a subset of the purpose's)."""

    id: str
    name: str
    purpose: str
    channel: str
    categories: tuple[str, ...]
    delivery: Delivery
    created_at: datetime
    webhook_url: str | None = None
    paused: bool = False
    paused_at: datetime | None = None
    secret_rotated_at: datetime | None = None
    removed_at: datetime | None = None  # removed: told nothing more, kept for the record


@dataclass(frozen=True)
class SubscriberSecrets:
    """A webhook subscriber's signing secrets: the current one, and the one before it
    while the rotation's overlap lasts."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None
    paused: bool = False  # the subscriber's pushes are paused (read with the secrets)

    def signing(self, now: datetime) -> list[str]:
        if self.previous and self.previous_until and now < self.previous_until:
            return [self.current, self.previous]
        return [self.current]


@dataclass(frozen=True)
class PersonView:
    """A golden record as the profile service answers for an id asked: ``id`` is the
    survivor's when the asked id was merged away."""

    id: str
    attributes: dict[str, Any]
    restricted: bool = False


@dataclass(frozen=True)
class Verdict:
    """The contact check's answer for one person, purpose and channel."""

    allowed: bool
    reason: str


@dataclass
class Recipient:
    """What one subscriber was sent about one person: the record of Art. 19."""

    subscriber_id: str
    person_id: str
    receiving: bool = False
    sequence: int = 0  # of the last message to this subscriber on this person
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    erasure_notified_at: datetime | None = None

    @property
    def ever_sent(self) -> bool:
        return self.first_sent_at is not None


@dataclass(frozen=True)
class Cause:
    """Why a person is distributed again: the event heard (its fields are ids)."""

    kind: str  # CHANGED, MERGED, UNMERGED, ERASED, RESTRICTED, CONSENT
    person_id: str
    other_id: str | None = None  # MERGED: the merged id; UNMERGED: the restored id
    purpose: str | None = None  # CONSENT
    channel: str | None = None  # CONSENT
    change: str | None = None  # CONSENT: the consent event's type


@dataclass(frozen=True)
class ChangeMessage:
    """One message to one subscriber's stream, in the order they were decided."""

    id: str
    subscriber_id: str
    purpose: str  # the subscriber's
    person_id: str
    type: ChangeType
    sequence: int
    time: datetime
    data: dict[str, Any] = field(default_factory=dict)
