"""Use cases of learning from stewards over in-memory stores: calibration under the
model's thresholds, the dry run, an audited recalibration, the informative queue."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import pytest

from mdm_common.errors import Conflict, InvalidInput
from mdm_matching.domain import recalibration
from mdm_matching.domain.calibration import Targets
from mdm_matching.domain.engine.model import Parameters, default_parameters
from mdm_matching.domain.models import (
    Decision,
    PairEvidence,
    ReviewTask,
    TaskFilter,
    TaskOrder,
    TaskReason,
    TaskStatus,
    Verdict,
)
from mdm_matching.domain.online import Policy
from mdm_matching.domain.ports import TaskPage
from mdm_matching.domain.stores import Stores

T = TypeVar("T")
NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)
POLICY = Policy(auto_merge_at=0.99, review_at=0.5)
TWINS = "given names differ"


def evidence(n: int, probability: float, conflicts: tuple[str, ...] = ()) -> PairEvidence:
    return PairEvidence(f"l{n}", f"r{n}", probability, 1.0, (), conflicts, "a", "b")


def label(n: int, probability: float, verdict: Verdict, merge_id: str | None = None) -> Decision:
    return Decision.about(
        evidence(n, probability), verdict, actor="steward", at=NOW, merge_id=merge_id
    )


@dataclass
class Memory:
    """The few store methods these use cases call."""

    model: Parameters | None = None
    saved: list[Parameters] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    tasks: list[ReviewTask] = field(default_factory=list)
    changes: list[recalibration.ModelChange] = field(default_factory=list)
    events: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    # subjects
    async def load_model(self) -> Parameters | None:
        return self.model

    async def save_model(self, parameters: Parameters, *, at: datetime) -> None:
        self.model = parameters
        self.saved.append(parameters)

    # calibration
    async def labelling_decisions(self) -> list[Decision]:
        return list(self.decisions)

    async def unresolved_evidence(self) -> list[tuple[PairEvidence, TaskReason]]:
        return [(t.evidence, t.reason) for t in self.tasks]

    async def record_change(self, change: recalibration.ModelChange) -> None:
        self.changes.append(change)

    # reviews: by probability, descending; the sort key is the task id
    async def tasks_page(
        self, wanted: TaskFilter, *, order: TaskOrder, after: str | None, limit: int
    ) -> TaskPage:
        assert order == TaskOrder.PROBABILITY_DESC
        found = sorted(
            (
                t
                for t in self.tasks
                if wanted.min_probability <= t.evidence.probability <= wanted.max_probability
            ),
            key=lambda t: (-t.evidence.probability, t.id),
        )
        if after is not None:
            found = found[[t.id for t in found].index(after) + 1 :]
        return TaskPage(
            found[:limit], has_more=len(found) > limit, sort_keys=[t.id for t in found][:limit]
        )

    def record(self, event: str, **ids: str) -> None:
        self.events.append((event, ids))


class _Reviews:
    def __init__(self, memory: Memory) -> None:
        self.tasks = memory.tasks_page


def stores(memory: Memory) -> Stores:
    return Stores(
        subjects=cast("Any", memory),
        reviews=cast("Any", _Reviews(memory)),
        rematch=cast("Any", None),
        privacy=cast("Any", None),
        calibration=cast("Any", memory),
        events=memory,
        companies=cast("Any", None),
    )


class MemoryTransactions:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(stores(self.memory))

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(stores(self.memory))


def task(n: int, probability: float) -> ReviewTask:
    return ReviewTask(
        f"t{n:03d}", evidence(n, probability), TaskReason.UNCERTAIN, TaskStatus.OPEN, NOW, NOW
    )


class TestCalibrate:
    async def test_uses_the_models_thresholds(self) -> None:
        model = default_parameters()
        model.review_at, model.auto_merge_at = 0.6, 0.98
        memory = Memory(model=model, decisions=[label(1, 0.65, Verdict.NOT_A_MATCH)])
        found = await recalibration.calibrate(stores(memory), POLICY, Targets())
        assert (found.review_at, found.auto_merge_at, found.labels) == (0.6, 0.98, 1)

    async def test_labels_of_chosen_model_versions(self) -> None:
        old, new = label(1, 0.65, Verdict.NOT_A_MATCH), label(2, 0.65, Verdict.MERGE)
        new = dataclasses.replace(new, model_version="v2")
        memory = Memory(decisions=[old, new])
        found = await recalibration.calibrate(
            stores(memory), POLICY, Targets(), model_versions=["v2"]
        )
        assert found.labels == 1
        everything = await recalibration.calibrate(stores(memory), POLICY, Targets())
        assert everything.labels == 2


class TestDryRun:
    async def test_counts_tasks_and_standing_automatic_merges(self) -> None:
        memory = Memory(
            tasks=[task(1, 0.97), task(2, 0.55)],
            decisions=[
                label(3, 0.992, Verdict.AUTO_MERGE, merge_id="m3"),
                label(4, 0.992, Verdict.AUTO_MERGE, merge_id="m4"),
                label(4, 0.992, Verdict.UNMERGE, merge_id="m4"),  # undone: not standing
            ],
        )
        found = await recalibration.dry_run_of(
            stores(memory), review_at=0.6, auto_merge_at=0.995, policy=POLICY
        )
        assert (found.open_tasks, found.auto_merges) == (2, 1)
        assert (found.tasks_to_disappear, found.merges_to_split, found.tasks_to_appear) == (1, 1, 1)

    async def test_a_guard_no_longer_reviewed_closes_the_tasks_it_alone_holds(self) -> None:
        guarded = dataclasses.replace(task(1, 0.995), evidence=evidence(1, 0.995, (TWINS,)))
        memory = Memory(tasks=[guarded, task(2, 0.7)])
        now = await recalibration.dry_run_of(
            stores(memory), review_at=None, auto_merge_at=None, policy=POLICY
        )
        assert now.tasks_to_disappear == 0
        found = await recalibration.dry_run_of(
            stores(memory),
            review_at=None,
            auto_merge_at=None,
            policy=POLICY,
            unreviewed_guards=[TWINS],
        )
        assert (found.tasks_to_disappear, found.unreviewed_guards) == (1, (TWINS,))
        with pytest.raises(InvalidInput) as error:
            await recalibration.dry_run_of(
                stores(memory),
                review_at=None,
                auto_merge_at=None,
                policy=POLICY,
                unreviewed_guards=["twins"],
            )
        assert error.value.field == "unreviewedGuards"

    async def test_crossed_thresholds_are_bad_input(self) -> None:
        with pytest.raises(InvalidInput) as error:
            await recalibration.dry_run_of(
                stores(Memory()), review_at=0.9, auto_merge_at=None, policy=Policy(0.8, 0.5)
            )
        assert error.value.field == "reviewAt"


class TestRecalibrate:
    async def apply(self, memory: Memory, **overrides: Any) -> recalibration.ModelChange:
        arguments: dict[str, Any] = {
            "review_at": 0.6,
            "auto_merge_at": 0.98,
            "note": "labels say so",
            "expected_version": None,
            "actor": "admin-1",
            "policy": POLICY,
            "transactions": MemoryTransactions(memory),
            "now": NOW,
        }
        return await recalibration.recalibrate(**(arguments | overrides))

    async def test_stores_a_new_version_audits_and_announces(self) -> None:
        trained = default_parameters()
        trained.version = "v1"
        memory = Memory(model=trained)
        change = await self.apply(memory)
        assert memory.model is not None
        assert (memory.model.review_at, memory.model.auto_merge_at) == (0.6, 0.98)
        assert memory.model.version == change.version != "v1"
        assert memory.model.m == trained.m  # m and u stay the trained ones
        assert trained.review_at is None  # the earlier version is left as it was
        assert (change.previous_version, change.previous_review_at) == ("v1", 0.5)
        assert memory.changes == [change]
        assert memory.events == [("matching.model_recalibrated", {"change_id": change.id})]

    async def test_guards_no_longer_reviewed_are_stored_and_audited(self) -> None:
        memory = Memory()
        change = await self.apply(
            memory, review_at=0.5, auto_merge_at=0.99, unreviewed_guards=[TWINS, TWINS]
        )
        assert memory.model is not None
        assert memory.model.unreviewed_guards == (TWINS,)
        assert (change.previous_unreviewed_guards, change.unreviewed_guards) == ((), (TWINS,))
        assert POLICY.for_model(memory.model).unreviewed_guards == {TWINS}
        # Left out, they stay; an empty list reviews every guard again.
        kept = await self.apply(memory, review_at=0.6)
        assert kept.unreviewed_guards == (TWINS,)
        cleared = await self.apply(memory, unreviewed_guards=[])
        assert (cleared.previous_unreviewed_guards, cleared.unreviewed_guards) == ((TWINS,), ())

    async def test_a_stale_version_is_a_conflict(self) -> None:
        memory = Memory()
        with pytest.raises(Conflict):
            await self.apply(memory, expected_version="v0")
        assert memory.saved == []
        assert memory.events == []

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"note": "  "}, "note"),
            ({"review_at": 0.5, "auto_merge_at": 0.99}, "reviewAt"),  # nothing changes
            ({"review_at": 0.0}, "reviewAt"),
            ({"unreviewed_guards": ["twins"]}, "unreviewedGuards"),
        ],
    )
    async def test_bad_input(self, overrides: dict[str, Any], field: str) -> None:
        memory = Memory()
        with pytest.raises(InvalidInput) as error:
            await self.apply(memory, **overrides)
        assert error.value.field == field
        assert memory.saved == []


class TestMostInformative:
    async def test_pages_band_by_band_without_repeats(self) -> None:
        probabilities = [0.55, 0.56, 0.65, 0.66, 0.67, 0.75, 0.995]
        memory = Memory(
            tasks=[task(n, p) for n, p in enumerate(probabilities)],
            # The band from 0.6 to 0.7 is well known: it comes last.
            decisions=[label(100 + n, 0.65, Verdict.NOT_A_MATCH) for n in range(40)],
        )
        seen: list[float] = []
        after = None
        for _ in range(10):
            page = await recalibration.most_informative(
                stores(memory), TaskFilter(), policy=POLICY, after=after, limit=3
            )
            seen += [t.evidence.probability for t in page.tasks]
            if not page.has_more:
                break
            after = page.sort_keys[-1]
        assert sorted(seen) == sorted(probabilities)
        assert seen[0] == 0.995  # unlabelled, highest band first
        assert seen[-3:] == [0.67, 0.66, 0.65]

    async def test_a_foreign_cursor_is_bad_input(self) -> None:
        with pytest.raises(InvalidInput):
            await recalibration.most_informative(
                stores(Memory()), TaskFilter(), policy=POLICY, after="[1]", limit=3
            )
