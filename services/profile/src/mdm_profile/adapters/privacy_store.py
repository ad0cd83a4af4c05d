"""Cypher for data-subject requests: merge groups, export reads, erasure, restriction,
and the suppression list.

    (:Suppression {hash, kind, requestId, createdAt})   keyed hashes, never clear values
    (:Person {id, status: 'ERASED', erasedAt, erasureRequestId})-[:MERGED_INTO]->(:Person)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.company_store import WORKS_FOR
from mdm_profile.adapters.graph_mapping import person_from, record_from
from mdm_profile.adapters.graph_store import (
    CONTACT_LINKS,
    CONTACT_POINTS,
    DESCRIBES,
    MERGED_INTO,
    PERSON,
    SOURCE_RECORD,
    GraphPersonStore,
)
from mdm_profile.adapters.history_store import GraphHistoryStore
from mdm_profile.adapters.household_store import HOUSEHOLD, MEMBER_OF
from mdm_profile.adapters.link_store import RELATED_TO, GraphLinkStore
from mdm_profile.adapters.merge_store import MERGE
from mdm_profile.domain.links import PersonLink
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import ERASED, MergeEntry, PersonGroup
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.suppression import SuppressionEntry

SUPPRESSION = "Suppression"

SCHEMA = (
    f"CREATE CONSTRAINT suppression_hash IF NOT EXISTS "
    f"FOR (s:{SUPPRESSION}) REQUIRE s.hash IS UNIQUE",
)
_MERGE_FIELDS = "{.id, .survivorId, .mergedId, .at, .actor, .reason, .state}"


def _merge_entry(m: dict[str, Any]) -> MergeEntry:
    return MergeEntry(
        id=m["id"], survivor_id=m["survivorId"], merged_id=m["mergedId"], at=as_utc(m["at"]),
        actor=m["actor"], reason=m["reason"] or "", state=m["state"],
    )  # fmt: skip


class GraphPrivacyStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._links = GraphLinkStore(tx)

    async def group(self, person_id: str) -> PersonGroup | None:
        rows = await self._tx.run(
            "privacy.group",
            f"MATCH (asked:{PERSON} {{id: $id}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}]->(survivor:{PERSON}) "
            "WITH coalesce(survivor, asked) AS p "
            f"OPTIONAL MATCH (old:{PERSON})-[:{MERGED_INTO}]->(p) "
            "RETURN p.id AS id, p.status AS status, p.processingRestricted AS restricted, "
            "collect(old.id) AS mergedIds",
            id=person_id,
        )
        if not rows:
            return None
        row = rows[0]
        return PersonGroup(
            survivor_id=row["id"], merged_ids=tuple(sorted(row["mergedIds"])),
            erased=row["status"] == ERASED, restricted=bool(row["restricted"]),
        )  # fmt: skip

    async def lock(self, person_ids: Sequence[str]) -> None:
        # The same write merges make first: a merge and an erasure of one group
        # conflict, and the driver retries the loser, which then sees the new state.
        await self._tx.run(
            "privacy.lock",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
            "SET p.version = coalesce(p.version, 0) + 1",
            ids=list(person_ids),
        )

    async def persons(self, person_ids: Sequence[str]) -> dict[str, Person]:
        rows = await self._tx.run(
            "privacy.persons",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
            "WHERE p.createdAt IS NOT NULL RETURN id, p {.*} AS p",
            ids=list(person_ids),
        )
        return {row["id"]: person_from(row["p"]) for row in rows}

    async def records(self, person_ids: Sequence[str]) -> list[tuple[str, CleanRecord]]:
        rows = await self._tx.run(
            "privacy.records",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
            "RETURN id, r {.*} AS r ORDER BY r.key",
            ids=list(person_ids),
        )
        return [(row["id"], record_from(row["r"])) for row in rows]

    async def links(self, person_ids: Sequence[str]) -> dict[str, list[PersonLink]]:
        return await self._links.links(person_ids)

    async def merges(self, person_ids: Sequence[str]) -> list[MergeEntry]:
        rows = await self._tx.run(
            "privacy.merges",
            f"UNWIND $ids AS id MATCH (m:{MERGE} {{survivorId: id}}) RETURN m {_MERGE_FIELDS} AS m "
            f"UNION UNWIND $ids AS id MATCH (m:{MERGE} {{mergedId: id}}) "
            f"RETURN m {_MERGE_FIELDS} AS m",
            ids=list(person_ids),
        )
        found = {row["m"]["id"]: _merge_entry(row["m"]) for row in rows}
        return sorted(found.values(), key=lambda m: (m.at, m.id))

    async def erase(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> int:
        ids = list(person_ids)
        rows = await self._tx.run(
            "erase.records",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
            "WITH DISTINCT r DETACH DELETE r RETURN count(*) AS n",
            ids=ids,
        )
        removed = int(rows[0]["n"]) if rows else 0
        linked = await self.contact_keys(ids)
        await self._tx.run(
            "erase.unlink_contacts",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[h:{CONTACT_LINKS}]->() DELETE h",
            ids=ids,
        )
        await self.drop_unused_contacts(linked)
        await self._erase_links(ids)
        await GraphHistoryStore(self._tx).forget(ids)
        # The audit keeps who merged whom and when; the free text and the snapshots
        # (copies of both persons, for unmerge) go.
        for by in ("survivorId", "mergedId"):
            await self._tx.run(
                f"erase.merges_by_{by}",
                f"UNWIND $ids AS id MATCH (m:{MERGE} {{{by}: id}}) "
                "SET m.reason = '', m.snapshot = null, m.erasedAt = $at",
                ids=ids,
                at=at,
            )
        await self._tx.run(
            "erase.tombstones",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
            "SET p = {id: id, status: $erased, erasedAt: $at, erasureRequestId: $requestId}",
            ids=ids,
            erased=ERASED,
            at=at,
            requestId=request_id,
        )
        return removed

    async def _erase_links(self, ids: list[str]) -> None:
        """Memberships, employers and relations go; a household left empty goes too
        (its key is made of the address and the family name)."""
        rows = await self._tx.run(
            "erase.unlink_households",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) "
            "WITH m, h.id AS household DELETE m RETURN DISTINCT household",
            ids=ids,
        )
        households = [row["household"] for row in rows]
        if households:
            await self._tx.run(
                "erase.empty_households",
                f"UNWIND $households AS hid MATCH (h:{HOUSEHOLD} {{id: hid}}) "
                f"WHERE NOT (h)<-[:{MEMBER_OF}]-() DETACH DELETE h",
                households=households,
            )
        await self._tx.run(
            "erase.unlink_others",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[r:{WORKS_FOR}|{RELATED_TO}]-() "
            "DELETE r",
            ids=ids,
        )

    async def contact_keys(self, person_ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for label, link, key in CONTACT_POINTS:
            rows = await self._tx.run(
                f"purge.linked_{label.lower()}",
                f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[:{link}]->(c:{label}) "
                f"RETURN DISTINCT c.{key} AS key",
                ids=list(person_ids),
            )
            found[label] = [row["key"] for row in rows]
        return found

    async def drop_unused_contacts(self, keys: dict[str, list[str]]) -> None:
        await GraphPersonStore(self._tx).drop_unused_contact_points(keys)

    async def restrict(
        self, person_ids: Sequence[str], *, restricted: bool, request_id: str, at: datetime
    ) -> None:
        await self._tx.run(
            "privacy.restrict",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
            "SET p.processingRestricted = $restricted, p.restrictionRequestId = $requestId, "
            "p.restrictionChangedAt = $at",
            ids=list(person_ids),
            restricted=restricted,
            requestId=request_id,
            at=at,
        )


class GraphSuppressionList:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def matching(self, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        rows = await self._tx.run(
            "suppression.matching",
            f"UNWIND $hashes AS hash MATCH (s:{SUPPRESSION} {{hash: hash}}) RETURN s.hash AS hash",
            hashes=list(hashes),
        )
        return {row["hash"] for row in rows}

    async def add(
        self, entries: Sequence[SuppressionEntry], *, request_id: str, at: datetime
    ) -> int:
        if not entries:
            return 0
        rows = await self._tx.run(
            "suppression.add",
            f"UNWIND $rows AS row MERGE (s:{SUPPRESSION} {{hash: row.hash}}) "
            "ON CREATE SET s.kind = row.kind, s.requestId = $requestId, s.createdAt = $at "
            "RETURN count(s) AS n",
            rows=[{"hash": e.hash, "kind": e.kind.value} for e in entries],
            requestId=request_id,
            at=at,
        )
        return int(rows[0]["n"]) if rows else 0
