"""The distribution subgraph's types."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from mdm_common.auth import Role
from mdm_common.contracts import PersonalDataItem
from mdm_distribution.adapters.dead_letter_store import DeadLetter
from mdm_distribution.adapters.streams import ConsumerGroup, StreamState
from mdm_distribution.domain import models
from mdm_distribution.exporting import jobs

ADMIN_ROLES = (Role.ADMIN,)
# Who was told of a person, for a data-subject request or an audit (Art. 19).
RECIPIENT_ROLES = (Role.COMPLIANCE,)


@strawberry.enum(description="How a subscriber receives its changes.")
class Delivery(Enum):
    STREAM = "STREAM"
    WEBHOOK = "WEBHOOK"


@strawberry.type(description="A consumer group reading a subscriber's stream.")
class StreamConsumerGroup:
    name: str
    pending: int = strawberry.field(description="Entries read and not acknowledged yet.")
    lag: int = strawberry.field(description="Entries not read by the group yet.")
    last_delivered: str = strawberry.field(description="The position the group read last.")
    behind_seconds: float = strawberry.field(
        description="Age of the oldest entry the group has not acknowledged; 0 when none."
    )

    @classmethod
    def of(cls, group: ConsumerGroup) -> StreamConsumerGroup:
        return cls(
            name=group.name,
            pending=group.pending,
            lag=group.lag,
            last_delivered=group.last_delivered,
            behind_seconds=round(group.behind_s, 3),
        )


@strawberry.type(description="A subscriber's Redis stream: its key, size and readers.")
class ChangeStream:
    key: str
    length: int
    first_position: str | None
    last_position: str | None
    groups: list[StreamConsumerGroup]

    @classmethod
    def of(cls, state: StreamState) -> ChangeStream:
        return cls(
            key=state.key,
            length=state.length,
            first_position=state.first_position,
            last_position=state.last_position,
            groups=[StreamConsumerGroup.of(g) for g in state.groups],
        )


@strawberry.type(description="A webhook delivery that failed every attempt.")
class WebhookDeadLetter:
    id: strawberry.ID
    subscriber_id: strawberry.ID
    position: str = strawberry.field(description="The entry's position in the stream.")
    event_id: str
    type: str
    attempts: int
    last_status: int | None = strawberry.field(description="The receiver's last HTTP status.")
    last_error: str
    failed_at: datetime
    replayed_at: datetime | None

    @classmethod
    def of(cls, letter: DeadLetter) -> WebhookDeadLetter:
        return cls(
            id=strawberry.ID(letter.id),
            subscriber_id=strawberry.ID(letter.subscriber_id),
            position=letter.position,
            event_id=letter.event_id,
            type=letter.type,
            attempts=letter.attempts,
            last_status=letter.last_status,
            last_error=letter.last_error,
            failed_at=letter.failed_at,
            replayed_at=letter.replayed_at,
        )


@strawberry.type(
    description="What one subscriber was sent about one person (Art. 19): ids and times."
)
class DistributionRecipient:
    subscriber_id: strawberry.ID
    receiving: bool = strawberry.field(description="It holds the person's data now.")
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    stopped_at: datetime | None = strawberry.field(description="Told to stop processing.")
    stop_reason: str | None
    erasure_notified_at: datetime | None = strawberry.field(description="Told of the erasure.")

    @classmethod
    def of(cls, r: models.Recipient) -> DistributionRecipient:
        return cls(
            subscriber_id=strawberry.ID(r.subscriber_id),
            receiving=r.receiving,
            first_sent_at=r.first_sent_at,
            last_sent_at=r.last_sent_at,
            stopped_at=r.stopped_at,
            stop_reason=r.stop_reason,
            erasure_notified_at=r.erasure_notified_at,
        )


@strawberry.type(description="One thing the distribution service holds on a person.")
class DistributionDataItem:
    person_id: strawberry.ID
    origin: str = strawberry.field(description="recipient or distributionState.")
    category: str
    field: str = strawberry.field(description="The subscriber's name; digests for the state.")
    value: str = strawberry.field(description="A recipient as JSON; the state described.")
    recorded_at: datetime | None

    @classmethod
    def of(cls, item: PersonalDataItem) -> DistributionDataItem:
        return cls(
            person_id=strawberry.ID(item.person_id),
            origin=item.origin,
            category=item.category,
            field=item.field,
            value=item.value,
            recorded_at=item.recorded_at,
        )


@strawberry.type
class DistributionPersonalData:
    person_ids: list[strawberry.ID]
    items: list[DistributionDataItem]


@strawberry.enum(name="BulkExportFormat", description="The file format of a bulk export.")
class ExportFormat(Enum):
    CSV = "CSV"
    PARQUET = "PARQUET"


@strawberry.input
class ExportInput:
    format: ExportFormat
    purpose: str | None = strawberry.field(
        default=None,
        description="Only the persons this purpose allows (the contact check over `channel` "
        "at the job's start) and only the columns of its data categories; without, every "
        "person and column.",
    )
    channel: str | None = None
    changed_since: datetime | None = strawberry.field(
        default=None, description="Only golden records changed at or after this time."
    )


@strawberry.type(description="A bulk export of golden records, written page by page.")
class ExportJob:
    id: strawberry.ID
    format: ExportFormat
    purpose: str | None
    channel: str | None
    changed_since: datetime | None
    columns: list[str]
    status: str = strawberry.field(description="RUNNING or DONE.")
    scanned: int = strawberry.field(description="Persons looked at so far.")
    written: int = strawberry.field(description="Rows written so far.")
    parts: int = strawberry.field(description="Part files written so far.")
    directory: str = strawberry.field(
        description="Where the part files are (part-00000.csv or .parquet, ...), on the "
        "workers' export volume."
    )
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: jobs.ExportJob) -> ExportJob:
        return cls(
            id=strawberry.ID(job.id),
            format=ExportFormat(job.request.format.value),
            purpose=job.request.purpose,
            channel=job.request.channel,
            changed_since=job.request.changed_since,
            columns=list(job.columns),
            status=job.status.value,
            scanned=job.scanned,
            written=job.written,
            parts=job.parts,
            directory=job.directory,
            requested_by=job.requested_by,
            requested_at=job.requested_at,
            finished_at=job.finished_at,
        )


@strawberry.input
class CreateSubscriberInput:
    name: str
    purpose: str = strawberry.field(description="The processing purpose's code (consent).")
    channel: str = strawberry.field(description="One of the purpose's channels, e.g. EMAIL.")
    categories: list[str] = strawberry.field(
        description="Data categories it needs: among its purpose's and the golden record's "
        "(identity, birth_date, email, phone, postal_address, language, identifiers)."
    )
    webhook_url: str | None = strawberry.field(
        default=None,
        description="Push each change here (https); without, the subscriber reads its stream.",
    )
