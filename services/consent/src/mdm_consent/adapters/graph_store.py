"""Cypher for the consent history. Labels come from constants; every value is a parameter.

    (:ConsentEvent {id, personId, type, purpose, channel, ..., occurredAt, confirmBy,
                    tokenSha256, ipNetwork, submissionId})                  append-only
    (:ConsentState {key: "<personId>|<purpose>", personId, purpose, facts})
    (:ConsentSubject {personId, facts, mergedInto, merges})

Merges (``merge_store.py``) add ``mergedInto`` and the group's ``merges`` to the
subjects; facts and events stay with the person they were recorded for, and the
reads below gather those of every member of the group asked about.

The events are the record and are never changed. Appending one also appends its
:class:`Fact` (a compact JSON string) to the state of its person and purpose, in
the same transaction; facts that count for every purpose (evidence of age,
objections to direct marketing) go to the person's ``ConsentSubject``. A contact
check therefore reads two nodes by their unique keys, whatever the history's length,
and still sees every fact it needs to answer for any point in time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_common.keyset import any_key_reader, in_window, keyset_page, window_params
from mdm_consent.adapters.purpose_store import PURPOSE
from mdm_consent.domain.lineage import GroupFacts, Lineage
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    ConsentEvent,
    EventType,
    Fact,
    Hold,
    HoldKind,
    ImportProof,
    MergeLink,
    Method,
)

CONSENT_EVENT = "ConsentEvent"
CONSENT_STATE = "ConsentState"
CONSENT_SUBJECT = "ConsentSubject"

SCHEMA = (
    f"CREATE CONSTRAINT consent_event_id IF NOT EXISTS "
    f"FOR (c:{CONSENT_EVENT}) REQUIRE c.id IS UNIQUE",
    f"CREATE INDEX consent_event_person IF NOT EXISTS FOR (c:{CONSENT_EVENT}) ON (c.personId)",
    f"CREATE INDEX consent_event_purpose IF NOT EXISTS FOR (c:{CONSENT_EVENT}) ON (c.purpose)",
    f"CREATE INDEX consent_state_purpose IF NOT EXISTS FOR (s:{CONSENT_STATE}) ON (s.purpose)",
    f"CREATE INDEX consent_state_person IF NOT EXISTS FOR (s:{CONSENT_STATE}) ON (s.personId)",
    f"CREATE CONSTRAINT consent_state_key IF NOT EXISTS "
    f"FOR (s:{CONSENT_STATE}) REQUIRE s.key IS UNIQUE",
    f"CREATE CONSTRAINT consent_subject_person IF NOT EXISTS "
    f"FOR (s:{CONSENT_SUBJECT}) REQUIRE s.personId IS UNIQUE",
)


def state_key(person_id: str, purpose: str) -> str:
    return f"{person_id}|{purpose}"


class GraphConsentStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def append(self, event: ConsentEvent) -> None:
        await self._tx.run(
            "consent.append",
            f"CREATE (c:{CONSENT_EVENT} {{id: $id}}) SET c += $props",
            id=event.id,
            props=_event_props(event) | _import_props(event.imported),
        )
        fact = [fact_json(event.fact)]
        if event.purpose is not None:
            # One statement reads and extends the list, so that the node's write lock
            # covers both: concurrent appends cannot lose each other's facts.
            await self._tx.run(
                "consent.state_append",
                f"MERGE (s:{CONSENT_STATE} {{key: $key}}) "
                "ON CREATE SET s.personId = $personId, s.purpose = $purpose, s.facts = [] "
                "SET s.facts = s.facts + $fact",
                key=state_key(event.person_id, event.purpose), personId=event.person_id,
                purpose=event.purpose, fact=fact,
            )  # fmt: skip
        if event.concerns_all_purposes:
            await self._tx.run(
                "consent.subject_append",
                f"MERGE (s:{CONSENT_SUBJECT} {{personId: $personId}}) "
                "ON CREATE SET s.facts = [] SET s.facts = s.facts + $fact",
                personId=event.person_id, fact=fact,
            )  # fmt: skip

    async def _lineages(self, person_ids: Sequence[str]) -> dict[str, Lineage]:
        rows = await self._tx.run(
            "consent.lineages",
            f"UNWIND $ids AS pid OPTIONAL MATCH (p:{CONSENT_SUBJECT} {{personId: pid}}) "
            "RETURN pid, p.mergedInto AS mergedInto, p.merges AS merges",
            ids=list(dict.fromkeys(person_ids)),
        )  # fmt: skip
        return {r["pid"]: lineage_of(r["pid"], r["mergedInto"], r["merges"]) for r in rows}

    async def history_of(self, person_ids: Sequence[str]) -> dict[str, list[ConsentEvent]]:
        groups = await self._lineages(person_ids)
        members = list(dict.fromkeys(m for g in groups.values() for m in g.members))
        rows = await self._tx.run(
            "consent.history_of",
            f"UNWIND $ids AS pid MATCH (c:{CONSENT_EVENT} {{personId: pid}}) RETURN c {{.*}} AS c",
            ids=members,
        )
        own: dict[str, list[ConsentEvent]] = {}
        for row in rows:
            event = _event(row["c"])
            own.setdefault(event.person_id, []).append(event)
        history: dict[str, list[ConsentEvent]] = {}
        for pid in person_ids:
            events = [e for m in groups[pid].members for e in own.get(m, ())]
            events.sort(key=lambda e: (e.occurred_at, e.recorded_at, e.id), reverse=True)
            history[pid] = events
        return history

    async def facts_of(self, person_ids: Sequence[str], purpose: str) -> dict[str, GroupFacts]:
        return await self._group_facts(await self._fact_rows(person_ids, purpose), purpose)

    async def facts_of_one(
        self, person_id: str, purpose: str
    ) -> tuple[GroupFacts, int | None] | None:
        # The single check reads the purpose's revision in the same statement, so
        # that a cached purpose is used only while it is current.
        rows = await self._fact_rows([person_id], purpose)
        row = rows[person_id]
        if row["purposeCode"] is None:
            return None
        groups = await self._group_facts(rows, purpose)
        revision = row["purposeRevision"]
        return groups[person_id], int(revision) if revision is not None else None

    async def _group_facts(
        self, rows: dict[str, dict[str, Any]], purpose: str
    ) -> dict[str, GroupFacts]:
        groups = {
            pid: lineage_of(pid, row["mergedInto"], row["merges"]) for pid, row in rows.items()
        }
        # Members of merge groups: one more read, for merged persons only.
        missing = {m for g in groups.values() for m in g.members} - rows.keys()
        if missing:
            rows |= await self._fact_rows(sorted(missing), purpose)
        return {
            pid: GroupFacts(group, tuple(
                fact_from_json(f, person_id=m)
                for m in group.members
                for f in [*(rows[m]["own"] or ()), *(rows[m]["shared"] or ())]
            ), holds=tuple(
                hold_from_json(h, person_id=m)
                for m in group.members
                for h in rows[m]["holds"] or ()
            ))
            for pid, group in groups.items()
        }  # fmt: skip

    async def event_times(
        self, purpose: str, *, since: datetime, until: datetime
    ) -> list[tuple[EventType, datetime]]:
        rows = await self._tx.run(
            "consent.event_times",
            f"MATCH (c:{CONSENT_EVENT} {{purpose: $purpose}}) "
            "WHERE c.occurredAt >= $since AND c.occurredAt < $until "
            "RETURN c.type AS type, c.occurredAt AS at",
            purpose=purpose, since=since, until=until,
        )  # fmt: skip
        return [(EventType(r["type"]), as_utc(r["at"])) for r in rows]

    async def persons_of(self, purpose: str) -> list[str]:
        # Every event with a purpose extends its person's state for it (``append``).
        rows = await self._tx.run(
            "consent.persons_of",
            f"MATCH (s:{CONSENT_STATE} {{purpose: $purpose}}) RETURN s.personId AS personId",
            purpose=purpose,
        )
        return sorted({r["personId"] for r in rows})

    async def persons_after(self, after: str, limit: int) -> list[str]:
        # Events for a purpose extend a state, objections to all direct marketing and
        # evidence of age a subject: the persons are those of both, merged here. Each
        # is read in windows of the id range (mdm_common.keyset).
        found: set[str] = set()
        for label in (CONSENT_STATE, CONSENT_SUBJECT):
            found.update(
                await keyset_page(
                    after=after,
                    limit=limit,
                    read_window=functools.partial(self._persons_window, label),
                    any_key_from=any_key_reader(
                        self._tx, "consent.any_person_from", label, "personId"
                    ),
                )
            )
        return sorted(found)[:limit]

    async def _persons_window(
        self, label: str, lower: str, strict: bool, upper: str, limit: int
    ) -> list[str]:
        rows = await self._tx.run(
            "consent.persons_after",
            f"MATCH (s:{label}) WHERE {in_window('s', 'personId')} "
            "RETURN DISTINCT s.personId AS personId ORDER BY personId LIMIT $limit",
            **window_params(lower, strict, upper),
            limit=limit,
        )
        return [r["personId"] for r in rows]

    async def holds_of(self, person_ids: Sequence[str]) -> dict[str, list[Hold]]:
        """Each person's own restrictions and erasures (not the group's), oldest first."""
        rows = await self._tx.run(
            "consent.holds_of",
            f"UNWIND $ids AS pid OPTIONAL MATCH (p:{CONSENT_SUBJECT} {{personId: pid}}) "
            "RETURN pid, p.holds AS holds",
            ids=list(dict.fromkeys(person_ids)),
        )  # fmt: skip
        return {r["pid"]: [hold_from_json(h) for h in r["holds"] or ()] for r in rows}

    async def set_holds(self, holds: dict[str, list[Hold]]) -> None:
        await self._tx.run(
            "consent.set_holds",
            f"UNWIND $rows AS row MERGE (p:{CONSENT_SUBJECT} {{personId: row.personId}}) "
            "ON CREATE SET p.facts = [] SET p.holds = row.holds",
            rows=[{"personId": pid, "holds": [hold_json(h) for h in hs]}
                  for pid, hs in holds.items()],
        )  # fmt: skip

    async def pseudonymise(self, person_ids: Sequence[str]) -> int:
        """Erasure (Art. 17): drop what identifies the person from their events and
        facts (the evidenced birth date); the events stay as proof of consent (Art.
        7(1), 17(3)(e)). Returns the number of events changed."""
        rows = await self._tx.run(
            "consent.pseudonymise_events",
            f"UNWIND $ids AS pid MATCH (c:{CONSENT_EVENT} {{personId: pid}}) "
            "WHERE c.birthDate IS NOT NULL SET c.birthDate = null RETURN count(c) AS changed",
            ids=list(person_ids),
        )  # fmt: skip
        subjects = await self._tx.run(
            "consent.subject_facts",
            f"UNWIND $ids AS pid MATCH (p:{CONSENT_SUBJECT} {{personId: pid}}) "
            "RETURN pid, p.facts AS facts",
            ids=list(person_ids),
        )  # fmt: skip
        await self._tx.run(
            "consent.pseudonymise_facts",
            f"UNWIND $rows AS row MATCH (p:{CONSENT_SUBJECT} {{personId: row.personId}}) "
            "SET p.facts = row.facts",
            rows=[{"personId": r["pid"],
                   "facts": [_without_birth_date(f) for f in r["facts"] or ()]}
                  for r in subjects],
        )  # fmt: skip
        return int(rows[0]["changed"]) if rows else 0

    async def _fact_rows(
        self, person_ids: Sequence[str], purpose: str
    ) -> dict[str, dict[str, Any]]:
        returned = ("s.facts AS own, p.facts AS shared, p.mergedInto AS mergedInto, "
                    "p.merges AS merges, p.holds AS holds")  # fmt: skip
        if len(person_ids) == 1:
            # The single check: three lookups by key, no UNWIND to plan.
            rows = await self._tx.run(
                "consent.facts_of_one",
                f"OPTIONAL MATCH (s:{CONSENT_STATE} {{key: $key}}) "
                f"OPTIONAL MATCH (p:{CONSENT_SUBJECT} {{personId: $personId}}) "
                f"OPTIONAL MATCH (u:{PURPOSE} {{code: $purpose}}) "
                f"RETURN $personId AS personId, {returned}, u.code AS purposeCode, "
                "u.revision AS purposeRevision",
                key=state_key(person_ids[0], purpose), personId=person_ids[0], purpose=purpose,
            )  # fmt: skip
        else:
            rows = await self._tx.run(
                "consent.facts_of",
                f"UNWIND $rows AS r OPTIONAL MATCH (s:{CONSENT_STATE} {{key: r.key}}) "
                f"OPTIONAL MATCH (p:{CONSENT_SUBJECT} {{personId: r.personId}}) "
                f"RETURN r.personId AS personId, {returned}",
                rows=[{"personId": pid, "key": state_key(pid, purpose)}
                      for pid in dict.fromkeys(person_ids)],
            )  # fmt: skip
        return {row["personId"]: dict(row) for row in rows}


def _event_props(event: ConsentEvent) -> dict[str, Any]:
    return {
        "personId": event.person_id, "type": event.type.value, "purpose": event.purpose,
        "channel": event.channel.value if event.channel else None,
        "noticeVersion": event.notice_version, "noticeSha256": event.notice_sha256,
        "occurredAt": event.occurred_at, "recordedAt": event.recorded_at,
        "recordedBy": event.recorded_by, "collectionPoint": event.collection_point,
        "method": event.method.value, "actor": event.actor.value, "staffId": event.staff_id,
        "language": event.language, "evidenceRef": event.evidence_ref,
        "confirms": event.confirms,
        "birthDate": event.birth_date.isoformat() if event.birth_date else None,
        "directMarketing": event.direct_marketing, "productCategory": event.product_category,
        "confirmBy": event.confirm_by,
        "tokenSha256": event.token_sha256, "ipNetwork": event.ip_network,
        "submissionId": event.submission_id,
    }  # fmt: skip


def _import_props(proof: ImportProof | None) -> dict[str, Any]:
    if proof is None:
        return {}
    return {
        "imported": True,
        "importId": proof.import_id,
        "importSource": proof.source,
        "importReference": proof.reference,
        "importDocumentSha256": proof.document_sha256,
        "importedBy": proof.imported_by,
        "importedAt": proof.imported_at,
    }


def _import_proof(p: dict[str, Any]) -> ImportProof | None:
    if not p.get("imported"):
        return None
    return ImportProof(
        import_id=p["importId"],
        source=p["importSource"],
        reference=p["importReference"],
        document_sha256=p["importDocumentSha256"],
        imported_by=p["importedBy"],
        imported_at=as_utc(p["importedAt"]),
    )


def _event(p: dict[str, Any]) -> ConsentEvent:
    return ConsentEvent(
        id=p["id"], person_id=p["personId"], type=EventType(p["type"]),
        occurred_at=as_utc(p["occurredAt"]), recorded_at=as_utc(p["recordedAt"]),
        recorded_by=p["recordedBy"], collection_point=p["collectionPoint"],
        method=Method(p["method"]), actor=ActorType(p["actor"]), purpose=p.get("purpose"),
        channel=Channel(p["channel"]) if p.get("channel") else None,
        notice_version=p.get("noticeVersion"), notice_sha256=p.get("noticeSha256"),
        language=p.get("language"), staff_id=p.get("staffId"),
        evidence_ref=p.get("evidenceRef"), confirms=p.get("confirms"),
        birth_date=date.fromisoformat(p["birthDate"]) if p.get("birthDate") else None,
        direct_marketing=bool(p.get("directMarketing")), imported=_import_proof(p),
        product_category=p.get("productCategory"),
        confirm_by=as_utc(p["confirmBy"]) if p.get("confirmBy") else None,
        token_sha256=p.get("tokenSha256"), ip_network=p.get("ipNetwork"),
        submission_id=p.get("submissionId"),
    )  # fmt: skip


def fact_json(fact: Fact) -> str:
    values = {
        "i": fact.id, "t": fact.type.value, "o": fact.occurred_at.isoformat(), "p": fact.purpose,
        "c": fact.channel.value if fact.channel else None, "n": fact.notice_version,
        "m": fact.method.value if fact.method else None,
        "a": fact.actor.value if fact.actor else None, "f": fact.confirms,
        "b": fact.birth_date.isoformat() if fact.birth_date else None,
        "d": fact.direct_marketing or None, "x": fact.imported or None,
        "pc": fact.product_category,
        "l": fact.confirm_by.isoformat() if fact.confirm_by else None,
    }  # fmt: skip
    return json.dumps({k: v for k, v in values.items() if v is not None}, separators=(",", ":"))


def fact_from_json(text: str, *, person_id: str | None = None) -> Fact:
    v = json.loads(text)
    return Fact(
        id=v["i"], type=EventType(v["t"]), occurred_at=datetime.fromisoformat(v["o"]),
        purpose=v.get("p"), channel=Channel(v["c"]) if "c" in v else None,
        notice_version=v.get("n"), method=Method(v["m"]) if "m" in v else None,
        actor=ActorType(v["a"]) if "a" in v else None, confirms=v.get("f"),
        birth_date=date.fromisoformat(v["b"]) if "b" in v else None,
        direct_marketing=bool(v.get("d")), person_id=person_id, imported=bool(v.get("x")),
        product_category=v.get("pc"),
        confirm_by=datetime.fromisoformat(v["l"]) if "l" in v else None,
    )  # fmt: skip


def _without_birth_date(fact: str) -> str:
    values = json.loads(fact)
    values.pop("b", None)
    return json.dumps(values, separators=(",", ":"))


def hold_json(hold: Hold) -> str:
    values = {"k": hold.kind.value, "s": hold.since.isoformat(), "r": hold.request_id,
              "u": hold.until.isoformat() if hold.until else None}  # fmt: skip
    return json.dumps({k: v for k, v in values.items() if v is not None}, separators=(",", ":"))


def hold_from_json(text: str, *, person_id: str | None = None) -> Hold:
    v = json.loads(text)
    return Hold(HoldKind(v["k"]), datetime.fromisoformat(v["s"]), v["r"],
                datetime.fromisoformat(v["u"]) if "u" in v else None, person_id)  # fmt: skip


def link_json(link: MergeLink) -> str:
    return json.dumps({"m": link.merge_id, "s": link.survivor_id, "x": link.merged_id,
                       "o": link.linked_at.isoformat()}, separators=(",", ":"))  # fmt: skip


def lineage_of(person_id: str, merged_into: str | None, merges: Sequence[str] | None) -> Lineage:
    """A person's group as its consent subject records it (alone if it records none)."""
    links = tuple(
        MergeLink(v["m"], v["s"], v["x"], datetime.fromisoformat(v["o"]))
        for v in (json.loads(text) for text in merges or ())
    )
    return Lineage(merged_into or person_id, links)
