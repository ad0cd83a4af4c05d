"""Cypher for companies: SUBSIDIARY_OF hierarchy and WORKS_FOR employment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.graph_store import MERGED_INTO, PERSON
from mdm_profile.domain.companies import (
    MAX_DEPTH,
    Company,
    CompanyDetails,
    Employment,
    ParentConflict,
    Subsidiary,
)
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.quality.legal_forms import name_key

COMPANY = "Company"
SUBSIDIARY_OF = "SUBSIDIARY_OF"
WORKS_FOR = "WORKS_FOR"

# Merges of merges followed to the company in force (a bound, as Cypher needs one).
MAX_MERGE_CHAIN = 20

SCHEMA = (f"CREATE CONSTRAINT company_id IF NOT EXISTS FOR (c:{COMPANY}) REQUIRE c.id IS UNIQUE",)
# Variable-length bounds cannot be parameters; MAX_DEPTH is a code constant.
_UP = f"[:{SUBSIDIARY_OF}*0..{MAX_DEPTH}]"
_DOWN = f"[:{SUBSIDIARY_OF}*1..{MAX_DEPTH}]"
# A query using it must not bind ``parent`` itself: the comprehension would then
# match that node, not look for a new one, and parentId would silently be null.
COMPANY_PROJECTION = (
    "{.id, .name, .registrationNumber, .country, .createdAt, .legalForm, .vatId, .lei, "
    ".industryCode, .street, .houseNumber, .postalCode, .city, .addressKey, .phoneE164, "
    ".email, .domains, .sources, parentId: "
    f"head([(x)-[:{SUBSIDIARY_OF}]->(parent:{COMPANY}) | parent.id])}}"
)


def _details(props: dict[str, Any]) -> CompanyDetails | None:
    if not props.get("sources"):
        return None  # created by hand
    located = props.get("addressKey")
    address = PostalAddress(
        props.get("street"),
        props.get("houseNumber"),
        props.get("postalCode"),
        props.get("city"),
        props.get("country"),
    )
    return CompanyDetails(
        legal_form=props.get("legalForm"),
        vat_id=props.get("vatId"),
        lei=props.get("lei"),
        industry_code=props.get("industryCode"),
        address=address if located else None,
        phone=props.get("phoneE164"),
        email=props.get("email"),
        domains=tuple(props.get("domains") or ()),
        sources=tuple(props["sources"]),
    )


_FEATURES_PROJECTION = (
    "{.id, .createdAt, .nameKey, .legalForm, .registerKey, .registerNumberKey, .vatId, .lei, "
    ".domains, .street, .houseNumber, .postalCode, .city, .sources}"
)


def _features_from(props: dict[str, Any]) -> dict[str, Any]:
    """The register entry as "HRB 12345 B" with its folded court apart (None if unknown)."""
    number_key, court_key = props.get("registerNumberKey"), props.get("registerKey")
    return {
        "id": props["id"],
        "createdAt": as_utc(props["createdAt"]).isoformat(),
        "nameKey": props.get("nameKey") or "",
        "legalForm": props.get("legalForm"),
        "register": number_key.replace("|", " ", 1) if number_key else None,
        "court": court_key.split("|", 2)[2] if court_key else None,
        "vatId": props.get("vatId"),
        "lei": props.get("lei"),
        "domains": list(props.get("domains") or ()),
        "address": {
            "street": props.get("street"),
            "houseNumber": props.get("houseNumber"),
            "postalCode": props.get("postalCode"),
            "city": props.get("city"),
        },
        "sources": sorted(props.get("sources") or ()),
    }


def company_from(props: dict[str, Any]) -> Company:
    return Company(
        props["id"], props["name"], props.get("registrationNumber"), props.get("country"),
        props.get("parentId"), as_utc(props["createdAt"]), _details(props),
    )  # fmt: skip


class GraphCompanyStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, company: Company) -> None:
        await self._tx.run(
            "company.create",
            f"CREATE (c:{COMPANY} {{id: $id}}) SET c += $props",
            id=company.id,
            props={"name": company.name, "registrationNumber": company.registration_number,
                   "country": company.country, "createdAt": company.created_at,
                   "nameKey": name_key(company.name)},
        )  # fmt: skip

    async def lock(self, ids: Sequence[str]) -> dict[str, Company]:
        rows = await self._tx.run(
            "company.lock",
            f"UNWIND $ids AS id MATCH (x:{COMPANY} {{id: id}}) "
            f"SET x.version = coalesce(x.version, 0) + 1 RETURN x {COMPANY_PROJECTION} AS c",
            ids=list(ids),
        )
        return {row["c"]["id"]: company_from(row["c"]) for row in rows}

    async def get_many(self, ids: Sequence[str]) -> dict[str, Company]:
        """Id asked -> the company; a merged-away id gives the company it was merged into
        (also after later merges of that one)."""
        rows = await self._tx.run(
            "company.get_many",
            f"UNWIND $ids AS id MATCH (asked:{COMPANY} {{id: id}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}*1..{MAX_MERGE_CHAIN}]->(survivor:{COMPANY}) "
            f"WHERE NOT (survivor)-[:{MERGED_INTO}]->() "
            f"WITH id, coalesce(survivor, asked) AS x RETURN id, x {COMPANY_PROJECTION} AS c",
            ids=list(ids),
        )
        return {row["id"]: company_from(row["c"]) for row in rows}

    async def features(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """What matching compares companies by, as JSON-ready maps: id asked -> the
        company (a merged-away id gives the company it was merged into). One statement."""
        rows = await self._tx.run(
            "company.features",
            f"UNWIND $ids AS id MATCH (asked:{COMPANY} {{id: id}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}*1..{MAX_MERGE_CHAIN}]->(survivor:{COMPANY}) "
            f"WHERE NOT (survivor)-[:{MERGED_INTO}]->() "
            f"WITH id, coalesce(survivor, asked) AS x RETURN id, x {_FEATURES_PROJECTION} AS c",
            ids=list(ids),
        )
        return {row["id"]: _features_from(row["c"]) for row in rows}

    async def path_up(self, company_id: str) -> list[str]:
        rows = await self._tx.run(
            "company.path_up",
            f"MATCH path = (:{COMPANY} {{id: $id}})-{_UP}->(top:{COMPANY}) "
            f"WHERE NOT (top)-[:{SUBSIDIARY_OF}]->() "
            "RETURN [n IN nodes(path) | n.id] AS ids",
            id=company_id,
        )
        return list(rows[0]["ids"]) if rows else [company_id]

    async def paths_up(self, company_ids: Sequence[str]) -> dict[str, list[str]]:
        rows = await self._tx.run(
            "company.paths_up",
            f"UNWIND $ids AS id MATCH path = (:{COMPANY} {{id: id}})-{_UP}->(top:{COMPANY}) "
            f"WHERE NOT (top)-[:{SUBSIDIARY_OF}]->() "
            "RETURN id, [n IN nodes(path) | n.id] AS ids",
            ids=list(company_ids),
        )
        found = {cid: [cid] for cid in company_ids}
        found.update({row["id"]: list(row["ids"]) for row in rows})
        return found

    async def heights(self, company_ids: Sequence[str]) -> dict[str, int]:
        rows = await self._tx.run(
            "company.heights",
            f"UNWIND $ids AS id MATCH path = (:{COMPANY} {{id: id}})<-{_DOWN}-(:{COMPANY}) "
            "RETURN id, max(length(path)) AS height",
            ids=list(company_ids),
        )
        found = dict.fromkeys(company_ids, 0)
        found.update({row["id"]: int(row["height"]) for row in rows})
        return found

    async def ultimate_parents(self, ids: Sequence[str]) -> dict[str, Company]:
        """Company id -> the top of its hierarchy (the company itself at the top)."""
        rows = await self._tx.run(
            "company.ultimate_parents",
            f"UNWIND $ids AS id MATCH (:{COMPANY} {{id: id}})-{_UP}->(x:{COMPANY}) "
            f"WHERE NOT (x)-[:{SUBSIDIARY_OF}]->() RETURN id, x {COMPANY_PROJECTION} AS c",
            ids=list(ids),
        )
        return {row["id"]: company_from(row["c"]) for row in rows}

    async def subsidiaries(self, ids: Sequence[str], depth: int) -> dict[str, list[Subsidiary]]:
        """Company id -> its subsidiaries down to ``depth``, nearest first, then by name."""
        rows = await self._tx.run(
            "company.subsidiaries",
            f"UNWIND $ids AS id MATCH path = (:{COMPANY} {{id: id}})<-{_DOWN}-(x:{COMPANY}) "
            "WITH id, x, length(path) AS depth WHERE depth <= $depth "
            f"RETURN id, x {COMPANY_PROJECTION} AS c, depth ORDER BY depth, c.name, c.id",
            ids=list(ids),
            depth=depth,
        )
        found: dict[str, list[Subsidiary]] = {cid: [] for cid in ids}
        for row in rows:
            found[row["id"]].append(Subsidiary(company_from(row["c"]), row["depth"]))
        return found

    async def set_parent(self, company_id: str, parent_id: str | None) -> None:
        await self._tx.run(
            "company.detach",
            f"MATCH (:{COMPANY} {{id: $id}})-[r:{SUBSIDIARY_OF}]->() DELETE r",
            id=company_id,
        )
        if parent_id is not None:
            await self._tx.run(
                "company.attach",
                f"MATCH (c:{COMPANY} {{id: $id}}), (p:{COMPANY} {{id: $parent}}) "
                f"CREATE (c)-[:{SUBSIDIARY_OF}]->(p)",
                id=company_id,
                parent=parent_id,
            )

    async def set_parents(self, links: dict[str, str]) -> None:
        rows = [{"id": child, "parent": parent} for child, parent in links.items()]
        await self._tx.run(
            "company.detach_many",
            f"UNWIND $rows AS row MATCH (:{COMPANY} {{id: row.id}})-[r:{SUBSIDIARY_OF}]->() "
            "DELETE r",
            rows=rows,
        )
        await self._tx.run(
            "company.attach_many",
            f"UNWIND $rows AS row MATCH (c:{COMPANY} {{id: row.id}}), "
            f"(p:{COMPANY} {{id: row.parent}}) CREATE (c)-[:{SUBSIDIARY_OF}]->(p)",
            rows=rows,
        )

    async def employ(self, person_id: str, company_id: str, role: str) -> bool:
        rows = await self._tx.run(
            "company.employ",
            f"MATCH (asked:{PERSON} {{id: $person}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}]->(survivor:{PERSON}) "
            # An erased person (status ERASED) is employed by nobody any more.
            "WITH coalesce(survivor, asked) AS p WHERE p.status IS NULL "
            f"MATCH (c:{COMPANY} {{id: $company}}) "
            f"MERGE (p)-[w:{WORKS_FOR}]->(c) SET w.role = $role RETURN count(w) AS n",
            person=person_id,
            company=company_id,
            role=role,
        )
        # link_history reads this module's labels.
        from mdm_profile.adapters.link_history import GraphLinkHistory  # noqa: PLC0415

        await GraphLinkHistory(self._tx).record([person_id])
        return bool(rows and rows[0]["n"])

    async def record_parent_decision(
        self, company_id: str, *, actor: str, note: str, at: datetime
    ) -> None:
        await self._tx.run(
            "company.parent_decision",
            f"MATCH (c:{COMPANY} {{id: $id}}) SET c.parentDecidedBy = $actor, "
            "c.parentDecidedAt = $at, c.parentDecisionNote = $note "
            "REMOVE c.parentConflicted, c.parentsNamed",
            id=company_id,
            actor=actor,
            at=at,
            note=note,
        )

    async def parent_conflicts(self, limit: int) -> list[ParentConflict]:
        rows = await self._tx.run(
            "company.parent_conflicts",
            f"MATCH (x:{COMPANY} {{parentConflicted: true}}) "
            f"RETURN x {COMPANY_PROJECTION} AS c, x.parentsNamed AS named "
            "ORDER BY c.name, c.id LIMIT $limit",
            limit=limit,
        )
        return [ParentConflict(company_from(row["c"]), tuple(row["named"])) for row in rows]

    async def employees(self, company_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        rows = await self._tx.run(
            "company.employees",
            f"UNWIND $ids AS id MATCH (p:{PERSON})-[w:{WORKS_FOR}]->(:{COMPANY} {{id: id}}) "
            "WHERE p.status IS NULL RETURN id, p.id AS person, w.role AS role ORDER BY person",
            ids=list(company_ids),
        )
        found: dict[str, list[tuple[str, str]]] = {cid: [] for cid in company_ids}
        for row in rows:
            found[row["id"]].append((row["person"], row["role"]))
        return found

    async def employers(self, person_ids: Sequence[str]) -> dict[str, list[Employment]]:
        """Person id -> the companies it works for, by company name."""
        rows = await self._tx.run(
            "company.employers",
            f"UNWIND $ids AS id MATCH (person:{PERSON} {{id: id}})-[w:{WORKS_FOR}]->(x:{COMPANY}) "
            # The same persons as ``employees`` lists: none merged away or erased.
            "WHERE person.status IS NULL "
            f"RETURN id, w.role AS role, w.source AS source, w.sourceId AS sourceId, "
            f"w.via AS via, x {COMPANY_PROJECTION} AS c ORDER BY c.name, c.id",
            ids=list(person_ids),
        )
        found: dict[str, list[Employment]] = {pid: [] for pid in person_ids}
        for row in rows:
            found[row["id"]].append(
                Employment(
                    company_from(row["c"]), row["role"], row["source"], row["sourceId"], row["via"]
                )
            )
        return found
