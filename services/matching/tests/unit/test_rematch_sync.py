"""The SYNCING phase of a batch job over in-memory stores: every page of persons is
stored (the last one too, while reads and writes overlap), subjects already up to date
are not read again, and subjects whose person was merged away are marked so."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import pytest

from mdm_matching.domain import rematch, rematch_sync
from mdm_matching.domain.engine.features import make_record
from mdm_matching.domain.models import MatchSubject
from mdm_matching.domain.ports import ProfileView, SubjectFeatures
from mdm_matching.domain.stores import Stores

T = TypeVar("T")
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


class Profiles:
    """The profile service: active persons by id, and the survivors of merged ones."""

    def __init__(self, active: list[str], merged: dict[str, str]) -> None:
        self.active, self.merged = sorted(active), merged
        self.fetched: list[str] = []
        self.id_pages: list[int] = []  # ids answered per call
        self.reads: list[int] = []  # persons asked per call

    async def active_ids(self, *, after: str, first: int) -> list[str]:
        await asyncio.sleep(0)  # lets a pending write run, as a real call would
        page = [i for i in self.active if i > after][:first]
        self.id_pages.append(len(page))
        return page

    async def fetch_many(self, person_ids: Sequence[str]) -> dict[str, ProfileView]:
        await asyncio.sleep(0)
        self.fetched += person_ids
        self.reads.append(len(person_ids))
        return {
            i: ProfileView(i, make_record(self.merged.get(i, i), given="Anna", family="Weber"))
            for i in person_ids
        }


class Memory:
    """Subjects and the job, as the sync uses them."""

    def __init__(self, job: rematch.RematchJob) -> None:
        self.job = job
        self.subjects: dict[str, MatchSubject] = {}
        self.merged: dict[str, str] = {}

    async def get(self, job_id: str) -> rematch.RematchJob | None:
        return self.job

    async def update(self, job_id: str, **fields: Any) -> None:
        self.job = dataclasses.replace(self.job, **fields)

    async def get_many(self, person_ids: Sequence[str]) -> dict[str, MatchSubject]:
        return {i: self.subjects[i] for i in person_ids if i in self.subjects}

    async def save_many(self, records: Sequence[SubjectFeatures], *, at: datetime) -> None:
        await asyncio.sleep(0)  # a write takes a while: the next page is read meanwhile
        for r in records:
            self.subjects[r.record.id] = MatchSubject(r.record.id, at, compared_at=at)

    async def merged_many(self, merges: Sequence[tuple[str, str]], *, at: datetime) -> None:
        for merged, survivor in merges:
            self.subjects[merged] = MatchSubject(merged, at, merged_into=survivor)
            self.merged[merged] = survivor

    async def close_tasks_of_many(self, person_ids: Sequence[str], *, at: datetime) -> None:
        pass

    async def active_ids(self, *, after: str, limit: int) -> list[str]:
        active = sorted(i for i, s in self.subjects.items() if s.merged_into is None)
        return [i for i in active if i > after][:limit]


class MemoryTransactions:
    def __init__(self, memory: Memory) -> None:
        store = cast("Any", memory)
        self.stores = Stores(
            subjects=store,
            reviews=store,
            rematch=store,
            privacy=store,
            calibration=store,
            events=store,
            companies=cast("Any", None),
        )

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)


async def sync(memory: Memory, profiles: Profiles) -> rematch.RematchJob | None:
    return await rematch_sync.sync(
        "job-1", profiles=cast("Any", profiles), transactions=MemoryTransactions(memory), now=NOW
    )


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rematch_sync, "ID_PAGE", 6)
    monkeypatch.setattr(rematch_sync, "SYNC_PAGE", 4)


def ids(n: int) -> list[str]:
    return [f"p{i:03d}" for i in range(n)]


class TestSync:
    async def test_every_page_is_stored_the_last_one_too(self) -> None:
        memory = Memory(rematch.new_job("job-1", partitions=2, requested_by="s", now=NOW))
        profiles = Profiles(ids(10), {})
        job = await sync(memory, profiles)
        assert job is not None
        assert job.phase == rematch.RematchPhase.TRAINING
        assert job.synced_persons == 10
        assert sorted(memory.subjects) == ids(10)

    async def test_a_full_last_page_is_followed_by_an_empty_one(self) -> None:
        memory = Memory(rematch.new_job("job-1", partitions=2, requested_by="s", now=NOW))
        profiles = Profiles(ids(12), {})
        job = await sync(memory, profiles)
        assert job is not None
        assert (job.synced_persons, sorted(memory.subjects)) == (12, ids(12))
        assert profiles.id_pages == [6, 6, 0]

    async def test_large_pages_of_ids_are_read_and_stored_in_smaller_pages(self) -> None:
        memory = Memory(rematch.new_job("job-1", partitions=2, requested_by="s", now=NOW))
        profiles = Profiles(ids(10), {})
        await sync(memory, profiles)
        assert profiles.id_pages == [6, 4]
        assert profiles.reads == [4, 2, 4]
        assert profiles.fetched == ids(10)

    async def test_up_to_date_subjects_are_not_read_and_merged_ones_are_marked(self) -> None:
        memory = Memory(rematch.new_job("job-1", partitions=2, requested_by="s", now=NOW))
        await sync(memory, Profiles(ids(10), {}))
        # p003 was merged into p001 since: the profile service no longer lists it.
        memory.job = rematch.new_job("job-1", partitions=2, requested_by="s", now=NOW)
        profiles = Profiles([i for i in ids(10) if i != "p003"], {"p003": "p001"})
        job = await sync(memory, profiles)
        assert job is not None
        assert profiles.fetched == ["p003"]
        assert memory.merged == {"p003": "p001"}
        assert job.synced_persons == 1
