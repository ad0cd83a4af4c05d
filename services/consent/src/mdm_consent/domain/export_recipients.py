"""The recipients an access export names (GDPR Art. 15(1)(c)) and the transfers to
third countries with their safeguards (Art. 15(2)).

By category: the source systems the person's records came from, the recipients the
record of processing names for the purposes that apply to the person (Art. 30(1)(d),
(e); purposes not described yet are named as such), who read the person's consent
records (the read audit), and the change stream's subscribers that were sent the
person's data (the distribution service's record, Art. 19). Nothing is invented: what
the platform does not know is said to be unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from mdm_common.contracts import PersonalDataItem
from mdm_consent.domain.processing import ProcessingDescription

if TYPE_CHECKING:
    from mdm_consent.domain.fulfilment import Held

PROFILE = "profile"
CONSENT = "consent"
DISTRIBUTION = "distribution"
CHANGE_STREAM = (
    "The systems subscribed to the platform's change stream that were sent the person's "
    "data: for which purpose and data categories, when first and last, when told to stop "
    "processing and why, and when told of an erasure."
)


class RecipientCategory(StrEnum):
    SOURCE_SYSTEMS = "SOURCE_SYSTEMS"
    PURPOSE_RECIPIENTS = "PURPOSE_RECIPIENTS"
    CONSENT_RECORD_READERS = "CONSENT_RECORD_READERS"
    CHANGE_STREAM_SUBSCRIBERS = "CHANGE_STREAM_SUBSCRIBERS"


@dataclass(frozen=True)
class Reader:
    reader: str
    roles: tuple[str, ...]
    operations: tuple[str, ...]
    reads: int
    last_read_at: datetime | None


@dataclass(frozen=True)
class StreamSubscriber:
    """A subscriber of the change stream the person's data was sent to (its record as
    the distribution service keeps it, JSON)."""

    name: str
    record: dict[str, Any]


@dataclass(frozen=True)
class PurposeRecipient:
    """A recipient the record of processing names, with the purposes it receives for."""

    name: str
    kind: str
    country: str
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class ThirdCountryTransfer:
    country: str
    recipient: str
    safeguard: str
    document_ref: str
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class Recipients:
    """Art. 15(1)(c): to whom the data is disclosed, by category; Art. 15(2): transfers."""

    source_systems: tuple[str, ...]
    readers: tuple[Reader, ...]
    purpose_recipients: tuple[PurposeRecipient, ...] = ()
    # Purposes that apply to the person but whose processing is not described yet.
    undescribed: tuple[str, ...] = ()
    transfers: tuple[ThirdCountryTransfer, ...] = ()
    subscribers: tuple[StreamSubscriber, ...] = ()

    def document(self) -> list[dict[str, Any]]:
        return [
            {
                "category": RecipientCategory.SOURCE_SYSTEMS.value,
                "description": "The source systems the person's records came from; they "
                "exchange the person's data with the platform.",
                "recipients": list(self.source_systems),
            },
            {
                "category": RecipientCategory.PURPOSE_RECIPIENTS.value,
                "description": "Recipients of the purposes the person's data is processed "
                "for, as the record of processing names them.",
                "recipients": [
                    {
                        "name": r.name,
                        "kind": r.kind,
                        "country": r.country,
                        "purposes": list(r.purposes),
                    }
                    for r in self.purpose_recipients
                ],
                "purposesNotDescribed": list(self.undescribed),
            },
            {
                "category": RecipientCategory.CONSENT_RECORD_READERS.value,
                "description": "Who read the person's consent records (the read audit).",
                "recipients": [
                    {
                        "reader": r.reader,
                        "roles": list(r.roles),
                        "operations": list(r.operations),
                        "reads": r.reads,
                        "lastReadAt": r.last_read_at.isoformat() if r.last_read_at else None,
                    }
                    for r in self.readers
                ],
            },
            {
                "category": RecipientCategory.CHANGE_STREAM_SUBSCRIBERS.value,
                "description": CHANGE_STREAM,
                "recipients": [{"name": s.name} | s.record for s in self.subscribers],
            },
        ]

    def transfers_document(self) -> list[dict[str, Any]]:
        return [
            {
                "country": t.country,
                "recipient": t.recipient,
                "safeguard": t.safeguard,
                "documentRef": t.document_ref,
                "purposes": list(t.purposes),
            }
            for t in self.transfers
        ]


def recipients(
    items: Iterable[Held],
    *,
    purposes: Sequence[str] = (),
    described: Mapping[str, ProcessingDescription] | None = None,
) -> Recipients:
    """From the items (source systems, read audit) and, for the ``purposes`` that bind
    the person's data, their descriptions in the record of processing."""
    systems: set[str] = set()
    reads: dict[str, list[PersonalDataItem]] = {}
    subscribers: list[StreamSubscriber] = []
    for held in items:
        item = held.item
        if held.service == DISTRIBUTION and item.origin == "recipient":
            subscribers.append(StreamSubscriber(item.field, _json(item.value)))
        if held.service == PROFILE and item.origin in ("sourceRecord", "golden") and item.source:
            systems.add(item.source)
        if held.service == CONSENT and item.origin == "readAudit":
            reader = str(_json(item.value).get("reader", ""))
            reads.setdefault(reader, []).append(item)
    described = described or {}
    given, moved = _described(sorted(set(purposes)), described)
    return Recipients(
        tuple(sorted(systems)),
        tuple(_reader(reader, seen) for reader, seen in sorted(reads.items())),
        purpose_recipients=given,
        undescribed=tuple(sorted(p for p in set(purposes) if p not in described)),
        transfers=moved,
        subscribers=tuple(sorted(subscribers, key=lambda s: (s.name, str(s.record)))),
    )


def _reader(reader: str, seen: list[PersonalDataItem]) -> Reader:
    # One read audit entry may name several ids of the group: count it once.
    entries = {i.source_id or id(i): i for i in seen}.values()
    roles = sorted({r for i in entries for r in _json(i.value).get("roles", [])})
    times = [i.recorded_at for i in entries if i.recorded_at is not None]
    operations = tuple(sorted({i.field for i in entries}))
    return Reader(reader, tuple(roles), operations, len(entries), max(times, default=None))


def _described(
    purposes: Sequence[str], described: Mapping[str, ProcessingDescription]
) -> tuple[tuple[PurposeRecipient, ...], tuple[ThirdCountryTransfer, ...]]:
    given: dict[tuple[str, str, str], list[str]] = {}
    moved: dict[tuple[str, str, str, str], list[str]] = {}
    for code in purposes:
        description = described.get(code)
        if description is None:
            continue
        for r in description.recipients:
            given.setdefault((r.name, r.kind.value, r.country), []).append(code)
        for t in description.transfers:
            key = (t.country, t.recipient, t.safeguard.value, t.document_ref)
            moved.setdefault(key, []).append(code)
    return (
        tuple(PurposeRecipient(*key, tuple(codes)) for key, codes in sorted(given.items())),
        tuple(ThirdCountryTransfer(*key, tuple(codes)) for key, codes in sorted(moved.items())),
    )


def _json(value: str) -> dict[str, Any]:
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
