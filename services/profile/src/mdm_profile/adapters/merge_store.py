"""Cypher for merges: moving source records, tombstones, snapshots for unmerge."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.graph_mapping import person_from, person_props, record_from
from mdm_profile.adapters.graph_store import (
    CONTACT_LINKS,
    DESCRIBES,
    MERGED_INTO,
    PERSON,
    SOURCE_RECORD,
    GraphPersonStore,
    keep_previous_version,
)
from mdm_profile.adapters.link_store import GraphLinkStore
from mdm_profile.domain.links import LinkType, MergedLinks, PersonLink
from mdm_profile.domain.merging import Merge, MergeState, PersonSnapshot, PersonState
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import ERASED

MERGE = "Merge"

SCHEMA = (
    f"CREATE CONSTRAINT merge_id IF NOT EXISTS FOR (m:{MERGE}) REQUIRE m.id IS UNIQUE",
    f"CREATE INDEX merge_merged_id IF NOT EXISTS FOR (m:{MERGE}) ON (m.mergedId)",
    f"CREATE INDEX merge_survivor_id IF NOT EXISTS FOR (m:{MERGE}) ON (m.survivorId)",
)
_TOMBSTONE = {"status": None, "mergedInto": None, "mergedAt": None}
# What a merge reads of a person ``p`` (with its ``id``): whom it was merged into, its records.
_STATE = (
    f"OPTIONAL MATCH (p)-[:{MERGED_INTO}]->(s:{PERSON}) "
    f"OPTIONAL MATCH (p)<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
    "RETURN id, p {.*} AS p, s.id AS mergedInto, collect(r {.*}) AS records"
)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _snapshot_json(snapshot: PersonSnapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "id": snapshot.person.id,
        "props": person_props(snapshot.person),
        "recordKeys": list(snapshot.record_keys),
    }


def _snapshot_from(data: dict[str, Any] | None) -> PersonSnapshot | None:
    if data is None:
        return None
    props = dict(data["props"], id=data["id"])
    for key in ("createdAt", "updatedAt"):
        props[key] = datetime.fromisoformat(props[key])
    if props.get("birthDate"):
        props["birthDate"] = date.fromisoformat(props["birthDate"])
    return PersonSnapshot(person_from(props), tuple(data["recordKeys"]))


def _links_json(links: MergedLinks) -> dict[str, Any]:
    def each(found: Sequence[PersonLink]) -> list[Any]:
        return [[link.type.value, link.target_id, dict(link.props)] for link in found]

    return {
        "survivorBefore": each(links.survivor_before),
        "mergedBefore": each(links.merged_before),
        "survivorAfter": each(links.survivor_after),
    }


def _links_from(data: dict[str, Any] | None) -> MergedLinks | None:
    if data is None:  # recorded before merges moved links
        return None

    def each(name: str) -> tuple[PersonLink, ...]:
        return tuple(PersonLink(LinkType(t), target, props) for t, target, props in data[name])

    return MergedLinks(each("survivorBefore"), each("mergedBefore"), each("survivorAfter"))


def state_from(row: dict[str, Any]) -> PersonState:
    """A person as a merge reads it: ``p`` (its properties), ``mergedInto``, ``records``."""
    props = row["p"]
    if props.get("status") == ERASED:  # a tombstone: nothing but its id
        at = as_utc(props["erasedAt"])
        return PersonState(
            Person(props["id"], "", "", created_at=at, updated_at=at),
            row["mergedInto"],
            (),
            erased=True,
        )
    records = sorted((record_from(r) for r in row["records"]), key=lambda r: r.key)
    return PersonState(person_from(props), row["mergedInto"], tuple(records))


class GraphMergeStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._people = GraphPersonStore(tx)
        self._links = GraphLinkStore(tx)

    async def lock(self, person_ids: list[str]) -> dict[str, PersonState]:
        # Writing a version first makes concurrent merges of the same persons
        # conflict; the driver retries the loser, which then sees the new state.
        rows = await self._tx.run_plain(
            "merge.lock",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
            f"SET p.version = coalesce(p.version, 0) + 1 WITH id, p {_STATE}",
            ids=person_ids,
        )
        return {row["id"]: state_from(row) for row in rows}

    async def states(self, person_ids: list[str]) -> dict[str, PersonState]:
        rows = await self._tx.run_plain(
            "merge.states",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) {_STATE}",
            ids=person_ids,
        )
        return {row["id"]: state_from(row) for row in rows}

    async def move_records(self, keys: list[str], *, to_person: str) -> None:
        await self._tx.run(
            "merge.move_records",
            f"MATCH (p:{PERSON} {{id: $to}}) UNWIND $keys AS key "
            f"MATCH (r:{SOURCE_RECORD} {{key: key}}) "
            f"OPTIONAL MATCH (r)-[d:{DESCRIBES}]->() DELETE d "
            f"WITH DISTINCT p, r CREATE (r)-[:{DESCRIBES}]->(p)",
            keys=keys,
            to=to_person,
        )

    async def links(self, person_ids: Sequence[str]) -> dict[str, list[PersonLink]]:
        return await self._links.links(person_ids)

    async def replace_links(self, person_id: str, links: Sequence[PersonLink]) -> None:
        await self._links.replace_links(person_id, links)

    async def mark_merged(self, merged_id: str, *, into: str, at: datetime) -> list[str]:
        # Persons merged into the merged-away one before now point at the survivor
        # too, so any old id resolves in one step. The pattern starts at the merged-away
        # person (found by its id's index): ArcadeDB starts at the first node of a
        # pattern, and `(x:Person)-[...]->(:Person {id: ...})` scanned every person.
        rows = await self._tx.run(
            "merge.redirect",
            f"MATCH (a:{PERSON} {{id: $into}}) "
            f"MATCH (:{PERSON} {{id: $merged}})<-[m:{MERGED_INTO}]-(x:{PERSON}) "
            f"DELETE m CREATE (x)-[:{MERGED_INTO}]->(a) SET x.mergedInto = $into RETURN x.id AS id",
            merged=merged_id,
            into=into,
        )
        # Its records went to the survivor (``move_records``): a tombstone keeps no
        # contact points, so unlinking them is all a relink would do.
        await self._tx.run(
            "merge.tombstone",
            f"MATCH (b:{PERSON} {{id: $merged}}), (a:{PERSON} {{id: $into}}) "
            "SET b.status = 'MERGED', b.mergedInto = $into, b.mergedAt = $at "
            f"CREATE (b)-[:{MERGED_INTO}]->(a) "
            f"WITH b OPTIONAL MATCH (b)-[h:{CONTACT_LINKS}]->() DELETE h",
            merged=merged_id,
            into=into,
            at=at,
        )
        return [merged_id, *(row["id"] for row in rows)]

    async def restore(self, person: Person, *, redirected: list[str], at: datetime) -> None:
        await self._tx.run(
            "unmerge.restore",
            f"MATCH (p:{PERSON} {{id: $id}})-[m:{MERGED_INTO}]->() DELETE m "
            "WITH DISTINCT p WITH p, p {.*} AS before SET p += $props "
            + keep_previous_version("$at"),
            id=person.id,
            props=person_props(person) | _TOMBSTONE,
            at=at,
        )
        await self._tx.run(
            "unmerge.redirect_back",
            f"MATCH (b:{PERSON} {{id: $id}}) UNWIND $ids AS other "
            f"MATCH (x:{PERSON} {{id: other}})-[m:{MERGED_INTO}]->() "
            f"DELETE m CREATE (x)-[:{MERGED_INTO}]->(b) SET x.mergedInto = $id",
            id=person.id,
            ids=redirected,
        )
        await self._people.relink_contact_points([person.id])

    async def save_person(self, person: Person, *, at: datetime) -> None:
        # Its contact points afresh (its records changed): unlinked with the save, one
        # round trip less than ``relink_contact_points``.
        await self._tx.run(
            "merge.save_person",
            f"MATCH (p:{PERSON} {{id: $id}}) "
            f"OPTIONAL MATCH (p)-[h:{CONTACT_LINKS}]->() DELETE h "
            "WITH DISTINCT p WITH p, p {.*} AS before SET p += $props "
            + keep_previous_version("$at"),
            id=person.id,
            props=person_props(person),
            at=at,
        )
        await self._people.link_contact_points([person.id])

    async def save_merge(self, merge: Merge) -> None:
        await self._tx.run(
            "merge.save",
            f"MERGE (m:{MERGE} {{id: $id}}) SET m += $props",
            id=merge.id,
            props=merge_props(merge),
        )

    async def get_merge(self, merge_id: str) -> Merge | None:
        rows = await self._tx.run(
            "merge.get", f"MATCH (m:{MERGE} {{id: $id}}) RETURN m {{.*}} AS m", id=merge_id
        )
        return merge_from(rows[0]["m"]) if rows else None


def merge_props(merge: Merge) -> dict[str, Any]:
    """What the graph stores of a merge (its snapshot as JSON)."""
    snapshot = {
        "survivor": _snapshot_json(merge.survivor_before),
        "merged": _snapshot_json(merge.merged_before),
        "redirected": list(merge.redirected),
        "links": _links_json(merge.links) if merge.links is not None else None,
    }
    return {
        "survivorId": merge.survivor_id,
        "mergedId": merge.merged_id,
        "at": merge.at,
        "actor": merge.actor,
        "reason": merge.reason,
        "state": merge.state.value,
        "undoneAt": merge.undone_at,
        "snapshot": json.dumps(snapshot, default=_json_default),
    }


def merge_from(m: dict[str, Any]) -> Merge:
    # Erasure removes the snapshot (it held personal data); the audit fields stay.
    snapshot = json.loads(m.get("snapshot") or "{}")
    return Merge(
        id=m["id"],
        survivor_id=m["survivorId"],
        merged_id=m["mergedId"],
        at=as_utc(m["at"]),
        actor=m["actor"],
        reason=m["reason"],
        state=MergeState(m["state"]),
        survivor_before=_snapshot_from(snapshot.get("survivor")),
        merged_before=_snapshot_from(snapshot.get("merged")),
        redirected=tuple(snapshot.get("redirected", ())),
        links=_links_from(snapshot.get("links")),
        undone_at=as_utc(m["undoneAt"]) if m.get("undoneAt") else None,
    )
