"""Cypher for merge links and the merge groups kept on the consent subjects.

    (:ConsentMerge {mergeId, survivorId, mergedId, linkedAt, state, undoneAt})
    (:ConsentSubject {personId, facts, mergedInto, merges: [json link, ...]})

A merge never touches an event or a fact list. ``mergedInto`` is the survivor of
the person's whole group (``null`` for the survivor itself and for persons on
their own); ``merges`` holds the group's active links on every member, so that one
lookup of the id asked about tells the contact check whose facts to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_consent.adapters.graph_store import CONSENT_SUBJECT, link_json
from mdm_consent.domain.lineage import Lineage
from mdm_consent.domain.models import MergeLink, MergeState

CONSENT_MERGE = "ConsentMerge"

SCHEMA = (
    f"CREATE CONSTRAINT consent_merge_id IF NOT EXISTS "
    f"FOR (m:{CONSENT_MERGE}) REQUIRE m.mergeId IS UNIQUE",
    f"CREATE INDEX consent_merge_survivor IF NOT EXISTS FOR (m:{CONSENT_MERGE}) ON (m.survivorId)",
    f"CREATE INDEX consent_merge_merged IF NOT EXISTS FOR (m:{CONSENT_MERGE}) ON (m.mergedId)",
)
_MAX_GROUP_STEPS = 64  # a merge group deeper than this is not a customer but a bug


class GraphMergeStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def lock(self, person_ids: Sequence[str]) -> None:
        # Writing the subjects takes their write locks until commit (Neo4j); on
        # ArcadeDB a concurrent writer fails on commit and its transaction is retried.
        await self._tx.run(
            "merges.lock",
            f"UNWIND $ids AS pid MERGE (s:{CONSENT_SUBJECT} {{personId: pid}}) "
            "ON CREATE SET s.facts = [] SET s.version = coalesce(s.version, 0) + 1",
            ids=sorted(set(person_ids)),
        )

    async def get(self, merge_id: str) -> MergeLink | None:
        rows = await self._tx.run(
            "merges.get",
            f"MATCH (m:{CONSENT_MERGE} {{mergeId: $mergeId}}) RETURN m {{.*}} AS m",
            mergeId=merge_id,
        )
        return _link(rows[0]["m"]) if rows else None

    async def get_many(self, merge_ids: Sequence[str]) -> dict[str, MergeLink]:
        rows = await self._tx.run_plain(
            "merges.get_many",
            f"UNWIND $ids AS id MATCH (m:{CONSENT_MERGE} {{mergeId: id}}) RETURN m {{.*}} AS m",
            ids=sorted(set(merge_ids)),
        )
        found = (_link(row["m"]) for row in rows)
        return {link.merge_id: link for link in found}

    async def save(self, link: MergeLink) -> None:
        await self.save_many([link])

    async def save_many(self, links: Sequence[MergeLink]) -> None:
        await self._tx.run(
            "merges.save",
            f"UNWIND $rows AS row MERGE (m:{CONSENT_MERGE} {{mergeId: row.mergeId}}) "
            "SET m += row.props",
            rows=[{"mergeId": link.merge_id, "props": _props(link)} for link in links],
        )

    async def _naming(self, person_ids: Sequence[str], *, active: bool) -> list[MergeLink]:
        found: dict[str, MergeLink] = {}
        for role, field in (("survivor", "survivorId"), ("merged", "mergedId")):
            rows = await self._tx.run(
                f"merges.by_{role}",
                f"UNWIND $ids AS pid MATCH (m:{CONSENT_MERGE} {{{field}: pid}}) "
                "WHERE NOT $active OR m.state = $state RETURN m {.*} AS m",
                ids=list(person_ids), active=active, state=MergeState.ACTIVE.value,
            )  # fmt: skip
            for row in rows:
                link = _link(row["m"])
                found[link.merge_id] = link
        return sorted(found.values(), key=lambda x: (x.linked_at, x.merge_id))

    async def active_around(self, person_ids: Sequence[str]) -> list[MergeLink]:
        links: dict[str, MergeLink] = {}
        seen = set(person_ids)
        frontier = sorted(seen)
        for _ in range(_MAX_GROUP_STEPS):
            if not frontier:
                break
            for link in await self._naming(frontier, active=True):
                links[link.merge_id] = link
            reached = {p for link in links.values() for p in (link.survivor_id, link.merged_id)}
            frontier = sorted(reached - seen)
            seen |= reached
        return list(links.values())

    async def set_lineages(self, lineages: dict[str, Lineage]) -> None:
        rows = [
            {
                "personId": person,
                "mergedInto": lineage.survivor_id if lineage.survivor_id != person else None,
                "merges": [link_json(x) for x in lineage.links],
            }
            for person, lineage in sorted(lineages.items())
        ]
        await self._tx.run(
            "merges.set_lineages",
            f"UNWIND $rows AS r MERGE (s:{CONSENT_SUBJECT} {{personId: r.personId}}) "
            "ON CREATE SET s.facts = [] SET s.mergedInto = r.mergedInto, s.merges = r.merges",
            rows=rows,
        )

    async def of_person(self, person_id: str) -> list[MergeLink]:
        return await self._naming([person_id], active=False)


def _props(link: MergeLink) -> dict[str, Any]:
    return {
        "survivorId": link.survivor_id,
        "mergedId": link.merged_id,
        "linkedAt": link.linked_at,
        "state": link.state.value,
        "undoneAt": link.undone_at,
    }


def _link(p: dict[str, Any]) -> MergeLink:
    return MergeLink(
        merge_id=p["mergeId"], survivor_id=p["survivorId"], merged_id=p["mergedId"],
        linked_at=as_utc(p["linkedAt"]), state=MergeState(p["state"]),
        undone_at=as_utc(p["undoneAt"]) if p.get("undoneAt") else None,
    )  # fmt: skip
