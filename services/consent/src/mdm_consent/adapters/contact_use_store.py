"""Cypher for contact uses (UWG §7a proof):

    (:ContactUse {id, personId, askedFor, purpose, channel, usedAt, campaign, allowed,
                  reason, legalBasis, decidingEventId, decidingEventType,
                  optOutNoticeIncluded, compliance, recordedAt, recordedBy})

Uses are appended, never changed; like consent events they hold ids and codes, no
personal data besides the person's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.contact_uses import Compliance, ContactUse
from mdm_consent.domain.models import Channel, EventType, LegalBasis
from mdm_consent.domain.rules import Reason

CONTACT_USE = "ContactUse"

SCHEMA = (
    f"CREATE CONSTRAINT contact_use_id IF NOT EXISTS FOR (u:{CONTACT_USE}) REQUIRE u.id IS UNIQUE",
    f"CREATE INDEX contact_use_person IF NOT EXISTS FOR (u:{CONTACT_USE}) ON (u.personId)",
)


def _use(p: dict[str, Any]) -> ContactUse:
    deciding_type = p.get("decidingEventType")
    basis = p.get("legalBasis")
    return ContactUse(
        id=p["id"],
        person_id=p["personId"],
        asked_for=p["askedFor"],
        purpose=p["purpose"],
        channel=Channel(p["channel"]),
        used_at=as_utc(p["usedAt"]),
        campaign=p["campaign"],
        allowed=bool(p["allowed"]),
        reason=Reason(p["reason"]),
        legal_basis=LegalBasis(basis) if basis else None,
        deciding_event_id=p.get("decidingEventId"),
        deciding_event_type=EventType(deciding_type) if deciding_type else None,
        opt_out_notice_included=p.get("optOutNoticeIncluded"),
        compliance=Compliance(p["compliance"]),
        recorded_at=as_utc(p["recordedAt"]),
        recorded_by=p["recordedBy"],
    )


class GraphContactUseStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, use: ContactUse) -> None:
        await self._tx.run(
            "contact_uses.add",
            f"CREATE (u:{CONTACT_USE} {{id: $id}}) SET u += $props",
            id=use.id,
            props={
                "personId": use.person_id,
                "askedFor": use.asked_for,
                "purpose": use.purpose,
                "channel": use.channel.value,
                "usedAt": use.used_at,
                "campaign": use.campaign,
                "allowed": use.allowed,
                "reason": use.reason.value,
                "legalBasis": use.legal_basis.value if use.legal_basis else None,
                "decidingEventId": use.deciding_event_id,
                "decidingEventType": (
                    use.deciding_event_type.value if use.deciding_event_type else None
                ),
                "optOutNoticeIncluded": use.opt_out_notice_included,
                "compliance": use.compliance.value,
                "recordedAt": use.recorded_at,
                "recordedBy": use.recorded_by,
            },
        )

    async def of_persons(
        self, person_ids: Sequence[str], *, limit: int | None = None
    ) -> list[ContactUse]:
        rows = await self._tx.run(
            "contact_uses.of_persons",
            f"UNWIND $ids AS pid MATCH (u:{CONTACT_USE} {{personId: pid}}) "
            "RETURN u {.*} AS u ORDER BY u.usedAt DESC, u.id "
            + ("LIMIT $limit" if limit is not None else ""),
            ids=list(dict.fromkeys(person_ids)),
            limit=limit,
        )
        return [_use(row["u"]) for row in rows]
