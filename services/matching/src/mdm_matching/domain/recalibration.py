"""Use cases of learning from stewards: calibration, dry run, recalibration, and the
queue ordered by what an answer teaches (the figures: ``calibration.py``, ``dry_run.py``).

Recalibration is an admin's explicit act: it stores a new model version, the
current model's m/u with the new thresholds and the guards no longer reviewed,
audits who changed what from which version and why (``ModelChange``), and
announces it. Online matching and the next
batch job use the new thresholds from then on; nothing changes by itself.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput
from mdm_matching.domain import calibration, dry_run
from mdm_matching.domain.engine.guards import GUARDS
from mdm_matching.domain.engine.model import Parameters, default_parameters
from mdm_matching.domain.models import ReviewTask, TaskFilter, TaskOrder, TaskReason
from mdm_matching.domain.online import Policy
from mdm_matching.domain.ports import TaskPage
from mdm_matching.domain.stores import Stores, Transactions

MAX_NOTE = 2000


@dataclass(frozen=True)
class ModelChange:
    """One recalibration, as audited."""

    id: str
    actor: str
    at: datetime
    note: str
    previous_version: str
    version: str
    previous_review_at: float
    previous_auto_merge_at: float
    review_at: float
    auto_merge_at: float
    previous_unreviewed_guards: tuple[str, ...] = ()
    unreviewed_guards: tuple[str, ...] = ()


async def _model(stores: Stores) -> Parameters:
    return await stores.subjects.load_model() or default_parameters()


async def calibrate(
    stores: Stores,
    policy: Policy,
    targets: calibration.Targets,
    *,
    model_versions: Collection[str] | None = None,
) -> calibration.Calibration:
    """Precision per band and guard under the current model's thresholds, and a proposal.

    ``model_versions``: only decisions on pairs those models scored (a retrained
    model's probabilities are not the old one's; a recalibrated version scores as
    the version it came from, so both belong in the list)."""
    current = policy.for_model(await _model(stores))
    decisions = await stores.calibration.labelling_decisions()
    if model_versions is not None:
        wanted = set(model_versions)
        decisions = [d for d in decisions if d.model_version in wanted]
    return calibration.calibrate(
        calibration.labels_from(decisions),
        calibration.auto_merges_from(decisions),
        review_at=current.review_at,
        auto_merge_at=current.auto_merge_at,
        targets=targets,
        unreviewed_guards=current.unreviewed_guards,
    )


async def dry_run_of(
    stores: Stores,
    *,
    review_at: float | None,
    auto_merge_at: float | None,
    policy: Policy,
    unreviewed_guards: Collection[str] | None = None,
) -> dry_run.DryRun:
    """What the thresholds and unreviewed guards given (the current ones where left
    out) would change."""
    current = policy.for_model(await _model(stores))
    review = current.review_at if review_at is None else review_at
    auto = current.auto_merge_at if auto_merge_at is None else auto_merge_at
    _check_thresholds(review, auto)
    unreviewed = current.unreviewed_guards if unreviewed_guards is None else unreviewed_guards
    _check_guards(unreviewed)
    decisions = await stores.calibration.labelling_decisions()
    merged = [
        dry_run.ScoredPair(left, right, a.probability, (), dry_run.Outcome.MERGED)
        for a in calibration.auto_merges_from(decisions)
        if not a.undone
        for left, right in [a.pair_key.split("|", 1)]
    ]
    tasks = [
        dry_run.ScoredPair(
            t.left_id,
            t.right_id,
            t.probability,
            t.conflicts,
            dry_run.Outcome.TASK,
            ambiguous=reason == TaskReason.AMBIGUOUS,
        )
        for t, reason in await stores.calibration.unresolved_evidence()
    ]
    return dry_run.dry_run(
        [*tasks, *merged], review_at=review, auto_merge_at=auto, unreviewed_guards=unreviewed
    )


def _check_thresholds(review_at: float, auto_merge_at: float) -> None:
    if not 0 < review_at <= auto_merge_at <= 1:
        raise InvalidInput("Thresholds need 0 < reviewAt <= autoMergeAt <= 1.", field="reviewAt")


def _check_guards(guards: Collection[str]) -> None:
    unknown = sorted(set(guards) - set(GUARDS))
    if unknown:
        raise InvalidInput(
            f"Unknown guard {unknown[0]!r}; the guards are: {', '.join(GUARDS)}.",
            field="unreviewedGuards",
        )


async def recalibrate(
    *,
    review_at: float,
    auto_merge_at: float,
    note: str,
    expected_version: str | None,
    actor: str,
    policy: Policy,
    transactions: Transactions,
    now: datetime,
    unreviewed_guards: Collection[str] | None = None,
) -> ModelChange:
    """A new model version with these thresholds and unreviewed guards (None: the
    current ones), audited and announced (one unit of work). CONFLICT when the
    current model is no longer ``expected_version``."""
    _check_thresholds(review_at, auto_merge_at)
    if unreviewed_guards is not None:
        _check_guards(unreviewed_guards)
    note = note.strip()
    if not note:
        raise InvalidInput("Say why the thresholds change (note).", field="note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"A note has at most {MAX_NOTE} characters.", field="note")

    async def apply(stores: Stores) -> ModelChange:
        model = await _model(stores)
        if expected_version is not None and model.version != expected_version:
            raise Conflict(
                f"The current model is {model.version}, not {expected_version}.",
                field="expectedModelVersion",
            )
        before = policy.for_model(model)
        was = tuple(sorted(before.unreviewed_guards))
        guards = was if unreviewed_guards is None else tuple(sorted(set(unreviewed_guards)))
        if (before.review_at, before.auto_merge_at, was) == (review_at, auto_merge_at, guards):
            raise InvalidInput(
                "These are the current thresholds and unreviewed guards.", field="reviewAt"
            )
        change_id = str(uuid.uuid4())
        calibrated = replace(
            copy.deepcopy(model),
            review_at=review_at,
            auto_merge_at=auto_merge_at,
            unreviewed_guards=guards,
            version=f"{now.isoformat()}/calibrated/{change_id}",
        )
        change = ModelChange(
            id=change_id,
            actor=actor,
            at=now,
            note=note,
            previous_version=model.version,
            version=calibrated.version,
            previous_review_at=before.review_at,
            previous_auto_merge_at=before.auto_merge_at,
            review_at=review_at,
            auto_merge_at=auto_merge_at,
            previous_unreviewed_guards=was,
            unreviewed_guards=guards,
        )
        await stores.subjects.save_model(calibrated, at=now)
        await stores.calibration.record_change(change)
        stores.events.record(Event.MATCH_MODEL_RECALIBRATED, change_id=change_id)
        return change

    return await transactions.write(apply)


# --- the queue, most informative answers first ------------------------------------


def _within(band: calibration.Band, wanted: TaskFilter) -> TaskFilter | None:
    """The filter narrowed to a band (its upper edge excluded: keys have 12 decimals)."""
    high = band.high if band.high == 1.0 else band.high - 1e-12
    low, high = max(band.low, wanted.min_probability), min(high, wanted.max_probability)
    return replace(wanted, min_probability=low, max_probability=high) if low <= high else None


async def most_informative(
    stores: Stores, wanted: TaskFilter, *, policy: Policy, after: str | None, limit: int
) -> TaskPage:
    """A page of the queue in ``calibration.teaching_order``: band after band, by
    probability within a band. The cursor keeps the band order it started with, so
    that decisions taken while a steward pages do not reshuffle the pages."""
    if after is None:
        found = await calibrate(stores, policy, calibration.Targets())
        order = [(b.low, b.high) for b in calibration.teaching_order(found)]
        inner: str | None = None
    else:
        order, inner = _read_position(after)
    tasks: list[ReviewTask] = []
    keys: list[str] = []
    for index, (low, high) in enumerate(order):
        narrowed = _within(calibration.Band(low, high), wanted)
        if narrowed is None:
            inner = None
            continue
        page = await stores.reviews.tasks(
            narrowed, order=TaskOrder.PROBABILITY_DESC, after=inner, limit=limit + 1 - len(tasks)
        )
        inner = None
        for task, key in zip(page.tasks, page.sort_keys, strict=True):
            tasks.append(task)
            keys.append(json.dumps([order[index:], key]))
        if len(tasks) > limit:
            break
    return TaskPage(tasks[:limit], has_more=len(tasks) > limit, sort_keys=keys[:limit])


def _read_position(after: str) -> tuple[list[tuple[float, float]], str]:
    try:
        order, key = json.loads(after)
        bands = [(float(low), float(high)) for low, high in order]
    except (ValueError, TypeError) as exc:
        raise InvalidInput("after is not a cursor from this queue.", field="after") from exc
    if not isinstance(key, str):
        raise InvalidInput("after is not a cursor from this queue.", field="after")
    return bands, key
