"""Cypher for the matching graph: its schema, match subjects, block keys, the model.

Labels come from constants; every value is a parameter. Review tasks and decisions
are read and written by ``review_store.py``.

    (:MatchSubject {personId, features..., identifiers, fingerprint, sources})
        -[:BLOCKED_BY]->(:BlockKey {key, size})
    (:ReviewTask {id, pairKey, leftId, rightId, probability, ...})
    (:MatchDecision {id, pairKey, verdict, actor, at, ...})      append-only audit
    (:MatchModel {name: "current", parameters})                  the trained model
    (:MatchModelVersion {version, parameters, savedAt})          every model saved, kept
    (:ErasedSubject {personId, erasedAt, requestId})             erased: never registered again

A subject whose processing is restricted (GDPR Art. 18) carries ``restrictedAt``:
it is left out of every candidate lookup, so neither online matching nor the
batch job merges or proposes it (``adapters/privacy_store.py`` sets and clears it).

A block key's ``size`` counts its subjects, so that candidate search can skip
keys too common to say anything without counting at query time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_common.keyset import (
    AnyKeyFrom,
    any_key_reader,
    in_window,
    keyset_page,
    window_params,
)
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Parameters
from mdm_matching.domain.models import (
    MatchSubject,
)
from mdm_matching.domain.ports import SubjectFeatures
from mdm_matching.domain.training import JobStatus, TrainingJob

SUBJECT = "MatchSubject"
BLOCK_KEY = "BlockKey"
BLOCKED_BY = "BLOCKED_BY"
REVIEW_TASK = "ReviewTask"
DECISION = "MatchDecision"
MODEL = "MatchModel"
MODEL_VERSION = "MatchModelVersion"
JOB = "MatchJob"
ERASED = "ErasedSubject"
CURRENT_MODEL = "current"

SCHEMA = (
    f"CREATE CONSTRAINT match_subject_person IF NOT EXISTS "
    f"FOR (s:{SUBJECT}) REQUIRE s.personId IS UNIQUE",
    f"CREATE CONSTRAINT block_key IF NOT EXISTS FOR (k:{BLOCK_KEY}) REQUIRE k.key IS UNIQUE",
    f"CREATE CONSTRAINT review_task_id IF NOT EXISTS FOR (t:{REVIEW_TASK}) REQUIRE t.id IS UNIQUE",
    f"CREATE CONSTRAINT match_decision_id IF NOT EXISTS FOR (d:{DECISION}) REQUIRE d.id IS UNIQUE",
    f"CREATE CONSTRAINT match_model_name IF NOT EXISTS FOR (m:{MODEL}) REQUIRE m.name IS UNIQUE",
    f"CREATE CONSTRAINT match_model_version IF NOT EXISTS "
    f"FOR (m:{MODEL_VERSION}) REQUIRE m.version IS UNIQUE",
    f"CREATE CONSTRAINT match_job_id IF NOT EXISTS FOR (j:{JOB}) REQUIRE j.id IS UNIQUE",
    f"CREATE CONSTRAINT erased_subject_person IF NOT EXISTS "
    f"FOR (e:{ERASED}) REQUIRE e.personId IS UNIQUE",
    f"CREATE INDEX review_task_pair IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.pairKey)",
    f"CREATE INDEX review_task_left IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.leftId)",
    f"CREATE INDEX review_task_right IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.rightId)",
    f"CREATE INDEX review_task_job IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.jobId)",
    f"CREATE INDEX match_decision_pair IF NOT EXISTS FOR (d:{DECISION}) ON (d.pairKey)",
    f"CREATE INDEX match_decision_task IF NOT EXISTS FOR (d:{DECISION}) ON (d.taskId)",
    # The queue's orders (see review_store.py) and its filters.
    f"CREATE INDEX review_task_score_key IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.scoreKey)",
    f"CREATE INDEX review_task_age_key IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.ageKey)",
    f"CREATE INDEX review_task_assignee IF NOT EXISTS FOR (t:{REVIEW_TASK}) ON (t.assignee)",
    f"CREATE INDEX match_subject_family IF NOT EXISTS FOR (s:{SUBJECT}) ON (s.family)",
    f"CREATE INDEX match_subject_sources IF NOT EXISTS FOR (s:{SUBJECT}) ON (s.sources)",
    # Tasks stored before the queue had sort keys get them (idempotent; the same
    # text as review_store.score_value / age_value), else they would vanish from it.
    f"MATCH (t:{REVIEW_TASK}) WHERE t.scoreKey IS NULL OR t.ageKey IS NULL "
    "WITH t, CASE t.status WHEN 'OPEN' THEN 'O' WHEN 'DEFERRED' THEN 'D' ELSE 'R' END AS code, "
    "toString(toInteger(round(t.probability * 1000000000000.0))) AS digits, t.createdAt AS c "
    "SET t.scoreKey = code + CASE WHEN t.probability >= 1 THEN '1.000000000000' "
    "ELSE '0.' + right('000000000000' + digits, 12) END + ' ' + t.id, "
    "t.ageKey = code + right('0000' + toString(c.year), 4) + '-' "
    "+ right('0' + toString(c.month), 2) + '-' + right('0' + toString(c.day), 2) + 'T' "
    "+ right('0' + toString(c.hour), 2) + ':' + right('0' + toString(c.minute), 2) + ':' "
    "+ right('0' + toString(c.second), 2) + '.' + right('00000' + toString(c.microsecond), 6) "
    "+ ' ' + t.id",
)

_FEATURES = {  # MatchRecord attribute -> property
    "given": "given", "family": "family", "given_code": "givenCode",
    "family_code": "familyCode", "birth": "birth", "suffix": "suffix", "email": "email",
    "phone": "phone", "postal_code": "postalCode", "city": "city", "street": "street",
    "house_number": "houseNumber",
}  # fmt: skip


# The identifiers ("SCHEME:ISSUER:VALUE" strings) are a list property; none is no
# property at all (``SET s += {identifiers: null}`` removes it), as Neo4j and
# ArcadeDB disagree on the type of an empty list.
IDENTIFIERS = "identifiers"


def _features_props(record: MatchRecord) -> dict[str, Any]:
    props = {prop: getattr(record, attr) for attr, prop in _FEATURES.items()}
    return props | {IDENTIFIERS: list(record.identifiers) or None}


# The order in which ``sharing_keys`` returns a candidate's features: a list per
# candidate decodes in a third of the time of a map with the same values (the Bolt
# driver decodes every map key), which is most of an online decision at 100k.
_CANDIDATE_PROPS = ("personId", *_FEATURES.values(), IDENTIFIERS)
_CANDIDATE_LIST = "[" + ", ".join(f"s.{prop}" for prop in _CANDIDATE_PROPS) + "]"


def record_from(props: dict[str, Any]) -> MatchRecord:
    values: dict[str, Any] = {attr: props.get(prop) for attr, prop in _FEATURES.items()}
    for attr in ("given", "family", "given_code", "family_code"):
        values[attr] = values[attr] or ""
    identifiers = tuple(sorted(set(props.get(IDENTIFIERS) or ())))
    return MatchRecord(id=props["personId"], **values, identifiers=identifiers)


_SUBJECT_FIELDS = (
    "s.personId AS personId, s.registeredAt AS registeredAt, s.mergedInto AS mergedInto, "
    "s.featuresAt AS featuresAt, s.restrictedAt IS NOT NULL AS restricted, "
    "s.profileCreatedAt AS profileCreatedAt"
)


def _subject_from(row: dict[str, Any]) -> MatchSubject:
    def optional(value: Any) -> datetime | None:
        return as_utc(value) if value is not None else None

    return MatchSubject(
        row["personId"], as_utc(row["registeredAt"]), row["mergedInto"],
        optional(row["featuresAt"]), restricted=bool(row["restricted"]),
        profile_created_at=optional(row["profileCreatedAt"]),
    )  # fmt: skip


async def delete_unused_keys(tx: Transaction, keys: Sequence[str]) -> None:
    """A key no subject is blocked by any more still holds the values it was built
    from (an e-mail address, a phone number): it goes (data minimisation, erasure)."""
    if not keys:
        return
    await tx.run(
        "subject.delete_unused_keys",
        f"UNWIND $keys AS key MATCH (k:{BLOCK_KEY} {{key: key}}) "
        f"WHERE k.size <= 0 AND NOT (k)<-[:{BLOCKED_BY}]-() DELETE k",
        keys=sorted(set(keys)),
    )


class GraphSubjectStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def register(
        self, person_id: str, *, at: datetime, profile_created_at: datetime | None = None
    ) -> MatchSubject | None:
        rows = await self._tx.run(
            "subject.register",
            # Erased on request (a tombstone): a late event must not bring it back.
            f"OPTIONAL MATCH (e:{ERASED} {{personId: $personId}}) WITH e WHERE e IS NULL "
            f"MERGE (s:{SUBJECT} {{personId: $personId}}) "
            "ON CREATE SET s.registeredAt = $at "
            "SET s.profileCreatedAt = coalesce(s.profileCreatedAt, $profileCreatedAt) "
            f"RETURN {_SUBJECT_FIELDS}",
            personId=person_id,
            at=at,
            profileCreatedAt=profile_created_at,
        )
        return _subject_from(rows[0]) if rows else None

    async def erased(self, person_ids: Sequence[str]) -> set[str]:
        """The ids erased on request (tombstoned): never to be registered again."""
        rows = await self._tx.run(
            "subject.erased",
            f"MATCH (e:{ERASED}) WHERE e.personId IN $ids RETURN e.personId AS personId",
            ids=list(person_ids),
        )
        return {row["personId"] for row in rows}

    async def set_merged_into(self, person_id: str, survivor_id: str | None) -> None:
        """Record (or, with ``None``, clear) that a subject's person was merged away.

        A merged-away subject leaves its blocks: only its survivor is a candidate.
        """
        await self._tx.run(
            "subject.set_merged_into",
            f"MATCH (s:{SUBJECT} {{personId: $personId}}) SET s.mergedInto = $survivorId",
            personId=person_id,
            survivorId=survivor_id,
        )
        if survivor_id is not None:
            await self._unblock(person_id, keep=[])

    async def _unblock(self, person_id: str, *, keep: Sequence[str]) -> None:
        rows = await self._tx.run(
            "subject.unblock",
            f"MATCH (:{SUBJECT} {{personId: $personId}})-[b:{BLOCKED_BY}]->(k:{BLOCK_KEY}) "
            "WHERE NOT k.key IN $keep SET k.size = k.size - 1 DELETE b RETURN k.key AS key",
            personId=person_id,
            keep=list(keep),
        )
        await delete_unused_keys(self._tx, [row["key"] for row in rows])

    async def save_features(
        self,
        record: MatchRecord,
        *,
        keys: Sequence[str],
        fingerprint: str,
        at: datetime,
        sources: Sequence[str],
    ) -> None:
        await self._unblock(record.id, keep=keys)
        await self._tx.run(
            "subject.save_features",
            f"MATCH (s:{SUBJECT} {{personId: $personId}}) "
            "SET s += $props, s.fingerprint = $fingerprint, s.featuresAt = $at, "
            "s.sources = $sources "
            f"WITH s UNWIND $keys AS key MERGE (k:{BLOCK_KEY} {{key: key}}) "
            f"ON CREATE SET k.size = 0 WITH s, k WHERE NOT (s)-[:{BLOCKED_BY}]->(k) "
            f"CREATE (s)-[:{BLOCKED_BY}]->(k) SET k.size = k.size + 1",
            personId=record.id,
            props=_features_props(record),
            fingerprint=fingerprint,
            keys=list(keys),
            at=at,
            sources=sorted(sources),
        )

    async def save_many(self, records: Sequence[SubjectFeatures], *, at: datetime) -> None:
        """``register`` + ``set_merged_into(None)`` + ``save_features`` for many subjects,
        a statement each (the sync stores a thousand persons at a time). Ids erased on
        request are left out, as ``register`` leaves them out."""
        erased = await self.erased([r.record.id for r in records])
        rows = [{"personId": r.record.id, "props": _features_props(r.record),
                 "fingerprint": r.fingerprint, "keys": list(r.keys),
                 "profileCreatedAt": r.profile_created_at, "sources": sorted(r.sources)}
                for r in records if r.record.id not in erased]  # fmt: skip
        if not rows:
            return
        await self._tx.run(
            "subject.save_many",
            f"UNWIND $rows AS row MERGE (s:{SUBJECT} {{personId: row.personId}}) "
            "ON CREATE SET s.registeredAt = $at "
            "SET s += row.props, s.mergedInto = null, s.fingerprint = row.fingerprint, "
            "s.featuresAt = $at, s.sources = row.sources, "
            "s.profileCreatedAt = coalesce(s.profileCreatedAt, row.profileCreatedAt)",
            rows=rows,
            at=at,
        )
        left = await self._tx.run(
            "subject.unblock_many",
            f"UNWIND $rows AS row "
            f"MATCH (:{SUBJECT} {{personId: row.personId}})-[b:{BLOCKED_BY}]->(k:{BLOCK_KEY}) "
            "WHERE NOT k.key IN row.keys SET k.size = k.size - 1 DELETE b RETURN k.key AS key",
            rows=rows,
        )
        await delete_unused_keys(self._tx, [row["key"] for row in left])
        await self._tx.run(
            "subject.block_many",
            f"UNWIND $rows AS row MATCH (s:{SUBJECT} {{personId: row.personId}}) "
            f"UNWIND row.keys AS key MERGE (k:{BLOCK_KEY} {{key: key}}) ON CREATE SET k.size = 0 "
            f"WITH s, k WHERE NOT (s)-[:{BLOCKED_BY}]->(k) "
            f"CREATE (s)-[:{BLOCKED_BY}]->(k) SET k.size = k.size + 1",
            rows=rows,
        )

    async def merged_many(self, merges: Sequence[tuple[str, str]], *, at: datetime) -> None:
        """``register`` + ``set_merged_into`` for many (merged, survivor) pairs (ids
        erased on request are left out)."""
        erased = await self.erased([merged for merged, _ in merges])
        rows = [{"personId": merged, "survivorId": survivor}
                for merged, survivor in merges if merged not in erased]  # fmt: skip
        if not rows:
            return
        await self._tx.run(
            "subject.merged_many",
            f"UNWIND $rows AS row MERGE (s:{SUBJECT} {{personId: row.personId}}) "
            "ON CREATE SET s.registeredAt = $at SET s.mergedInto = row.survivorId",
            rows=rows,
            at=at,
        )
        left = await self._tx.run(
            "subject.unblock_all_many",
            f"UNWIND $ids AS id "
            f"MATCH (:{SUBJECT} {{personId: id}})-[b:{BLOCKED_BY}]->(k:{BLOCK_KEY}) "
            "SET k.size = k.size - 1 DELETE b RETURN k.key AS key",
            ids=[row["personId"] for row in rows],
        )
        await delete_unused_keys(self._tx, [row["key"] for row in left])

    async def sharing_keys(
        self,
        person_id: str,
        keys: Sequence[str],
        *,
        max_block: int,
        limit: int,
        exclude: Sequence[str] = (),
    ) -> list[MatchRecord]:
        rows = await self._tx.run(
            "subject.sharing_keys",
            f"UNWIND $keys AS key MATCH (k:{BLOCK_KEY} {{key: key}}) WHERE k.size <= $maxBlock "
            f"MATCH (k)<-[:{BLOCKED_BY}]-(s:{SUBJECT}) "
            "WHERE s.personId <> $personId AND s.mergedInto IS NULL AND s.restrictedAt IS NULL "
            "AND NOT s.personId IN $exclude "
            "WITH s, sum(1.0 / k.size) AS weight ORDER BY weight DESC, s.personId LIMIT $limit "
            f"RETURN collect({_CANDIDATE_LIST}) AS candidates",
            keys=list(keys),
            maxBlock=max_block,
            personId=person_id,
            limit=limit,
            exclude=list(exclude),
        )
        found = rows[0]["candidates"] if rows else []
        return [record_from(dict(zip(_CANDIDATE_PROPS, values, strict=True))) for values in found]

    async def features(self, person_ids: Sequence[str]) -> dict[str, MatchRecord]:
        rows = await self._tx.run(
            "subject.features",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids AND s.mergedInto IS NULL "
            "AND s.restrictedAt IS NULL AND s.fingerprint IS NOT NULL RETURN s {.*} AS s",
            ids=list(person_ids),
        )
        return {row["s"]["personId"]: record_from(row["s"]) for row in rows}

    async def load_model(self) -> Parameters | None:
        rows = await self._tx.run(
            "model.load",
            f"MATCH (m:{MODEL} {{name: $name}}) RETURN m.parameters AS parameters",
            name=CURRENT_MODEL,
        )
        return Parameters.from_json(json.loads(rows[0]["parameters"])) if rows else None

    async def model_version(self) -> str | None:
        rows = await self._tx.run(
            "model.version",
            f"MATCH (m:{MODEL} {{name: $name}}) RETURN m.version AS version",
            name=CURRENT_MODEL,
        )
        return rows[0]["version"] if rows else None

    async def save_model(self, parameters: Parameters, *, at: datetime) -> None:
        await self._tx.run(
            "model.save",
            f"MERGE (m:{MODEL} {{name: $name}}) SET m.parameters = $parameters, "
            "m.version = $version, m.trainedAt = $at",
            name=CURRENT_MODEL,
            parameters=json.dumps(parameters.to_json()),
            version=parameters.version,
            at=at,
        )
        # Kept under its version: a batch job goes on with the model it chose, and a
        # recalibration can be traced back to the model it started from.
        await self._tx.run(
            "model.save_version",
            f"MERGE (m:{MODEL_VERSION} {{version: $version}}) "
            "ON CREATE SET m.parameters = $parameters, m.savedAt = $at",
            parameters=json.dumps(parameters.to_json()),
            version=parameters.version,
            at=at,
        )

    async def load_model_version(self, version: str) -> Parameters | None:
        rows = await self._tx.run(
            "model.load_version",
            f"MATCH (m:{MODEL_VERSION} {{version: $version}}) RETURN m.parameters AS parameters",
            version=version,
        )
        return Parameters.from_json(json.loads(rows[0]["parameters"])) if rows else None

    async def active_features(
        self, *, after: str, limit: int, merged_away: bool = False
    ) -> list[MatchRecord]:
        async def window(lower: str, strict: bool, upper: str, n: int) -> list[MatchRecord]:
            rows = await self._tx.run(
                "subject.active_features",
                f"MATCH (s:{SUBJECT}) WHERE {in_window('s', 'personId')} "
                "AND ($mergedAway OR s.mergedInto IS NULL) "
                "AND s.restrictedAt IS NULL AND s.fingerprint IS NOT NULL "
                "RETURN s {.*} AS s ORDER BY s.personId LIMIT $limit",
                **window_params(lower, strict, upper),
                limit=n,
                mergedAway=merged_away,
            )
            return [record_from(row["s"]) for row in rows]

        return await keyset_page(
            after=after, limit=limit, read_window=window, any_key_from=self._any_person_id()
        )

    async def active_ids(self, *, after: str, limit: int) -> list[str]:
        async def window(lower: str, strict: bool, upper: str, n: int) -> list[str]:
            rows = await self._tx.run(
                "subject.active_ids",
                f"MATCH (s:{SUBJECT}) WHERE {in_window('s', 'personId')} "
                "AND s.mergedInto IS NULL AND s.restrictedAt IS NULL AND s.fingerprint IS NOT NULL "
                "RETURN s.personId AS id ORDER BY s.personId LIMIT $limit",
                **window_params(lower, strict, upper),
                limit=n,
            )
            return [row["id"] for row in rows]

        return await keyset_page(
            after=after, limit=limit, read_window=window, any_key_from=self._any_person_id()
        )

    def _any_person_id(self) -> AnyKeyFrom:
        return any_key_reader(self._tx, "subject.any_person_id_from", SUBJECT, "personId")

    async def create_job(self, job: TrainingJob) -> None:
        await self._tx.run(
            "job.create",
            f"CREATE (j:{JOB} {{id: $id}}) SET j += $props",
            id=job.id,
            props={
                "status": job.status.value,
                "requestedBy": job.requested_by,
                "requestedAt": job.requested_at,
            },
        )

    async def update_job(self, job_id: str, **fields: Any) -> None:
        names = {
            "status": "status",
            "finished_at": "finishedAt",
            "subjects": "subjects",
            "candidate_pairs": "candidatePairs",
            "model_version": "modelVersion",
            "error": "error",
            "companies": "companies",
            "company_model_version": "companyModelVersion",
        }
        props = {names[k]: (v.value if isinstance(v, JobStatus) else v) for k, v in fields.items()}
        await self._tx.run(
            "job.update", f"MATCH (j:{JOB} {{id: $id}}) SET j += $props", id=job_id, props=props
        )

    async def get_job(self, job_id: str) -> TrainingJob | None:
        rows = await self._tx.run(
            "job.get", f"MATCH (j:{JOB} {{id: $id}}) RETURN j {{.*}} AS j", id=job_id
        )
        if not rows:
            return None
        j = rows[0]["j"]
        return TrainingJob(
            id=j["id"], status=JobStatus(j["status"]), requested_by=j["requestedBy"],
            requested_at=as_utc(j["requestedAt"]),
            finished_at=as_utc(j["finishedAt"]) if j.get("finishedAt") else None,
            subjects=int(j.get("subjects") or 0), candidate_pairs=int(j.get("candidatePairs") or 0),
            model_version=j.get("modelVersion"), error=j.get("error"),
            companies=int(j.get("companies") or 0),
            company_model_version=j.get("companyModelVersion"),
        )  # fmt: skip

    async def count(self) -> int:
        rows = await self._tx.run("subject.count", f"MATCH (s:{SUBJECT}) RETURN count(s) AS n")
        return int(rows[0]["n"])

    async def get_many(self, person_ids: Sequence[str]) -> dict[str, MatchSubject]:
        rows = await self._tx.run(
            "subject.get_many",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids RETURN {_SUBJECT_FIELDS}",
            ids=list(person_ids),
        )
        return {r["personId"]: _subject_from(r) for r in rows}
