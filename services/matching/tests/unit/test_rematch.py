"""The TRAINING phase of a batch job over in-memory stores: the current model kept
when it fits, one trained otherwise; the choice stored with the job."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from mdm_matching.domain import rematch
from mdm_matching.domain.batch_model import ModelRule
from mdm_matching.domain.engine.features import MatchRecord, make_record
from mdm_matching.domain.engine.model import Parameters, default_parameters
from mdm_matching.domain.stores import Stores

T = TypeVar("T")
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
RULE = ModelRule(max_age=timedelta(days=7), max_change=0.1)


@dataclass
class Memory:
    job: rematch.RematchJob
    records: list[MatchRecord]
    model: Parameters | None = None
    saved: list[Parameters] = field(default_factory=list)

    # Another delivery's choice, made while this one trained (the second read).
    chosen_meanwhile: rematch.RematchJob | None = None
    reads: int = 0

    async def get(self, job_id: str) -> rematch.RematchJob | None:
        self.reads += 1
        if self.reads == 2 and self.chosen_meanwhile is not None:
            self.job = self.chosen_meanwhile
        return self.job if job_id == self.job.id else None

    lock = get

    async def update(self, job_id: str, **fields: Any) -> None:
        self.job = dataclasses.replace(self.job, **fields)

    async def active_features(
        self, *, after: str, limit: int, merged_away: bool = False
    ) -> list[MatchRecord]:
        return [r for r in self.records if r.id > after][:limit]

    async def load_model(self) -> Parameters | None:
        return self.model

    async def save_model(self, parameters: Parameters, *, at: datetime) -> None:
        self.model = parameters
        self.saved.append(parameters)


class MemoryTransactions:
    def __init__(self, memory: Memory) -> None:
        self.stores = Stores(
            subjects=cast("Any", memory),
            reviews=cast("Any", None),
            rematch=cast("Any", memory),
            privacy=cast("Any", None),
            calibration=cast("Any", None),
            events=cast("Any", None),
            companies=cast("Any", None),
        )

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)


def training_job() -> rematch.RematchJob:
    job = rematch.new_job("job-1", partitions=2, requested_by="steward", now=NOW)
    return dataclasses.replace(job, phase=rematch.RematchPhase.TRAINING)


def persons(n: int) -> list[MatchRecord]:
    names = ["Anna", "Peter", "Ursula", "Thomas", "Monika"]
    return [
        make_record(f"p{i:03d}", given=names[i % 5], family=f"Weber{i % 7}", birth="1970-01-01")
        for i in range(n)
    ]


async def choose(memory: Memory) -> rematch.RematchJob | None:
    return await rematch.choose_model(
        "job-1", transactions=MemoryTransactions(memory), rule=RULE, max_block=50, now=NOW
    )


class TestChooseModel:
    async def test_without_a_trained_model_the_job_trains_one(self) -> None:
        memory = Memory(training_job(), persons(60))
        job = await choose(memory)
        assert job is not None
        assert job.phase == rematch.RematchPhase.SCORING
        assert job.model_trained
        assert job.model_reason is not None
        assert "no trained model" in job.model_reason
        (trained,) = memory.saved
        assert job.model_version == trained.version == f"{NOW.isoformat()}/rematch/job-1"
        assert (trained.trained_on_subjects, trained.trained_at) == (60, NOW.isoformat())

    async def test_a_recent_model_on_as_many_profiles_decides(self) -> None:
        current = default_parameters()
        current.version, current.trained_on_subjects = "v-recent", 60
        current.trained_at = (NOW - timedelta(days=1)).isoformat()
        memory = Memory(training_job(), persons(60), model=current)
        job = await choose(memory)
        assert job is not None
        assert (job.model_version, job.model_trained) == ("v-recent", False)
        assert job.model_reason is not None
        assert "the current model" in job.model_reason
        assert memory.saved == []

    async def test_calibrated_thresholds_survive_a_retraining(self) -> None:
        current = default_parameters()
        current.version, current.review_at, current.auto_merge_at = "v-old", 0.6, 0.98
        memory = Memory(training_job(), persons(60), model=current)
        await choose(memory)
        (trained,) = memory.saved
        assert (trained.review_at, trained.auto_merge_at) == (0.6, 0.98)

    async def test_a_job_past_training_is_left_alone(self) -> None:
        memory = Memory(
            dataclasses.replace(training_job(), phase=rematch.RematchPhase.SCORING), persons(5)
        )
        job = await choose(memory)
        assert job is not None
        assert job.model_version is None
        assert memory.saved == []

    async def test_a_choice_made_meanwhile_by_another_delivery_stands(self) -> None:
        other = dataclasses.replace(
            training_job(), phase=rematch.RematchPhase.SCORING, model_version="v-other"
        )
        memory = Memory(training_job(), persons(60), chosen_meanwhile=other)
        job = await choose(memory)
        assert job is not None
        assert (job.phase, job.model_version) == (rematch.RematchPhase.SCORING, "v-other")
        assert memory.saved == []
