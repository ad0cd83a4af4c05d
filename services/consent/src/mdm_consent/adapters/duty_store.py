"""Cypher for retention duties (master data):

(:RetentionDuty {code, name, legalReference, sourceSystems, dataCategories,
                 periodYears, starts, registeredAt, registeredBy})
"""

from __future__ import annotations

from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.legal_holds import LegalReference, PeriodStart, RetentionDuty

DUTY = "RetentionDuty"

SCHEMA = (
    f"CREATE CONSTRAINT retention_duty_code IF NOT EXISTS FOR (d:{DUTY}) REQUIRE d.code IS UNIQUE",
)


def _duty(p: dict[str, Any]) -> RetentionDuty:
    return RetentionDuty(
        code=p["code"],
        name=p["name"],
        legal_reference=LegalReference(p["legalReference"]),
        source_systems=tuple(p.get("sourceSystems") or ()),
        data_categories=tuple(p.get("dataCategories") or ()),
        period_years=int(p["periodYears"]),
        starts=PeriodStart(p["starts"]),
        registered_at=as_utc(p["registeredAt"]),
        registered_by=p["registeredBy"],
    )


class GraphDutyStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def create(self, duty: RetentionDuty) -> bool:
        taken = await self._tx.run(
            "duties.exists",
            f"MATCH (d:{DUTY} {{code: $code}}) RETURN d.code AS code",
            code=duty.code,
        )
        if taken:
            return False
        # Two concurrent registrations of one code: the unique constraint refuses one.
        await self._tx.run(
            "duties.create",
            f"CREATE (d:{DUTY} {{code: $code}}) SET d += $props",
            code=duty.code,
            props={
                "name": duty.name,
                "legalReference": duty.legal_reference.value,
                "sourceSystems": list(duty.source_systems),
                "dataCategories": list(duty.data_categories),
                "periodYears": duty.period_years,
                "starts": duty.starts.value,
                "registeredAt": duty.registered_at,
                "registeredBy": duty.registered_by,
            },
        )
        return True

    async def all(self) -> list[RetentionDuty]:
        rows = await self._tx.run(
            "duties.all", f"MATCH (d:{DUTY}) RETURN d {{.*}} AS d ORDER BY d.code"
        )
        return [_duty(row["d"]) for row in rows]
