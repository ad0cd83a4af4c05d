"""Cypher for a person's links: household memberships, employers, relations to persons.

    (:Person)-[:MEMBER_OF {role, detected, active}]->(:Household)
    (:Person)-[:WORKS_FOR {role}]->(:Company)
    (:Person)-[:RELATED_TO {kind}]->(:Person)

Merges read them and write them back as a whole, per person (``domain/links.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mdm_common.graph import Transaction
from mdm_profile.adapters.company_store import COMPANY, WORKS_FOR
from mdm_profile.adapters.graph_store import PERSON
from mdm_profile.adapters.household_store import HOUSEHOLD, MEMBER_OF
from mdm_profile.domain.links import LinkType, PersonLink

RELATED_TO = "RELATED_TO"

# A person's links: everything it points at, and the relations pointing at it.
_LINKS = (
    f"-[r:{MEMBER_OF}|{WORKS_FOR}|{RELATED_TO}]-(o) WHERE startNode(r) = p OR type(r) = $relatedTo "
)
_TYPES = {
    (MEMBER_OF, True): LinkType.HOUSEHOLD,
    (WORKS_FOR, True): LinkType.EMPLOYER,
    (RELATED_TO, True): LinkType.RELATION_TO,
    (RELATED_TO, False): LinkType.RELATION_FROM,
}
# Per link type: the statement that creates links of that type for person p.
_CREATE = {
    LinkType.HOUSEHOLD: f"MATCH (o:{HOUSEHOLD} {{id: row.target}}) CREATE (p)-[r:{MEMBER_OF}]->(o)",
    LinkType.EMPLOYER: f"MATCH (o:{COMPANY} {{id: row.target}}) CREATE (p)-[r:{WORKS_FOR}]->(o)",
    LinkType.RELATION_TO: f"MATCH (o:{PERSON} {{id: row.target}}) CREATE (p)-[r:{RELATED_TO}]->(o)",
    LinkType.RELATION_FROM: (
        f"MATCH (o:{PERSON} {{id: row.target}}) CREATE (o)-[r:{RELATED_TO}]->(p)"
    ),
}


# A person ``p``'s links as a list of [type, outgoing, target, properties] (see
# ``link_from``), for statements that read persons with their links in one row each;
# the statement passes RELATED_TO as ``$relatedTo``.
LINKS_OF_P = f"[(p){_LINKS}| [type(r), startNode(r) = p, o.id, properties(r)]]"


def link_from(values: Sequence[Any]) -> PersonLink | None:
    """A link read as [type, outgoing, target, properties]; None for a relationship that
    is none of a person's links (a RELATED_TO read from its other end is one)."""
    rel_type, outgoing, target, props = values
    link_type = _TYPES.get((rel_type, outgoing))
    return None if link_type is None else PersonLink(link_type, target, dict(props))


class GraphLinkStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def links(self, person_ids: Sequence[str]) -> dict[str, list[PersonLink]]:
        rows = await self._tx.run_plain(
            "link.of_persons",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) OPTIONAL MATCH (p){_LINKS}"
            "RETURN id, type(r) AS type, startNode(r) = p AS outgoing, o.id AS target, "
            "properties(r) AS props",
            ids=list(person_ids),
            relatedTo=RELATED_TO,
        )
        found: dict[str, list[PersonLink]] = {pid: [] for pid in person_ids}
        for row in rows:
            link = link_from([row["type"], row["outgoing"], row["target"], row["props"]])
            if link is not None:
                found[row["id"]].append(link)
        return found

    async def replace_links(self, person_id: str, links: Sequence[PersonLink]) -> None:
        """Make ``links`` the person's links, and no others."""
        await self._tx.run(
            "link.unlink",
            f"MATCH (p:{PERSON} {{id: $id}}){_LINKS}DELETE r",
            id=person_id,
            relatedTo=RELATED_TO,
        )
        for link_type, create in _CREATE.items():
            rows: list[dict[str, Any]] = [
                {"target": link.target_id, "props": dict(link.props)}
                for link in links
                if link.type is link_type
            ]
            if rows:
                await self._tx.run(
                    f"link.create_{link_type.value.lower()}",
                    f"MATCH (p:{PERSON} {{id: $id}}) UNWIND $rows AS row "
                    f"{create} SET r = row.props",
                    id=person_id,
                    rows=rows,
                )

    async def replace_links_many(self, links: Mapping[str, Sequence[PersonLink]]) -> None:
        """Make each person's links the ones given, and no others, in one statement per
        kind of link. A relation between two of the persons is given on both sides
        (RELATION_TO on one, RELATION_FROM on the other) and written once."""
        if not links:
            return
        ids = sorted(links)
        await self._tx.run(
            "link.unlink_many",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}){_LINKS}WITH DISTINCT r DELETE r",
            ids=ids,
            relatedTo=RELATED_TO,
        )
        rows: dict[LinkType, list[dict[str, Any]]] = {link_type: [] for link_type in _CREATE}
        for person_id in ids:
            for link in links[person_id]:
                if link.type is LinkType.RELATION_FROM and link.target_id in links:
                    continue  # written as the other person's RELATION_TO
                rows[link.type].append(
                    {"person": person_id, "target": link.target_id, "props": dict(link.props)}
                )
        for link_type, create in _CREATE.items():
            if rows[link_type]:
                await self._tx.run(
                    f"link.create_many_{link_type.value.lower()}",
                    f"UNWIND $rows AS row MATCH (p:{PERSON} {{id: row.person}}) "
                    f"{create} SET r = row.props",
                    rows=rows[link_type],
                )
