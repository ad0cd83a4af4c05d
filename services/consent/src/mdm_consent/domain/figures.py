"""Per-purpose figures over time: events per bucket and type, persons allowed now.

Buckets are calendar days, ISO weeks (Monday to Monday) or calendar months in UTC.
An event counts in the bucket its ``occurredAt`` falls into, and only if it lies in
the range asked for, ``[since, until)``; the first and last buckets may therefore
cover part of their span. The persons allowed now are counted with the contact
check itself, over every person with an event for the purpose, a merge group once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from mdm_common.auth import Principal
from mdm_common.errors import InvalidInput
from mdm_consent.domain import audit, checks
from mdm_consent.domain.models import Channel, EventType
from mdm_consent.domain.purposes import known_purpose
from mdm_consent.domain.stores import Stores

MAX_BUCKETS = 1_000


class Bucket(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@dataclass(frozen=True)
class BucketCounts:
    start: datetime
    end: datetime
    counts: dict[EventType, int]  # every event type, zero included


@dataclass(frozen=True)
class PurposeFigures:
    purpose: str
    since: datetime
    until: datetime
    bucket: Bucket
    buckets: tuple[BucketCounts, ...]
    persons_with_events: int
    allowed_now: dict[Channel, int]  # per channel of the purpose: persons (groups) allowed
    at: datetime


def bucket_start(t: datetime, bucket: Bucket) -> datetime:
    day = t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket is Bucket.MONTH:
        return day.replace(day=1)
    return day


def next_start(start: datetime, bucket: Bucket) -> datetime:
    if bucket is Bucket.DAY:
        return start + timedelta(days=1)
    if bucket is Bucket.WEEK:
        return start + timedelta(days=7)
    return (start + timedelta(days=32)).replace(day=1)


def spans(since: datetime, until: datetime, bucket: Bucket) -> list[tuple[datetime, datetime]]:
    """The buckets covering ``[since, until)``; a bad range is ``BAD_USER_INPUT``."""
    for value, field in ((since, "since"), (until, "until")):
        if value.tzinfo is None:
            raise InvalidInput(f"{field} needs a time zone.", field=field)
    if since >= until:
        raise InvalidInput("until must lie after since.", field="until",
                           details={"reason": "BAD_RANGE"})  # fmt: skip
    found: list[tuple[datetime, datetime]] = []
    start = bucket_start(since, bucket)
    while start < until:
        if len(found) == MAX_BUCKETS:
            raise InvalidInput(f"At most {MAX_BUCKETS} buckets; choose a larger bucket.",
                               field="bucket", details={"reason": "BAD_RANGE"})  # fmt: skip
        end = next_start(start, bucket)
        found.append((start, end))
        start = end
    return found


def count(
    events: Sequence[tuple[EventType, datetime]], *, since: datetime, until: datetime,
    bucket: Bucket,
) -> tuple[BucketCounts, ...]:  # fmt: skip
    """Events per bucket and type (pure)."""
    ranges = spans(since, until, bucket)
    per_bucket: dict[datetime, Counter[EventType]] = {start: Counter() for start, _ in ranges}
    for type_, at in events:
        if since <= at < until:
            per_bucket[bucket_start(at, bucket)][type_] += 1
    return tuple(
        BucketCounts(start, end, {t: per_bucket[start][t] for t in EventType})
        for start, end in ranges
    )


async def purpose_figures(
    code: str, stores: Stores, *, since: datetime, until: datetime, bucket: Bucket,
    reader: Principal, now: datetime,
) -> PurposeFigures:  # fmt: skip
    """The figures of one purpose (write transaction: the read is audited)."""
    spans(since, until, bucket)  # a bad range is refused before anything is read
    purpose = await known_purpose(stores, code)
    events = await stores.consents.event_times(purpose.code, since=since, until=until)
    persons = await stores.consents.persons_of(purpose.code)
    allowed: dict[Channel, int] = {}
    for channel in purpose.channels:
        groups: set[str] = set()
        for first in range(0, len(persons), checks.MAX_BATCH):
            decisions = await checks.contact_check(
                persons[first : first + checks.MAX_BATCH], stores, purpose=purpose.code,
                channel=channel, at=now,
            )  # fmt: skip
            groups |= {d.answered_for for d in decisions if d.verdict.allowed}
        allowed[channel] = len(groups)
    await audit.audited_view(
        stores, reader=reader, operation="consent figures", now=now,
        scope=f"purpose {purpose.code} {since.isoformat()}..{until.isoformat()} by {bucket}",
    )  # fmt: skip
    return PurposeFigures(
        purpose=purpose.code, since=since, until=until, bucket=bucket,
        buckets=count(events, since=since, until=until, bucket=bucket),
        persons_with_events=len(persons), allowed_now=allowed, at=now,
    )  # fmt: skip
