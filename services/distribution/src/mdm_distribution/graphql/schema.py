"""The distribution subgraph: subscribers of the change stream, run by admins."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import strawberry

from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_distribution.adapters.dead_letter_store import GraphDeadLetterStore
from mdm_distribution.adapters.recipient_store import GraphRecipientStore
from mdm_distribution.adapters.streams import WEBHOOK_GROUP
from mdm_distribution.adapters.subscriber_store import GraphSubscriberStore
from mdm_distribution.adapters.webhooks import DeliveryFailed, replay_dead_letter
from mdm_distribution.domain import models, personal_data, subscribers
from mdm_distribution.exporting import jobs
from mdm_distribution.exporting.export import ExportRequest
from mdm_distribution.exporting.writers import ExportFormat
from mdm_distribution.graphql import types as t
from mdm_distribution.graphql.context import DistributionContext
from mdm_distribution.graphql.person import Person

Info = strawberry.Info[DistributionContext, None]
MAX_LIST = 500
_GROUP = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@strawberry.type(description="A downstream system receiving the changes its purpose allows.")
class Subscriber:
    id: strawberry.ID
    name: str
    purpose: str
    channel: str
    categories: list[str]
    delivery: t.Delivery
    webhook_url: str | None
    paused: bool = strawberry.field(description="Webhook pushes paused; the stream still fills.")
    paused_at: datetime | None
    created_at: datetime
    secret_rotated_at: datetime | None
    removed_at: datetime | None = strawberry.field(
        description="Removed: told nothing more; kept as the record of what it was sent."
    )

    @classmethod
    def of(cls, s: models.Subscriber) -> Subscriber:
        return cls(
            id=strawberry.ID(s.id),
            name=s.name,
            purpose=s.purpose,
            channel=s.channel,
            categories=list(s.categories),
            delivery=t.Delivery(s.delivery.value),
            webhook_url=s.webhook_url,
            paused=s.paused,
            paused_at=s.paused_at,
            created_at=s.created_at,
            secret_rotated_at=s.secret_rotated_at,
            removed_at=s.removed_at,
        )

    @strawberry.field(description="Its Redis stream, with each consumer group's lag.")
    async def stream(self, info: Info) -> t.ChangeStream:
        return t.ChangeStream.of(await info.context.stream_state(str(self.id)))

    @strawberry.field(
        description="Webhook: entries not yet delivered (read or not); stream: the entries "
        "its most-behind consumer group has not acknowledged (the whole stream if none)."
    )
    async def lag(self, info: Info) -> int:
        state = await info.context.stream_state(str(self.id))
        groups = [
            g
            for g in state.groups
            if self.delivery is not t.Delivery.WEBHOOK or g.name == WEBHOOK_GROUP
        ]
        if not groups:
            return state.length
        return max(g.lag + g.pending for g in groups)

    @strawberry.field(description="Webhook deliveries that failed every attempt, newest first.")
    async def dead_letters(
        self, info: Info, open_only: bool = True, first: int = 100
    ) -> list[t.WebhookDeadLetter]:
        first = _first(first)
        found = await info.context.graph.read(
            lambda tx: GraphDeadLetterStore(tx).of_subscriber(
                str(self.id), open_only=open_only, first=first
            )
        )
        return [t.WebhookDeadLetter.of(d) for d in found]


@strawberry.type
class SubscriberWithSecret:
    subscriber: Subscriber
    secret: str | None = strawberry.field(
        description="The webhook signing secret (Standard Webhooks, whsec_...), shown only "
        "now; null for a stream subscriber."
    )


def _first(first: int) -> int:
    if not 1 <= first <= MAX_LIST:
        raise InvalidInput(f"first is 1 to {MAX_LIST}.", field="first")
    return first


async def _subscriber(info: Info, subscriber_id: str) -> models.Subscriber:
    found = await info.context.graph.read(lambda tx: GraphSubscriberStore(tx).get(subscriber_id))
    if found is None:
        raise NotFound(f"No subscriber {subscriber_id}.", field="id")
    return found


@strawberry.type
class Query:
    @strawberry.field(
        description="The subscribers, oldest first; `removed`: those removed too. Role: admin."
    )
    async def subscribers(self, info: Info, removed: bool = False) -> list[Subscriber]:
        info.context.require(*t.ADMIN_ROLES)
        found = await info.context.graph.read(
            lambda tx: GraphSubscriberStore(tx).all(removed=removed)
        )
        return [Subscriber.of(s) for s in found]

    @strawberry.field(description="One subscriber; NOT_FOUND if unknown. Role: admin.")
    async def subscriber(self, info: Info, id: strawberry.ID) -> Subscriber:  # noqa: A002 - GraphQL argument name
        info.context.require(*t.ADMIN_ROLES)
        return Subscriber.of(await _subscriber(info, str(id)))

    @strawberry.field(
        description="Every subscriber that was ever sent data of this person, with when it "
        "was first and last sent, told to stop and told of the erasure (GDPR Art. 19). "
        "Role: compliance."
    )
    async def distribution_recipients(
        self, info: Info, person_id: strawberry.ID
    ) -> list[t.DistributionRecipient]:
        info.context.require(*t.RECIPIENT_ROLES)
        found = await info.context.graph.read(
            lambda tx: GraphRecipientStore(tx).of_person(str(person_id))
        )
        return [t.DistributionRecipient.of(r) for r in found if r.ever_sent]

    @strawberry.field(
        description="What the distribution service holds on these persons (a merge group's "
        "ids, at most 100), for an access request (Art. 15): the subscribers sent their data "
        "and when, and whether digests of the values last sent are kept. Role: compliance."
    )
    async def distribution_personal_data(
        self, info: Info, person_ids: list[strawberry.ID]
    ) -> t.DistributionPersonalData:
        info.context.require(*t.RECIPIENT_ROLES)
        found = await info.context.transactions.read(
            lambda s: personal_data.personal_data([str(i) for i in person_ids], s)
        )
        return t.DistributionPersonalData(
            person_ids=[strawberry.ID(i) for i in found.person_ids],
            items=[t.DistributionDataItem.of(i) for i in found.items],
        )

    @strawberry.field(description="An export job, with its progress. Role: admin.")
    async def export_job(self, info: Info, id: strawberry.ID) -> t.ExportJob:  # noqa: A002 - GraphQL argument name
        info.context.require(*t.ADMIN_ROLES)
        found = await info.context.transactions.read(lambda s: s.exports.get(str(id)))
        if found is None:
            raise NotFound(f"No export job {id}.", field="id")
        return t.ExportJob.of(found)

    @strawberry.field(description="The latest export jobs, newest first. Role: admin.")
    async def export_jobs(self, info: Info, first: int = 20) -> list[t.ExportJob]:
        info.context.require(*t.ADMIN_ROLES)
        first = _first(first)
        found = await info.context.transactions.read(lambda s: s.exports.latest(first))
        return [t.ExportJob.of(j) for j in found]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Export the golden records as CSV or Parquet, in the background, page by "
        "page into part files (see ExportJob.directory); filtered by purpose (the persons it "
        "allows, the columns of its categories) and change time. Role: admin."
    )
    async def start_export(
        self,
        info: Info,
        input: t.ExportInput,  # noqa: A002 - GraphQL argument name
    ) -> t.ExportJob:
        principal = info.context.require(*t.ADMIN_ROLES)
        request = ExportRequest(
            format=ExportFormat(input.format.value),
            purpose=input.purpose,
            channel=input.channel,
            changed_since=input.changed_since,
        )
        job = await jobs.start(
            request,
            source=info.context.export_source,
            transactions=info.context.transactions,
            exports=info.context.export_dir,
            by=principal.subject,
            now=datetime.now(UTC),
        )
        return t.ExportJob.of(job)

    @strawberry.mutation(
        description="Register a subscriber for a purpose, a channel and data categories; "
        "the persons its purpose allows now are sent to it in the background, then every "
        "change. With a webhookUrl the platform pushes each change there, signed. Role: admin."
    )
    async def create_subscriber(
        self,
        info: Info,
        input: t.CreateSubscriberInput,  # noqa: A002 - GraphQL argument name
    ) -> SubscriberWithSecret:
        info.context.require(*t.ADMIN_ROLES)
        created, secret = await subscribers.create(
            subscribers.NewSubscriber(
                name=input.name,
                purpose=input.purpose,
                channel=input.channel,
                categories=tuple(input.categories),
                webhook_url=input.webhook_url,
            ),
            transactions=info.context.transactions,
            checks=info.context.checks,
            rules=info.context.webhook_rules,
            now=datetime.now(UTC),
        )
        if created.delivery is models.Delivery.WEBHOOK:
            await info.context.streams.ensure_group(created.id, WEBHOOK_GROUP)
        return SubscriberWithSecret(subscriber=Subscriber.of(created), secret=secret)

    @strawberry.mutation(
        description="Remove a subscriber: it is told nothing more, its stream is deleted (a "
        "consumer reading it loses what it has not read), its secret forgotten; what it was "
        "sent stays on record (distributionRecipients, access exports). Role: admin."
    )
    async def remove_subscriber(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
    ) -> Subscriber:
        info.context.require(*t.ADMIN_ROLES)
        found = await subscribers.remove(
            str(id), transactions=info.context.transactions, now=datetime.now(UTC)
        )
        await info.context.streams.delete(found.id)
        return Subscriber.of(found)

    @strawberry.mutation(
        description="Stop pushing to a webhook subscriber; its stream keeps filling. Role: admin."
    )
    async def pause_subscriber(self, info: Info, id: strawberry.ID) -> Subscriber:  # noqa: A002 - GraphQL argument name
        info.context.require(*t.ADMIN_ROLES)
        found = await subscribers.set_paused(
            str(id), paused=True, transactions=info.context.transactions, now=datetime.now(UTC)
        )
        return Subscriber.of(found)

    @strawberry.mutation(description="Push again, from where it paused. Role: admin.")
    async def resume_subscriber(self, info: Info, id: strawberry.ID) -> Subscriber:  # noqa: A002 - GraphQL argument name
        info.context.require(*t.ADMIN_ROLES)
        found = await subscribers.set_paused(
            str(id), paused=False, transactions=info.context.transactions, now=datetime.now(UTC)
        )
        return Subscriber.of(found)

    @strawberry.mutation(
        description="A new webhook secret, shown only now; deliveries are signed with the old "
        "one too for the overlap (a day by default). Role: admin."
    )
    async def rotate_subscriber_secret(self, info: Info, id: strawberry.ID) -> SubscriberWithSecret:  # noqa: A002 - GraphQL argument name
        info.context.require(*t.ADMIN_ROLES)
        found, secret = await subscribers.rotate_secret(
            str(id),
            transactions=info.context.transactions,
            overlap=info.context.secret_overlap,
            now=datetime.now(UTC),
        )
        return SubscriberWithSecret(subscriber=Subscriber.of(found), secret=secret)

    @strawberry.mutation(
        description="Deliver a subscriber's stream again from a position (inclusive), e.g. "
        "1733550000000-0 or 0 for its start: sets the consumer group `group` (default the "
        "webhook sender's) there. Role: admin."
    )
    async def replay_subscriber(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        from_position: str,
        group: str = WEBHOOK_GROUP,
    ) -> Subscriber:
        info.context.require(*t.ADMIN_ROLES)
        found = await _subscriber(info, str(id))
        if found.removed_at is not None:
            raise Conflict(
                f"Subscriber {id} was removed.", field="id", details={"reason": "REMOVED"}
            )
        if not _GROUP.fullmatch(group):
            raise InvalidInput("A group name has 1 to 64 letters, digits or _.:-", field="group")
        await info.context.streams.set_position(found.id, group, from_position.strip())
        return Subscriber.of(found)

    @strawberry.mutation(
        description="Post a dead letter's event to its subscriber's webhook again, now; "
        "marked replayed when the receiver accepts it, else BAD_USER_INPUT with its answer. "
        "Role: admin."
    )
    async def replay_webhook_dead_letter(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
    ) -> t.WebhookDeadLetter:
        info.context.require(*t.ADMIN_ROLES)
        try:
            replayed = await replay_dead_letter(
                str(id),
                graph=info.context.graph,
                streams=info.context.streams,
                sender=info.context.sender,
            )
        except DeliveryFailed as failed:
            raise InvalidInput(
                f"The receiver did not accept it: {failed.reason}.",
                field="id",
                details={"status": failed.status},
            ) from None
        return t.WebhookDeadLetter.of(replayed)


def build_schema(extensions: Sequence[Extension] = ()) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query, mutation=Mutation, types=[Person], extensions=list(extensions)
    )
