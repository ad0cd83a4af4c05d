"""Cypher for people at companies: the companies a record's clues find, the links, and
the proposals a steward decides (``domain/employment.py``).

    (:Person)-[:WORKS_FOR {role, source, sourceId, via, linkedAt}]->(:Company)
    (:EmploymentProposal {id, recordKey, personId, companyIds, candidatesKey, via,
                          status, createdAt, decidedCompanyId, decidedBy, decidedAt, note})

A source record keeps its clues (``employerKey``, ``emailDomain``: indexed), so that
a company ingested later finds the records naming it. Labels come from constants;
every value is a parameter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.company_record_store import HAS_DOMAIN, WEB_DOMAIN
from mdm_profile.adapters.company_store import COMPANY, MAX_MERGE_CHAIN, WORKS_FOR
from mdm_profile.adapters.graph_store import DESCRIBES, MERGED_INTO, PERSON, SOURCE_RECORD
from mdm_profile.adapters.link_history import GraphLinkHistory
from mdm_profile.domain.employment import (
    EMPLOYEE,
    EmployerClue,
    EmploymentLink,
    EmploymentProposal,
    Via,
)

PROPOSAL = "EmploymentProposal"
OPEN, DECIDED, SETTLED = "OPEN", "DECIDED", "SETTLED"

SCHEMA = (
    f"CREATE CONSTRAINT employment_proposal_id IF NOT EXISTS "
    f"FOR (x:{PROPOSAL}) REQUIRE x.id IS UNIQUE",
    f"CREATE INDEX employment_proposal_record IF NOT EXISTS FOR (x:{PROPOSAL}) ON (x.recordKey)",
    f"CREATE INDEX employment_proposal_status IF NOT EXISTS FOR (x:{PROPOSAL}) ON (x.status)",
    f"CREATE INDEX source_record_employer IF NOT EXISTS FOR (r:{SOURCE_RECORD}) ON (r.employerKey)",
    f"CREATE INDEX source_record_email_domain IF NOT EXISTS "
    f"FOR (r:{SOURCE_RECORD}) ON (r.emailDomain)",
)

# The company in force: a merged-away company's id leads to the one it was merged into.
_IN_FORCE = (
    f"OPTIONAL MATCH (c)-[:{MERGED_INTO}*1..{MAX_MERGE_CHAIN}]->(s:{COMPANY}) "
    f"WHERE NOT (s)-[:{MERGED_INTO}]->() WITH row, p, coalesce(s, c) AS c "
)


def _proposal_from(props: dict[str, Any]) -> EmploymentProposal:
    decided = props.get("decidedAt")
    return EmploymentProposal(
        id=props["id"],
        person_id=props["personId"],
        record_key=props["recordKey"],
        company_ids=tuple(props.get("companyIds") or ()),
        via=Via(props["via"]),
        created_at=as_utc(props["createdAt"]),
        status=props["status"],
        decided_company_id=props.get("decidedCompanyId"),
        decided_by=props.get("decidedBy"),
        decided_at=as_utc(decided) if decided is not None else None,
        note=props.get("note"),
    )


class GraphEmploymentStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def companies_named(self, name_keys: Sequence[str]) -> dict[str, list[str]]:
        if not name_keys:
            return {}  # a batch whose records name no employer: no statement
        rows = await self._tx.run(
            "employment.companies_named",
            # A merged-away company has no name key any more.
            f"UNWIND $keys AS key MATCH (c:{COMPANY} {{nameKey: key}}) "
            "RETURN key, collect(c.id) AS ids",
            keys=list(name_keys),
        )
        return {row["key"]: sorted(row["ids"]) for row in rows}

    async def companies_at(self, domains: Sequence[str]) -> dict[str, list[str]]:
        if not domains:
            return {}
        rows = await self._tx.run(
            "employment.companies_at",
            f"UNWIND $domains AS domain MATCH (:{WEB_DOMAIN} {{name: domain}})"
            f"<-[:{HAS_DOMAIN}]-(c:{COMPANY}) RETURN domain, collect(DISTINCT c.id) AS ids",
            domains=list(domains),
        )
        return {row["domain"]: sorted(row["ids"]) for row in rows}

    async def clues_naming(
        self, name_keys: Sequence[str], domains: Sequence[str]
    ) -> list[EmployerClue]:
        found: dict[str, EmployerClue] = {}
        # One indexed lookup per clue kind: an OR of the two reads every record.
        for prop, values in (("employerKey", name_keys), ("emailDomain", domains)):
            if not values:
                continue
            rows = await self._tx.run(
                "employment.clues_naming",
                f"UNWIND $values AS value MATCH (r:{SOURCE_RECORD} {{{prop}: value}})"
                f"-[:{DESCRIBES}]->(p:{PERSON}) WHERE p.status IS NULL "
                "RETURN r.source AS source, r.sourceId AS sourceId, r.employerKey AS nameKey, "
                "r.emailDomain AS domain, p.id AS personId",
                values=sorted(set(values)),
            )
            for row in rows:
                clue = EmployerClue(
                    row["personId"], row["source"], row["sourceId"], row["nameKey"], row["domain"]
                )
                found[clue.record_key] = clue
        return [found[key] for key in sorted(found)]

    async def link(self, links: Sequence[EmploymentLink], *, at: datetime) -> None:
        if not links:
            return
        await self._tx.run(
            "employment.link",
            f"UNWIND $rows AS row MATCH (asked:{PERSON} {{id: row.person}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}]->(survivor:{PERSON}) "
            # An erased person is employed by nobody any more.
            "WITH row, coalesce(survivor, asked) AS p WHERE p.status IS NULL "
            f"MATCH (c:{COMPANY} {{id: row.company}}) {_IN_FORCE}"
            f"MERGE (p)-[w:{WORKS_FOR}]->(c) ON CREATE SET w.role = $role, "
            "w.source = row.source, w.sourceId = row.sourceId, w.via = row.via, w.linkedAt = $at",
            rows=[
                {
                    "person": x.person_id,
                    "company": x.company_id,
                    "source": x.source,
                    "sourceId": x.source_id,
                    "via": x.via.value,
                }
                for x in links
            ],
            role=EMPLOYEE,
            at=at,
        )
        # Ids merged away are left alone there: their survivor was linked.
        await GraphLinkHistory(self._tx).record([x.person_id for x in links], at=at)

    async def propose(self, proposals: Sequence[EmploymentProposal]) -> None:
        if not proposals:
            return
        await self._tx.run(
            "employment.propose",
            f"UNWIND $rows AS row MERGE (x:{PROPOSAL} {{recordKey: row.recordKey, status: $open}}) "
            "ON CREATE SET x.id = row.id, x.createdAt = row.createdAt "
            "SET x.personId = row.personId, x.companyIds = row.companyIds, "
            "x.candidatesKey = row.candidatesKey, x.via = row.via",
            rows=[
                {
                    "id": x.id,
                    "recordKey": x.record_key,
                    "personId": x.person_id,
                    "companyIds": list(x.company_ids),
                    "candidatesKey": "|".join(x.company_ids),
                    "via": x.via.value,
                    "createdAt": x.created_at,
                }
                for x in proposals
            ],
            open=OPEN,
        )

    async def settle_proposals(self, record_keys: Sequence[str], *, at: datetime) -> None:
        if not record_keys:
            return
        await self._tx.run(
            "employment.settle_proposals",
            f"UNWIND $keys AS key MATCH (x:{PROPOSAL} {{recordKey: key}}) WHERE x.status = $open "
            "SET x.status = $settled, x.decidedAt = $at",
            keys=sorted(set(record_keys)),
            open=OPEN,
            settled=SETTLED,
            at=at,
        )

    async def decided_candidates(
        self, record_keys: Sequence[str]
    ) -> dict[str, set[tuple[str, ...]]]:
        if not record_keys:
            return {}
        rows = await self._tx.run(
            "employment.decided_candidates",
            f"UNWIND $keys AS key MATCH (x:{PROPOSAL} {{recordKey: key}}) "
            "WHERE x.status = $decided RETURN key, x.companyIds AS ids",
            keys=sorted(set(record_keys)),
            decided=DECIDED,
        )
        found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for row in rows:
            found[row["key"]].add(tuple(row["ids"] or ()))
        return dict(found)

    async def open_proposals(self, *, first: int) -> list[EmploymentProposal]:
        rows = await self._tx.run(
            "employment.open_proposals",
            f"MATCH (x:{PROPOSAL} {{status: $open}}) RETURN x {{.*}} AS x "
            "ORDER BY x.createdAt, x.id LIMIT $first",
            open=OPEN,
            first=first,
        )
        return [_proposal_from(row["x"]) for row in rows]

    async def get_proposal(self, proposal_id: str) -> EmploymentProposal | None:
        rows = await self._tx.run(
            "employment.get_proposal",
            f"MATCH (x:{PROPOSAL} {{id: $id}}) RETURN x {{.*}} AS x",
            id=proposal_id,
        )
        return _proposal_from(rows[0]["x"]) if rows else None

    async def decide_proposal(
        self,
        proposal_id: str,
        company_id: str | None,
        *,
        actor: str,
        note: str,
        at: datetime,
    ) -> None:
        await self._tx.run(
            "employment.decide_proposal",
            f"MATCH (x:{PROPOSAL} {{id: $id}}) SET x.status = $decided, "
            "x.decidedCompanyId = $company, x.decidedBy = $actor, x.decidedAt = $at, "
            "x.note = $note",
            id=proposal_id,
            decided=DECIDED,
            company=company_id,
            actor=actor,
            at=at,
            note=note or None,
        )
