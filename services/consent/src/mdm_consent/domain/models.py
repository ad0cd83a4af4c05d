"""Consent events (the foundation slice: granted or withdrawn, per purpose and channel).

The history is append-only: a change of mind is a new event, never an update.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mdm_common.errors import InvalidInput

_PURPOSE_CODE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_PERSON_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_SOURCE_LENGTH = 200


class ConsentStatus(StrEnum):
    GRANTED = "GRANTED"
    WITHDRAWN = "WITHDRAWN"


class Channel(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    SMS = "SMS"
    POST = "POST"
    WEB = "WEB"


@dataclass(frozen=True)
class ConsentEvent:
    id: str
    person_id: str
    purpose: str
    status: ConsentStatus
    channel: Channel
    source: str
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class ConsentDraft:
    person_id: str
    purpose: str
    status: ConsentStatus
    channel: Channel
    source: str

    def to_event(self, *, now: datetime, recorded_by: str) -> ConsentEvent:
        if not _PERSON_ID.match(self.person_id):
            raise InvalidInput("personId is not a person id.", field="personId")
        if not _PURPOSE_CODE.match(self.purpose):
            raise InvalidInput(
                "purpose must be a code of 2-64 lower-case letters, digits, '_', '.', '-'.",
                field="purpose",
            )
        source = self.source.strip()
        if not source or len(source) > MAX_SOURCE_LENGTH:
            raise InvalidInput(
                f"source (the collection point) needs 1-{MAX_SOURCE_LENGTH} characters.",
                field="source",
            )
        return ConsentEvent(
            id=str(uuid.uuid4()),
            person_id=self.person_id,
            purpose=self.purpose,
            status=self.status,
            channel=self.channel,
            source=source,
            recorded_at=now,
            recorded_by=recorded_by,
        )
