"""Keeping match subjects in step with the profile service's events.

Every handler is idempotent: an event delivered twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.models import MatchSubject
from mdm_matching.domain.ports import Profiles, ProfileView, SubjectFeatures, SubjectStore
from mdm_matching.domain.stores import Stores, Transactions


async def register(person_id: str, *, subjects: SubjectStore, now: datetime) -> MatchSubject | None:
    """None for a person erased on request: it is not registered again."""
    return await subjects.register(person_id, at=now)


async def mark_merged(stores: Stores, person_id: str, survivor_id: str, now: datetime) -> None:
    """The person was merged away: it leaves the candidates, its open tasks close."""
    if await stores.subjects.register(person_id, at=now) is None:
        return  # erased on request: nothing to keep about it
    await stores.subjects.set_merged_into(person_id, survivor_id)
    await stores.reviews.close_tasks_of(person_id, at=now)


async def mark_merged_many(
    stores: Stores, merges: Sequence[tuple[str, str]], now: datetime
) -> None:
    """``mark_merged`` for many (merged, survivor) pairs, a few statements in all."""
    await stores.subjects.merged_many(merges, at=now)
    await stores.reviews.close_tasks_of_many([merged for merged, _ in merges], at=now)


async def save_view(stores: Stores, view: ProfileView, now: datetime) -> None:
    """Take an active person's current features (and blocking keys) as they are now."""
    record = view.record
    subject = await stores.subjects.register(record.id, at=now, profile_created_at=view.created_at)
    if subject is None:
        return  # erased on request: its features are not taken again
    if subject.merged_into is not None:  # active again: an unmerge this service missed
        await stores.subjects.set_merged_into(record.id, None)
    await stores.subjects.save_features(
        record,
        keys=blocking.keys_of(record),
        fingerprint=fingerprint(record),
        at=now,
        sources=view.sources,
    )


def features_of(view: ProfileView) -> SubjectFeatures:
    """What ``save_view`` stores of a person, for ``save_many``."""
    record = view.record
    return SubjectFeatures(
        record, tuple(blocking.keys_of(record)), fingerprint(record), view.created_at, view.sources
    )


async def refresh_features(
    person_id: str, *, profiles: Profiles, transactions: Transactions, now: datetime
) -> None:
    """Re-read a person whose golden record changed (after a merge or an unmerge)."""
    view = await profiles.fetch(person_id)
    if view is None or view.merged_into is not None:
        return
    await transactions.write(lambda s: save_view(s, view, now))


async def refresh_many(
    person_ids: Sequence[str], *, profiles: Profiles, transactions: Transactions, now: datetime
) -> None:
    """``refresh_features`` for many persons: one read of the profile service (a call per
    couple of hundred persons) and one write transaction."""
    views = await profiles.fetch_many(person_ids)
    active = [features_of(view) for view in views.values() if view.merged_into is None]
    if active:
        await transactions.write(lambda s: s.subjects.save_many(active, at=now))


async def all_active_features(
    transactions: Transactions, *, page: int = 5_000
) -> list[MatchRecord]:
    """Every subject not merged away, read page by page (one read transaction each)."""
    return await _all_features(transactions, page=page, merged_away=False)


async def all_active_ids(transactions: Transactions, *, page: int = 20_000) -> list[str]:
    """The ids of the subjects :func:`all_active_features` reads, without features."""
    ids: list[str] = []
    while True:

        async def read_page(stores: Stores, after: str = ids[-1] if ids else "") -> list[str]:
            return await stores.subjects.active_ids(after=after, limit=page)

        found = await transactions.read(read_page)
        ids += found
        if len(found) < page:
            return ids


async def all_training_features(
    transactions: Transactions, *, page: int = 5_000
) -> list[MatchRecord]:
    """What the model learns from: every subject with features, those merged away
    included. A merged-away subject keeps the features its own record had, so the
    duplicates online matching already merged still teach EM what a duplicate looks
    like (trained on active subjects only, it would see few of them)."""
    return await _all_features(transactions, page=page, merged_away=True)


async def _all_features(
    transactions: Transactions, *, page: int, merged_away: bool
) -> list[MatchRecord]:
    records: list[MatchRecord] = []
    after = ""
    while True:

        async def read_page(stores: Stores, after: str = after) -> list[MatchRecord]:
            return await stores.subjects.active_features(after=after, limit=page,
                                                         merged_away=merged_away)  # fmt: skip

        found = await transactions.read(read_page)
        records += found
        if len(found) < page:
            return records
        after = found[-1].id


async def on_persons_merged(
    merges: Sequence[tuple[str, str]],
    *,
    profiles: Profiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    """The profile service's merge events, (merged, survivor) pairs in their order: the
    merged persons leave the candidates, and each survivor is read again once, as it is
    now (one merged away meanwhile is left out). A few statements and one profile read
    for all: the batch re-matching job makes hundreds of merges a second, and a profile
    call and two transactions per merge kept the worker busy long after it."""
    if not merges:
        return
    await transactions.write(lambda s: mark_merged_many(s, merges, now))
    survivors = sorted({survivor for _, survivor in merges})
    await refresh_many(survivors, profiles=profiles, transactions=transactions, now=now)


async def on_person_unmerged(
    survivor_id: str,
    merged_id: str,
    *,
    profiles: Profiles,
    transactions: Transactions,
    now: datetime,
) -> None:
    await transactions.write(lambda s: s.subjects.set_merged_into(merged_id, None))
    for person_id in (survivor_id, merged_id):
        await refresh_features(person_id, profiles=profiles, transactions=transactions, now=now)
