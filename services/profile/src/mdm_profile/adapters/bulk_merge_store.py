"""Cypher for many merges at once (``domain/bulk_merging.py``): each statement takes a
list (UNWIND), so a batch costs about as many round trips as one merge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from mdm_profile.adapters.graph_mapping import person_props
from mdm_profile.adapters.graph_store import (
    CONTACT_LINKS,
    DESCRIBES,
    LINK_RECORD_CONTACT_POINTS,
    MERGED_INTO,
    PERSON,
    SOURCE_RECORD,
    keep_previous_version,
)
from mdm_profile.adapters.link_store import LINKS_OF_P, RELATED_TO, link_from
from mdm_profile.adapters.merge_store import (
    MERGE,
    GraphMergeStore,
    merge_from,
    merge_props,
    state_from,
)
from mdm_profile.domain.bulk_merging import Locked
from mdm_profile.domain.links import PersonLink
from mdm_profile.domain.merging import Merge
from mdm_profile.domain.models import Person


class GraphBulkMergeStore(GraphMergeStore):
    async def get_merges(self, merge_ids: Sequence[str]) -> dict[str, Merge]:
        rows = await self._tx.run_plain(
            "merge.get_many",
            f"UNWIND $ids AS id MATCH (m:{MERGE} {{id: id}}) RETURN m {{.*}} AS m",
            ids=list(merge_ids),
        )
        found = (merge_from(row["m"]) for row in rows)
        return {merge.id: merge for merge in found}

    async def lock_many(self, person_ids: Sequence[str]) -> Locked:
        # ``lock``, with each person's links and the persons merged into it before, in
        # one statement: pattern comprehensions read them per person without the rows
        # of one OPTIONAL MATCH multiplying those of the next.
        rows = await self._tx.run_plain(
            "merge.lock_many",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
            "SET p.version = coalesce(p.version, 0) + 1 WITH id, p "
            "RETURN id, p {.*} AS p, "
            f"head([(p)-[:{MERGED_INTO}]->(s:{PERSON}) | s.id]) AS mergedInto, "
            f"[(p)<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) | r {{.*}}] AS records, "
            f"[(p)<-[:{MERGED_INTO}]-(x:{PERSON}) | x.id] AS pointing, "
            f"{LINKS_OF_P} AS links",
            ids=list(person_ids),
            relatedTo=RELATED_TO,
        )
        return Locked(
            states={row["id"]: state_from(row) for row in rows},
            links={
                row["id"]: [link for v in row["links"] if (link := link_from(v)) is not None]
                for row in rows
            },
            merged_into={row["id"]: sorted(row["pointing"]) for row in rows if row["pointing"]},
        )

    async def move_records_many(self, owners: Mapping[str, str]) -> None:
        if not owners:
            return
        await self._tx.run(
            "merge.move_records_many",
            f"UNWIND $rows AS row MATCH (r:{SOURCE_RECORD} {{key: row.key}}) "
            f"MATCH (p:{PERSON} {{id: row.to}}) "
            f"OPTIONAL MATCH (r)-[d:{DESCRIBES}]->() DELETE d "
            f"WITH DISTINCT p, r CREATE (r)-[:{DESCRIBES}]->(p)",
            rows=[{"key": key, "to": to} for key, to in sorted(owners.items())],
        )

    async def replace_links_many(self, links: Mapping[str, Sequence[PersonLink]]) -> None:
        await self._links.replace_links_many(links)

    async def redirect_many(self, targets: Mapping[str, str]) -> None:
        if not targets:
            return
        await self._tx.run(
            "merge.redirect_many",
            f"UNWIND $rows AS row MATCH (x:{PERSON} {{id: row.id}})-[m:{MERGED_INTO}]->() "
            f"DELETE m WITH DISTINCT x, row MATCH (a:{PERSON} {{id: row.into}}) "
            f"CREATE (x)-[:{MERGED_INTO}]->(a) SET x.mergedInto = row.into",
            rows=[{"id": pid, "into": to} for pid, to in sorted(targets.items())],
        )

    async def tombstone_many(self, targets: Mapping[str, str], *, at: datetime) -> None:
        if not targets:
            return
        await self._tx.run(
            "merge.tombstone_many",
            f"UNWIND $rows AS row MATCH (b:{PERSON} {{id: row.id}}) "
            f"MATCH (a:{PERSON} {{id: row.into}}) "
            "SET b.status = 'MERGED', b.mergedInto = row.into, b.mergedAt = $at "
            f"CREATE (b)-[:{MERGED_INTO}]->(a) "
            f"WITH DISTINCT b OPTIONAL MATCH (b)-[h:{CONTACT_LINKS}]->() DELETE h",
            rows=[{"id": pid, "into": to} for pid, to in sorted(targets.items())],
            at=at,
        )

    async def save_persons(self, persons: Sequence[Person], *, at: datetime) -> None:
        # Contact points stay: a survivor keeps every record it had, so its links stay
        # right, and ``link_moved_contact_points`` adds those of the records it gained.
        if persons:
            await self._tx.run(
                "merge.save_persons",
                f"UNWIND $rows AS row MATCH (p:{PERSON} {{id: row.id}}) "
                "WITH p, row, p {.*} AS before SET p += row.props " + keep_previous_version("$at"),
                rows=[{"id": p.id, "props": person_props(p)} for p in persons],
                at=at,
            )

    async def link_moved_contact_points(self, owners: Mapping[str, str]) -> None:
        # As ``GraphPersonStore.link_contact_points``, for the moved records only: MERGE
        # keeps one link per contact point when the survivor had it already.
        if not owners:
            return
        await self._tx.run(
            "contact.link_moved",
            f"UNWIND $rows AS row MATCH (r:{SOURCE_RECORD} {{key: row.key}}) "
            f"MATCH (p:{PERSON} {{id: row.to}}) "
            f"{LINK_RECORD_CONTACT_POINTS}",
            rows=[{"key": key, "to": to} for key, to in sorted(owners.items())],
        )

    async def save_merges(self, merges: Sequence[Merge]) -> None:
        await self._tx.run(
            "merge.save_many",
            f"UNWIND $rows AS row MERGE (m:{MERGE} {{id: row.id}}) SET m += row.props",
            rows=[{"id": m.id, "props": merge_props(m)} for m in merges],
        )
