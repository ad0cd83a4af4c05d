"""What the matching domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mdm_common.auth import Principal
from mdm_matching.domain.company_ports import CompanyProfiles
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Parameters
from mdm_matching.domain.models import (
    Decision,
    MatchCandidate,
    MatchSubject,
    PairEvidence,
    QueueSummary,
    ReviewTask,
    TaskFilter,
    TaskOrder,
    TaskReason,
    TaskStatus,
)

if TYPE_CHECKING:
    from mdm_matching.domain.privacy import ErasedSubject, RematchEntry, StoredSubject
    from mdm_matching.domain.recalibration import ModelChange
    from mdm_matching.domain.rematch import MergeStep, PlanClaim, RematchJob, StepStatus
    from mdm_matching.domain.training import TrainingJob


@dataclass(frozen=True)
class SubjectFeatures:
    """A subject's features as stored, with its blocking keys and fingerprint."""

    record: MatchRecord
    keys: tuple[str, ...]
    fingerprint: str
    profile_created_at: datetime | None = None  # when the profile service created it
    sources: tuple[str, ...] = ()  # source systems with a record of the person


@dataclass(frozen=True)
class NewTask:
    """A review task to open (or, if its pair has an unresolved one, to refresh)."""

    id: str
    evidence: PairEvidence
    reason: TaskReason
    job_id: str | None = None  # the batch re-matching job whose plan opened it


class SubjectStore(Protocol):
    async def register(
        self, person_id: str, *, at: datetime, profile_created_at: datetime | None = None
    ) -> MatchSubject | None:
        """Idempotent: registering twice keeps the first registration. None for a
        person erased on request (GDPR Art. 17): it is never registered again.
        ``profile_created_at``, where known, is kept (it decides who survives a merge)."""
        ...

    async def erased(self, person_ids: Sequence[str]) -> set[str]:
        """Those ids erased on request: whatever registers subjects in bulk skips them."""
        ...

    async def set_merged_into(self, person_id: str, survivor_id: str | None) -> None: ...

    async def get_many(self, person_ids: Sequence[str]) -> dict[str, MatchSubject]: ...

    async def save_features(
        self,
        record: MatchRecord,
        *,
        keys: Sequence[str],
        fingerprint: str,
        at: datetime,
        sources: Sequence[str],
    ) -> None:
        """Store a subject's features (and its source systems) and replace its
        blocking keys."""
        ...

    async def save_many(self, records: Sequence[SubjectFeatures], *, at: datetime) -> None:
        """Register (once), mark active and store features and blocking keys of many."""
        ...

    async def merged_many(self, merges: Sequence[tuple[str, str]], *, at: datetime) -> None:
        """Register (once) and mark merged many (merged, survivor) pairs."""
        ...

    async def sharing_keys(
        self,
        person_id: str,
        keys: Sequence[str],
        *,
        max_block: int,
        limit: int,
        exclude: Sequence[str] = (),
    ) -> list[MatchRecord]:
        """Active (not merged-away, not restricted) subjects other than ``person_id``
        and those in ``exclude`` sharing a key whose block is not larger than
        ``max_block``: the ``limit`` most likely ones, by the sum over the shared keys
        of 1 / the key's block size (a shared e-mail address says more than a shared
        postal code and family name)."""
        ...

    async def features(self, person_ids: Sequence[str]) -> dict[str, MatchRecord]:
        """Stored features of those subjects that are neither merged away nor restricted."""
        ...

    async def load_model(self) -> Parameters | None: ...

    async def model_version(self) -> str | None:
        """The current model's version, without reading the model."""
        ...

    async def save_model(self, parameters: Parameters, *, at: datetime) -> None:
        """Make ``parameters`` the current model, and keep it under its version."""
        ...

    async def load_model_version(self, version: str) -> Parameters | None:
        """A model as it was saved under this version (current or earlier)."""
        ...

    async def active_features(
        self, *, after: str, limit: int, merged_away: bool = False
    ) -> list[MatchRecord]:
        """Subjects with features, not restricted and (unless ``merged_away``) not merged
        away, by person id after ``after``."""
        ...

    async def active_ids(self, *, after: str, limit: int) -> list[str]:
        """The person ids of the subjects ``active_features`` returns, without their
        features."""
        ...

    async def create_job(self, job: TrainingJob) -> None: ...

    async def update_job(self, job_id: str, **fields: Any) -> None: ...

    async def get_job(self, job_id: str) -> TrainingJob | None: ...


@dataclass(frozen=True)
class TaskPage:
    tasks: list[ReviewTask]
    has_more: bool
    # Each task's position in the order (opaque): what ``after`` takes to go on.
    sort_keys: list[str] = field(default_factory=list)


class ReviewStore(Protocol):
    async def open_task(
        self, task_id: str, evidence: PairEvidence, *, reason: TaskReason, at: datetime
    ) -> ReviewTask:
        """One task per pair: an unresolved task for the pair is refreshed, not doubled."""
        ...

    async def open_tasks(self, tasks: Sequence[NewTask], *, at: datetime) -> list[str]:
        """Many ``open_task``; idempotent by task id. The task id of each pair, in order."""
        ...

    async def get_task(self, task_id: str) -> ReviewTask | None: ...

    async def tasks(
        self, wanted: TaskFilter, *, order: TaskOrder, after: str | None, limit: int
    ) -> TaskPage:
        """A page of the queue in ``order``; ``after`` is the ``sort_key`` of the last
        task of the page before."""
        ...

    async def count_tasks(self, wanted: TaskFilter) -> int: ...

    async def summary(self, *, assignee: str | None) -> QueueSummary:
        """OPEN and DEFERRED tasks counted (only the assignee's, if given)."""
        ...

    async def assign(self, task_id: str, assignee: str | None, *, at: datetime) -> None:
        """Set (or, with ``None``, clear) the task's assignee."""
        ...

    async def open_tasks_of(self, person_ids: Sequence[str]) -> dict[str, list[ReviewTask]]: ...

    async def set_status(
        self, task_id: str, status: TaskStatus, *, note: str | None, at: datetime
    ) -> None: ...

    async def close_tasks_of(self, person_id: str, *, at: datetime) -> int:
        """Resolve unresolved tasks involving a person that no longer exists on its own."""
        ...

    async def close_tasks_of_many(self, person_ids: Sequence[str], *, at: datetime) -> int:
        """Resolves the unresolved tasks of these persons; returns how many."""
        ...

    async def open_job_tasks(self, job_id: str) -> list[str]:
        """Ids of the open tasks a batch job's plan opened."""
        ...

    async def resolve_open_tasks(self, task_ids: Sequence[str], *, note: str, at: datetime) -> None:
        """Resolves those of these tasks still open (deferred ones stay)."""
        ...

    async def record_decision(self, decision: Decision) -> None: ...

    async def record_decisions(self, decisions: Sequence[Decision]) -> None: ...

    async def decisions_for_pairs(self, pair_keys: Sequence[str]) -> dict[str, list[Decision]]: ...

    async def decisions_of_tasks(self, task_ids: Sequence[str]) -> dict[str, list[Decision]]: ...

    async def get_decision(self, decision_id: str) -> Decision | None: ...

    async def decisions_of_person(self, person_id: str) -> list[Decision]: ...


class RematchStore(Protocol):
    """Batch re-matching jobs, their partitions, proposals and merge steps."""

    async def create(self, job: RematchJob) -> None:
        """The job and its partitions, none scored yet."""
        ...

    async def get(self, job_id: str) -> RematchJob | None:
        """The job with its progress counted from partitions and steps."""
        ...

    async def lock(self, job_id: str) -> RematchJob | None:
        """The job as ``get`` reads it, locked for the rest of the transaction."""
        ...

    async def recent(self, *, limit: int, active_only: bool = False) -> list[RematchJob]:
        """Latest requested first; ``active_only``: queued or running ones."""
        ...

    async def update(self, job_id: str, **fields: Any) -> None: ...

    async def begin_partition(self, job_id: str, number: int) -> bool:
        """Count an attempt; False if the partition is scored already."""
        ...

    async def save_proposals(self, job_id: str, proposals: Sequence[PairEvidence]) -> None:
        """Store (or overwrite) proposals of a job; idempotent."""
        ...

    async def finish_partition(
        self, job_id: str, number: int, *, proposals: int, scored_pairs: int, subjects: int
    ) -> None:
        """Mark the partition scored (once; later calls do nothing)."""
        ...

    async def pending_partitions(self, job_id: str) -> list[int]: ...

    async def save_steps(self, steps: Sequence[MergeStep]) -> None:
        """Store (or overwrite) planned steps; idempotent by job and merged person."""
        ...

    async def begin_plan(self, job_id: str) -> PlanClaim | None:
        """Claim the writing of the plan (while SCORING); an earlier claim is superseded."""
        ...

    async def record_plan_slice(self, job_id: str, *, attempt: int, digests: list[str]) -> bool:
        """False if another delivery has claimed the plan since (stop writing)."""
        ...

    async def finish_plan(self, job_id: str, *, attempt: int, review_tasks: int) -> bool:
        """The plan is written: the job is MERGING (False if superseded)."""
        ...

    async def proposals_page(self, job_id: str, *, after: str, limit: int) -> list[PairEvidence]:
        """Proposals by pair key after ``after``."""
        ...

    async def step_persons(self, job_id: str) -> list[str]:
        """Merged persons of the job's stored steps."""
        ...

    async def delete_steps(self, job_id: str, merged_ids: Sequence[str]) -> None:
        """Drop planned steps no longer in the plan (a plan made again)."""
        ...

    async def planned_steps(self, job_id: str, *, limit: int) -> list[MergeStep]:
        """The first ``limit`` steps still planned, in planned order."""
        ...

    async def settle_steps(
        self, job_id: str, outcomes: Sequence[tuple[str, StepStatus]]
    ) -> set[str]:
        """Mark planned steps; returns the merged persons of those that were planned."""
        ...


class CalibrationStore(Protocol):
    """What learning from stewards reads (decisions as labels, scored pairs) and the
    audit of model changes."""

    async def labelling_decisions(self) -> list[Decision]:
        """Every MERGE, NOT_A_MATCH, UNMERGE and AUTO_MERGE decision (no notes)."""
        ...

    async def unresolved_evidence(self) -> list[tuple[PairEvidence, TaskReason]]:
        """The evidence (without explanation) and reason of every OPEN or DEFERRED
        review task."""
        ...

    async def record_change(self, change: ModelChange) -> None: ...

    async def changes(self, *, limit: int) -> list[ModelChange]:
        """Model changes, latest first."""
        ...


class PrivacyStore(Protocol):
    """What matching holds under person ids, for data-subject requests."""

    async def subjects_of(self, person_ids: Sequence[str]) -> list[StoredSubject]: ...

    async def erased_of(self, person_ids: Sequence[str]) -> list[ErasedSubject]: ...

    async def tasks_of(self, person_ids: Sequence[str]) -> list[ReviewTask]:
        """Review tasks of any status with one of the persons on either side."""
        ...

    async def decisions_of(self, person_ids: Sequence[str]) -> list[Decision]:
        """Decisions on pairs with one of the persons, oldest first."""
        ...

    async def rematch_entries_of(self, person_ids: Sequence[str]) -> list[RematchEntry]: ...

    async def delete_subjects(self, person_ids: Sequence[str], *, keys: Sequence[str]) -> int:
        """Delete the subjects and their block memberships; block keys (of their edges,
        and ``keys``) that no subject uses any more are deleted too. Returns the number
        of subjects deleted."""
        ...

    async def delete_tasks(self, person_ids: Sequence[str]) -> int: ...

    async def scrub_decisions(self, person_ids: Sequence[str], *, request_id: str) -> int:
        """Clear notes and fingerprints of the decisions on the persons' pairs."""
        ...

    async def forget_rematch(self, person_ids: Sequence[str]) -> None:
        """Delete re-matching proposals naming the persons; planned steps are SKIPPED,
        and all their steps keep ids, status and levels only."""
        ...

    async def tombstone(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> None:
        """Idempotent: an id erased before keeps its first erasure."""
        ...

    async def restrict(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> None:
        """Flag the subjects (registering those not known yet), erased ids excepted."""
        ...

    async def lift(self, person_ids: Sequence[str], *, request_id: str, at: datetime) -> None: ...


@dataclass(frozen=True)
class PairToMerge:
    """One merge of a batch asked of the profile service."""

    survivor_id: str
    merged_id: str
    merge_id: str  # idempotent: the same id and pair again is the first merge
    reason: str


@dataclass(frozen=True)
class ProfileView:
    """A person as the profile service shows it, ready for comparison."""

    requested_id: str
    record: MatchRecord  # record.id is the survivor's id when the requested one was merged
    created_at: datetime | None = None  # when the profile service created the person
    sources: tuple[str, ...] = ()  # source systems of its source records

    @property
    def merged_into(self) -> str | None:
        return self.record.id if self.record.id != self.requested_id else None


class Profiles(Protocol):
    """The profile service (its subgraph), which owns persons and executes merges."""

    async def fetch(self, person_id: str) -> ProfileView | None: ...

    async def fetch_many(self, person_ids: Sequence[str]) -> dict[str, ProfileView]:
        """Persons by id in one call; unknown ids are left out."""
        ...

    async def active_ids(self, *, after: str, first: int) -> list[str]:
        """Ids of persons not merged away, in id order after ``after``."""
        ...

    async def merge(
        self, survivor_id: str, merged_id: str, *, reason: str, on_behalf_of: Principal,
        merge_id: str | None = None,
    ) -> str:  # fmt: skip
        """Merge two persons; returns the merge id. With ``merge_id`` the merge is
        idempotent: the same id and pair again returns the first merge."""
        ...

    async def merge_many(
        self, pairs: Sequence[PairToMerge], *, on_behalf_of: Principal
    ) -> list[str | None]:
        """Merge the pairs in one call and one transaction of the profile service, in
        order; per pair its merge id, or None when it was skipped (merged away, gone,
        erased or restricted since it was planned)."""
        ...

    async def unmerge(self, merge_id: str, *, on_behalf_of: Principal) -> None: ...


class ProfileService(Profiles, CompanyProfiles, Protocol):
    """Persons and companies: what a steward's decision on either merges or unmerges."""


__all__ = [
    "CalibrationStore",
    "MatchCandidate",
    "NewTask",
    "PairToMerge",
    "PrivacyStore",
    "ProfileService",
    "ProfileView",
    "Profiles",
    "RematchStore",
    "ReviewStore",
    "SubjectFeatures",
    "SubjectStore",
    "TaskPage",
]
