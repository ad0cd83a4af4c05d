"""GraphQL for data-subject requests: the queue, the life cycle, exports, erasure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import access_export, objections
from mdm_consent.domain import fulfilment as f
from mdm_consent.domain import rectification as rect
from mdm_consent.domain import requests as r
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.holds import RestrictedData
from mdm_consent.graphql.person import Person

if TYPE_CHECKING:
    from mdm_consent.graphql.rectification import RectificationInput, RequestRectification

Info = strawberry.Info[ConsentContext, None]
REQUEST_ROLES = (Role.COMPLIANCE,)

RequestType = strawberry.enum(
    r.RequestType, name="DataSubjectRequestType", description="GDPR Art. 15, 20, 17, 18, 16, 21."
)
RequestStatus = strawberry.enum(r.RequestStatus, name="DataSubjectRequestStatus")
ReceivedVia = strawberry.enum(r.ReceivedVia, name="RequestReceivedVia")
IdentityCheck = strawberry.enum(
    r.IdentityCheck, description="How the requester was confirmed to be the person."
)
ExportFormat = strawberry.enum(access_export.ExportFormat, name="ExportFormat")
# graphql/rectification.py builds on this module's types.
_RECTIFICATION = strawberry.lazy("mdm_consent.graphql.rectification")
ObjectionOutcome = strawberry.enum(
    r.ObjectionOutcome, description="How an objection (Art. 21) was settled."
)


@strawberry.type(description="A deadline extension (Art. 12(3)) with its reason.")
class RequestExtension:
    months: int
    reason: str
    at: datetime
    by: str


@strawberry.type(description="One service's part of an erasure or restriction, done.")
class RequestStep:
    service: str
    at: datetime
    person_ids: list[strawberry.ID]
    detail: str = strawberry.field(description="What the service reported (counts).")
    erased: list[str] = strawberry.field(
        description="Erasure: the categories of which values were erased."
    )
    restricted: list[RestrictedData] = strawberry.field(
        description="Erasure: what retention duties keep, restricted, with the duty, its legal "
        "reference and end, and why (Art. 17(3)(b), (e))."
    )


@strawberry.type(description="A data-subject request with its due date and progress.")
class DataSubjectRequest:
    id: strawberry.ID
    type: RequestType  # type: ignore[valid-type]
    person_id: strawberry.ID
    status: RequestStatus  # type: ignore[valid-type]
    received_at: datetime
    received_via: ReceivedVia  # type: ignore[valid-type]
    identity_check: IdentityCheck  # type: ignore[valid-type]
    submitted_at: datetime
    submitted_by: str
    original_due: date = strawberry.field(description="One calendar month after receipt.")
    due: date = strawberry.field(description="The deadline, with any extension (UTC date).")
    overdue: bool
    extensions: list[RequestExtension]
    person_ids: list[strawberry.ID] = strawberry.field(
        description="The merge group the request was carried out for."
    )
    steps: list[RequestStep]
    settled_at: datetime | None
    settled_by: str | None
    rejection_reason: str | None
    exports: int = strawberry.field(description="Exports generated so far (each audited).")
    lifted_at: datetime | None = strawberry.field(description="A restriction lifted.")
    lift_reason: str | None
    lifted_by: str | None
    note: str | None
    rectification: Annotated[RequestRectification, _RECTIFICATION] | None = strawberry.field(
        description="A RECTIFICATION's field and value, and its outcome."
    )
    purpose: str | None = strawberry.field(
        default=None, description="An objection's purpose; null: all direct marketing."
    )
    objection: ObjectionOutcome | None = None  # type: ignore[valid-type]
    consent_event_id: strawberry.ID | None = strawberry.field(
        default=None, description="The OBJECTED consent event an objection recorded."
    )

    @strawberry.field(
        description="The person asked about, as the profile holds them (one batch for a "
        "whole page through the gateway); null once the profile no longer holds them."
    )
    def person(self) -> Person | None:
        return Person(id=self.person_id)

    @classmethod
    def from_model(cls, x: r.DataSubjectRequest, now: datetime) -> DataSubjectRequest:
        from mdm_consent.graphql.rectification import RequestRectification  # noqa: PLC0415 - imports this module

        return cls(
            id=strawberry.ID(x.id), type=x.type, person_id=strawberry.ID(x.person_id),
            status=x.status, received_at=x.received_at, received_via=x.received_via,
            identity_check=x.identity_check, submitted_at=x.submitted_at,
            submitted_by=x.submitted_by, original_due=x.original_due_on, due=x.due,
            overdue=x.overdue(now),
            extensions=[RequestExtension(months=e.months, reason=e.reason, at=e.at, by=e.by)
                        for e in x.extensions],
            person_ids=[strawberry.ID(p) for p in x.person_ids],
            steps=[RequestStep(service=s.service, at=s.at,
                               person_ids=[strawberry.ID(p) for p in s.person_ids],
                               detail=s.detail, erased=list(s.erased),
                               restricted=[RestrictedData.from_model(h) for h in s.restricted])
                   for s in x.steps],
            settled_at=x.settled_at, settled_by=x.settled_by,
            rejection_reason=x.rejection_reason, exports=x.exports, lifted_at=x.lifted_at,
            lift_reason=x.lift_reason, lifted_by=x.lifted_by, note=x.note,
            rectification=RequestRectification.from_model(x.rectification)
            if x.rectification else None, purpose=x.purpose, objection=x.objection,
            consent_event_id=strawberry.ID(x.consent_event_id) if x.consent_event_id else None,
        )  # fmt: skip


@strawberry.type
class DataSubjectRequestPage:
    requests: list[DataSubjectRequest]
    has_next_page: bool
    end_cursor: strawberry.ID | None


@strawberry.type(description="Everything the services hold on a person, as JSON or CSV.")
class DataSubjectExport:
    request_id: strawberry.ID
    person_ids: list[strawberry.ID]
    generated_at: datetime
    generated_by: str
    format: ExportFormat  # type: ignore[valid-type]
    media_type: str
    content: str
    sha256: str = strawberry.field(description="SHA-256 of the content (UTF-8), hex.")
    items: int

    @classmethod
    def from_model(cls, x: access_export.Export) -> DataSubjectExport:
        return cls(
            request_id=strawberry.ID(x.request_id),
            person_ids=[strawberry.ID(p) for p in x.person_ids],
            generated_at=x.generated_at, generated_by=x.generated_by, format=x.format,
            media_type=x.media_type, content=x.content, sha256=x.sha256, items=x.items,
        )  # fmt: skip


@strawberry.input
class DataSubjectRequestInput:
    person_id: strawberry.ID
    type: RequestType  # type: ignore[valid-type]
    received_via: ReceivedVia  # type: ignore[valid-type]
    identity_check: IdentityCheck  # type: ignore[valid-type]
    received_at: datetime | None = strawberry.field(default=None,
                                                    description="Default: now.")  # fmt: skip
    note: str | None = None
    rectification: Annotated[RectificationInput, _RECTIFICATION] | None = strawberry.field(
        default=None, description="With type RECTIFICATION only (Art. 16)."
    )
    purpose: str | None = strawberry.field(
        default=None,
        description="OBJECTION only: the purpose objected to; none: all direct marketing.",
    )


@strawberry.type
class RequestQuery:
    @strawberry.field(description="A data-subject request. Role: compliance.")
    async def data_subject_request(self, info: Info, id: strawberry.ID) -> DataSubjectRequest:  # noqa: A002 - GraphQL argument name
        info.context.require(*REQUEST_ROLES)
        found = await info.context.transactions.read(lambda s: r.known(s, str(id)))
        return DataSubjectRequest.from_model(found, datetime.now(UTC))

    @strawberry.field(
        description="Data-subject requests, the earliest due first, with filters; cursor "
        f"pagination (at most {r.MAX_PAGE} a page). Role: compliance."
    )
    async def data_subject_requests(
        self, info: Info, *, status: RequestStatus | None = None,  # type: ignore[valid-type]
        type: RequestType | None = None,  # type: ignore[valid-type]  # noqa: A002 - GraphQL argument name
        person_id: strawberry.ID | None = None, overdue_only: bool = False, first: int = 50,
        after: strawberry.ID | None = None,
    ) -> DataSubjectRequestPage:  # fmt: skip
        info.context.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        cursor = str(after) if after else None
        filters = r.RequestFilter(status=status, type=type, overdue_only=overdue_only,
                                  person_id=str(person_id) if person_id else None)  # fmt: skip
        found, more = await info.context.transactions.read(
            lambda s: r.listing(s, filters, first=first, after=cursor, now=now)
        )
        return DataSubjectRequestPage(
            requests=[DataSubjectRequest.from_model(x, now) for x in found], has_next_page=more,
            end_cursor=strawberry.ID(found[-1].id) if found else None,
        )  # fmt: skip

    @strawberry.field(
        description="Everything the three services hold on the request's person (Art. 15, 20) "
        "with purposes, sources and retention, as JSON or CSV. Only for ACCESS and PORTABILITY "
        "requests; the first export completes the request. Role: compliance; audited."
    )
    async def data_subject_export(
        self, info: Info, request_id: strawberry.ID,
        format: ExportFormat = access_export.ExportFormat.JSON,  # type: ignore[valid-type]  # noqa: A002 - GraphQL argument name
    ) -> DataSubjectExport:  # fmt: skip
        ctx = info.context
        actor = ctx.require(*REQUEST_ROLES)
        found = await access_export.export(str(request_id), format, services=ctx.privacy,
                               transactions=ctx.transactions, actor=actor,
                               now=datetime.now(UTC))  # fmt: skip
        return DataSubjectExport.from_model(found)


@strawberry.type
class RequestMutation:
    @strawberry.mutation(
        description="Record a data-subject request as received; due one calendar month after "
        "receipt. An OBJECTION to direct marketing (no purpose, or a direct-marketing one) "
        "takes effect at once: the OBJECTED consent event is recorded and the request "
        "completed (Art. 21(2), (3)). Role: compliance."
    )
    async def submit_data_subject_request(
        self,
        info: Info,
        input: DataSubjectRequestInput,  # noqa: A002 - GraphQL argument name
    ) -> DataSubjectRequest:
        ctx = info.context
        actor = ctx.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        draft = r.RequestDraft(
            type=input.type, person_id=str(input.person_id), received_via=input.received_via,
            identity_check=input.identity_check, received_at=input.received_at, note=input.note,
            purpose=input.purpose,
        )  # fmt: skip
        if input.rectification is not None:
            asked = rect.Rectification(input.rectification.field, input.rectification.value)
            created = await rect.submit_rectification(
                replace(draft, rectification=asked),
                profile=ctx.rectification,
                directory=ctx.directory,
                transactions=ctx.transactions,
                actor=actor,
                now=now,
            )
        else:
            submit = objections.submit if draft.type is r.RequestType.OBJECTION else r.submit
            created = await submit(
                draft,
                directory=ctx.directory,
                transactions=ctx.transactions,
                submitted_by=actor.subject,
                now=now,
            )
        return DataSubjectRequest.from_model(created, now)

    @strawberry.mutation(
        description="Extend the deadline by 1 or 2 months (2 in all), with the reason told to the "
        "person, within the first month (Art. 12(3)). Role: compliance."
    )
    async def extend_data_subject_request(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        months: int,
        reason: str,
    ) -> DataSubjectRequest:
        actor = info.context.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: r.extend(
                str(id), months=months, reason=reason, stores=s, by=actor.subject, now=now
            )
        )
        return DataSubjectRequest.from_model(found, now)

    @strawberry.mutation(
        description="Refuse a manifestly unfounded or excessive request (Art. 12(5)), with the "
        "reason. Role: compliance."
    )
    async def reject_data_subject_request(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        reason: str,
    ) -> DataSubjectRequest:
        actor = info.context.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: r.reject(str(id), reason=reason, stores=s, by=actor.subject, now=now)
        )
        return DataSubjectRequest.from_model(found, now)

    @strawberry.mutation(
        description="Carry out an ERASURE or RESTRICTION request in every service: profile "
        "(erasure writes the suppression entries), matching, consent. Each service's step is "
        "recorded as done; after a failure, calling again resumes. Role: compliance."
    )
    async def carry_out_data_subject_request(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
    ) -> DataSubjectRequest:
        ctx = info.context
        actor = ctx.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        found = await f.carry_out(str(id), services=ctx.privacy, transactions=ctx.transactions,
                                  actor=actor, now=now)  # fmt: skip
        return DataSubjectRequest.from_model(found, now)

    @strawberry.mutation(
        description="Lift a restriction carried out (Art. 18(3): tell the person first), with "
        "the reason. Role: compliance."
    )
    async def lift_restriction(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        reason: str,
    ) -> DataSubjectRequest:
        ctx = info.context
        actor = ctx.require(*REQUEST_ROLES)
        now = datetime.now(UTC)
        found = await f.lift_restriction(
            str(id), reason=reason, services=ctx.privacy, transactions=ctx.transactions,
            actor=actor, now=now,
        )  # fmt: skip
        return DataSubjectRequest.from_model(found, now)
