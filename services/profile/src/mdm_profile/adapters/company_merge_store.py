"""Cypher for company merges: records moved, hierarchy and employees replaced, the
merged-away company pointed at its survivor, and the merge with its snapshot.

    (:Company)-[:MERGED_INTO {at}]->(:Company)      the merged-away one, kept
    (:CompanyMerge {id, survivorId, mergedId, at, actor, reason, state, snapshot})

A merged-away company keeps its id and name but loses what finds it (name key, VAT
id, LEI, register keys, postal code, domains), so that no lookup or search returns
it; its golden record is built again from its records when it is unmerged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.company_record_store import (
    COMPANY_RECORD,
    HAS_DOMAIN,
    GraphCompanyRecordStore,
)
from mdm_profile.adapters.company_store import (
    COMPANY,
    SUBSIDIARY_OF,
    WORKS_FOR,
    GraphCompanyStore,
)
from mdm_profile.adapters.graph_store import DESCRIBES, MERGED_INTO, PERSON
from mdm_profile.adapters.link_history import GraphLinkHistory
from mdm_profile.domain.company_golden import CompanyGolden
from mdm_profile.domain.company_merging import (
    CompanyLinks,
    CompanyMerge,
    CompanySnapshot,
    CompanyState,
)
from mdm_profile.domain.merging import MergeState

COMPANY_MERGE = "CompanyMerge"
SCHEMA = (
    f"CREATE CONSTRAINT company_merge_id IF NOT EXISTS "
    f"FOR (m:{COMPANY_MERGE}) REQUIRE m.id IS UNIQUE",
)
# What finds a company: removed from a merged-away one.
_FINDING = ("nameKey", "vatId", "lei", "registerKey", "registerNumberKey", "postalCode")


def _links_json(links: CompanyLinks) -> dict[str, Any]:
    return {
        "parent": links.parent_id,
        "children": list(links.children),
        "employees": [list(e) for e in links.employees],
    }


def _links_from(data: dict[str, Any]) -> CompanyLinks:
    return CompanyLinks(
        data["parent"],
        tuple(data["children"]),
        tuple((person, role) for person, role in data["employees"]),
    )


def _snapshot_json(snapshot: CompanySnapshot) -> dict[str, Any]:
    return {"recordKeys": list(snapshot.record_keys), "links": _links_json(snapshot.links)}


def _snapshot_from(data: dict[str, Any]) -> CompanySnapshot:
    return CompanySnapshot(tuple(data["recordKeys"]), _links_from(data["links"]))


class GraphCompanyMergeStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._companies = GraphCompanyStore(tx)
        self._records = GraphCompanyRecordStore(tx)

    async def lock(self, company_ids: Sequence[str]) -> dict[str, CompanyState]:
        locked = await self._companies.lock(company_ids)
        rows = await self._tx.run(
            "company_merge.merged_into",
            f"UNWIND $ids AS id MATCH (:{COMPANY} {{id: id}})-[:{MERGED_INTO}]->(s:{COMPANY}) "
            "RETURN id, s.id AS survivor",
            ids=list(locked),
        )
        merged_into = {row["id"]: row["survivor"] for row in rows}
        records = await self._records.records_of(list(locked))
        return {
            cid: CompanyState(company, merged_into.get(cid), tuple(records.get(cid, [])))
            for cid, company in locked.items()
        }

    async def links(self, company_ids: Sequence[str]) -> dict[str, CompanyLinks]:
        rows = await self._tx.run(
            "company_merge.links",
            f"UNWIND $ids AS id MATCH (c:{COMPANY} {{id: id}}) "
            f"OPTIONAL MATCH (c)-[:{SUBSIDIARY_OF}]->(p:{COMPANY}) "
            f"WITH id, c, p.id AS parent "
            f"RETURN id, parent, [(x:{COMPANY})-[:{SUBSIDIARY_OF}]->(c) | x.id] AS children, "
            f"[(w:{PERSON})-[r:{WORKS_FOR}]->(c) WHERE w.status IS NULL | [w.id, r.role]] "
            "AS employees",
            ids=list(company_ids),
        )
        return {
            row["id"]: CompanyLinks(
                row["parent"],
                tuple(sorted(row["children"])),
                tuple(sorted((person, role) for person, role in row["employees"])),
            )
            for row in rows
        }

    async def path_up(self, company_id: str) -> list[str]:
        return await self._companies.path_up(company_id)

    async def heights(self, company_ids: Sequence[str]) -> dict[str, int]:
        return await self._companies.heights(company_ids)

    async def move_records(self, keys: Sequence[str], *, to_company: str) -> None:
        await self._tx.run(
            "company_merge.unlink_records",
            f"UNWIND $keys AS key MATCH (:{COMPANY_RECORD} {{key: key}})-[d:{DESCRIBES}]->() "
            "DELETE d",
            keys=list(keys),
        )
        await self._tx.run(
            "company_merge.link_records",
            f"MATCH (c:{COMPANY} {{id: $to}}) UNWIND $keys AS key "
            f"MATCH (r:{COMPANY_RECORD} {{key: key}}) CREATE (r)-[:{DESCRIBES}]->(c)",
            to=to_company,
            keys=list(keys),
        )

    async def replace_links(self, company_id: str, links: CompanyLinks) -> None:
        """Its parent, subsidiaries and employees; one simple statement each."""
        await self._tx.run(
            "company_merge.unlink_parent",
            f"MATCH (:{COMPANY} {{id: $id}})-[up:{SUBSIDIARY_OF}]->() DELETE up",
            id=company_id,
        )
        await self._tx.run(
            "company_merge.unlink_children",
            f"MATCH (x:{COMPANY})-[down:{SUBSIDIARY_OF}]->(:{COMPANY} {{id: $id}}) "
            "WHERE NOT x.id IN $children DELETE down",
            id=company_id,
            children=list(links.children),
        )
        unlinked = await self._tx.run(
            "company_merge.unlink_employees",
            f"MATCH (w:{PERSON})-[work:{WORKS_FOR}]->(:{COMPANY} {{id: $id}}) "
            "WHERE NOT w.id IN $people DELETE work RETURN w.id AS id",
            id=company_id,
            people=[person for person, _ in links.employees],
        )
        if links.parent_id is not None:
            await self._tx.run(
                "company_merge.link_parent",
                f"MATCH (c:{COMPANY} {{id: $id}}), (p:{COMPANY} {{id: $parent}}) "
                f"CREATE (c)-[:{SUBSIDIARY_OF}]->(p)",
                id=company_id,
                parent=links.parent_id,
            )
        if links.children:
            await self._tx.run(
                "company_merge.detach_children",
                f"UNWIND $children AS child MATCH (:{COMPANY} {{id: child}})"
                f"-[old:{SUBSIDIARY_OF}]->() DELETE old",
                children=list(links.children),
            )
            await self._tx.run(
                "company_merge.link_children",
                f"MATCH (c:{COMPANY} {{id: $id}}) UNWIND $children AS child "
                f"MATCH (x:{COMPANY} {{id: child}}) CREATE (x)-[:{SUBSIDIARY_OF}]->(c)",
                id=company_id,
                children=list(links.children),
            )
        if links.employees:
            await self._tx.run(
                "company_merge.employ",
                f"MATCH (c:{COMPANY} {{id: $id}}) UNWIND $rows AS row "
                f"MATCH (w:{PERSON} {{id: row.person}}) "
                f"MERGE (w)-[work:{WORKS_FOR}]->(c) SET work.role = row.role",
                id=company_id,
                rows=[{"person": person, "role": role} for person, role in links.employees],
            )
        await GraphLinkHistory(self._tx).record(
            [row["id"] for row in unlinked] + [person for person, _ in links.employees]
        )

    async def save_golden(self, company_id: str, golden: CompanyGolden, *, now: datetime) -> None:
        await self._records.save({company_id: golden}, [], created=set(), now=now)

    async def mark_merged(self, merged_id: str, *, into: str, at: datetime) -> None:
        await self._tx.run(
            "company_merge.mark",
            f"MATCH (m:{COMPANY} {{id: $merged}}), (s:{COMPANY} {{id: $into}}) "
            f"CREATE (m)-[:{MERGED_INTO} {{at: $at}}]->(s) "
            f"WITH m OPTIONAL MATCH (m)-[h:{HAS_DOMAIN}]->() DELETE h "
            f"WITH DISTINCT m REMOVE {', '.join(f'm.{prop}' for prop in _FINDING)}",
            merged=merged_id,
            into=into,
            at=at,
        )

    async def restore(self, company_id: str) -> None:
        await self._tx.run(
            "company_merge.restore",
            f"MATCH (:{COMPANY} {{id: $id}})-[r:{MERGED_INTO}]->() DELETE r",
            id=company_id,
        )

    async def save_merge(self, merge: CompanyMerge) -> None:
        snapshot = {
            "survivor": _snapshot_json(merge.survivor_before),
            "merged": _snapshot_json(merge.merged_before),
            "survivorAfter": _links_json(merge.survivor_after),
        }
        await self._tx.run(
            "company_merge.save",
            f"MERGE (m:{COMPANY_MERGE} {{id: $id}}) SET m += $props",
            id=merge.id,
            props={
                "survivorId": merge.survivor_id,
                "mergedId": merge.merged_id,
                "at": merge.at,
                "actor": merge.actor,
                "reason": merge.reason,
                "state": merge.state.value,
                "snapshot": json.dumps(snapshot),
            },
        )

    async def get_merge(self, merge_id: str) -> CompanyMerge | None:
        rows = await self._tx.run(
            "company_merge.get",
            f"MATCH (m:{COMPANY_MERGE} {{id: $id}}) RETURN m {{.*}} AS m",
            id=merge_id,
        )
        if not rows:
            return None
        m = rows[0]["m"]
        snapshot = json.loads(m["snapshot"])
        return CompanyMerge(
            id=m["id"],
            survivor_id=m["survivorId"],
            merged_id=m["mergedId"],
            at=as_utc(m["at"]),
            actor=m["actor"],
            reason=m["reason"],
            state=MergeState(m["state"]),
            survivor_before=_snapshot_from(snapshot["survivor"]),
            merged_before=_snapshot_from(snapshot["merged"]),
            survivor_after=_links_from(snapshot["survivorAfter"]),
        )
