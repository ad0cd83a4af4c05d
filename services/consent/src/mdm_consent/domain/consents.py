"""Use cases on consent. Runs inside a transaction the caller owns; never commits."""

from __future__ import annotations

from datetime import datetime

from mdm_consent.domain.models import ConsentDraft, ConsentEvent
from mdm_consent.domain.ports import ConsentStore


async def record_consent(
    draft: ConsentDraft, *, consents: ConsentStore, now: datetime, recorded_by: str
) -> ConsentEvent:
    event = draft.to_event(now=now, recorded_by=recorded_by)
    await consents.append(event)
    return event
