"""Cypher for households: detection by address (and family name), roles, members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mdm_common.graph import Transaction
from mdm_profile.adapters.graph_store import PERSON
from mdm_profile.domain.households import Household, HouseholdMember, HouseholdRole
from mdm_profile.domain.quality.addresses import PostalAddress

HOUSEHOLD = "Household"
MEMBER_OF = "MEMBER_OF"

SCHEMA = (
    f"CREATE CONSTRAINT household_id IF NOT EXISTS FOR (h:{HOUSEHOLD}) REQUIRE h.id IS UNIQUE",
    f"CREATE CONSTRAINT household_key IF NOT EXISTS FOR (h:{HOUSEHOLD}) REQUIRE h.key IS UNIQUE",
    f"CREATE INDEX person_address_key IF NOT EXISTS FOR (p:{PERSON}) ON (p.addressKey)",
    f"CREATE INDEX person_household_key IF NOT EXISTS FOR (p:{PERSON}) ON (p.householdKey)",
    # Persons stored before householdKey existed get it once (idempotent).
    f"MATCH (p:{PERSON}) WHERE p.householdKey IS NULL AND p.addressKey IS NOT NULL "
    "AND coalesce(p.familyKey, '') <> '' SET p.householdKey = p.addressKey + '#' + p.familyKey",
)

# The household a person belongs to by the detection rule; null if none applies.
_KEY = (
    "CASE WHEN p.status IS NULL AND p.addressKey IS NOT NULL "
    "AND (NOT $byFamily OR coalesce(p.familyKey, '') <> '') "
    "THEN p.addressKey + CASE WHEN $byFamily THEN '#' + p.familyKey ELSE '' END END"
)
# Everyone (o) who shares a household key with one of the persons $ids (p), as `key, o`.
# With family names, the stored householdKey (the rule's key, indexed) finds them
# directly instead of scanning everybody at the address.
_SAME_HOUSEHOLD_KEY = (
    f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) WHERE p.status IS NULL "
    f"WITH DISTINCT p.householdKey AS key WHERE key IS NOT NULL "
    f"MATCH (o:{PERSON} {{householdKey: key}}) WHERE o.status IS NULL "
)
_SAME_ADDRESS = (
    f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) WITH p, {_KEY} AS key "
    f"WHERE key IS NOT NULL MATCH (o:{PERSON} {{addressKey: p.addressKey}}) "
    "WHERE o.status IS NULL AND (NOT $byFamily OR o.familyKey = p.familyKey) "
)

# Active members of household `h` (asked for as `id`), ordered by person id.
_MEMBERS = (
    f"OPTIONAL MATCH (p:{PERSON})-[m:{MEMBER_OF}]->(h) WHERE m.active AND p.status IS NULL "
    "WITH id, h, p, m ORDER BY p.id "
    "RETURN id, h.id AS householdId, head(collect(p {.street, .houseNumber, .postalCode, "
    ".city, .country})) AS address, "
    "collect(CASE WHEN p IS NULL THEN null ELSE [p.id, m.role, m.detected] END) AS members"
)


def _household_from(row: dict[str, Any]) -> Household:
    members = tuple(
        HouseholdMember(pid, HouseholdRole(role), bool(detected))
        for pid, role, detected in (m for m in row["members"] if m is not None)
    )
    a = row["address"]
    address = PostalAddress(a["street"], a["houseNumber"], a["postalCode"], a["city"],
                            a["country"]) if a else None  # fmt: skip
    return Household(row["householdId"], address, members)


class GraphHouseholdStore:
    def __init__(self, tx: Transaction, *, by_family_name: bool = True) -> None:
        self._tx = tx
        self._by_family = by_family_name

    async def refresh_households(self, person_ids: Sequence[str]) -> None:
        ids = list(person_ids)
        # Memberships the rule no longer supports become inactive (roles are kept).
        await self._tx.run(
            "household.deactivate",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}})-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) "
            f"WHERE m.detected AND m.active AND (p.status IS NOT NULL OR h.key <> {_KEY} "
            f"OR {_KEY} IS NULL) SET m.active = false",
            ids=ids,
            byFamily=self._by_family,
        )
        groups = await self._tx.run(
            "household.candidates",
            (_SAME_HOUSEHOLD_KEY if self._by_family else _SAME_ADDRESS)
            + "WITH key, collect(DISTINCT o) AS members WHERE size(members) >= 2 "
            f"OPTIONAL MATCH (h:{HOUSEHOLD} {{key: key}}) "
            # Only who is not an active member yet: joining the others changes nothing.
            f"UNWIND members AS o OPTIONAL MATCH (o)-[m:{MEMBER_OF}]->(h) WHERE m.active "
            "WITH key, o, count(m) AS active WHERE active = 0 "
            "RETURN key, collect(o.id) AS members",
            ids=ids,
            byFamily=self._by_family,
        )
        if not groups:
            return
        await self._tx.run(
            "household.join",
            f"UNWIND $groups AS g "
            f"MERGE (h:{HOUSEHOLD} {{key: g.key}}) ON CREATE SET h.id = g.newId "
            f"WITH h, g UNWIND g.members AS member MATCH (p:{PERSON} {{id: member}}) "
            f"MERGE (p)-[m:{MEMBER_OF}]->(h) "
            "ON CREATE SET m.role = 'MEMBER', m.detected = true SET m.active = true",
            groups=[{"key": g["key"], "members": g["members"], "newId": str(uuid.uuid4())}
                    for g in groups],
        )  # fmt: skip

    async def households(self, ids: Sequence[str]) -> dict[str, Household]:
        rows = await self._tx.run(
            "household.get_many",
            f"UNWIND $ids AS id MATCH (h:{HOUSEHOLD} {{id: id}}) WITH id, h " + _MEMBERS,
            ids=list(ids),
        )
        return {row["id"]: _household_from(row) for row in rows}

    async def households_of(self, person_ids: Sequence[str]) -> dict[str, Household]:
        """Person id -> its active household with members, in one query."""
        rows = await self._tx.run(
            "household.of_persons_with_members",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[a:{MEMBER_OF}]->(h:{HOUSEHOLD}) "
            "WHERE a.active WITH id, h " + _MEMBERS,
            ids=list(person_ids),
        )
        return {row["id"]: _household_from(row) for row in rows}

    async def household_of(self, person_ids: Sequence[str]) -> dict[str, str]:
        rows = await self._tx.run(
            "household.of_persons",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) "
            "WHERE m.active RETURN id, h.id AS household",
            ids=list(person_ids),
        )
        return {row["id"]: row["household"] for row in rows}

    async def set_role(self, person_id: str, household_id: str, role: HouseholdRole) -> bool:
        rows = await self._tx.run(
            "household.set_role",
            f"MATCH (:{PERSON} {{id: $person}})-[m:{MEMBER_OF}]->(:{HOUSEHOLD} {{id: $household}}) "
            "WHERE m.active SET m.role = $role RETURN count(m) AS n",
            person=person_id,
            household=household_id,
            role=role.value,
        )
        return bool(rows and rows[0]["n"])
