"""Cypher for the purpose registry.

    (:Purpose {code, name, legalBasis, channels, ...})-[:HAS_NOTICE]->(:PurposeNotice {key})

A notice version's key is ``"<code>|<version>"``; its uniqueness keeps two
concurrent publications from taking the same version number.
"""

from __future__ import annotations

import json
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.domain.models import Channel, LegalBasis, NoticeVersion, Purpose
from mdm_consent.domain.purposes import PurposeChange

PURPOSE = "Purpose"
NOTICE = "PurposeNotice"
CHANGE = "PurposeChange"
HAS_NOTICE = "HAS_NOTICE"

SCHEMA = (
    f"CREATE CONSTRAINT purpose_code IF NOT EXISTS FOR (p:{PURPOSE}) REQUIRE p.code IS UNIQUE",
    f"CREATE CONSTRAINT purpose_notice_key IF NOT EXISTS FOR (n:{NOTICE}) REQUIRE n.key IS UNIQUE",
    f"CREATE CONSTRAINT purpose_change_key IF NOT EXISTS FOR (c:{CHANGE}) REQUIRE c.key IS UNIQUE",
)

_NOTICE_FIELDS = ".purpose, .version, .language, .sha256, .material, .publishedAt, .publishedBy"


class GraphPurposeStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def create(self, purpose: Purpose) -> bool:
        taken = await self._tx.run(
            "purpose.exists", f"MATCH (p:{PURPOSE} {{code: $code}}) RETURN p.code AS code",
            code=purpose.code,
        )  # fmt: skip
        if taken:
            return False
        await self._tx.run(
            "purpose.create",
            f"CREATE (p:{PURPOSE} {{code: $code}}) SET p += $props",
            code=purpose.code,
            props={
                "name": purpose.name, "description": purpose.description,
                "legalBasis": purpose.legal_basis.value,
                "channels": [c.value for c in purpose.channels],
                "dataCategories": list(purpose.data_categories),
                "retentionDays": purpose.retention_days,
                "consentValidityDays": purpose.consent_validity_days,
                "directMarketing": purpose.direct_marketing, "createdAt": purpose.created_at,
                "createdBy": purpose.created_by, "revision": 1,
                "productCategories": list(purpose.product_categories),
            },
        )  # fmt: skip
        return True

    async def get(self, code: str, *, texts: bool = False) -> Purpose | None:
        fields = _NOTICE_FIELDS + (", .text" if texts else "")
        rows = await self._tx.run(
            "purpose.get",
            f"MATCH (p:{PURPOSE} {{code: $code}}) "
            f"OPTIONAL MATCH (p)-[:{HAS_NOTICE}]->(n:{NOTICE}) "
            f"RETURN p {{.*}} AS p, collect(n {{{fields}}}) AS notices",
            code=code,
        )
        return _purpose(rows[0]["p"], rows[0]["notices"]) if rows else None

    async def all(self) -> list[Purpose]:
        rows = await self._tx.run(
            "purpose.all",
            f"MATCH (p:{PURPOSE}) OPTIONAL MATCH (p)-[:{HAS_NOTICE}]->(n:{NOTICE}) "
            f"RETURN p {{.*}} AS p, collect(n {{{_NOTICE_FIELDS}, .text}}) AS notices",
        )
        return sorted((_purpose(r["p"], r["notices"]) for r in rows), key=lambda p: p.code)

    async def update(
        self, purpose: Purpose, *, expected_revision: int | None, change: PurposeChange
    ) -> bool:
        rows = await self._tx.run(
            "purpose.update",
            f"MATCH (p:{PURPOSE} {{code: $code}}) "
            "WHERE coalesce(p.revision, 0) = coalesce($expected, 0) "
            "SET p += $props RETURN p.code AS code",
            code=purpose.code, expected=expected_revision,
            props={
                "name": purpose.name, "description": purpose.description,
                "channels": [c.value for c in purpose.channels],
                "dataCategories": list(purpose.data_categories),
                "retentionDays": purpose.retention_days,
                "consentValidityDays": purpose.consent_validity_days,
                "revision": purpose.revision,
                "productCategories": list(purpose.product_categories),
            },
        )  # fmt: skip
        if not rows:
            return False
        await self._tx.run(
            "purpose.change",
            f"CREATE (c:{CHANGE} {{key: $key}}) SET c += $props",
            key=f"{change.purpose}|{change.revision}",
            props={
                "purpose": change.purpose, "revision": change.revision,
                "changedAt": change.changed_at, "changedBy": change.changed_by,
                "reason": change.reason,
                "changes": json.dumps({k: [_plain(b), _plain(a)]
                                       for k, (b, a) in change.changes.items()}),
            },
        )  # fmt: skip
        return True

    async def changes(self, code: str) -> list[PurposeChange]:
        rows = await self._tx.run(
            "purpose.changes",
            f"MATCH (c:{CHANGE} {{purpose: $code}}) RETURN c {{.*}} AS c ORDER BY c.revision",
            code=code,
        )
        return [
            PurposeChange(
                purpose=r["c"]["purpose"], revision=int(r["c"]["revision"]),
                changed_at=as_utc(r["c"]["changedAt"]), changed_by=r["c"]["changedBy"],
                reason=r["c"]["reason"],
                changes={k: (b, a) for k, (b, a) in json.loads(r["c"]["changes"]).items()},
            )
            for r in rows
        ]  # fmt: skip

    async def add_notice(self, notice: NoticeVersion) -> bool:
        rows = await self._tx.run(
            "purpose.add_notice",
            f"MATCH (p:{PURPOSE} {{code: $code}}) "
            f"CREATE (n:{NOTICE} {{key: $key}}) SET n += $props "
            f"CREATE (p)-[:{HAS_NOTICE}]->(n) SET p.revision = coalesce(p.revision, 0) + 1 "
            "RETURN n.key AS key",
            code=notice.purpose, key=f"{notice.purpose}|{notice.version}",
            props={
                "purpose": notice.purpose, "version": notice.version,
                "language": notice.language, "text": notice.text, "sha256": notice.sha256,
                "material": notice.material, "publishedAt": notice.published_at,
                "publishedBy": notice.published_by,
            },
        )  # fmt: skip
        return bool(rows)


def _notice(n: dict[str, Any]) -> NoticeVersion:
    return NoticeVersion(
        purpose=n["purpose"], version=int(n["version"]), language=n["language"],
        sha256=n["sha256"], material=bool(n["material"]),
        published_at=as_utc(n["publishedAt"]), published_by=n["publishedBy"],
        text=n.get("text"),
    )  # fmt: skip


def _purpose(p: dict[str, Any], notices: list[dict[str, Any]]) -> Purpose:
    versions = sorted((_notice(n) for n in notices if n and n.get("version") is not None),
                      key=lambda n: n.version)  # fmt: skip
    validity = p.get("consentValidityDays")
    return Purpose(
        code=p["code"], name=p["name"], description=p["description"],
        legal_basis=LegalBasis(p["legalBasis"]),
        channels=tuple(Channel(c) for c in p["channels"]),
        data_categories=tuple(p["dataCategories"]), retention_days=int(p["retentionDays"]),
        direct_marketing=bool(p["directMarketing"]),
        consent_validity_days=int(validity) if validity is not None else None,
        created_at=as_utc(p["createdAt"]), created_by=p["createdBy"], notices=tuple(versions),
        revision=int(p["revision"]) if p.get("revision") is not None else None,
        # Purposes registered before product categories existed advertise none.
        product_categories=tuple(p.get("productCategories") or ()),
    )  # fmt: skip


def _plain(value: object) -> object:
    """A changed value as JSON: tuples of codes become lists."""
    return list(value) if isinstance(value, tuple) else value
