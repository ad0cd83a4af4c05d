"""GraphQL for retention duties (legal holds) and contact uses (UWG §7a proof).

docs/data-subject-requests.md ("Legal holds") and docs/consent.md ("Contact uses").
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import contact_uses as cu
from mdm_consent.domain import legal_holds as lh
from mdm_consent.domain.models import Channel
from mdm_consent.graphql import types as t
from mdm_consent.graphql.context import ConsentContext

Info = strawberry.Info[ConsentContext, None]
DUTY_ROLES = (Role.COMPLIANCE,)
USE_ROLES = (Role.APP, Role.COMPLIANCE)  # applications record the uses they make
USE_READ_ROLES = (Role.COMPLIANCE,)

LegalReference = strawberry.enum(
    lh.LegalReference,
    name="RetentionLegalReference",
    description="The provision a retention duty rests on.",
)
PeriodStart = strawberry.enum(
    lh.PeriodStart,
    name="RetentionPeriodStart",
    description="When a duty's period starts for a record.",
)
ContactUseCompliance = strawberry.enum(cu.Compliance, name="ContactUseCompliance")


@strawberry.type(description="A duty to keep data (Art. 17(3)(b), (e); BDSG §35(3)).")
class RetentionDuty:
    code: str
    name: str
    legal_reference: LegalReference  # type: ignore[valid-type]
    legal_text: str
    source_systems: list[str] = strawberry.field(
        description="Source systems whose records the duty keeps whole at erasure."
    )
    data_categories: list[str] = strawberry.field(
        description="Attribute categories whose values the duty keeps of any record."
    )
    period_years: int
    starts: PeriodStart  # type: ignore[valid-type]
    registered_at: datetime
    registered_by: str

    @classmethod
    def from_model(cls, x: lh.RetentionDuty) -> RetentionDuty:
        return cls(
            code=x.code,
            name=x.name,
            legal_reference=x.legal_reference,
            legal_text=x.legal_reference.text,
            source_systems=list(x.source_systems),
            data_categories=list(x.data_categories),
            period_years=x.period_years,
            starts=x.starts,
            registered_at=x.registered_at,
            registered_by=x.registered_by,
        )


@strawberry.input
class RetentionDutyInput:
    code: str
    name: str
    legal_reference: LegalReference  # type: ignore[valid-type]
    period_years: int
    starts: PeriodStart = lh.PeriodStart.END_OF_YEAR  # type: ignore[valid-type]
    source_systems: list[str] = strawberry.field(default_factory=list)
    data_categories: list[str] = strawberry.field(default_factory=list)


@strawberry.type(description="What a service keeps, restricted, instead of erasing it.")
class RestrictedData:
    service: str
    person_id: strawberry.ID
    what: str = strawberry.field(description="e.g. 'erp record 4711', 'consent events'.")
    categories: list[str]
    duty: str
    legal_reference: LegalReference  # type: ignore[valid-type]
    until: date = strawberry.field(description="Kept until the end of this day, then erased.")
    why: str

    @classmethod
    def from_model(cls, x: lh.Restricted) -> RestrictedData:
        return cls(
            service=x.service,
            person_id=strawberry.ID(x.person_id),
            what=x.what,
            categories=list(x.categories),
            duty=x.duty,
            legal_reference=x.legal_reference,
            until=x.until,
            why=x.why,
        )


@strawberry.type(description="One use of a consent to advertise, with the check's verdict then.")
class ContactUse:
    id: strawberry.ID
    person_id: strawberry.ID = strawberry.field(description="The person the check answered for.")
    asked_for: strawberry.ID
    purpose: str
    channel: t.Channel  # type: ignore[valid-type]
    used_at: datetime
    campaign: str
    allowed: bool
    reason: t.ContactReason  # type: ignore[valid-type]
    legal_basis: t.LegalBasis | None  # type: ignore[valid-type]
    deciding_event_id: strawberry.ID | None
    deciding_event_type: t.ConsentEventType | None  # type: ignore[valid-type]
    opt_out_notice_included: bool | None
    compliance: ContactUseCompliance  # type: ignore[valid-type]
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def from_model(cls, x: cu.ContactUse) -> ContactUse:
        return cls(
            id=strawberry.ID(x.id),
            person_id=strawberry.ID(x.person_id),
            asked_for=strawberry.ID(x.asked_for),
            purpose=x.purpose,
            channel=x.channel,
            used_at=x.used_at,
            campaign=x.campaign,
            allowed=x.allowed,
            reason=x.reason,
            legal_basis=x.legal_basis,
            deciding_event_id=strawberry.ID(x.deciding_event_id) if x.deciding_event_id else None,
            deciding_event_type=x.deciding_event_type,
            opt_out_notice_included=x.opt_out_notice_included,
            compliance=x.compliance,
            recorded_at=x.recorded_at,
            recorded_by=x.recorded_by,
        )


@strawberry.input
class ContactUseInput:
    person_id: strawberry.ID
    purpose: str
    channel: t.Channel  # type: ignore[valid-type]
    campaign: str = strawberry.field(description="The campaign's reference (no free text).")
    used_at: datetime | None = strawberry.field(
        default=None, description="Default now; within the clock skew of now."
    )
    opt_out_notice_included: bool | None = strawberry.field(
        default=None,
        description="The message carried the opt-out notice (UWG §7(3) Nr. 4; e-mail under "
        "the existing-customer exception).",
    )


@strawberry.type(
    description="UWG §7a: the proof of a phone consent is kept five years after the last use."
)
class PhoneConsentProof:
    person_id: strawberry.ID
    purpose: str
    channel: t.Channel  # type: ignore[valid-type]
    last_used_at: datetime
    keep_until: date


@strawberry.type
class HoldQuery:
    @strawberry.field(description="The registered retention duties by code. Role: compliance.")
    async def retention_duties(self, info: Info) -> list[RetentionDuty]:
        info.context.require(*DUTY_ROLES)
        found = await info.context.transactions.read(lambda s: s.duties.all())
        return [RetentionDuty.from_model(d) for d in found]

    @strawberry.field(
        description="A person's contact uses, newest first, with the verdict at the time of "
        "use and whether the use was compliant. Role: compliance."
    )
    async def contact_uses(
        self, info: Info, person_id: strawberry.ID, first: int = 100
    ) -> list[ContactUse]:
        info.context.require(*USE_READ_ROLES)
        found = await info.context.transactions.read(
            lambda s: cu.uses_of(s, str(person_id), first=first)
        )
        return [ContactUse.from_model(u) for u in found]

    @strawberry.field(
        description="How long the proof of each phone consent of the person is kept (UWG §7a: "
        "five years after the last use), per purpose and channel. Role: compliance."
    )
    async def phone_consent_proofs(
        self, info: Info, person_id: strawberry.ID
    ) -> list[PhoneConsentProof]:
        info.context.require(*USE_READ_ROLES)
        found = await info.context.transactions.read(
            lambda s: cu.uses_of(s, str(person_id), first=cu.MAX_LISTED)
        )
        return [
            PhoneConsentProof(
                person_id=strawberry.ID(p.person_id),
                purpose=p.purpose,
                channel=p.channel,
                last_used_at=p.last_used_at,
                keep_until=p.keep_until,
            )
            for p in cu.proofs(found)
        ]


@strawberry.type
class HoldMutation:
    @strawberry.mutation(
        description="Register a retention duty (master data): erasure keeps what it covers, "
        "restricted, until its end. CONFLICT (DUPLICATE_DUTY) for a code registered. Role: "
        "compliance."
    )
    async def register_retention_duty(
        self,
        info: Info,
        input: RetentionDutyInput,  # noqa: A002 - GraphQL argument name
    ) -> RetentionDuty:
        ctx = info.context
        actor = ctx.require(*DUTY_ROLES)
        draft = lh.DutyDraft(
            code=input.code,
            name=input.name,
            legal_reference=lh.LegalReference(input.legal_reference),
            period_years=input.period_years,
            starts=lh.PeriodStart(input.starts),
            source_systems=input.source_systems,
            data_categories=input.data_categories,
        )
        now = datetime.now(UTC)
        duty = await ctx.transactions.write(
            lambda s: lh.register(draft, stores=s, by=actor.subject, now=now)
        )
        return RetentionDuty.from_model(duty)

    @strawberry.mutation(
        description="Record a use of a consent now (UWG §7a) with the contact check's verdict "
        "at that time; a refused use is recorded too and listed as not compliant. Roles: app, "
        "compliance."
    )
    async def record_contact_use(
        self,
        info: Info,
        input: ContactUseInput,  # noqa: A002 - GraphQL argument name
    ) -> ContactUse:
        ctx = info.context
        actor = ctx.require(*USE_ROLES)
        draft = cu.UseDraft(
            person_id=str(input.person_id),
            purpose=input.purpose,
            channel=Channel(input.channel),
            campaign=input.campaign,
            used_at=input.used_at,
            opt_out_notice_included=input.opt_out_notice_included,
        )
        use = await cu.record(
            draft,
            directory=ctx.directory,
            transactions=ctx.transactions,
            now=datetime.now(UTC),
            recorded_by=actor.subject,
            skew=ctx.event_skew,
        )
        return ContactUse.from_model(use)
