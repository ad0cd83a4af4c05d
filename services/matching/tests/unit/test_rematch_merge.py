"""The batch job's merges: one profile call per slice, stale steps skipped, a slice
too big for a busy profile service split in halves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from mdm_common.auth import Principal
from mdm_common.errors import Unavailable
from mdm_matching.domain import rematch_merge
from mdm_matching.domain.models import PairEvidence
from mdm_matching.domain.ports import PairToMerge, Profiles
from mdm_matching.domain.rematch import MergeStep, StepStatus
from mdm_matching.domain.stores import Transactions

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def step(n: int) -> MergeStep:
    evidence = PairEvidence("s", f"m{n}", 0.99, 9.0, (), (), "fs", f"fm{n}", "v1")
    return MergeStep("job-1", n, "s", f"m{n}", evidence)


class BusyProfiles:
    """Merges all but ``gone``; refuses batches larger than ``most`` as too busy."""

    def __init__(self, *, most: int, gone: frozenset[str] = frozenset()) -> None:
        self.most, self.gone = most, gone
        self.calls: list[list[str]] = []

    async def merge_many(
        self, pairs: Sequence[PairToMerge], *, on_behalf_of: Principal
    ) -> list[str | None]:
        self.calls.append([p.merged_id for p in pairs])
        if len(pairs) > self.most:
            raise Unavailable("The graph database did not answer within 5 s; try again.")
        return [None if p.merged_id in self.gone else p.merge_id for p in pairs]


class Settled:
    """The matching side's write: records what each settle transaction was given."""

    def __init__(self) -> None:
        self.slices: list[list[tuple[str, StepStatus]]] = []

    async def write(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        settled = self.slices

        class Rematch:
            async def settle_steps(
                self, job_id: str, rows: list[tuple[str, StepStatus]]
            ) -> set[str]:
                settled.append(rows)
                return set()  # as if settled by an earlier delivery: nothing more to do

        class Stores:
            rematch = Rematch()

        return await work(Stores())


async def apply(steps: list[MergeStep], profiles: BusyProfiles, settled: Settled) -> None:
    await rematch_merge._apply(
        steps,
        profiles=cast(Profiles, profiles),
        transactions=cast(Transactions, settled),
        now=NOW,
    )


class TestApply:
    async def test_a_slice_is_one_call_and_one_settle_with_stale_steps_skipped(self) -> None:
        profiles, settled = BusyProfiles(most=100, gone=frozenset({"m1"})), Settled()
        await apply([step(n) for n in range(3)], profiles, settled)
        assert profiles.calls == [["m0", "m1", "m2"]]
        assert settled.slices == [
            [("m0", StepStatus.DONE), ("m1", StepStatus.SKIPPED), ("m2", StepStatus.DONE)]
        ]

    async def test_a_slice_too_big_for_a_busy_profile_service_goes_in_halves(self) -> None:
        profiles, settled = BusyProfiles(most=2), Settled()
        await apply([step(n) for n in range(5)], profiles, settled)
        assert [len(c) for c in profiles.calls] == [5, 2, 3, 1, 2]
        assert [m for s in settled.slices for m, _ in s] == [f"m{n}" for n in range(5)]

    async def test_one_step_the_profile_service_cannot_take_fails_the_task(self) -> None:
        with pytest.raises(Unavailable):
            await apply([step(0)], BusyProfiles(most=0), Settled())


class Timeline:
    """Profile calls and settles that take turns at the event loop, logging when each
    starts and ends."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def merge_many(
        self, pairs: Sequence[PairToMerge], *, on_behalf_of: Principal
    ) -> list[str | None]:
        self.log.append(f"merge {pairs[0].merged_id}")
        for _ in range(3):
            await asyncio.sleep(0)
        self.log.append(f"merged {pairs[0].merged_id}")
        return [p.merge_id for p in pairs]

    async def write(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        log = self.log

        class Rematch:
            async def settle_steps(
                self, job_id: str, rows: list[tuple[str, StepStatus]]
            ) -> set[str]:
                log.append(f"settle {rows[0][0]}")
                await asyncio.sleep(0)
                log.append(f"settled {rows[0][0]}")
                return set()

        class Stores:
            rematch = Rematch()

        return await work(Stores())


async def test_a_slice_settles_while_the_next_one_merges() -> None:
    timeline = Timeline()
    size = rematch_merge.SETTLE_SLICE
    await rematch_merge._apply(
        [step(n) for n in range(2 * size + 1)],
        profiles=cast(Profiles, timeline),
        transactions=cast(Transactions, timeline),
        now=NOW,
    )
    first, second, third = "m0", f"m{size}", f"m{2 * size}"
    expected = [f"merge {first}", f"merged {first}"]
    for settles, merges in ((first, second), (second, third)):
        expected += [f"merge {merges}", f"settle {settles}", f"settled {settles}"]
        expected += [f"merged {merges}"]
    assert timeline.log == [*expected, f"settle {third}", f"settled {third}"]
