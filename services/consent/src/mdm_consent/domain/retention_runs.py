"""The retention job: purge attribute categories whose purposes have all lapsed.

A run goes through every person with consent events, a page at a time (a Celery
task per page, queued again until the last page; scheduled daily by Celery beat, or
started by a compliance officer). For each person (once per merge group) it asks
:func:`mdm_consent.domain.retention.lapsed_categories`; for each person with a lapse
it first records the evidence (which categories, which purposes lapsed how and
since when), then asks the profile service to remove the categories (its purge is
idempotent, and the profile announces the change so matching refreshes its copy),
then marks the evidence done with what the profile removed. A page that is redone
after a crash finds its evidence and carries it to the end; nothing is purged
without evidence.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from mdm_common.contracts import DataCategory, Event
from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_consent.domain import contact_uses
from mdm_consent.domain.legal_holds import Expired, HoldReleaser, LegalHold, phone_proof_hold
from mdm_consent.domain.lineage import GroupFacts
from mdm_consent.domain.retention import Lapse, PurposeStanding, lapsed_categories
from mdm_consent.domain.stores import Stores, Transactions

PAGE = 200
MAX_LISTED = 200


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class RetentionRun:
    id: str
    started_at: datetime
    started_by: str  # the officer's subject, or "schedule"
    status: RunStatus = RunStatus.RUNNING
    cursor: str = ""  # the last person id handled
    checked: int = 0
    purged: int = 0  # persons with categories removed
    finished_at: datetime | None = None
    error: str | None = None


class PurgeStatus(StrEnum):
    DECIDED = "DECIDED"  # evidence recorded, the profile not yet confirmed
    DONE = "DONE"
    NOT_HELD = "NOT_HELD"  # the profile holds no such person: nothing to remove


@dataclass(frozen=True)
class Purge:
    """Evidence of one removal: whose data, which categories, why, and the outcome."""

    run_id: str
    person_id: str
    categories: tuple[str, ...]
    standings: tuple[PurposeStanding, ...]
    decided_at: datetime
    status: PurgeStatus = PurgeStatus.DECIDED
    person_ids: tuple[str, ...] = ()
    detail: str = ""
    done_at: datetime | None = None
    # The end of a legal hold: what a retention duty held was erased (legal_holds.py).
    released: bool = False
    # UWG §7a: the phone number goes from the person but is kept, restricted, until then.
    phone_proof_until: date | None = None

    @property
    def key(self) -> str:
        return f"{self.run_id}|{self.person_id}" + ("|released" if self.released else "")


class ProfilePurger(Protocol):
    """The profile's removal of attribute categories (a signed call)."""

    async def purge(
        self,
        person_id: str,
        categories: Sequence[str],
        reference: str,
        *,
        holds: Sequence[LegalHold] = (),
    ) -> tuple[tuple[str, ...], str]:
        """Remove the categories from the person's merge group; its ids and the counts."""
        ...


async def start(*, transactions: Transactions, started_by: str, now: datetime) -> RetentionRun:
    """A new run; CONFLICT while another is running (two would do the same work)."""
    run = RetentionRun(id=str(uuid.uuid4()), started_at=now, started_by=started_by)

    async def create(stores: Stores) -> RetentionRun:
        running = await stores.retention.running()
        if running is not None:
            raise Conflict(f"Retention run {running.id} is still running.",
                           details={"reason": "RUN_IN_PROGRESS", "runId": running.id})  # fmt: skip
        await stores.retention.save_run(run)
        await queue_page(stores, run.id)
        return run

    return await transactions.write(create)


async def queue_page(stores: Stores, run_id: str) -> None:
    """Ask a worker for the run's next page (in the transaction that made it due)."""
    stores.events.record(Event.RETENTION_PAGE_QUEUED, run_id=run_id)


def _evidence(run_id: str, person_id: str, lapses: list[Lapse], now: datetime) -> Purge:
    standings: dict[str, PurposeStanding] = {}
    for lapse in lapses:
        standings.update((s.purpose, s) for s in lapse.standings)
    return Purge(run_id, person_id, tuple(lapse.category for lapse in lapses),
                 tuple(standings[c] for c in sorted(standings)), now)  # fmt: skip


async def _phone_proof(
    stores: Stores, purge: Purge, groups: dict[str, GroupFacts], *, now: datetime
) -> Purge:
    """UWG §7a: a phone number that proves a phone consent is removed from the person
    but kept, restricted, until the proof ends (the profile's held records)."""
    if DataCategory.PHONE not in purge.categories:
        return purge
    members = next(iter(groups.values())).lineage.members if groups else (purge.person_id,)
    until = contact_uses.proof_until(await stores.contact_uses.of_persons(members), now)
    return replace(purge, phone_proof_until=until)


async def run_page(
    run_id: str, *, purger: ProfilePurger, transactions: Transactions, now: datetime,
    page: int = PAGE, releaser: HoldReleaser | None = None,
) -> RetentionRun:  # fmt: skip
    """Handle the next page of persons; the run as it stands afterwards. After the
    last page, what legal holds kept is erased where they ended (with a ``releaser``)."""

    async def decide(stores: Stores) -> tuple[RetentionRun, list[str], list[Purge]]:
        run = await stores.retention.get_run(run_id)
        if run is None:
            raise NotFound(f"No retention run {run_id}.", field="id")
        if run.status is not RunStatus.RUNNING:
            return run, [], []
        ids = await stores.consents.persons_after(run.cursor, page)
        purposes = [p for p in await stores.purposes.all()
                    if set(p.data_categories) & set(DataCategory.ATTRIBUTES)]  # fmt: skip
        facts: dict[str, dict[str, GroupFacts]] = {pid: {} for pid in ids}
        for purpose in purposes:
            for pid, group in (await stores.consents.facts_of(ids, purpose.code)).items():
                facts[pid][purpose.code] = group
        evidence = []
        seen: set[str] = set()
        for pid in ids:
            groups = facts[pid]
            survivor = next(iter(groups.values())).lineage.survivor_id if groups else pid
            if survivor in seen:
                continue
            seen.add(survivor)
            lapses = lapsed_categories(purposes, groups, now)
            if lapses:
                found = _evidence(run.id, survivor, lapses, now)
                evidence.append(await _phone_proof(stores, found, groups, now=now))
        # Evidence first; a page redone after a crash finds and finishes it.
        kept = await stores.retention.record_purges(evidence)
        return run, ids, kept

    run, ids, decided = await transactions.write(decide)
    if run.status is not RunStatus.RUNNING:
        return run
    if not ids and releaser is not None:
        await release_expired(run.id, releaser=releaser, transactions=transactions, now=now)
    done = []
    for purge in decided:
        if purge.status is not PurgeStatus.DECIDED:
            continue
        try:
            holds = [phone_proof_hold(purge.phone_proof_until)] if purge.phone_proof_until else []
            person_ids, detail = await purger.purge(
                purge.person_id, purge.categories, run.id, holds=holds
            )
        except NotFound:
            # Consent records of an id the profile never had (recorded by a system
            # that knew it) or one erased meanwhile: nothing to remove, and the run
            # goes on.
            done.append(replace(purge, status=PurgeStatus.NOT_HELD, done_at=now))
            continue
        done.append(replace(purge, status=PurgeStatus.DONE, person_ids=person_ids,
                            detail=detail, done_at=now))  # fmt: skip

    async def advance(stores: Stores) -> RetentionRun:
        current = await stores.retention.get_run(run_id)
        assert current is not None  # runs are never deleted
        if current.status is not RunStatus.RUNNING or current.cursor != run.cursor:
            return current  # another delivery of this page got here first
        await stores.retention.record_purges(done, replace_existing=True)
        if not ids:
            advanced = replace(current, status=RunStatus.DONE, finished_at=now)
        else:
            advanced = replace(current, cursor=ids[-1], checked=current.checked + len(ids),
                               purged=current.purged + sum(
                                   p.status is PurgeStatus.DONE for p in done))  # fmt: skip
        await stores.retention.save_run(advanced)
        if advanced.status is RunStatus.RUNNING:
            await queue_page(stores, run_id)
        return advanced

    return await transactions.write(advance)


async def fail(run_id: str, error: str, *, transactions: Transactions, now: datetime) -> None:
    async def mark(stores: Stores) -> None:
        run = await stores.retention.get_run(run_id)
        if run is not None and run.status is RunStatus.RUNNING:
            await stores.retention.save_run(replace(run, status=RunStatus.FAILED, error=error,
                                                    finished_at=now))  # fmt: skip

    await transactions.write(mark)


async def runs(stores: Stores, *, first: int) -> list[RetentionRun]:
    if not 1 <= first <= MAX_LISTED:
        raise InvalidInput(f"first must be 1-{MAX_LISTED}.", field="first")
    return await stores.retention.runs(limit=first)


async def purges_of(stores: Stores, person_id: str) -> list[Purge]:
    return await stores.retention.purges_of(person_id)


RELEASE_PAGE = 200


async def release_expired(
    run_id: str, *, releaser: HoldReleaser, transactions: Transactions, now: datetime
) -> int:
    """Erase what duties held once they ended: evidence first, then the profile's
    release, then the evidence marked done (a run redone finds and finishes it).
    Returns the number of persons whose held data went."""
    expired = await releaser.expired_holds(first=RELEASE_PAGE)
    per_person: dict[str, list[Expired]] = defaultdict(list)
    for e in expired:
        per_person[e.person_id].append(e)
    evidence = [
        Purge(
            run_id,
            pid,
            tuple(sorted({c for e in items for c in e.categories})),
            (),
            now,
            detail=_ended(items),
            released=True,
        )
        for pid, items in sorted(per_person.items())
    ]
    decided = await transactions.write(lambda s: s.retention.record_purges(evidence))
    done = []
    for purge in decided:
        if purge.status is not PurgeStatus.DECIDED:
            continue
        person_ids, count = await releaser.release_holds(purge.person_id, run_id)
        done.append(
            replace(
                purge,
                status=PurgeStatus.DONE,
                person_ids=person_ids,
                done_at=now,
                detail=f"{purge.detail}; released {count}",
            )
        )
    if done:
        await transactions.write(lambda s: s.retention.record_purges(done, replace_existing=True))
    return len(done)


def _ended(items: Sequence[Expired]) -> str:
    refs = sorted({r for e in items for r in e.legal_references})
    last = max(e.until for e in items)
    return f"held until {last.isoformat()} ({', '.join(refs)}): {len(items)} held records ended"
