"""GraphQL types of the compliance views: history document, figures, view reads (the
records of processing are in graphql/processing.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from mdm_common.read_audit.records import ReadAudit
from mdm_consent.domain import figures as f
from mdm_consent.domain import reports as r
from mdm_consent.graphql.types import Channel, ConsentEventType

TimeBucket = strawberry.enum(
    f.Bucket, name="TimeBucket",
    description="Calendar day, ISO week (from Monday) or calendar month, in UTC.",
)  # fmt: skip


@strawberry.type(description="A person's consent history as a printable document.")
class ConsentHistoryDocument:
    person_id: strawberry.ID
    generated_at: datetime
    generated_by: str = strawberry.field(description="The reader (token subject).")
    media_type: str = strawberry.field(description="text/markdown")
    text: str

    @classmethod
    def from_model(cls, d: r.HistoryDocument) -> ConsentHistoryDocument:
        return cls(person_id=strawberry.ID(d.person_id), generated_at=d.generated_at,
                   generated_by=d.generated_by, media_type=d.media_type, text=d.text)  # fmt: skip


@strawberry.type
class EventTypeCount:
    type: ConsentEventType  # type: ignore[valid-type]
    count: int


@strawberry.type(description="Events of one bucket; the range asked for clips the first and "
                 "last bucket.")  # fmt: skip
class BucketFigures:
    start: datetime
    end: datetime
    counts: list[EventTypeCount] = strawberry.field(description="Every event type, zero too.")


@strawberry.type
class ChannelPersons:
    channel: Channel  # type: ignore[valid-type]
    persons: int = strawberry.field(
        description="Persons (a merge group once) the contact check allows now."
    )


@strawberry.type(description="A purpose's consent events over time, and who may be contacted now.")
class PurposeFigures:
    purpose: str
    since: datetime
    until: datetime
    bucket: TimeBucket  # type: ignore[valid-type]
    buckets: list[BucketFigures]
    persons_with_events: int = strawberry.field(
        description="Person ids with at least one event for the purpose."
    )
    allowed_now: list[ChannelPersons]
    at: datetime

    @classmethod
    def from_model(cls, x: f.PurposeFigures) -> PurposeFigures:
        return cls(
            purpose=x.purpose, since=x.since, until=x.until, bucket=x.bucket,
            buckets=[
                BucketFigures(start=b.start, end=b.end, counts=[
                    EventTypeCount(type=t, count=n) for t, n in b.counts.items()
                ]) for b in x.buckets
            ],
            persons_with_events=x.persons_with_events,
            allowed_now=[ChannelPersons(channel=c, persons=n) for c, n in x.allowed_now.items()],
            at=x.at,
        )  # fmt: skip


@strawberry.type(description="Someone read a view that names no person.")
class ComplianceViewRead:
    audit_id: strawberry.ID
    reader: str
    roles: list[str]
    operation: str
    scope: str | None = strawberry.field(description="What was read.")
    at: datetime

    @classmethod
    def from_model(cls, a: ReadAudit) -> ComplianceViewRead:
        return cls(audit_id=strawberry.ID(a.id), reader=a.reader, roles=list(a.roles),
                   operation=a.operation, scope=a.scope, at=a.at)  # fmt: skip
