"""Cypher for households: the facts detection needs, its plan, roles, steward decisions.

    (:Person)-[:MEMBER_OF {role, detected, active, evidence, confidence, pinned}]->(:Household
        {id, key, addressKey, decision, decidedBy, decidedAt})

The decision who lives together is made in Python (``domain/household_detection.py``);
this module reads the residents of the addresses concerned and writes the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.graph_store import (
    DESCRIBES,
    HAS_PHONE,
    PERSON,
    PHONE,
    SOURCE_RECORD,
)
from mdm_profile.domain.household_detection import (
    AddressFacts,
    HouseholdPlan,
    Membership,
    plan_households,
)
from mdm_profile.domain.household_evidence import (
    CROWDED_FAMILY_NAMES,
    Evidence,
    Resident,
    family_domain,
    name_parts,
)
from mdm_profile.domain.households import (
    Audit,
    Decision,
    Household,
    HouseholdMember,
    HouseholdRole,
)
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.quality.folding import fold

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

# Where the persons $ids live, and where the households they are active in are: the
# addresses whose residents detection looks at again.
_SCOPE = (
    f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) "
    f"OPTIONAL MATCH (p)-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) WHERE m.active "
    f"OPTIONAL MATCH (h)<-[o:{MEMBER_OF}]-(other:{PERSON}) WHERE o.active "
    "AND other.status IS NULL "
    "RETURN id, p.status IS NULL AS live, p.addressKey AS address, "
    "p.familyName AS familyName, p.email AS email, "
    "collect(DISTINCT h.addressKey) + collect(DISTINCT other.addressKey) AS around, "
    "collect(DISTINCT h.id) AS households, collect(DISTINCT other.id) AS mates"
)
# How many live at each address $addresses, and under how many family names.
_SIZES = (
    f"UNWIND $addresses AS key MATCH (p:{PERSON} {{addressKey: key}}) WHERE p.status IS NULL "
    "RETURN key, count(p) AS residents, count(DISTINCT p.familyKey) AS names"
)
# At a large address, who may live with the persons $seeds ({id, address, domain}): the
# same phone number, a member of one of their households, an e-mail at the same family
# domain; and the family names of the seeds' source records (earlier names).
_NEAR = (
    f"UNWIND $seeds AS s MATCH (p:{PERSON} {{id: s.id}}) "
    f"OPTIONAL MATCH (p)-[:{HAS_PHONE}]->(:{PHONE})<-[:{HAS_PHONE}]-(o:{PERSON}) "
    "WHERE o.addressKey = s.address AND o.status IS NULL "
    "WITH s, p, collect(DISTINCT o.id) AS byPhone "
    f"OPTIONAL MATCH (p)-[m:{MEMBER_OF}]->(:{HOUSEHOLD})<-[n:{MEMBER_OF}]-(c:{PERSON}) "
    "WHERE m.active AND n.active AND c.addressKey = s.address AND c.status IS NULL "
    "WITH s, p, byPhone, collect(DISTINCT c.id) AS byHousehold "
    f"OPTIONAL MATCH (d:{PERSON} {{addressKey: s.address}}) WHERE s.domain IS NOT NULL "
    "AND d.email ENDS WITH s.domain AND d.status IS NULL "
    "WITH s, p, byPhone, byHousehold, collect(DISTINCT d.id) AS byDomain "
    f"OPTIONAL MATCH (p)<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
    "RETURN s.id AS id, s.address AS address, byPhone + byHousehold + byDomain AS ids, "
    "collect(DISTINCT r.familyName) AS names"
)
# Persons with one of the household keys $keys (address and folded family name).
_NAMESAKES = (
    f"UNWIND $keys AS k MATCH (o:{PERSON} {{householdKey: k}}) WHERE o.status IS NULL "
    "RETURN DISTINCT o.id AS id"
)
# A resident (p at address key) with its source records' names and contact points
# and all its memberships.
_RESIDENT = (
    f"OPTIONAL MATCH (p)<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
    "WITH key, p, collect([r.familyName, r.email, r.phoneE164, r.phoneKind]) AS records "
    f"OPTIONAL MATCH (p)-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) "
    "RETURN key, p.id AS id, p.familyName AS familyName, "
    "[p.email, p.phoneE164, p.phoneKind] AS golden, records, "
    "collect(CASE WHEN h IS NULL THEN null "
    "ELSE [h.id, m.active, coalesce(m.pinned, false), h.addressKey, m.evidence, "
    "m.confidence] END) AS memberships"
)
# Everyone living at the addresses $addresses.
_RESIDENTS = (
    f"UNWIND $addresses AS key MATCH (p:{PERSON} {{addressKey: key}}) WHERE p.status IS NULL "
    + _RESIDENT
)
# The persons $ids, wherever they live.
_RESIDENTS_BY_ID = (
    f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) WHERE p.status IS NULL "
    "AND p.addressKey IS NOT NULL WITH p, p.addressKey AS key " + _RESIDENT
)
# Above this many residents an address is not read whole: only who may live with the
# persons concerned (namesakes, earlier names, the same number, a family domain, their
# households' members), found through indexes and links, not by reading everyone.
LARGE_ADDRESS = 30
# The names and contact points of the source records of persons $ids (who live with
# somebody: alone, nobody is compared).
_RECORDS = (
    f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}})<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
    "RETURN id, collect([r.familyName, r.email, r.phoneE164, r.phoneKind]) AS records"
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


def _resident_from(row: dict[str, Any]) -> Resident:
    email, e164, kind = row["golden"]
    records = row["records"]
    phones = {(e164, kind or "")} if e164 else set()
    phones |= {(r[2], r[3] or "") for r in records if r[2]}
    emails = {email} if email else set()
    emails |= {r[1] for r in records if r[1]}
    return Resident(
        row["id"],
        row["familyName"] or "",
        record_family_names=tuple(sorted({r[0] for r in records if r[0]})),
        phones=tuple(sorted(phones)),
        emails=tuple(sorted(emails)),
    )


def _membership_from(person_id: str, values: list[Any]) -> Membership:
    household, active, pinned, address, evidence, confidence = values
    return Membership(
        person_id,
        household,
        bool(active),
        bool(pinned),
        address,
        evidence=frozenset(Evidence(e) for e in evidence or ()),
        confidence=confidence,
    )


def _address_facts(rows: list[dict[str, Any]], crowded: dict[str, bool]) -> list[AddressFacts]:
    by_address: dict[str, tuple[list[Resident], list[Membership]]] = {}
    for row in rows:
        residents, memberships = by_address.setdefault(row["key"], ([], []))
        residents.append(_resident_from(row))
        memberships.extend(_membership_from(row["id"], m) for m in row["memberships"] if m)
    return [
        AddressFacts(key, tuple(residents), tuple(memberships), crowded.get(key))
        for key, (residents, memberships) in sorted(by_address.items())
    ]


def _keys(family_name: str) -> set[str]:
    """A family name's keys: folded, and each part of a double name."""
    return {key for key in {fold(family_name), *name_parts(family_name)} if key}


def _at(domain: str | None) -> str | None:
    return f"@{domain}" if domain else None


def _addresses_around(row: dict[str, Any]) -> list[str | None]:
    """A person's address (unless it is gone) and the addresses of its households."""
    return ([row["address"]] if row["live"] else []) + list(row["around"])


class GraphHouseholdStore:
    def __init__(self, tx: Transaction, *, by_family_name: bool = True) -> None:
        self._tx = tx
        # False: everyone at one address is one household (no evidence needed).
        self._address_alone = not by_family_name

    async def refresh_households(self, person_ids: Sequence[str]) -> None:
        scope = await self._tx.run("household.scope", _SCOPE, ids=list(person_ids))
        addresses = sorted({key for row in scope for key in _addresses_around(row) if key})
        departed = [
            Membership(row["id"], household, active=True)
            for row in scope
            if not (row["live"] and row["address"])
            for household in row["households"]
        ]
        if not addresses and not departed:
            return
        rows, crowded = await self._residents(addresses, scope)
        plan = plan_households(
            _address_facts(rows, crowded),
            departed,
            new_id=lambda: str(uuid.uuid4()),
            address_alone=self._address_alone,
        )
        await self._apply(plan)

    async def _residents(
        self, addresses: list[str], scope: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, bool]]:
        """Everyone at small addresses; at large ones the candidates, and whether the
        address is an apartment block (counted, since not everyone is read)."""
        if not addresses:
            return [], {}
        sizes = await self._tx.run("household.sizes", _SIZES, addresses=addresses)
        large = {r["key"]: r["names"] for r in sizes if r["residents"] > LARGE_ADDRESS}
        small = [key for key in addresses if key not in large]
        rows = (
            await self._tx.run("household.residents", _RESIDENTS, addresses=small) if small else []
        )
        if large:
            ids = await self._candidates(large, scope)
            rows += await self._tx.run("household.candidates", _RESIDENTS_BY_ID, ids=ids)
        crowded = {key: names >= CROWDED_FAMILY_NAMES for key, names in large.items()}
        return [r for r in rows if r["key"] in large or r["key"] in small], crowded

    async def _candidates(self, large: dict[str, int], scope: list[dict[str, Any]]) -> list[str]:
        touched = [r for r in scope if r["live"] and r["address"] in large]
        ids = {r["id"] for r in touched} | {m for r in scope for m in r["mates"]}
        if not touched:
            return sorted(ids)
        seeds = [
            {"id": r["id"], "address": r["address"], "domain": _at(family_domain(r["email"]))}
            for r in touched
        ]
        near = await self._tx.run("household.near", _NEAR, seeds=seeds)
        ids.update(i for row in near for i in row["ids"])
        names = {(r["address"], r["familyName"] or "") for r in touched}
        names |= {(row["address"], name) for row in near for name in row["names"] if name}
        keys = sorted({f"{address}#{key}" for address, name in names for key in _keys(name)})
        namesakes = await self._tx.run("household.namesakes", _NAMESAKES, keys=keys)
        ids.update(row["id"] for row in namesakes)
        return sorted(ids)

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
