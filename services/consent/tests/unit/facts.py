"""Purposes and facts for the contact-check rule tests (plain values, no servers)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mdm_consent.domain.models import (
    ActorType,
    Channel,
    EventType,
    Fact,
    LegalBasis,
    Method,
    NoticeVersion,
    Purpose,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_ids = itertools.count()


def notice(version: int, *, material: bool = False, at: datetime = T0) -> NoticeVersion:
    return NoticeVersion(purpose="newsletter", version=version, language="de", sha256="x",
                         material=material, published_at=at, published_by="o")  # fmt: skip


NEWSLETTER = Purpose(
    code="newsletter", name="Newsletter", description="d", legal_basis=LegalBasis.CONSENT,
    channels=(Channel.EMAIL, Channel.PHONE, Channel.SMS), data_categories=("identity", "email"),
    retention_days=730, direct_marketing=True, consent_validity_days=None, created_at=T0,
    created_by="o", notices=(notice(1),),
)  # fmt: skip
CUSTOMER_MAIL = replace(
    NEWSLETTER, code="customer-mail", legal_basis=LegalBasis.LEGITIMATE_INTEREST,
    channels=(Channel.EMAIL, Channel.PHONE, Channel.POST), product_categories=("shoes", "bags"),
)  # fmt: skip


def fact(
    type_: EventType, minutes: float = 0, *, purpose: str | None = "newsletter",
    channel: Channel | None = Channel.EMAIL, **values: object,
) -> Fact:  # fmt: skip
    defaults: dict[str, object] = {"notice_version": 1, "method": Method.WEB_FORM,
                                   "actor": ActorType.DATA_SUBJECT}  # fmt: skip
    if type_ is EventType.SALE_RECORDED:  # a sale of goods CUSTOMER_MAIL advertises
        defaults["product_category"] = "shoes"
    return Fact(
        id=f"e{next(_ids)}", type=type_, occurred_at=T0 + timedelta(minutes=minutes),
        purpose=purpose, channel=channel, **(defaults | values),  # type: ignore[arg-type]
    )  # fmt: skip


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)
