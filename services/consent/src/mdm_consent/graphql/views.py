"""GraphQL types of the compliance views: history document, figures, records of processing."""

from __future__ import annotations

from datetime import datetime

import strawberry

from mdm_common.read_audit.records import ReadAudit
from mdm_consent.domain import figures as f
from mdm_consent.domain import reports as r
from mdm_consent.domain.models import Purpose
from mdm_consent.graphql.types import Channel, ConsentEventType, LegalBasis

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


@strawberry.type(description="One purpose in the records of processing (GDPR Art. 30).")
class ProcessingRecord:
    code: str
    name: str
    description: str
    legal_basis: LegalBasis  # type: ignore[valid-type]
    channels: list[Channel]  # type: ignore[valid-type]
    data_categories: list[str]
    retention_days: int
    consent_validity_days: int | None
    direct_marketing: bool
    notice_version: int | None = strawberry.field(description="The latest published version.")
    notice_language: str | None
    notice_sha256: str | None
    notice_published_at: datetime | None

    @classmethod
    def from_model(cls, p: Purpose) -> ProcessingRecord:
        n = p.notice(p.latest_version)
        return cls(
            code=p.code, name=p.name, description=p.description, legal_basis=p.legal_basis,
            channels=list(p.channels), data_categories=list(p.data_categories),
            retention_days=p.retention_days, consent_validity_days=p.consent_validity_days,
            direct_marketing=p.direct_marketing, notice_version=n.version if n else None,
            notice_language=n.language if n else None, notice_sha256=n.sha256 if n else None,
            notice_published_at=n.published_at if n else None,
        )  # fmt: skip


@strawberry.type(description="The records of processing (GDPR Art. 30): every purpose.")
class RecordsOfProcessing:
    generated_at: datetime
    generated_by: str
    records: list[ProcessingRecord]
    csv: str = strawberry.field(description="The same as CSV (RFC 4180, header row, lists "
                                "joined with ';'), one row per purpose.")  # fmt: skip

    @classmethod
    def from_model(cls, x: r.RecordsOfProcessing) -> RecordsOfProcessing:
        records = [ProcessingRecord.from_model(p) for p in x.purposes]
        return cls(generated_at=x.generated_at, generated_by=x.generated_by, records=records,
                   csv=x.csv)  # fmt: skip


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
