"""Phase 1 of a batch re-matching job (:mod:`mdm_matching.domain.rematch`): SYNCING.

Subjects are reconciled with the profile service, which owns the persons: persons
matching never heard of (or whose features it never took, or that are active again)
are registered with their features; subjects whose person was merged away are marked
so. Then the job goes on to TRAINING. Idempotent like every phase: a redelivered
task syncs again, finding less to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import fingerprint
from mdm_matching.domain.models import MatchSubject
from mdm_matching.domain.ports import Profiles, ProfileView, SubjectFeatures
from mdm_matching.domain.rematch import RematchJob, RematchPhase, RematchStatus
from mdm_matching.domain.stores import Stores, Transactions
from mdm_matching.domain.subjects import all_active_ids, mark_merged_many

ID_PAGE = 5000  # ids asked of the profile service at a time (the most it answers)
SYNC_PAGE = 1000  # persons checked, read and stored together


async def sync(
    job_id: str, *, profiles: Profiles, transactions: Transactions, now: datetime
) -> RematchJob | None:
    """Reconcile subjects with the profile service; then the job is TRAINING.

    Pages of person ids in id order; while one page's stale persons are stored, the
    next page is read from the profile service (two services' work overlaps). The
    ids come :data:`ID_PAGE` at a time: each call sorts the ids after the last one
    asked, so fewer, larger calls cost the profile service's graph less."""
    job = await transactions.read(lambda s: s.rematch.get(job_id))
    if job is None or not job.active or job.phase != RematchPhase.SYNCING:
        return job
    await transactions.write(lambda s: s.rematch.update(job_id, status=RematchStatus.RUNNING))
    synced, active = 0, set[str]()
    storing: asyncio.Task[int] | None = None
    try:
        async for ids in _pages(profiles):
            active.update(ids)

            async def known(stores: Stores, ids: list[str] = ids) -> dict[str, MatchSubject]:
                return await stores.subjects.get_many(ids)

            subjects = await transactions.read(known)
            stale = [
                i
                for i in ids
                if i not in subjects
                or subjects[i].compared_at is None
                or subjects[i].merged_into is not None
            ]
            views = await profiles.fetch_many(stale) if stale else {}
            if storing is not None:
                stored, storing = storing, None
                synced += await stored
            storing = asyncio.ensure_future(_store(views, transactions=transactions, now=now))
    finally:
        if storing is not None:  # never left running, also when reading failed
            synced += await storing
    # Subjects matching holds as active whose persons are no longer: merged away.
    gone = [i for i in await all_active_ids(transactions) if i not in active]
    synced += await _refresh(gone, profiles=profiles, transactions=transactions, now=now)

    async def training(stores: Stores) -> RematchJob | None:
        await stores.rematch.update(job_id, phase=RematchPhase.TRAINING, synced_persons=synced)
        return await stores.rematch.get(job_id)

    return await transactions.write(training)


async def _pages(profiles: Profiles) -> AsyncIterator[list[str]]:
    """The ids of all persons not merged away, in id order, :data:`SYNC_PAGE` at a time."""
    after = ""
    while True:
        ids = await profiles.active_ids(after=after, first=ID_PAGE)
        for start in range(0, len(ids), SYNC_PAGE):
            yield ids[start : start + SYNC_PAGE]
        if len(ids) < ID_PAGE:
            return
        after = ids[-1]


async def _refresh(
    ids: Sequence[str], *, profiles: Profiles, transactions: Transactions, now: datetime
) -> int:
    if not ids:
        return 0
    return await _store(await profiles.fetch_many(ids), transactions=transactions, now=now)


async def _store(
    views: Mapping[str, ProfileView], *, transactions: Transactions, now: datetime
) -> int:
    """Take the persons' current state; persons gone from the profile service are left
    out (nothing to compare with)."""
    if not views:
        return 0
    merged = [(i, v.merged_into) for i, v in views.items() if v.merged_into is not None]
    active = [
        SubjectFeatures(
            v.record,
            tuple(blocking.keys_of(v.record)),
            fingerprint(v.record),
            v.created_at,
            v.sources,
        )
        for v in views.values()
        if v.merged_into is None
    ]

    async def save(stores: Stores) -> int:
        # A few statements for the whole page, not a few per person.
        if active:
            await stores.subjects.save_many(active, at=now)
        if merged:
            await mark_merged_many(stores, merged, now)
        return len(active) + len(merged)

    return await transactions.write(save)
