"""Match subjects, review tasks and decisions.

A person becomes a match subject when the profile service announces it; its
comparable features (``engine.features.MatchRecord``) and blocking keys live with
the subject. A pair the engine is unsure about becomes a review task for a data
steward; every decision on a pair, automatic or by a steward, is kept as an
append-only audit entry. Companies are matched too (``domain/company_matching.py``):
their pairs are tasks and decisions of the same queue and audit, of kind COMPANY.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mdm_matching.domain.engine.model import Contribution


@dataclass(frozen=True)
class MatchSubject:
    person_id: str
    registered_at: datetime
    merged_into: str | None = None
    compared_at: datetime | None = None  # when its features were last taken and matched
    # Processing restricted (GDPR Art. 18): neither merged nor proposed while set.
    restricted: bool = False
    # When the profile service created the person (unknown for subjects stored
    # before matching read it).
    profile_created_at: datetime | None = None

    @property
    def seniority(self) -> tuple[datetime, datetime, str]:
        """Sorts the profile known longest first: it survives a merge, as its id is
        the one other systems have held longest. Created first in the profile
        service, else registered first here (a sync registers thousands at one
        instant), then the smaller id."""
        return (self.profile_created_at or self.registered_at, self.registered_at,
                self.person_id)  # fmt: skip


@dataclass(frozen=True)
class CompanySubject:
    """A company as matching knows it (``domain/company_matching.py``)."""

    company_id: str
    registered_at: datetime
    merged_into: str | None = None
    compared_at: datetime | None = None
    profile_created_at: datetime | None = None
    fingerprint: str | None = None  # of the values last compared

    @property
    def seniority(self) -> tuple[datetime, datetime, str]:
        """As :attr:`MatchSubject.seniority`: the company known longest survives."""
        return (
            self.profile_created_at or self.registered_at,
            self.registered_at,
            self.company_id,
        )


@dataclass(frozen=True)
class MatchCandidate:
    person_id: str
    candidate_id: str
    score: float


class TaskStatus(StrEnum):
    OPEN = "OPEN"
    DEFERRED = "DEFERRED"
    RESOLVED = "RESOLVED"


class TaskReason(StrEnum):
    UNCERTAIN = "UNCERTAIN"  # score between the two thresholds
    GUARDED = "GUARDED"  # scores high, but identifying fields contradict each other
    AMBIGUOUS = "AMBIGUOUS"  # several existing profiles score above the merge threshold


class Verdict(StrEnum):
    MERGE = "MERGE"
    NOT_A_MATCH = "NOT_A_MATCH"
    DEFER = "DEFER"
    AUTO_MERGE = "AUTO_MERGE"  # the engine, above the upper threshold
    UNMERGE = "UNMERGE"  # a merge undone


class SubjectKind(StrEnum):
    """What a pair is made of: two persons, or two companies."""

    PERSON = "PERSON"
    COMPANY = "COMPANY"


@dataclass(frozen=True)
class PairEvidence:
    """A scored pair as stored: ids in order, score, per-field explanation."""

    left_id: str
    right_id: str
    probability: float
    weight: float
    contributions: tuple[Contribution, ...]
    conflicts: tuple[str, ...]
    left_fingerprint: str
    right_fingerprint: str
    # The model version that scored the pair (None: scored before matching kept it).
    model_version: str | None = None
    kind: SubjectKind = SubjectKind.PERSON

    @property
    def pair_key(self) -> str:
        return pair_key(self.left_id, self.right_id)


def pair_key(a: str, b: str) -> str:
    left, right = sorted((a, b))
    return f"{left}|{right}"


@dataclass(frozen=True)
class ReviewTask:
    id: str
    evidence: PairEvidence
    reason: TaskReason
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    note: str | None = None
    # The steward (principal subject) working on it; one at a time.
    assignee: str | None = None
    assigned_at: datetime | None = None


class TaskOrder(StrEnum):
    """How the queue is sorted; ties in each order by task id, so pages stay stable."""

    PROBABILITY_DESC = "PROBABILITY_DESC"
    PROBABILITY_ASC = "PROBABILITY_ASC"
    OLDEST_FIRST = "OLDEST_FIRST"
    NEWEST_FIRST = "NEWEST_FIRST"
    # The answers that teach the model most first: score bands whose precision the
    # stewards' decisions know least (domain/calibration.py), by probability in a band.
    MOST_INFORMATIVE = "MOST_INFORMATIVE"


UNRESOLVED = (TaskStatus.OPEN, TaskStatus.DEFERRED)


@dataclass(frozen=True, kw_only=True)
class TaskFilter:
    """Which review tasks a steward looks at. ``family_prefix`` is folded as the engine
    folds names; ``source`` is a source system either side has a record from."""

    statuses: tuple[TaskStatus, ...] = UNRESOLVED
    reasons: tuple[TaskReason, ...] | None = None  # None: any reason
    min_probability: float = 0.0
    max_probability: float = 1.0
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    person_id: str | None = None
    source: str | None = None
    assignee: str | None = None
    family_prefix: str | None = None
    kind: SubjectKind | None = None  # None: persons' and companies' tasks


@dataclass(frozen=True)
class QueueSummary:
    """Unresolved tasks counted, for a steward's overview."""

    open: int
    deferred: int
    by_reason: dict[TaskReason, int]


@dataclass(frozen=True)
class Decision:
    """One audit entry: who decided what about which pair, when, and why."""

    id: str
    pair_key: str
    verdict: Verdict
    actor: str
    at: datetime
    note: str
    task_id: str | None
    merge_id: str | None
    probability: float | None
    # What both records looked like when decided: NOT_A_MATCH holds only while
    # neither record changes materially.
    left_fingerprint: str
    right_fingerprint: str
    # The evidence the pair had when decided; empty for decisions recorded before
    # matching kept it.
    contributions: tuple[Contribution, ...] = ()
    conflicts: tuple[str, ...] = ()
    model_version: str | None = None  # the model that scored the pair, where known
    kind: SubjectKind = SubjectKind.PERSON

    @classmethod
    def about(
        cls, evidence: PairEvidence, verdict: Verdict, *, actor: str, at: datetime, note: str = "",
        task_id: str | None = None, merge_id: str | None = None,
    ) -> Decision:  # fmt: skip
        """A new decision on a scored pair, with the fingerprints the pair had."""
        return cls(
            id=str(uuid.uuid4()), pair_key=evidence.pair_key, verdict=verdict, actor=actor,
            at=at, note=note, task_id=task_id, merge_id=merge_id,
            probability=evidence.probability, left_fingerprint=evidence.left_fingerprint,
            right_fingerprint=evidence.right_fingerprint,
            contributions=evidence.contributions, conflicts=evidence.conflicts,
            model_version=evidence.model_version, kind=evidence.kind,
        )  # fmt: skip
