"""Cypher for companies built from source records: their ``CompanySourceRecord``
nodes, the golden properties of the ``Company`` they describe, the lookups of parent
references, and company search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mdm_common.graph import Transaction
from mdm_profile.adapters.company_mapping import (
    company_props,
    record_from,
    record_props,
    register_key,
    register_number_key,
)
from mdm_profile.adapters.company_store import (
    COMPANY,
    COMPANY_PROJECTION,
    SUBSIDIARY_OF,
    company_from,
)
from mdm_profile.adapters.graph_mapping import quality_json
from mdm_profile.adapters.graph_store import DESCRIBES
from mdm_profile.domain.companies import Company
from mdm_profile.domain.company_golden import CompanyGolden
from mdm_profile.domain.company_ingest import StoredCompanyRecord
from mdm_profile.domain.company_records import CleanCompanyRecord, ParentReference
from mdm_profile.domain.company_search import CompanyCriteria
from mdm_profile.domain.quality.report import QualityReport
from mdm_profile.domain.records import record_key

COMPANY_RECORD = "CompanySourceRecord"
WEB_DOMAIN = "WebDomain"
HAS_DOMAIN = "HAS_DOMAIN"

SCHEMA = (
    f"CREATE CONSTRAINT company_record_key IF NOT EXISTS "
    f"FOR (r:{COMPANY_RECORD}) REQUIRE r.key IS UNIQUE",
    f"CREATE CONSTRAINT web_domain_name IF NOT EXISTS "
    f"FOR (d:{WEB_DOMAIN}) REQUIRE d.name IS UNIQUE",
    f"CREATE INDEX company_vat_id IF NOT EXISTS FOR (c:{COMPANY}) ON (c.vatId)",
    f"CREATE INDEX company_lei IF NOT EXISTS FOR (c:{COMPANY}) ON (c.lei)",
    f"CREATE INDEX company_register_key IF NOT EXISTS FOR (c:{COMPANY}) ON (c.registerKey)",
    f"CREATE INDEX company_register_number_key IF NOT EXISTS "
    f"FOR (c:{COMPANY}) ON (c.registerNumberKey)",
    f"CREATE INDEX company_name_key IF NOT EXISTS FOR (c:{COMPANY}) ON (c.nameKey)",
    f"CREATE INDEX company_postal_code IF NOT EXISTS FOR (c:{COMPANY}) ON (c.postalCode)",
    f"CREATE INDEX company_parent_conflicted IF NOT EXISTS "
    f"FOR (c:{COMPANY}) ON (c.parentConflicted)",
    f"CREATE INDEX company_record_parent_vat IF NOT EXISTS "
    f"FOR (r:{COMPANY_RECORD}) ON (r.parentVatId)",
    f"CREATE INDEX company_record_parent_lei IF NOT EXISTS "
    f"FOR (r:{COMPANY_RECORD}) ON (r.parentLei)",
    f"CREATE INDEX company_record_parent_register IF NOT EXISTS "
    f"FOR (r:{COMPANY_RECORD}) ON (r.parentRegisterNumberKey)",
    f"CREATE INDEX company_record_parent_record IF NOT EXISTS "
    f"FOR (r:{COMPANY_RECORD}) ON (r.parentRecordKey)",
)


class GraphCompanyRecordStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def records_by_key(self, keys: Sequence[str]) -> dict[str, StoredCompanyRecord]:
        rows = await self._tx.run(
            "company_record.by_key",
            f"UNWIND $keys AS key MATCH (r:{COMPANY_RECORD} {{key: key}})"
            f"-[:{DESCRIBES}]->(c:{COMPANY}) RETURN key, r {{.*}} AS r, c.id AS companyId",
            keys=list(keys),
        )
        return {
            row["key"]: StoredCompanyRecord(row["companyId"], record_from(row["r"])) for row in rows
        }

    async def records_of(self, company_ids: Sequence[str]) -> dict[str, list[CleanCompanyRecord]]:
        rows = await self._tx.run(
            "company_record.of_companies",
            f"UNWIND $ids AS id MATCH (:{COMPANY} {{id: id}})<-[:{DESCRIBES}]-(r:{COMPANY_RECORD}) "
            "RETURN id, r {.*} AS r ORDER BY r.key",
            ids=list(company_ids),
        )
        found: dict[str, list[CleanCompanyRecord]] = {cid: [] for cid in company_ids}
        for row in rows:
            found[row["id"]].append(record_from(row["r"]))
        return found

    async def save(
        self,
        goldens: dict[str, CompanyGolden],
        records: Sequence[StoredCompanyRecord],
        *,
        created: set[str],
        now: datetime,
    ) -> None:
        await self._tx.run(
            "company.upsert_golden",
            f"UNWIND $rows AS row MERGE (c:{COMPANY} {{id: row.id}}) "
            "ON CREATE SET c.createdAt = $now SET c += row.props",
            rows=[{"id": cid, "props": company_props(g, now=now)} for cid, g in goldens.items()],
            now=now,
        )
        # Each domain a node of its own, so that a company is found by a domain through
        # the index (a list property is searched company by company).
        await self._tx.run(
            "company.unlink_domains",
            f"UNWIND $ids AS id MATCH (:{COMPANY} {{id: id}})-[h:{HAS_DOMAIN}]->() DELETE h",
            ids=[cid for cid in goldens if cid not in created],
        )
        await self._tx.run(
            "company.link_domains",
            f"UNWIND $rows AS row MATCH (c:{COMPANY} {{id: row.id}}) "
            f"MERGE (d:{WEB_DOMAIN} {{name: row.domain}}) MERGE (c)-[:{HAS_DOMAIN}]->(d)",
            rows=[{"id": cid, "domain": d} for cid, g in goldens.items() for d in g.domains],
        )
        await self._tx.run(
            "company_record.upsert",
            f"UNWIND $rows AS row MATCH (c:{COMPANY} {{id: row.companyId}}) "
            f"MERGE (r:{COMPANY_RECORD} {{key: row.props.key}}) SET r += row.props, "
            f"r.recordedAt = row.recordedAt MERGE (r)-[:{DESCRIBES}]->(c)",
            rows=[
                {
                    "companyId": s.company_id,
                    "props": record_props(s.record),
                    "recordedAt": s.record.recorded_at,
                }
                for s in records
            ],
        )

    async def companies_named(
        self, references: Sequence[tuple[str, ParentReference]]
    ) -> list[set[str]]:
        # One indexed lookup per kind of reference, over the references that have one
        # (a lookup by a null value, or an OPTIONAL MATCH of each kind per reference,
        # made the graph server read every company for each reference).
        by_record = f"(:{COMPANY_RECORD} {{key: row.value}})-[:{DESCRIBES}]->(c:{COMPANY})"
        lookups = [
            (
                by_record,
                [record_key(s, r.source_id) if r.source_id else None for s, r in references],
            ),
            (f"(c:{COMPANY} {{vatId: row.value}})", [r.vat_id for _, r in references]),
            (f"(c:{COMPANY} {{lei: row.value}})", [r.lei for _, r in references]),
            (
                f"(c:{COMPANY} {{registerKey: row.value}})",
                [register_key(r.register) for _, r in references],
            ),
        ]
        found: list[set[str]] = [set() for _ in references]
        for pattern, values in lookups:
            await self._collect(pattern, values, found)
        # A number without its court names a company only if it names exactly one.
        bare = [
            register_number_key(r.register)
            if not found[i] and r.register is not None and r.register.court is None
            else None
            for i, (_, r) in enumerate(references)
        ]
        await self._collect(f"(c:{COMPANY} {{registerNumberKey: row.value}})", bare, found)
        return found

    async def _collect(
        self, pattern: str, values: Sequence[str | None], found: list[set[str]]
    ) -> None:
        """Add the ids of the companies ``pattern`` finds for each value to ``found``."""
        rows = [{"index": i, "value": v} for i, v in enumerate(values) if v is not None]
        if not rows:
            return
        answer = await self._tx.run(
            "company.named",
            f"UNWIND $rows AS row MATCH {pattern} RETURN row.index AS index, c.id AS id",
            rows=rows,
        )
        for row in answer:
            found[row["index"]].add(str(row["id"]))

    async def waiting_children(
        self, goldens: dict[str, CompanyGolden], record_keys: Sequence[str]
    ) -> set[str]:
        # One indexed lookup per kind of reference (an OR of them would read every
        # company record).
        lookups = [
            ("parentVatId", [g.vat_id for g in goldens.values() if g.vat_id]),
            ("parentLei", [g.lei for g in goldens.values() if g.lei]),
            (
                "parentRegisterNumberKey",
                [k for g in goldens.values() if (k := register_number_key(g.register))],
            ),
            ("parentRecordKey", list(record_keys)),
        ]
        found: set[str] = set()
        for prop, values in lookups:
            if not values:
                continue
            rows = await self._tx.run(
                "company.waiting_children",
                f"UNWIND $values AS v MATCH (r:{COMPANY_RECORD} {{{prop}: v}})"
                f"-[:{DESCRIBES}]->(child:{COMPANY}) RETURN DISTINCT child.id AS id",
                values=values,
            )
            found |= {str(row["id"]) for row in rows}
        return found

    async def parents(self, company_ids: Sequence[str]) -> dict[str, str | None]:
        rows = await self._tx.run(
            "company.parents",
            f"UNWIND $ids AS id MATCH (c:{COMPANY} {{id: id}}) "
            f"OPTIONAL MATCH (c)-[:{SUBSIDIARY_OF}]->(p:{COMPANY}) RETURN id, p.id AS parent",
            ids=list(company_ids),
        )
        return {row["id"]: row["parent"] for row in rows}

    async def decided_parents(self, company_ids: Sequence[str]) -> set[str]:
        rows = await self._tx.run(
            "company.decided_parents",
            f"UNWIND $ids AS id MATCH (c:{COMPANY} {{id: id}}) "
            "WHERE c.parentDecidedBy IS NOT NULL RETURN id",
            ids=list(company_ids),
        )
        return {str(row["id"]) for row in rows}

    async def save_parent_conflicts(
        self, conflicts: dict[str, tuple[str, ...]], *, checked: Sequence[str]
    ) -> None:
        # Written only where there is something to write: most companies of a batch
        # have no conflict, before or after.
        if conflicts:
            await self._tx.run(
                "company.parent_conflicts",
                f"UNWIND $rows AS row MATCH (c:{COMPANY} {{id: row.id}}) "
                "SET c.parentConflicted = true, c.parentsNamed = row.named",
                rows=[{"id": cid, "named": list(named)} for cid, named in conflicts.items()],
            )
        settled = [cid for cid in checked if cid not in conflicts]
        if settled:
            await self._tx.run(
                "company.parent_conflicts_ended",
                f"UNWIND $ids AS id MATCH (c:{COMPANY} {{id: id}}) "
                "WHERE c.parentConflicted IS NOT NULL REMOVE c.parentConflicted, c.parentsNamed",
                ids=settled,
            )

    async def save_quality(self, reports: dict[str, QualityReport]) -> None:
        await self._tx.run(
            "company_record.quality",
            f"UNWIND $rows AS row MATCH (r:{COMPANY_RECORD} {{key: row.key}}) "
            "SET r.quality = row.quality",
            rows=[{"key": key, "quality": quality_json(q)} for key, q in reports.items()],
        )

    async def search(
        self, criteria: CompanyCriteria, *, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[Company, str]]:
        # Only the conditions of the criteria given (fragments of this code; values are
        # parameters): "($x IS NULL OR ...)" for each would keep the graph server from
        # using the indexes (docs/benchmarks.md, issue 19).
        given = {
            "x.nameKey STARTS WITH $name": criteria.name_key,
            "x.registerNumberKey = $register": criteria.register,
            "x.vatId = $vat": criteria.vat_id,
            "x.postalCode = $postal": criteria.postal_code,
        }
        conditions = [condition for condition, value in given.items() if value is not None]
        if after is not None:
            conditions.append(
                "(coalesce(x.nameKey, '') > $afterKey "
                "OR (coalesce(x.nameKey, '') = $afterKey AND x.id > $afterId))"
            )
        where = " AND ".join(conditions) or "true"
        start = (
            f"(:{WEB_DOMAIN} {{name: $domain}})<-[:{HAS_DOMAIN}]-(x:{COMPANY})"
            if criteria.domain is not None
            else f"(x:{COMPANY})"
        )
        rows = await self._tx.run(
            "company.search",
            f"MATCH {start} WHERE {where} "
            f"RETURN x {COMPANY_PROJECTION} AS c, coalesce(x.nameKey, '') AS key "
            "ORDER BY key, x.id LIMIT $limit",
            name=criteria.name_key,
            register=criteria.register,
            vat=criteria.vat_id,
            domain=criteria.domain,
            postal=criteria.postal_code,
            afterKey=after[0] if after else None,
            afterId=after[1] if after else None,
            limit=limit,
        )
        return [(company_from(row["c"]), row["key"]) for row in rows]
