"""Cypher for the profile graph. Labels come from constants; every value is a parameter.

    (:SourceRecord)-[:DESCRIBES]->(:Person)-[:HAS_EMAIL]->(:Email)
                                          -[:HAS_PHONE]->(:Phone)
                                          -[:LIVES_AT]->(:PostalAddress)

Contact points are shared nodes: two persons with one address or landline are
connected through it. A person links to the contact points of all its source
records; its golden values say which one is current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction
from mdm_common.keyset import any_key_reader, in_window, keyset_page, window_params
from mdm_profile.adapters.graph_mapping import (
    FEATURES_PROJECTION,
    features_from,
    person_from,
    person_props,
    record_from,
    record_props,
)
from mdm_profile.domain.models import Person
from mdm_profile.domain.ports import ProfileChanges, StoredRecord
from mdm_profile.domain.privacy import ERASED
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.search import SearchCriteria

PERSON = "Person"
SOURCE_RECORD = "SourceRecord"
EMAIL = "Email"
PHONE = "Phone"
POSTAL_ADDRESS = "PostalAddress"
DESCRIBES = "DESCRIBES"
HAS_EMAIL = "HAS_EMAIL"
HAS_PHONE = "HAS_PHONE"
LIVES_AT = "LIVES_AT"
# A person's links to its contact points, all three kinds (a relationship-type union).
CONTACT_LINKS = f"{HAS_EMAIL}|{HAS_PHONE}|{LIVES_AT}"
# Contact points by label: the link a person has to one, and its key property.
CONTACT_POINTS = (
    (EMAIL, HAS_EMAIL, "address"),
    (PHONE, HAS_PHONE, "e164"),
    (POSTAL_ADDRESS, LIVES_AT, "key"),
)
MERGED_INTO = "MERGED_INTO"
# Value history: (:Person)-[:HAD_VERSION]->(:PersonVersion), the golden values a person
# had until ``validTo`` (docs/decisions/0017-value-history.md).
PERSON_VERSION = "PersonVersion"
HAD_VERSION = "HAD_VERSION"
# A person's links state without household and employers (``link_history.state_json``).
NO_LINKS = '{"employers": [], "household": null}'
# Links person ``p`` to the contact points of its source record ``r``, all three kinds
# in one clause; MERGE keeps one link per contact point when several records share it.
LINK_RECORD_CONTACT_POINTS = (
    "FOREACH (address IN CASE WHEN r.email IS NULL THEN [] ELSE [toLower(r.email)] END | "
    f"MERGE (e:{EMAIL} {{address: address}}) MERGE (p)-[:{HAS_EMAIL}]->(e)) "
    "FOREACH (e164 IN CASE WHEN r.phoneE164 IS NULL THEN [] ELSE [r.phoneE164] END | "
    f"MERGE (t:{PHONE} {{e164: e164}}) ON CREATE SET t.kind = r.phoneKind "
    f"MERGE (p)-[:{HAS_PHONE}]->(t)) "
    "FOREACH (key IN CASE WHEN r.addressKey IS NULL THEN [] ELSE [r.addressKey] END | "
    f"MERGE (a:{POSTAL_ADDRESS} {{key: key}}) ON CREATE SET a.street = r.street, "
    "a.houseNumber = r.houseNumber, a.postalCode = r.postalCode, a.city = r.city, "
    f"a.country = r.country MERGE (p)-[:{LIVES_AT}]->(a))"
)

SCHEMA = (
    f"CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:{PERSON}) REQUIRE p.id IS UNIQUE",
    f"CREATE CONSTRAINT source_record_key IF NOT EXISTS "
    f"FOR (r:{SOURCE_RECORD}) REQUIRE r.key IS UNIQUE",
    f"CREATE CONSTRAINT email_address IF NOT EXISTS FOR (e:{EMAIL}) REQUIRE e.address IS UNIQUE",
    f"CREATE CONSTRAINT phone_e164 IF NOT EXISTS FOR (t:{PHONE}) REQUIRE t.e164 IS UNIQUE",
    f"CREATE CONSTRAINT postal_address_key IF NOT EXISTS "
    f"FOR (a:{POSTAL_ADDRESS}) REQUIRE a.key IS UNIQUE",
    f"CREATE INDEX person_family_name IF NOT EXISTS FOR (p:{PERSON}) ON (p.familyName)",
)


def keep_previous_version(changed_at: str) -> str:
    """Cypher that keeps a person's golden values as a version when a write changed them.

    The statement binds ``p`` (the person, written) and ``before`` (``p {.*}`` read
    before the write); ``changed_at`` is the expression of the write's time. A person
    written for the first time, or written with the values it had, gets no version.
    """
    return (
        f"WITH p, before, {changed_at} AS changedAt "
        "WHERE before.updatedAt IS NOT NULL "
        "AND coalesce(before.valuesDigest, '') <> coalesce(p.valuesDigest, '') "
        f"CREATE (p)-[:{HAD_VERSION}]->(v:{PERSON_VERSION}) SET v = before, "
        "v.validTo = changedAt"
    )


class _Timestamps:
    """The distinct timestamps of one statement, sent once and referred to by index.

    A batch shares a handful of timestamps, and the driver encodes each datetime
    value slowly (about 20 us); rows carry the index instead.
    """

    def __init__(self) -> None:
        self.values: list[datetime] = []
        self._index: dict[tuple[datetime, Any], int] = {}

    def ref(self, value: datetime) -> int:
        # The zone is part of the key: equal instants in other zones are stored apart.
        key = (value, value.tzinfo)
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(value)
        return self._index[key]


def _person_row(person: Person, times: _Timestamps) -> dict[str, Any]:
    props = person_props(person)
    return {"id": person.id, "props": props,
            "createdAt": times.ref(props.pop("createdAt")),
            "updatedAt": times.ref(props.pop("updatedAt"))}  # fmt: skip


def _record_row(record: CleanRecord, times: _Timestamps) -> dict[str, Any]:
    props = record_props(record)
    return {"key": record.key, "props": props, "recordedAt": times.ref(props.pop("recordedAt"))}


class GraphPersonStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get_many(self, ids: Sequence[str]) -> dict[str, Person]:
        """Persons by id; an id that was merged away maps to its survivor.

        Erased persons are not found (``erased`` tells them from unknown ids).
        """
        rows = await self._tx.run(
            "person.get_many",
            f"UNWIND $ids AS id MATCH (asked:{PERSON} {{id: id}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}]->(survivor:{PERSON}) "
            "WITH id, coalesce(survivor, asked) AS p WHERE coalesce(p.status, '') <> $erased "
            f"OPTIONAL MATCH (old:{PERSON})-[:{MERGED_INTO}]->(p) "
            "RETURN id, p {.*} AS p, collect(old.id) AS mergedFrom",
            ids=list(ids),
            erased=ERASED,
        )
        return {
            row["id"]: replace(person_from(row["p"]), merged_from=tuple(sorted(row["mergedFrom"])))
            for row in rows
        }

    async def features(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """What reconciling services compare persons by, as JSON-ready maps, with the
        source systems of each person's records; as ``get_many`` finds persons (an id
        merged away maps to its survivor, erased persons are not found). One statement,
        no source record read in full."""
        rows = await self._tx.run(
            "person.features",
            f"UNWIND $ids AS id MATCH (asked:{PERSON} {{id: id}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}]->(survivor:{PERSON}) "
            "WITH id, coalesce(survivor, asked) AS p WHERE coalesce(p.status, '') <> $erased "
            f"OPTIONAL MATCH (p)<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
            "WITH id, p, collect(DISTINCT r.source) AS sources "
            f"RETURN id, p {FEATURES_PROJECTION} AS p, sources",
            ids=list(ids),
            erased=ERASED,
        )
        return {row["id"]: features_from(row["p"], row["sources"]) for row in rows}

    async def erased(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` whose person (or its survivor) was erased."""
        rows = await self._tx.run(
            "person.erased",
            f"UNWIND $ids AS id MATCH (asked:{PERSON} {{id: id}}) "
            f"OPTIONAL MATCH (asked)-[:{MERGED_INTO}]->(survivor:{PERSON}) "
            "WITH id, coalesce(survivor, asked) AS p WHERE p.status = $erased RETURN id",
            ids=list(ids),
            erased=ERASED,
        )
        return {row["id"] for row in rows}

    async def active_ids(self, *, after: str, limit: int) -> list[str]:
        """Ids of persons not merged away, in id order after ``after`` (read in
        windows of the id range: :mod:`mdm_common.keyset`)."""

        async def window(lower: str, strict: bool, upper: str, n: int) -> list[str]:
            rows = await self._tx.run(
                "person.active_ids",
                f"MATCH (p:{PERSON}) WHERE {in_window('p', 'id')} AND p.status IS NULL "
                "RETURN p.id AS id ORDER BY p.id LIMIT $limit",
                **window_params(lower, strict, upper),
                limit=n,
            )
            return [row["id"] for row in rows]

        any_id = any_key_reader(self._tx, "person.any_id_from", PERSON, "id")
        return await keyset_page(after=after, limit=limit, read_window=window, any_key_from=any_id)

    async def search(
        self, criteria: SearchCriteria, *, after: tuple[str, str] | None, limit: int
    ) -> list[Person]:
        rows = await self._tx.run(
            "person.search",
            f"MATCH (p:{PERSON}) WHERE p.status IS NULL "
            "AND ($family IS NULL OR p.familyKey STARTS WITH $family) "
            "AND ($email IS NULL OR toLower(p.email) = $email) "
            "AND ($phone IS NULL OR p.phoneE164 = $phone) "
            "AND ($postal IS NULL OR p.postalCode = $postal) "
            "AND ($afterKey IS NULL OR p.familyKey > $afterKey "
            "OR (p.familyKey = $afterKey AND p.id > $afterId)) "
            "RETURN p {.*} AS p ORDER BY p.familyKey, p.id LIMIT $limit",
            family=criteria.family_key,
            email=criteria.email.lower() if criteria.email else None,
            phone=criteria.phone,
            postal=criteria.postal_code,
            afterKey=after[0] if after else None,
            afterId=after[1] if after else None,
            limit=limit,
        )
        return [person_from(row["p"]) for row in rows]

    async def records_by_key(self, keys: Sequence[str]) -> dict[str, StoredRecord]:
        rows = await self._tx.run(
            "record.by_key",
            f"UNWIND $keys AS key MATCH (r:{SOURCE_RECORD} {{key: key}})"
            f"-[:{DESCRIBES}]->(p:{PERSON}) RETURN key, r {{.*}} AS r, p.id AS personId",
            keys=list(keys),
        )
        return {row["key"]: StoredRecord(row["personId"], record_from(row["r"])) for row in rows}

    async def records_of_persons(self, person_ids: Sequence[str]) -> dict[str, list[CleanRecord]]:
        rows = await self._tx.run(
            "record.of_persons",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}})<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
            "RETURN id, r {.*} AS r ORDER BY r.key",
            ids=list(person_ids),
        )
        found: dict[str, list[CleanRecord]] = {pid: [] for pid in person_ids}
        for row in rows:
            found[row["id"]].append(record_from(row["r"]))
        return found

    async def save(self, changes: ProfileChanges) -> None:
        records_of: dict[str, list[StoredRecord]] = {}
        for stored in changes.records:
            records_of.setdefault(stored.person_id, []).append(stored)
        # A person created by this batch from one record is written in one statement
        # with its record and contact links: nothing to match, update or unlink.
        fresh = [
            p
            for p in changes.persons
            if p.id in changes.new_person_ids and len(records_of.get(p.id, ())) == 1
        ]
        fresh_ids = {p.id for p in fresh}
        if fresh:
            await self._create_persons(fresh, [records_of[p.id][0] for p in fresh])
        others = [p for p in changes.persons if p.id not in fresh_ids]
        if not others:
            return
        times = _Timestamps()
        await self._tx.run(
            "person.upsert_many",
            f"UNWIND $rows AS row MERGE (p:{PERSON} {{id: row.id}}) "
            "WITH p, row, p {.*} AS before SET p += row.props, "
            "p.createdAt = $times[row.createdAt], p.updatedAt = $times[row.updatedAt] "
            + keep_previous_version("$times[row.updatedAt]"),
            rows=[_person_row(p, times) for p in others],
            times=times.values,
        )
        times = _Timestamps()
        await self._tx.run(
            "record.upsert_many",
            f"UNWIND $rows AS row MATCH (p:{PERSON} {{id: row.personId}}) "
            f"MERGE (r:{SOURCE_RECORD} {{key: row.key}}) SET r += row.props, "
            f"r.recordedAt = $times[row.recordedAt] MERGE (r)-[:{DESCRIBES}]->(p)",
            rows=[
                {"personId": s.person_id, **_record_row(s.record, times)}
                for s in changes.records
                if s.person_id not in fresh_ids
            ],
            times=times.values,
        )
        await self.relink_contact_points([p.id for p in others], new=changes.new_person_ids)

    async def _create_persons(self, persons: list[Person], stored: list[StoredRecord]) -> None:
        """New persons, each with its one source record and that record's contact points,
        and no household or employer yet (link history starts from there).

        CREATE, not MERGE: the ids are new and the uniqueness constraints refuse a
        record key that another transaction created meanwhile.
        """
        times = _Timestamps()
        rows = [
            {**_person_row(p, times), "record": _record_row(s.record, times)}
            for p, s in zip(persons, stored, strict=True)
        ]
        await self._tx.run(
            "person.create_many",
            f"UNWIND $rows AS row CREATE (p:{PERSON} {{id: row.id}}) SET p += row.props, "
            "p.createdAt = $times[row.createdAt], p.updatedAt = $times[row.updatedAt], "
            "p.linksState = $noLinks, p.linksSince = $times[row.createdAt] "
            f"CREATE (r:{SOURCE_RECORD} {{key: row.record.key}})-[:{DESCRIBES}]->(p) "
            "SET r += row.record.props, r.recordedAt = $times[row.record.recordedAt] "
            "WITH p, row.record.props AS r "
            "FOREACH (address IN CASE WHEN r.email IS NULL THEN [] ELSE [toLower(r.email)] END | "
            f"MERGE (e:{EMAIL} {{address: address}}) CREATE (p)-[:{HAS_EMAIL}]->(e)) "
            "FOREACH (e164 IN CASE WHEN r.phoneE164 IS NULL THEN [] ELSE [r.phoneE164] END | "
            f"MERGE (t:{PHONE} {{e164: e164}}) ON CREATE SET t.kind = r.phoneKind "
            f"CREATE (p)-[:{HAS_PHONE}]->(t)) "
            "FOREACH (key IN CASE WHEN r.addressKey IS NULL THEN [] ELSE [r.addressKey] END | "
            f"MERGE (a:{POSTAL_ADDRESS} {{key: key}}) ON CREATE SET a.street = r.street, "
            "a.houseNumber = r.houseNumber, a.postalCode = r.postalCode, a.city = r.city, "
            f"a.country = r.country CREATE (p)-[:{LIVES_AT}]->(a))",
            rows=rows,
            times=times.values,
            noLinks=NO_LINKS,
        )  # fmt: skip

    async def _unlink_contact_points(self, person_ids: list[str]) -> dict[str, list[str]]:
        """Unlink the persons from their contact points; the keys of those, by label."""
        rows = await self._tx.run(
            "contact.unlink",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[h:{CONTACT_LINKS}]->(c) "
            "WITH h, type(h) AS link, coalesce(c.address, c.e164, c.key) AS key DELETE h "
            "RETURN DISTINCT link, key",
            ids=person_ids,
        )
        label_of = {link: label for label, link, _ in CONTACT_POINTS}
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(label_of[row["link"]], []).append(row["key"])
        return found

    async def relink_contact_points(
        self, person_ids: list[str], *, new: frozenset[str] = frozenset()
    ) -> None:
        """Link each person to the contact points of all its source records, afresh.

        Persons in ``new`` were created in this transaction and have no links yet. A
        contact point nobody links to any more (a value an update replaced) goes: it
        holds personal data of nobody's profile.
        """
        existing = [pid for pid in person_ids if pid not in new]
        unlinked = await self._unlink_contact_points(existing) if existing else {}
        await self.link_contact_points(person_ids)
        await self.drop_unused_contact_points(unlinked)

    async def drop_unused_contact_points(self, keys: dict[str, list[str]]) -> None:
        """Delete those of the contact points (keys by label) no person links to."""
        for label, link, key in CONTACT_POINTS:
            if keys.get(label):
                await self._tx.run(
                    f"contact.drop_unused_{label.lower()}",
                    f"UNWIND $keys AS key MATCH (c:{label} {{{key}: key}}) "
                    f"WHERE NOT (c)<-[:{link}]-(:{PERSON}) DETACH DELETE c",
                    keys=keys[label],
                )

    async def link_contact_points(self, person_ids: list[str]) -> None:
        """Link each person to the contact points of its source records it lacks a link to."""
        # One statement for all three kinds: a merge relinks on every call, and each
        # statement is a round trip. MERGE on the relationship keeps one link per
        # contact point when several records share it.
        await self._tx.run(
            "contact.link",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}})<-[:{DESCRIBES}]-(r:{SOURCE_RECORD}) "
            f"{LINK_RECORD_CONTACT_POINTS}",
            ids=person_ids,
        )
