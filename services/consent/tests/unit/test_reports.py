"""The printable history document (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from mdm_consent.domain.models import (
    ActorType,
    Channel,
    ConsentEvent,
    EventType,
    LegalBasis,
    Method,
    NoticeVersion,
    Purpose,
)
from mdm_consent.domain.reports import render_history

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEXT = "Ja, ich möchte ``Angebote`` erhalten.\n```\nWiderruf jederzeit."
NOTICE = NoticeVersion("offers", 1, "de", NoticeVersion.hash_of(TEXT), False, NOW, "o", TEXT)
PURPOSE = Purpose(
    code="offers", name="Offers, \"special\"", description="By e-mail;\nand post",
    legal_basis=LegalBasis.CONSENT, channels=(Channel.EMAIL, Channel.POST),
    data_categories=("identity", "email"), retention_days=730, direct_marketing=True,
    consent_validity_days=None, created_at=NOW, created_by="o", notices=(NOTICE,),
)  # fmt: skip


def _event(id_: str, person: str, type_: EventType, hour: int) -> ConsentEvent:
    return ConsentEvent(
        id=id_, person_id=person, type=type_, occurred_at=NOW.replace(hour=hour),
        recorded_at=NOW, recorded_by="crm", collection_point="shop", method=Method.WEB_FORM,
        actor=ActorType.DATA_SUBJECT, purpose="offers", channel=Channel.EMAIL,
        notice_version=1 if type_ is EventType.GRANTED else None,
        notice_sha256=NOTICE.sha256 if type_ is EventType.GRANTED else None, language="de",
        evidence_ref="sub-1",
    )  # fmt: skip


class TestHistoryDocument:
    def test_events_in_time_order_and_each_notice_text_once(self) -> None:
        events = [
            _event("e2", "p", EventType.WITHDRAWN, 11),
            _event("e1", "p", EventType.GRANTED, 10),
            _event("e3", "q", EventType.GRANTED, 12),
        ]
        text = render_history("p", events, {"offers": PURPOSE}, reader="officer-7", now=NOW)
        assert text.index("1. GRANTED") < text.index("2. WITHDRAWN") < text.index("3. GRANTED")
        assert "by officer-7" in text
        assert "merged persons: q" in text
        assert text.count(TEXT) == 1
        assert f"SHA-256: {NOTICE.sha256} (matches" in text
        assert "````text\n" in text  # the fence is longer than any backtick run in the text
