"""Cypher for households: the facts detection needs, its plan, roles, steward decisions.

    (:Person)-[:MEMBER_OF {role, detected, active, evidence, confidence, pinned}]->(:Household
        {id, key, addressKey, decision, decidedBy, decidedAt})

The decision who lives together is made in Python (``domain/household_detection.py``);
``household_facts.py`` reads the residents of the addresses concerned, this module
writes the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.graph_store import PERSON
from mdm_profile.adapters.household_facts import HOUSEHOLD, MEMBER_OF, GraphResidentFacts
from mdm_profile.adapters.link_history import GraphLinkHistory
from mdm_profile.domain.household_detection import HouseholdPlan, plan_households
from mdm_profile.domain.household_evidence import Evidence
from mdm_profile.domain.households import (
    Audit,
    Decision,
    Household,
    HouseholdMember,
    HouseholdRole,
)
from mdm_profile.domain.quality.addresses import PostalAddress

# The labels live with the reads; links, merges and erasure import them from here.
__all__ = ["HOUSEHOLD", "MEMBER_OF", "SCHEMA", "GraphHouseholdStore"]

SCHEMA = (
    f"CREATE CONSTRAINT household_id IF NOT EXISTS FOR (h:{HOUSEHOLD}) REQUIRE h.id IS UNIQUE",
    f"CREATE CONSTRAINT household_key IF NOT EXISTS FOR (h:{HOUSEHOLD}) REQUIRE h.key IS UNIQUE",
    f"CREATE INDEX person_address_key IF NOT EXISTS FOR (p:{PERSON}) ON (p.addressKey)",
    f"CREATE INDEX person_household_key IF NOT EXISTS FOR (p:{PERSON}) ON (p.householdKey)",
    # Persons stored before householdKey existed get it once (idempotent).
    f"MATCH (p:{PERSON}) WHERE p.householdKey IS NULL AND p.addressKey IS NOT NULL "
    "AND coalesce(p.familyKey, '') <> '' SET p.householdKey = p.addressKey + '#' + p.familyKey",
)

# Active members of household `h` (asked for as `id`), ordered by person id.
_MEMBERS = (
    f"OPTIONAL MATCH (p:{PERSON})-[m:{MEMBER_OF}]->(h) WHERE m.active AND p.status IS NULL "
    "WITH id, h, p, m ORDER BY p.id "
    "RETURN id, h.id AS householdId, h.decision AS decision, h.decidedBy AS decidedBy, "
    "h.decidedAt AS decidedAt, head(collect(p {.street, .houseNumber, .postalCode, "
    ".city, .country})) AS address, "
    "collect(CASE WHEN p IS NULL THEN null ELSE [p.id, m.role, m.detected, m.evidence, "
    "m.confidence, coalesce(m.pinned, false)] END) AS members"
)


def _member_from(values: list[Any]) -> HouseholdMember:
    person_id, role, detected, evidence, confidence, pinned = values
    return HouseholdMember(
        person_id,
        HouseholdRole(role),
        bool(detected),
        evidence=frozenset(Evidence(e) for e in evidence or ()),
        confidence=confidence,
        pinned=bool(pinned),
    )


def _household_from(row: dict[str, Any]) -> Household:
    members = tuple(_member_from(m) for m in row["members"] if m is not None)
    a = row["address"]
    address = (
        PostalAddress(a["street"], a["houseNumber"], a["postalCode"], a["city"], a["country"])
        if a
        else None
    )
    audit = (
        Audit(Decision(row["decision"]), row["decidedBy"], as_utc(row["decidedAt"]))
        if row["decision"]
        else None
    )
    return Household(row["householdId"], address, members, audit)


class GraphHouseholdStore:
    def __init__(self, tx: Transaction, *, by_family_name: bool = True) -> None:
        self._tx = tx
        # False: everyone at one address is one household (no evidence needed).
        self._address_alone = not by_family_name

    async def refresh_households(self, person_ids: Sequence[str], *, at: datetime) -> None:
        """Re-apply detection; then keep the links state of everybody it may have moved
        (and of ``person_ids``, whose employers their writes may have changed)."""
        facts = await GraphResidentFacts(self._tx).read(person_ids)
        touched = set(person_ids)
        if facts.addresses or facts.departed:
            plan = plan_households(
                facts.addresses,
                facts.departed,
                new_id=lambda: str(uuid.uuid4()),
                address_alone=self._address_alone,
            )
            await self._apply(plan)
            touched |= {person for person, _ in plan.leave}
            touched |= {p.person_id for p in plan.placements}
        await GraphLinkHistory(self._tx).record(touched, at=at)

    async def _apply(self, plan: HouseholdPlan) -> None:
        if plan.leave:
            await self._tx.run(
                "household.leave",
                f"UNWIND $leave AS l MATCH (:{PERSON} {{id: l[0]}})-[m:{MEMBER_OF}]->"
                f"(:{HOUSEHOLD} {{id: l[1]}}) WHERE m.active SET m.active = false",
                leave=[list(pair) for pair in sorted(plan.leave)],
            )
        if plan.new_households:
            await self._tx.run(
                "household.create",
                f"UNWIND $ids AS id CREATE (:{HOUSEHOLD} {{id: id, key: id}})",
                ids=sorted(plan.new_households),
            )
        if plan.placements:
            await self._tx.run(
                "household.join",
                f"UNWIND $rows AS row MATCH (h:{HOUSEHOLD} {{id: row.household}}) "
                f"MATCH (p:{PERSON} {{id: row.person}}) MERGE (p)-[m:{MEMBER_OF}]->(h) "
                "ON CREATE SET m.role = 'MEMBER', m.detected = true "
                "SET m.active = true, m.evidence = row.evidence, m.confidence = row.confidence, "
                "h.addressKey = row.address",
                rows=[
                    {
                        "person": p.person_id,
                        "household": p.household_id,
                        "address": p.address_key,
                        "evidence": sorted(e.value for e in p.evidence),
                        "confidence": p.confidence,
                    }
                    for p in plan.placements
                ],
            )

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
        await GraphLinkHistory(self._tx).record([person_id])
        return bool(rows and rows[0]["n"])

    async def confirm(self, household_id: str, *, actor: str, at: datetime) -> None:
        await self._tx.run(
            "household.confirm",
            f"MATCH (h:{HOUSEHOLD} {{id: $id}}) "
            "SET h.decision = $decision, h.decidedBy = $actor, h.decidedAt = $at "
            f"WITH h MATCH (p:{PERSON})-[m:{MEMBER_OF}]->(h) WHERE m.active AND p.status IS NULL "
            "SET m.pinned = true, h.addressKey = coalesce(h.addressKey, p.addressKey)",
            id=household_id,
            decision=Decision.CONFIRMED.value,
            actor=actor,
            at=at,
        )

    async def move_members(
        self,
        person_ids: Sequence[str],
        source_id: str,
        target_id: str,
        *,
        create: bool,
        actor: str,
        at: datetime,
    ) -> None:
        if create:
            await self._tx.run(
                "household.create_for_split",
                f"MATCH (h:{HOUSEHOLD} {{id: $source}}) "
                f"CREATE (:{HOUSEHOLD} {{id: $target, key: $target, addressKey: h.addressKey}})",
                source=source_id,
                target=target_id,
            )
        await self._tx.run(
            "household.move_members",
            f"MATCH (h:{HOUSEHOLD} {{id: $source}}) MATCH (t:{HOUSEHOLD} {{id: $target}}) "
            "SET h.decision = $decision, h.decidedBy = $actor, h.decidedAt = $at, "
            "t.decision = $decision, t.decidedBy = $actor, t.decidedAt = $at "
            f"WITH h, t UNWIND $persons AS pid "
            f"MATCH (p:{PERSON} {{id: pid}})-[old:{MEMBER_OF}]->(h) "
            "WHERE old.active SET old.active = false, old.pinned = false "
            f"MERGE (p)-[m:{MEMBER_OF}]->(t) ON CREATE SET m.role = old.role, m.detected = false "
            "SET m.active = true, m.pinned = true, m.evidence = coalesce(m.evidence, []), "
            "h.addressKey = coalesce(h.addressKey, p.addressKey), "
            "t.addressKey = coalesce(t.addressKey, h.addressKey, p.addressKey)",
            source=source_id,
            target=target_id,
            persons=list(person_ids),
            decision=Decision.SPLIT.value,
            actor=actor,
            at=at,
        )
        # Who stays, and who was already there, was seen by the steward too.
        await self._tx.run(
            "household.pin_members",
            f"UNWIND [$source, $target] AS id MATCH (h:{HOUSEHOLD} {{id: id}}) "
            f"MATCH (p:{PERSON})-[m:{MEMBER_OF}]->(h) WHERE m.active AND p.status IS NULL "
            "SET m.pinned = true",
            source=source_id,
            target=target_id,
        )
        await GraphLinkHistory(self._tx).record(person_ids, at=at)
