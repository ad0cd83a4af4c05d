"""Cypher for the record of processing: the controller and the purposes' descriptions.

    (:ControllerRecord {key: "<revision>", revision, name, address, ...})
    (:ProcessingDescription {key: "<purpose>|<revision>", purpose, revision, ...})

Every change is a new node: the latest revision is the record in force, the older
ones show it as it stood. The unique key keeps two concurrent changes from taking
the same revision (the unit of work runs the second again, which then reads the first).
"""

from __future__ import annotations

import json
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.processing import (
    Controller,
    DataSubjectCategory,
    ProcessingDescription,
    Recipient,
    RecipientKind,
    Safeguard,
    Transfer,
)

CONTROLLER = "ControllerRecord"
DESCRIPTION = "ProcessingDescription"

SCHEMA = (
    f"CREATE CONSTRAINT controller_record_key IF NOT EXISTS "
    f"FOR (c:{CONTROLLER}) REQUIRE c.key IS UNIQUE",
    f"CREATE CONSTRAINT processing_description_key IF NOT EXISTS "
    f"FOR (d:{DESCRIPTION}) REQUIRE d.key IS UNIQUE",
)


class GraphProcessingStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def controller(self) -> Controller | None:
        rows = await self._tx.run(
            "processing.controller",
            f"MATCH (c:{CONTROLLER}) RETURN c {{.*}} AS c ORDER BY c.revision DESC LIMIT 1",
        )
        return _controller(rows[0]["c"]) if rows else None

    async def add_controller(self, controller: Controller) -> bool:
        rows = await self._tx.run(
            "processing.add_controller",
            f"CREATE (c:{CONTROLLER} {{key: $key}}) SET c += $props RETURN c.key AS key",
            key=str(controller.revision),
            props={
                "revision": controller.revision,
                "name": controller.name,
                "address": controller.address,
                "email": controller.email,
                "securityMeasuresRef": controller.security_measures_ref,
                "representative": controller.representative,
                "dpoName": controller.dpo_name,
                "dpoEmail": controller.dpo_email,
                "changedAt": controller.changed_at,
                "changedBy": controller.changed_by,
                "reason": controller.reason,
            },
        )
        return bool(rows)

    async def description(self, purpose: str) -> ProcessingDescription | None:
        rows = await self._tx.run(
            "processing.description",
            f"MATCH (d:{DESCRIPTION} {{purpose: $purpose}}) "
            "RETURN d {.*} AS d ORDER BY d.revision DESC LIMIT 1",
            purpose=purpose,
        )
        return _description(rows[0]["d"]) if rows else None

    async def descriptions(self) -> dict[str, ProcessingDescription]:
        """The latest description of every described purpose."""
        rows = await self._tx.run(
            "processing.descriptions",
            f"MATCH (d:{DESCRIPTION}) RETURN d {{.*}} AS d ORDER BY d.purpose, d.revision",
        )
        return {r["d"]["purpose"]: _description(r["d"]) for r in rows}

    async def add_description(self, description: ProcessingDescription) -> bool:
        rows = await self._tx.run(
            "processing.add_description",
            f"CREATE (d:{DESCRIPTION} {{key: $key}}) SET d += $props RETURN d.key AS key",
            key=f"{description.purpose}|{description.revision}",
            props={
                "purpose": description.purpose,
                "revision": description.revision,
                "dataSubjectCategories": [c.value for c in description.data_subject_categories],
                "recipients": json.dumps(
                    [[r.name, r.kind.value, r.country] for r in description.recipients]
                ),
                "transfers": json.dumps(
                    [
                        [t.country, t.recipient, t.safeguard.value, t.document_ref]
                        for t in description.transfers
                    ]
                ),
                "changedAt": description.changed_at,
                "changedBy": description.changed_by,
                "reason": description.reason,
            },
        )
        return bool(rows)


def _controller(c: dict[str, Any]) -> Controller:
    return Controller(
        name=c["name"],
        address=c["address"],
        email=c["email"],
        security_measures_ref=c["securityMeasuresRef"],
        representative=c.get("representative"),
        dpo_name=c.get("dpoName"),
        dpo_email=c.get("dpoEmail"),
        revision=int(c["revision"]),
        changed_at=as_utc(c["changedAt"]),
        changed_by=c.get("changedBy"),
        reason=c.get("reason"),
    )


def _description(d: dict[str, Any]) -> ProcessingDescription:
    return ProcessingDescription(
        purpose=d["purpose"],
        data_subject_categories=tuple(
            DataSubjectCategory(c) for c in d.get("dataSubjectCategories") or ()
        ),
        recipients=tuple(
            Recipient(name, RecipientKind(kind), country)
            for name, kind, country in json.loads(d.get("recipients") or "[]")
        ),
        transfers=tuple(
            Transfer(country, recipient, Safeguard(safeguard), ref)
            for country, recipient, safeguard, ref in json.loads(d.get("transfers") or "[]")
        ),
        revision=int(d["revision"]),
        changed_at=as_utc(d["changedAt"]),
        changed_by=d.get("changedBy"),
        reason=d.get("reason"),
    )
