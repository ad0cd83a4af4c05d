"""The expiry job's runs and pages, over in-memory stores (no servers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from mdm_common.contracts import Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_consent.domain import expiry_runs
from mdm_consent.domain.expiry import expiry_id
from mdm_consent.domain.expiry_runs import ExpiryRun
from mdm_consent.domain.lineage import GroupFacts, Lineage
from mdm_consent.domain.models import ConsentEvent, EventType, Fact, Purpose
from mdm_consent.domain.retention_runs import RunStatus
from mdm_consent.domain.stores import Stores

from .facts import NEWSLETTER, at, fact

T = TypeVar("T")
DAY = 24 * 60
NOW = at(40 * DAY)
VALID = replace(NEWSLETTER, consent_validity_days=30)


class Purposes:
    def __init__(self, *purposes: Purpose) -> None:
        self.found = list(purposes)

    async def all(self) -> list[Purpose]:
        return self.found


class Consents:
    """Facts per person id; appended events become facts, as the graph store does."""

    def __init__(self, facts: dict[str, list[Fact]]) -> None:
        self.facts = facts
        self.appended: list[ConsentEvent] = []

    async def facts_of(self, person_ids: Sequence[str], purpose: str) -> dict[str, GroupFacts]:
        return {
            pid: GroupFacts(
                Lineage(pid),
                tuple(f for f in self.facts.get(pid, ()) if f.purpose in (purpose, None)),
            )
            for pid in person_ids
        }

    async def append(self, event: ConsentEvent) -> None:
        self.appended.append(event)
        self.facts.setdefault(event.person_id, []).append(event.fact)


class Expiries:
    def __init__(self, consents: Consents) -> None:
        self.consents = consents
        self.saved: dict[str, ExpiryRun] = {}

    async def save_run(self, run: ExpiryRun) -> None:
        self.saved[run.id] = run

    async def get_run(self, run_id: str) -> ExpiryRun | None:
        return self.saved.get(run_id)

    async def running(self) -> ExpiryRun | None:
        return next((r for r in self.saved.values() if r.status is RunStatus.RUNNING), None)

    async def runs(self, *, limit: int) -> list[ExpiryRun]:
        return sorted(self.saved.values(), key=lambda r: r.started_at, reverse=True)[:limit]

    async def persons_after(self, purposes: Sequence[str], *, after: str, limit: int) -> list[str]:
        with_events = (
            p
            for p, facts in self.consents.facts.items()
            if any(f.purpose in purposes for f in facts)
        )
        return sorted(p for p in with_events if p > after)[:limit]

    async def recorded(self, event_ids: Sequence[str]) -> set[str]:
        ids = {f.id for facts in self.consents.facts.values() for f in facts}
        return ids & set(event_ids)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def record(self, event: str, **ids: str) -> None:
        self.sent.append((event, ids))


class Transactions:
    def __init__(self, facts: dict[str, list[Fact]], *purposes: Purpose) -> None:
        self.consents = Consents(facts)
        self.expiries = Expiries(self.consents)
        self.events = Recorder()
        nothing: Any = None
        self.stores = Stores(
            purposes=Purposes(*purposes),
            consents=self.consents,
            audits=nothing,
            merges=nothing,
            requests=nothing,
            retention=nothing,
            processing=nothing,
            events=self.events,
            expiries=self.expiries,
            duties=nothing,
            contact_uses=nothing,
        )

    async def read(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return await work(self.stores)

    @property
    def pages_queued(self) -> list[str]:
        return [ids["page"] for event, ids in self.events.sent if event == Event.EXPIRY_PAGE_QUEUED]


def history(*persons: str) -> dict[str, list[Fact]]:
    return {p: [replace(fact(EventType.GRANTED), person_id=p)] for p in persons}


async def finish(tx: Transactions, run: ExpiryRun, *, size: int) -> ExpiryRun:
    while run.status is RunStatus.RUNNING:
        run = await expiry_runs.run_page(
            run.id, number=run.pages, transactions=tx, now=NOW, size=size
        )
    return run


class TestRun:
    async def test_pages_through_every_person_and_expires_each_lapsed_grant(self) -> None:
        facts = history("p1", "p2", "p3")
        grants = {p: f[0].id for p, f in facts.items()}
        tx = Transactions(facts, VALID)
        run = await expiry_runs.start(transactions=tx, started_by="officer-1", now=NOW)
        assert tx.pages_queued == ["0"]

        done = await finish(tx, run, size=2)

        assert (done.status, done.checked, done.expired, done.pages) == (RunStatus.DONE, 3, 3, 2)
        assert done.finished_at == NOW
        assert tx.pages_queued == ["0", "1", "2"]
        assert sorted(e.id for e in tx.consents.appended) == sorted(
            expiry_id(g) for g in grants.values()
        )

    async def test_a_second_run_and_a_redelivered_page_write_nothing_twice(self) -> None:
        tx = Transactions(history("p1"), VALID)
        run = await expiry_runs.start(transactions=tx, started_by="schedule", now=NOW)
        first = await expiry_runs.run_page(run.id, number=0, transactions=tx, now=NOW)
        again = await expiry_runs.run_page(run.id, number=0, transactions=tx, now=NOW)
        assert again == first
        await finish(tx, first, size=10)
        second = await expiry_runs.start(transactions=tx, started_by="schedule", now=NOW)
        assert (await finish(tx, second, size=10)).expired == 0
        assert len(tx.consents.appended) == 1

    async def test_purposes_without_validity_are_not_looked_at(self) -> None:
        tx = Transactions(history("p1"), NEWSLETTER)
        run = await expiry_runs.start(transactions=tx, started_by="schedule", now=NOW)
        done = await finish(tx, run, size=10)
        assert (done.status, done.checked, done.expired) == (RunStatus.DONE, 0, 0)

    async def test_one_run_at_a_time_and_a_finished_run_is_not_resumed(self) -> None:
        tx = Transactions(history("p1"), VALID)
        run = await expiry_runs.start(transactions=tx, started_by="schedule", now=NOW)
        with pytest.raises(Conflict) as busy:
            await expiry_runs.start(transactions=tx, started_by="officer-1", now=NOW)
        assert busy.value.details == {"reason": "RUN_IN_PROGRESS", "runId": run.id}
        assert (await expiry_runs.resume(run.id, transactions=tx)) == run
        assert tx.pages_queued == ["0", "0"]
        await finish(tx, run, size=10)
        with pytest.raises(Conflict) as over:
            await expiry_runs.resume(run.id, transactions=tx)
        assert over.value.details["reason"] == "RUN_FINISHED"

    async def test_a_failed_run_names_the_error_type_and_stops(self) -> None:
        tx = Transactions(history("p1"), VALID)
        run = await expiry_runs.start(transactions=tx, started_by="schedule", now=NOW)
        await expiry_runs.fail(run.id, "Unavailable", transactions=tx, now=NOW)
        failed = await expiry_runs.run_page(run.id, number=0, transactions=tx, now=NOW)
        assert (failed.status, failed.error, failed.expired) == (RunStatus.FAILED, "Unavailable", 0)

    async def test_unknown_runs_and_bad_page_sizes_are_refused(self) -> None:
        tx = Transactions({}, VALID)
        with pytest.raises(NotFound):
            await expiry_runs.run_page("nope", number=0, transactions=tx, now=NOW)
        with pytest.raises(InvalidInput):
            await expiry_runs.runs(tx.stores, first=0)
