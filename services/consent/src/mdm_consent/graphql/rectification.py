"""GraphQL for rectification requests (GDPR Art. 16, 19): what the person asks, the
stewards' queue and decision, and the outcome on the request."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import rectification as rect
from mdm_consent.domain import requests as r
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.requests import (
    DataSubjectRequest,
    DataSubjectRequestPage,
    RequestStatus,
)

Info = strawberry.Info[ConsentContext, None]
DECIDE_ROLES = (Role.STEWARD, Role.COMPLIANCE)
_FIELDS = ", ".join(rect.FIELDS)

RectificationDecision = strawberry.enum(rect.Decision, name="RectificationDecision")


@strawberry.input(description="What a RECTIFICATION request asks to correct (Art. 16).")
class RectificationInput:
    field: str = strawberry.field(description=f"The golden field: {_FIELDS}.")
    value: str = strawberry.field(
        description="The corrected value; an address as compact JSON like the export's "
        '({"street", "houseNumber", "postalCode", "city", "country"}).'
    )


@strawberry.type(description="A rectification asked for, and its outcome.")
class RequestRectification:
    field: str
    value: str | None = strawberry.field(
        description="The corrected value as asked; cleared once decided (the profile holds "
        "it when applied)."
    )
    recipients: list[str] = strawberry.field(
        description="Art. 19: source systems holding another value for the field, to be told "
        "(at submission; at approval, as applied)."
    )
    decision: RectificationDecision | None  # type: ignore[valid-type]
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None = strawberry.field(
        description="Why it was approved or rejected; a rejection's reason is told to the "
        "person (Art. 12(4))."
    )

    @classmethod
    def from_model(cls, x: rect.Rectification) -> RequestRectification:
        return cls(
            field=x.field,
            value=x.value,
            recipients=list(x.recipients),
            decision=x.decision,
            decided_at=x.decided_at,
            decided_by=x.decided_by,
            reason=x.reason,
        )


@strawberry.type
class RectificationQuery:
    @strawberry.field(
        description="RECTIFICATION requests for the stewards, the earliest due first; by "
        f"default the OPEN ones (waiting for a decision). At most {r.MAX_PAGE} a page. "
        "Roles: steward, compliance."
    )
    async def rectification_requests(
        self,
        info: Info,
        status: RequestStatus | None = r.RequestStatus.OPEN,  # type: ignore[valid-type]
        first: int = 50,
        after: strawberry.ID | None = None,
    ) -> DataSubjectRequestPage:
        info.context.require(*DECIDE_ROLES)
        now = datetime.now(UTC)
        cursor = str(after) if after else None
        found, more = await info.context.transactions.read(
            lambda s: rect.queue(s, status=status, first=first, after=cursor, now=now)
        )
        return DataSubjectRequestPage(
            requests=[DataSubjectRequest.from_model(x, now) for x in found],
            has_next_page=more,
            end_cursor=strawberry.ID(found[-1].id) if found else None,
        )


@strawberry.type
class RectificationMutation:
    @strawberry.mutation(
        description="Decide a RECTIFICATION request with the reason (10-2,000 characters). "
        "Approved: the profile applies the value (source 'rectification', winning "
        "survivorship for the field) and the request completes with the recipients to tell "
        "(Art. 19); a bad value is BAD_USER_INPUT naming the field and the request stays "
        "OPEN. Rejected: the request completes with the reason the person is told. "
        "Roles: steward, compliance."
    )
    async def decide_rectification(
        self,
        info: Info,
        id: strawberry.ID,  # noqa: A002 - GraphQL argument name
        approve: bool,
        reason: str,
    ) -> DataSubjectRequest:
        ctx = info.context
        actor = ctx.require(*DECIDE_ROLES)
        now = datetime.now(UTC)
        found = await rect.decide(
            str(id),
            approve=approve,
            reason=reason,
            profile=ctx.rectification,
            transactions=ctx.transactions,
            actor=actor,
            now=now,
        )
        return DataSubjectRequest.from_model(found, now)
