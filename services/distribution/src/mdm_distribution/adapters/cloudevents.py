"""Change messages as CloudEvents 1.0, JSON (structured mode), with the SDK.

``subject`` is the person's id; ``sequence`` (the CloudEvents sequence extension)
numbers one subscriber's messages on one person, zero-padded so that it orders as
text too; ``purpose`` names the subscriber's purpose.
"""

from __future__ import annotations

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from mdm_distribution.domain.models import ChangeMessage, ChangeType

SEQUENCE_DIGITS = 12
CONTENT_TYPE = "application/cloudevents+json"
_FORMAT = JSONFormat()
_CONSENT = {
    ChangeType.CONSENT_GRANTED,
    ChangeType.CONSENT_WITHDRAWN,
    ChangeType.CONSENT_OBJECTED,
    ChangeType.CONSENT_EXPIRED,
}


def source_of(type_: ChangeType) -> str:
    return "/mdm/consent" if type_ in _CONSENT else "/mdm/profile"


def encode(message: ChangeMessage) -> bytes:
    event = CloudEvent(
        {
            "id": message.id,
            "source": source_of(message.type),
            "type": message.type.value,
            "subject": message.person_id,
            "time": message.time,
            "datacontenttype": "application/json",
            "sequence": str(message.sequence).zfill(SEQUENCE_DIGITS),
            "purpose": message.purpose,
        },
        message.data,
    )
    return _FORMAT.write(event)


def decode(body: bytes) -> BaseCloudEvent:
    return _FORMAT.read(CloudEvent, body)
