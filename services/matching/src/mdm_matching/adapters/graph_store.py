"""Cypher for match subjects and candidates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mdm_common.graph import Transaction, as_utc
from mdm_matching.domain.models import MatchCandidate, MatchSubject

SUBJECT = "MatchSubject"
CANDIDATE_OF = "CANDIDATE_OF"

SCHEMA = (
    f"CREATE CONSTRAINT match_subject_person IF NOT EXISTS "
    f"FOR (s:{SUBJECT}) REQUIRE s.personId IS UNIQUE",
)


class GraphSubjectStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def register(self, person_id: str, *, at: datetime) -> MatchSubject:
        rows = await self._tx.run(
            "subject.register",
            f"MERGE (s:{SUBJECT} {{personId: $personId}}) "
            "ON CREATE SET s.registeredAt = $at "
            "RETURN s.personId AS personId, s.registeredAt AS registeredAt",
            personId=person_id,
            at=at,
        )
        row = rows[0]
        return MatchSubject(row["personId"], as_utc(row["registeredAt"]))

    async def set_merged_into(self, person_id: str, survivor_id: str | None) -> None:
        """Record (or, with ``None``, clear) that a subject's person was merged away."""
        await self._tx.run(
            "subject.set_merged_into",
            f"MERGE (s:{SUBJECT} {{personId: $personId}}) "
            "ON CREATE SET s.registeredAt = $now SET s.mergedInto = $survivorId",
            personId=person_id,
            survivorId=survivor_id,
            now=datetime.now(UTC),
        )

    async def count(self) -> int:
        rows = await self._tx.run("subject.count", f"MATCH (s:{SUBJECT}) RETURN count(s) AS n")
        return int(rows[0]["n"])

    async def get_many(self, person_ids: Sequence[str]) -> dict[str, MatchSubject]:
        rows = await self._tx.run(
            "subject.get_many",
            f"MATCH (s:{SUBJECT}) WHERE s.personId IN $ids "
            "RETURN s.personId AS personId, s.registeredAt AS registeredAt, "
            "s.mergedInto AS mergedInto",
            ids=list(person_ids),
        )
        return {
            r["personId"]: MatchSubject(r["personId"], as_utc(r["registeredAt"]), r["mergedInto"])
            for r in rows
        }

    async def candidates_of(self, person_ids: Sequence[str]) -> dict[str, list[MatchCandidate]]:
        rows = await self._tx.run(
            "candidate.of",
            f"MATCH (s:{SUBJECT})-[c:{CANDIDATE_OF}]-(o:{SUBJECT}) WHERE s.personId IN $ids "
            "RETURN s.personId AS personId, o.personId AS candidateId, c.score AS score "
            "ORDER BY score DESC",
            ids=list(person_ids),
        )
        found: dict[str, list[MatchCandidate]] = {pid: [] for pid in person_ids}
        for r in rows:
            found[r["personId"]].append(
                MatchCandidate(r["personId"], r["candidateId"], float(r["score"]))
            )
        return found
