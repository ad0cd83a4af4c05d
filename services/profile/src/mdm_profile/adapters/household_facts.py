"""Cypher that reads what household detection compares: who lives at the addresses
concerned, with their source records' names and contact points and their memberships.

Small addresses are read whole; at a large one (an apartment block) only who may live
with the persons concerned, found through indexes and links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mdm_common.graph import Transaction
from mdm_profile.adapters.graph_store import (
    DESCRIBES,
    HAS_PHONE,
    PERSON,
    PHONE,
    SOURCE_RECORD,
)
from mdm_profile.domain.household_detection import AddressFacts, Membership
from mdm_profile.domain.household_evidence import (
    CROWDED_FAMILY_NAMES,
    Evidence,
    Resident,
    family_domain,
    name_parts,
)
from mdm_profile.domain.quality.folding import fold

HOUSEHOLD = "Household"
MEMBER_OF = "MEMBER_OF"

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
# The other active members of the households of persons $ids: a candidate's household
# is read whole, so that its links are seen.
_HOUSEMATES = (
    f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}})-[m:{MEMBER_OF}]->(:{HOUSEHOLD})"
    f"<-[n:{MEMBER_OF}]-(o:{PERSON}) WHERE m.active AND n.active AND o.status IS NULL "
    "RETURN DISTINCT o.id AS id"
)
# Persons with one of the household keys $keys (address and folded family name).
_NAMESAKES = (
    f"UNWIND $keys AS k MATCH (o:{PERSON} {{householdKey: k}}) WHERE o.status IS NULL "
    "RETURN DISTINCT o.id AS id"
)
# A resident (p at address key) with its source records' names and contact points
# and all its memberships (pattern comprehensions: a third less work for the graph
# server than OPTIONAL MATCH and collect, measured on 4,000 residents).
_RESIDENT = (
    "RETURN key, p.id AS id, p.familyName AS familyName, "
    "[p.email, p.phoneE164, p.phoneKind] AS golden, "
    f"[(p)<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) | "
    "[r.familyName, r.email, r.phoneE164, r.phoneKind]] AS records, "
    f"[(p)-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) | [h.id, m.active, coalesce(m.pinned, false), "
    "h.addressKey, m.evidence, m.confidence]] AS memberships"
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
# Measured (docs/benchmarks.md): reading whole addresses of ~7 costs about 1.6x the
# candidates; a small address is read whole, so that nothing there waits for a touch.
LARGE_ADDRESS = 4


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


@dataclass(frozen=True)
class DetectionFacts:
    addresses: list[AddressFacts]
    departed: list[Membership]  # memberships of persons without an address (or gone)


class GraphResidentFacts:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def read(self, person_ids: Sequence[str]) -> DetectionFacts:
        """The residents of the persons' addresses and of their households' addresses."""
        scope = await self._tx.run_plain("household.scope", _SCOPE, ids=list(person_ids))
        addresses = sorted({key for row in scope for key in _addresses_around(row) if key})
        departed = [
            Membership(row["id"], household, active=True)
            for row in scope
            if not (row["live"] and row["address"])
            for household in row["households"]
        ]
        rows, crowded = await self._residents(addresses, scope)
        return DetectionFacts(_address_facts(rows, crowded), departed)

    async def _residents(
        self, addresses: list[str], scope: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, bool]]:
        """Everyone at small addresses; at large ones the candidates, and whether the
        address is an apartment block (counted, since not everyone is read)."""
        if not addresses:
            return [], {}
        sizes = await self._tx.run_plain("household.sizes", _SIZES, addresses=addresses)
        large = {r["key"]: r["names"] for r in sizes if r["residents"] > LARGE_ADDRESS}
        small = [key for key in addresses if key not in large]
        rows = []
        if small:
            rows = await self._tx.run_plain("household.residents", _RESIDENTS, addresses=small)
        if large:
            ids = await self._candidates(large, scope)
            found = await self._tx.run_plain("household.candidates", _RESIDENTS_BY_ID, ids=ids)
            # Members of a household elsewhere are read with their own address, if at all.
            rows += [r for r in found if r["key"] in large]
        crowded = {key: names >= CROWDED_FAMILY_NAMES for key, names in large.items()}
        return rows, crowded

    async def _candidates(self, large: dict[str, int], scope: list[dict[str, Any]]) -> list[str]:
        touched = [r for r in scope if r["live"] and r["address"] in large]
        ids = {r["id"] for r in touched} | {m for r in scope for m in r["mates"]}
        if not touched:
            return sorted(ids)
        seeds = [
            {"id": r["id"], "address": r["address"], "domain": _at(family_domain(r["email"]))}
            for r in touched
        ]
        near = await self._tx.run_plain("household.near", _NEAR, seeds=seeds)
        ids.update(i for row in near for i in row["ids"])
        names = {(r["address"], r["familyName"] or "") for r in touched}
        names |= {(row["address"], name) for row in near for name in row["names"] if name}
        keys = sorted({f"{address}#{key}" for address, name in names for key in _keys(name)})
        namesakes = await self._tx.run_plain("household.namesakes", _NAMESAKES, keys=keys)
        ids.update(row["id"] for row in namesakes)
        housemates = await self._tx.run_plain("household.housemates", _HOUSEMATES, ids=sorted(ids))
        ids.update(row["id"] for row in housemates)
        return sorted(ids)
