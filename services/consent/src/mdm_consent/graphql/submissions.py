"""GraphQL for a form submission asking for several purposes (GDPR Art. 7(2))."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_consent.domain import models as m
from mdm_consent.domain import submissions
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.types import (
    WRITE_ROLES,
    Channel,
    CollectionMethod,
    ConsentActor,
    ConsentEvent,
)

Info = strawberry.Info[ConsentContext, None]


@strawberry.input(description="A purpose and channel the person ticked, with its notice.")
class ConsentSubmissionItemInput:
    purpose: str
    channel: Channel  # type: ignore[valid-type]
    notice_version: int | None = strawberry.field(
        default=None, description="The version of the purpose's notice shown on the form."
    )
    language: str | None = strawberry.field(
        default=None, description="The notice's language; default: the submission's."
    )


@strawberry.input(
    description="One form submission: an item per purpose and channel ticked "
    f"(1 to {submissions.MAX_ITEMS}, each purpose and channel once); what was not "
    "ticked is left out."
)
class ConsentSubmissionInput:
    person_id: strawberry.ID
    collection_point: str
    method: CollectionMethod  # type: ignore[valid-type]
    actor: ConsentActor  # type: ignore[valid-type]
    items: list[ConsentSubmissionItemInput]
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When it was submitted; default: now."
    )
    language: str | None = None
    staff_id: str | None = None
    evidence_ref: str | None = strawberry.field(
        default=None, description="The form submission's reference in the collecting system."
    )
    ip_address: str | None = strawberry.field(
        default=None,
        description="The requesting IP address; kept truncated (IPv4 /24, IPv6 /48).",
    )


@strawberry.type(description="A recorded submission: its id and an event per item.")
class ConsentSubmission:
    submission_id: strawberry.ID
    events: list[ConsentEvent] = strawberry.field(description="In the order of the items.")

    @classmethod
    def from_model(cls, x: submissions.ConsentSubmission) -> ConsentSubmission:
        return cls(
            submission_id=strawberry.ID(x.submission_id),
            events=[ConsentEvent.from_model(e) for e in x.events],
        )


def draft_of(input: ConsentSubmissionInput) -> submissions.SubmissionDraft:  # noqa: A002 - GraphQL argument name
    return submissions.SubmissionDraft(
        person_id=str(input.person_id),
        collection_point=input.collection_point,
        method=m.Method(input.method),
        actor=m.ActorType(input.actor),
        items=tuple(
            submissions.SubmissionItem(
                purpose=i.purpose,
                channel=m.Channel(i.channel),
                notice_version=i.notice_version,
                language=i.language,
            )
            for i in input.items
        ),
        occurred_at=input.occurred_at,
        language=input.language,
        staff_id=input.staff_id,
        evidence_ref=input.evidence_ref,
        ip_address=input.ip_address,
    )


@strawberry.type
class SubmissionMutation:
    @strawberry.mutation(
        description="Record a form submission that happens now and asks for several purposes: "
        "one event per purpose and channel ticked, each with its own notice version, linked "
        "by a submissionId; all or none. Each is a GRANTED, except e-mail marketing, which "
        "becomes PENDING_DOUBLE_OPT_IN (confirm it with CONFIRMED). Proof and time as for "
        "recordConsentEvent. Roles: app, compliance."
    )
    async def record_consent_submission(
        self,
        info: Info,
        input: ConsentSubmissionInput,  # noqa: A002 - GraphQL argument name
    ) -> ConsentSubmission:
        ctx = info.context
        principal = ctx.require(*WRITE_ROLES)
        done = await submissions.record_submission(
            draft_of(input),
            directory=ctx.directory,
            transactions=ctx.transactions,
            now=datetime.now(UTC),
            recorded_by=principal.subject,
            skew=ctx.event_skew,
            confirm_within=ctx.double_opt_in_window,
        )
        return ConsentSubmission.from_model(done)
