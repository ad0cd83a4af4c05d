"""Data-subject requests: what matching holds about persons, erasure, restriction.

Matching keeps a copy of each person's comparable values (``MatchSubject`` with its
features and blocking keys), review tasks and decisions on pairs, and batch
re-matching proposals and steps. The consent service carries out a request and
passes the whole merge group's ids (docs/data-subject-requests.md):

- export (GDPR Art. 15, 20): every item held under those ids, each with its data
  category (the attribute's category for a stored feature);
- erasure (Art. 17), one transaction, idempotent: subjects with features and
  blocking keys and review tasks are deleted; decisions stay as the audit trail
  (who decided what on which ids, when) with their note and fingerprints cleared;
  re-matching proposals are deleted, steps keep ids and levels only. A tombstone
  per id keeps a late event or a re-registration from bringing the subject back;
- restriction (Art. 18): a restricted subject is kept but neither merged nor
  proposed, as newcomer or as candidate, until the restriction is lifted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_common.errors import InvalidInput
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.domain.models import Decision, ReviewTask
from mdm_matching.domain.stores import Stores

MAX_IDS = 1000
MAX_REQUEST_ID = 200


class Origin(StrEnum):
    SUBJECT = "subject"  # the comparable copy and its state
    REVIEW_TASK = "reviewTask"
    DECISION = "decision"
    REMATCH_PROPOSAL = "rematchProposal"
    REMATCH_STEP = "rematchStep"
    ERASURE = "erasure"  # the tombstone an earlier erasure left


# MatchRecord attribute -> (exported field, category of the attribute it copies).
FEATURES: tuple[tuple[str, str, str], ...] = (
    ("given", "givenName", DataCategory.IDENTITY),
    ("family", "familyName", DataCategory.IDENTITY),
    ("given_code", "givenNamePhonetic", DataCategory.IDENTITY),
    ("family_code", "familyNamePhonetic", DataCategory.IDENTITY),
    ("suffix", "suffix", DataCategory.IDENTITY),
    ("birth", "birthDate", DataCategory.BIRTH_DATE),
    ("email", "email", DataCategory.EMAIL),
    ("phone", "phone", DataCategory.PHONE),
    ("postal_code", "postalCode", DataCategory.POSTAL_ADDRESS),
    ("city", "city", DataCategory.POSTAL_ADDRESS),
    ("street", "street", DataCategory.POSTAL_ADDRESS),
    ("house_number", "houseNumber", DataCategory.POSTAL_ADDRESS),
    # "SCHEME:ISSUER:VALUE" each (tax id, customer number, ...), as the profile sent them.
    ("identifiers", "identifiers", DataCategory.IDENTITY),
)


def _item(person_id: str, origin: Origin, category: str, field: str, value: str,
          *, at: datetime | None = None) -> PersonalDataItem:  # fmt: skip
    return PersonalDataItem(person_id, origin, category, field, value, recorded_at=at)


@dataclass(frozen=True)
class PersonalData:
    person_ids: tuple[str, ...]
    restricted: bool
    items: tuple[PersonalDataItem, ...]


@dataclass(frozen=True)
class StoredSubject:
    """A match subject as stored, for export and erasure."""

    person_id: str
    registered_at: datetime
    merged_into: str | None
    features_at: datetime | None
    record: MatchRecord | None  # None: features never taken
    fingerprint: str | None
    block_keys: int
    restricted_at: datetime | None = None
    restriction_request_id: str | None = None


@dataclass(frozen=True)
class ErasedSubject:
    person_id: str
    erased_at: datetime
    request_id: str


class RematchKind(StrEnum):
    PROPOSAL = "proposal"
    STEP = "step"


@dataclass(frozen=True)
class RematchEntry:
    """A batch re-matching proposal (a scored pair) or merge step naming a person."""

    kind: RematchKind
    job_id: str
    left_id: str  # a step: the survivor
    right_id: str  # a step: the merged person
    probability: float
    status: str | None = None  # steps only


@dataclass(frozen=True)
class Erasure:
    person_ids: tuple[str, ...]
    removed_subjects: int
    removed_tasks: int


@dataclass(frozen=True)
class Restriction:
    person_ids: tuple[str, ...]
    restricted: bool


# --- input -----------------------------------------------------------------------


def checked_ids(person_ids: Sequence[str]) -> tuple[str, ...]:
    """Person ids (the profile service's UUIDs), without repeats, in the order given."""
    if not person_ids:
        raise InvalidInput("personIds needs at least one id.", field="personIds")
    if len(person_ids) > MAX_IDS:
        raise InvalidInput(f"personIds takes at most {MAX_IDS} ids.", field="personIds")
    for index, person_id in enumerate(person_ids):
        try:
            valid = str(uuid.UUID(person_id)) == person_id
        except ValueError:
            valid = False
        if not valid:  # not echoed: a wrong value may be personal data itself
            raise InvalidInput(f"personIds[{index}] is not a person id.", field="personIds")
    return tuple(dict.fromkeys(person_ids))


def checked_request_id(request_id: str) -> str:
    request_id = request_id.strip()
    if not request_id or len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
        raise InvalidInput(
            f"requestId needs 1 to {MAX_REQUEST_ID} printable characters.", field="requestId"
        )
    return request_id


# --- export ------------------------------------------------------------------------


def _json(value: dict[str, object]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def subject_items(subject: StoredSubject) -> list[PersonalDataItem]:
    """The subject's state, each stored feature under its attribute's category, and
    its blocking keys summarised (they are built from the features)."""
    pid, at = subject.person_id, subject.features_at
    items = [_item(pid, Origin.SUBJECT, DataCategory.MATCHING, "registeredAt",
                      subject.registered_at.isoformat(), at=subject.registered_at)]  # fmt: skip
    if subject.merged_into:
        items.append(_item(pid, Origin.SUBJECT, DataCategory.MATCHING, "mergedInto",
                              subject.merged_into))  # fmt: skip
    if subject.record is not None:
        for attribute, field, category in FEATURES:
            value = getattr(subject.record, attribute)
            if value:
                text = ", ".join(value) if isinstance(value, tuple) else str(value)
                items.append(_item(pid, Origin.SUBJECT, category, field, text, at=at))
    if subject.fingerprint:
        items.append(_item(pid, Origin.SUBJECT, DataCategory.MATCHING, "fingerprint",
                              subject.fingerprint, at=at))  # fmt: skip
    if subject.block_keys:
        summary = (f"{subject.block_keys} blocking keys, each built from the values above "
                   "(see docs/matching.md, blocking)")  # fmt: skip
        items.append(_item(pid, Origin.SUBJECT, DataCategory.MATCHING, "blockingKeys",
                              summary, at=at))  # fmt: skip
    if subject.restricted_at is not None:
        value = _json({"restrictedAt": subject.restricted_at.isoformat(),
                       "requestId": subject.restriction_request_id})  # fmt: skip
        items.append(_item(pid, Origin.SUBJECT, DataCategory.MATCHING, "restriction",
                              value, at=subject.restricted_at))  # fmt: skip
    return items


def _sides(left: str, right: str, ids: frozenset[str]) -> tuple[str, str]:
    """The requested id of a pair (the left one if both are) and the other."""
    return (left, right) if left in ids else (right, left)


def explanation(
    contributions: Sequence[Contribution], conflicts: Sequence[str], model_version: str | None
) -> dict[str, object]:
    """Why a pair scored as it did, as the export shows it (GDPR Art. 15(1)(h)): per
    compared field its level and match weight in bits, the guards that fired and the
    model that scored it. Ids, level names and weights only: never a compared value."""
    return {
        "comparisons": [
            {"field": c.comparison, "level": c.level, "weight": round(c.weight, 3)}
            for c in contributions
        ],
        "guards": list(conflicts),
        "modelVersion": model_version,
    }


def task_item(task: ReviewTask, ids: frozenset[str]) -> PersonalDataItem:
    own, other = _sides(task.evidence.left_id, task.evidence.right_id, ids)
    evidence = task.evidence
    value = _json(
        {
            "taskId": task.id,
            "status": task.status.value,
            "reason": task.reason.value,
            "score": evidence.probability,
            "otherPersonId": other,
            "note": task.note,
        }
        | explanation(evidence.contributions, evidence.conflicts, evidence.model_version)
    )
    return _item(own, Origin.REVIEW_TASK, DataCategory.MATCHING, "reviewTask", value,
                    at=task.created_at)  # fmt: skip


def decision_item(decision: Decision, ids: frozenset[str]) -> PersonalDataItem:
    left, right = decision.pair_key.split("|")
    own, other = _sides(left, right, ids)
    value = _json(
        {
            "decisionId": decision.id,
            "verdict": decision.verdict.value,
            "at": decision.at.isoformat(),
            "actor": decision.actor,
            "note": decision.note,
            "otherPersonId": other,
            "taskId": decision.task_id,
            "mergeId": decision.merge_id,
            "score": decision.probability,
        }
        | explanation(decision.contributions, decision.conflicts, decision.model_version)
    )
    return _item(own, Origin.DECISION, DataCategory.MATCHING, "decision", value, at=decision.at)


def rematch_item(entry: RematchEntry, ids: frozenset[str]) -> PersonalDataItem:
    own, other = _sides(entry.left_id, entry.right_id, ids)
    if entry.kind == RematchKind.PROPOSAL:
        value = _json({"jobId": entry.job_id, "otherPersonId": other,
                       "score": entry.probability})  # fmt: skip
        return _item(own, Origin.REMATCH_PROPOSAL, DataCategory.MATCHING, "rematchProposal",
                        value)  # fmt: skip
    value = _json({"jobId": entry.job_id, "survivorId": entry.left_id,
                   "mergedId": entry.right_id, "status": entry.status,
                   "score": entry.probability})  # fmt: skip
    return _item(own, Origin.REMATCH_STEP, DataCategory.MATCHING, "rematchStep", value)


def erasure_item(erased: ErasedSubject) -> PersonalDataItem:
    value = _json({"requestId": erased.request_id, "erasedAt": erased.erased_at.isoformat()})
    return _item(erased.person_id, Origin.ERASURE, DataCategory.MATCHING, "erasure", value,
                    at=erased.erased_at)  # fmt: skip


def personal_data(
    person_ids: Sequence[str],
    *,
    subjects: Sequence[StoredSubject],
    tasks: Sequence[ReviewTask],
    decisions: Sequence[Decision],
    rematch: Sequence[RematchEntry],
    erased: Sequence[ErasedSubject],
) -> PersonalData:
    """Everything held, as items; unknown ids simply contribute none."""
    ids = frozenset(person_ids)
    items: list[PersonalDataItem] = []
    for subject in subjects:
        items += subject_items(subject)
    items += [task_item(t, ids) for t in tasks]
    items += [decision_item(d, ids) for d in decisions]
    items += [rematch_item(e, ids) for e in rematch]
    items += [erasure_item(e) for e in erased]
    restricted = any(s.restricted_at is not None for s in subjects)
    return PersonalData(tuple(person_ids), restricted, tuple(items))


async def export(person_ids: Sequence[str], stores: Stores) -> PersonalData:
    ids = checked_ids(person_ids)
    return personal_data(
        ids, subjects=await stores.privacy.subjects_of(ids),
        tasks=await stores.privacy.tasks_of(ids),
        decisions=await stores.privacy.decisions_of(ids),
        rematch=await stores.privacy.rematch_entries_of(ids),
        erased=await stores.privacy.erased_of(ids),
    )  # fmt: skip


# --- erasure and restriction ---------------------------------------------------------


def block_keys_of(subjects: Sequence[StoredSubject]) -> list[str]:
    """The keys built from the subjects' stored features. A merged-away subject has
    left its blocks already (its keys may be empty nodes holding its values)."""
    keys = {k for s in subjects if s.record is not None for k in blocking.keys_of(s.record)}
    return sorted(keys)


async def erase(
    person_ids: Sequence[str], request_id: str, stores: Stores, *, now: datetime
) -> Erasure:
    """All of it in the caller's one write transaction; a second call removes nothing."""
    ids, request_id = checked_ids(person_ids), checked_request_id(request_id)
    held = await stores.privacy.subjects_of(ids)
    removed_subjects = await stores.privacy.delete_subjects(ids, keys=block_keys_of(held))
    removed_tasks = await stores.privacy.delete_tasks(ids)
    await stores.privacy.scrub_decisions(ids, request_id=request_id)
    await stores.privacy.forget_rematch(ids)
    await stores.privacy.tombstone(ids, request_id=request_id, at=now)
    return Erasure(ids, removed_subjects, removed_tasks)


async def restrict(
    person_ids: Sequence[str], request_id: str, stores: Stores, *, restricted: bool,
    now: datetime,
) -> Restriction:  # fmt: skip
    """Set or lift the restriction; erased ids are left alone (nothing is held)."""
    ids, request_id = checked_ids(person_ids), checked_request_id(request_id)
    if restricted:
        await stores.privacy.restrict(ids, request_id=request_id, at=now)
    else:
        await stores.privacy.lift(ids, request_id=request_id, at=now)
    return Restriction(ids, restricted)
