"""Cypher for companies as matching knows them: their compared values and blocking keys.

    (:CompanySubject {companyId, registeredAt, profileCreatedAt, mergedInto,
                      features (JSON), firstFeatures (JSON), fingerprint, featuresAt,
                      sources})
        -[:COMPANY_BLOCKED_BY]->(:CompanyBlockKey {key, size})
    (:CompanyMatchModel {name: "current", version, parameters (JSON), trainedAt})

Apart from the persons' subjects and keys: a company is never a candidate of a
person, and a company's keys (a register entry, a web domain) say nothing about
persons. Kept under company ids, out of reach of a person's data-subject request (a
sole trader's firm name can be personal data: erasing a company is not built yet).
Labels come from constants; every value is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_matching.domain.engine.companies.features import CompanyRecord
from mdm_matching.domain.engine.companies.model import CompanyParameters
from mdm_matching.domain.models import CompanySubject

COMPANY_SUBJECT = "CompanySubject"
COMPANY_BLOCK_KEY = "CompanyBlockKey"
COMPANY_BLOCKED_BY = "COMPANY_BLOCKED_BY"
COMPANY_MODEL = "CompanyMatchModel"
CURRENT_MODEL = "current"

SCHEMA = (
    f"CREATE CONSTRAINT company_subject_id IF NOT EXISTS "
    f"FOR (s:{COMPANY_SUBJECT}) REQUIRE s.companyId IS UNIQUE",
    f"CREATE CONSTRAINT company_block_key IF NOT EXISTS "
    f"FOR (k:{COMPANY_BLOCK_KEY}) REQUIRE k.key IS UNIQUE",
    f"CREATE CONSTRAINT company_match_model IF NOT EXISTS "
    f"FOR (m:{COMPANY_MODEL}) REQUIRE m.name IS UNIQUE",
)

_FIELDS = (
    "s.companyId AS companyId, s.registeredAt AS registeredAt, s.mergedInto AS mergedInto, "
    "s.featuresAt AS featuresAt, s.profileCreatedAt AS profileCreatedAt, "
    "s.fingerprint AS fingerprint"
)


def _subject_from(row: dict[str, Any]) -> CompanySubject:
    def optional(value: Any) -> datetime | None:
        return as_utc(value) if value is not None else None

    return CompanySubject(
        company_id=row["companyId"],
        registered_at=as_utc(row["registeredAt"]),
        merged_into=row["mergedInto"],
        compared_at=optional(row["featuresAt"]),
        profile_created_at=optional(row["profileCreatedAt"]),
        fingerprint=row["fingerprint"],
    )


class GraphCompanySubjectStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def register(
        self, company_id: str, *, at: datetime, profile_created_at: datetime | None = None
    ) -> CompanySubject:
        """Idempotent: registering twice keeps the first registration."""
        rows = await self._tx.run(
            "company_subject.register",
            f"MERGE (s:{COMPANY_SUBJECT} {{companyId: $companyId}}) "
            "ON CREATE SET s.registeredAt = $at "
            "SET s.profileCreatedAt = coalesce(s.profileCreatedAt, $profileCreatedAt) "
            f"RETURN {_FIELDS}",
            companyId=company_id,
            at=at,
            profileCreatedAt=profile_created_at,
        )
        return _subject_from(rows[0])

    async def get_many(self, company_ids: Sequence[str]) -> dict[str, CompanySubject]:
        rows = await self._tx.run(
            "company_subject.get_many",
            f"MATCH (s:{COMPANY_SUBJECT}) WHERE s.companyId IN $ids RETURN {_FIELDS}",
            ids=list(company_ids),
        )
        return {row["companyId"]: _subject_from(row) for row in rows}

    async def save_features(
        self,
        record: CompanyRecord,
        *,
        keys: Sequence[str],
        fingerprint: str,
        at: datetime,
        sources: Sequence[str],
    ) -> None:
        """Store the company's values (it is active: not merged away) and replace its
        blocking keys."""
        await self._unblock(record.id, keep=keys)
        await self._tx.run(
            "company_subject.save_features",
            f"MATCH (s:{COMPANY_SUBJECT} {{companyId: $companyId}}) "
            # The values it was first seen with are its first record's own (a golden record
            # later holds several sources' values): what the model is trained on.
            "SET s.features = $features, s.firstFeatures = coalesce(s.firstFeatures, $features), "
            "s.fingerprint = $fingerprint, s.featuresAt = $at, "
            "s.sources = $sources, s.mergedInto = null "
            f"WITH s UNWIND $keys AS key MERGE (k:{COMPANY_BLOCK_KEY} {{key: key}}) "
            f"ON CREATE SET k.size = 0 WITH s, k WHERE NOT (s)-[:{COMPANY_BLOCKED_BY}]->(k) "
            f"CREATE (s)-[:{COMPANY_BLOCKED_BY}]->(k) SET k.size = k.size + 1",
            companyId=record.id,
            features=record.to_json(),
            fingerprint=fingerprint,
            keys=list(keys),
            at=at,
            sources=sorted(sources),
        )

    async def set_merged_into(self, company_id: str, survivor_id: str | None) -> None:
        """Record (or, with ``None``, clear) that the company was merged away; merged
        away, it leaves its blocks: only its survivor is a candidate."""
        await self._tx.run(
            "company_subject.set_merged_into",
            f"MATCH (s:{COMPANY_SUBJECT} {{companyId: $companyId}}) SET s.mergedInto = $survivorId",
            companyId=company_id,
            survivorId=survivor_id,
        )
        if survivor_id is not None:
            await self._unblock(company_id, keep=[])

    async def _unblock(self, company_id: str, *, keep: Sequence[str]) -> None:
        rows = await self._tx.run(
            "company_subject.unblock",
            f"MATCH (:{COMPANY_SUBJECT} {{companyId: $companyId}})"
            f"-[b:{COMPANY_BLOCKED_BY}]->(k:{COMPANY_BLOCK_KEY}) "
            "WHERE NOT k.key IN $keep SET k.size = k.size - 1 DELETE b RETURN k.key AS key",
            companyId=company_id,
            keep=list(keep),
        )
        unused = sorted({row["key"] for row in rows})
        if unused:
            await self._tx.run(
                "company_subject.delete_unused_keys",
                f"UNWIND $keys AS key MATCH (k:{COMPANY_BLOCK_KEY} {{key: key}}) "
                f"WHERE k.size <= 0 AND NOT (k)<-[:{COMPANY_BLOCKED_BY}]-() DELETE k",
                keys=unused,
            )

    async def sharing_keys(
        self,
        company_id: str,
        keys: Sequence[str],
        *,
        max_block: int,
        limit: int,
        exclude: Sequence[str] = (),
    ) -> list[CompanyRecord]:
        """Active companies other than ``company_id`` and those in ``exclude`` sharing a
        key whose block is not larger than ``max_block``: the ``limit`` most likely, by
        the sum over the shared keys of 1 / the key's block size (as for persons)."""
        rows = await self._tx.run(
            "company_subject.sharing_keys",
            f"UNWIND $keys AS key MATCH (k:{COMPANY_BLOCK_KEY} {{key: key}}) "
            "WHERE k.size <= $maxBlock "
            f"MATCH (k)<-[:{COMPANY_BLOCKED_BY}]-(s:{COMPANY_SUBJECT}) "
            "WHERE s.companyId <> $companyId AND s.mergedInto IS NULL "
            "AND NOT s.companyId IN $exclude "
            "WITH s, sum(1.0 / k.size) AS weight ORDER BY weight DESC, s.companyId LIMIT $limit "
            "RETURN s.features AS features",
            keys=list(keys),
            maxBlock=max_block,
            companyId=company_id,
            limit=limit,
            exclude=list(exclude),
        )
        return [CompanyRecord.from_json(row["features"]) for row in rows]

    async def first_seen_page(self, *, after: str, limit: int) -> list[CompanyRecord]:
        """Every company (merged away or not) with the values it was first seen with,
        by id after ``after``."""
        rows = await self._tx.run(
            "company_subject.first_seen_page",
            f"MATCH (s:{COMPANY_SUBJECT}) WHERE s.companyId > $after AND s.features IS NOT NULL "
            "RETURN coalesce(s.firstFeatures, s.features) AS features "
            "ORDER BY s.companyId LIMIT $limit",
            after=after,
            limit=limit,
        )
        return [CompanyRecord.from_json(row["features"]) for row in rows]

    async def active_ids_page(self, *, after: str, limit: int) -> list[str]:
        """Ids of the companies with values, not merged away, after ``after``."""
        rows = await self._tx.run(
            "company_subject.active_ids_page",
            f"MATCH (s:{COMPANY_SUBJECT}) WHERE s.companyId > $after AND s.features IS NOT NULL "
            "AND s.mergedInto IS NULL RETURN s.companyId AS id ORDER BY s.companyId LIMIT $limit",
            after=after,
            limit=limit,
        )
        return [row["id"] for row in rows]

    async def load_model(self) -> CompanyParameters | None:
        rows = await self._tx.run(
            "company_model.load",
            f"MATCH (m:{COMPANY_MODEL} {{name: $name}}) RETURN m.parameters AS parameters",
            name=CURRENT_MODEL,
        )
        return CompanyParameters.from_json(json.loads(rows[0]["parameters"])) if rows else None

    async def model_version(self) -> str | None:
        rows = await self._tx.run(
            "company_model.version",
            f"MATCH (m:{COMPANY_MODEL} {{name: $name}}) RETURN m.version AS version",
            name=CURRENT_MODEL,
        )
        return rows[0]["version"] if rows else None

    async def save_model(self, parameters: CompanyParameters, *, at: datetime) -> None:
        await self._tx.run(
            "company_model.save",
            f"MERGE (m:{COMPANY_MODEL} {{name: $name}}) SET m.parameters = $parameters, "
            "m.version = $version, m.trainedAt = $at",
            name=CURRENT_MODEL,
            parameters=json.dumps(parameters.to_json()),
            version=parameters.version,
            at=at,
        )
