"""GraphQL for the record of processing activities (GDPR Art. 30): the controller, the
purposes' descriptions, and the record as JSON and CSV. Role: compliance."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import processing as p
from mdm_consent.domain import processing_report as pr
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.types import Channel, LegalBasis

Info = strawberry.Info[ConsentContext, None]
ROLES = (Role.COMPLIANCE,)

DataSubjectCategory = strawberry.enum(
    p.DataSubjectCategory, description="Whose data a purpose processes (Art. 30(1)(c))."
)
RecipientKind = strawberry.enum(p.RecipientKind, description="Categories of recipients.")
TransferSafeguard = strawberry.enum(
    p.Safeguard, name="TransferSafeguard", description="What a third-country transfer rests on."
)
ProcessingGap = strawberry.enum(
    p.Gap, name="ProcessingGap", description="What keeps a record of processing incomplete."
)


@strawberry.type(description="The controller (Art. 30(1)(a), (g)).")
class Controller:
    name: str
    address: str
    email: str
    representative: str | None = strawberry.field(description="Art. 27 representative.")
    dpo_name: str | None = strawberry.field(description="Data protection officer (Art. 37).")
    dpo_email: str | None
    security_measures_ref: str = strawberry.field(
        description="Where the technical and organisational measures (Art. 32) are described."
    )
    revision: int
    changed_at: datetime | None
    changed_by: str | None
    reason: str | None

    @classmethod
    def from_model(cls, c: p.Controller) -> Controller:
        return cls(
            name=c.name,
            address=c.address,
            email=c.email,
            representative=c.representative,
            dpo_name=c.dpo_name,
            dpo_email=c.dpo_email,
            security_measures_ref=c.security_measures_ref,
            revision=c.revision,
            changed_at=c.changed_at,
            changed_by=c.changed_by,
            reason=c.reason,
        )


@strawberry.type
class Recipient:
    name: str
    kind: RecipientKind  # type: ignore[valid-type]
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")


@strawberry.type(description="A transfer to a country outside the EEA (Art. 44-49).")
class ThirdCountryTransfer:
    country: str
    recipient: str
    safeguard: TransferSafeguard  # type: ignore[valid-type]
    document_ref: str


@strawberry.type(description="What the registry does not know about a purpose's processing.")
class ProcessingDescription:
    purpose: str
    data_subject_categories: list[DataSubjectCategory]  # type: ignore[valid-type]
    recipients: list[Recipient]
    transfers: list[ThirdCountryTransfer]
    revision: int
    changed_at: datetime | None
    changed_by: str | None
    reason: str | None

    @classmethod
    def from_model(cls, d: p.ProcessingDescription) -> ProcessingDescription:
        return cls(
            purpose=d.purpose,
            data_subject_categories=list(d.data_subject_categories),
            recipients=[
                Recipient(name=r.name, kind=r.kind, country=r.country) for r in d.recipients
            ],
            transfers=[
                ThirdCountryTransfer(
                    country=t.country,
                    recipient=t.recipient,
                    safeguard=t.safeguard,
                    document_ref=t.document_ref,
                )
                for t in d.transfers
            ],
            revision=d.revision,
            changed_at=d.changed_at,
            changed_by=d.changed_by,
            reason=d.reason,
        )


@strawberry.type(description="One purpose in the records of processing (GDPR Art. 30).")
class ProcessingRecord:
    code: str
    name: str
    description: str
    legal_basis: LegalBasis  # type: ignore[valid-type]
    channels: list[Channel]  # type: ignore[valid-type]
    data_categories: list[str] = strawberry.field(
        description="Categories of personal data, from the platform's own list."
    )
    retention_days: int
    consent_validity_days: int | None
    direct_marketing: bool
    notice_version: int | None = strawberry.field(description="The latest published version.")
    notice_language: str | None
    notice_sha256: str | None
    notice_published_at: datetime | None
    processing: ProcessingDescription | None = strawberry.field(
        description="Data subjects, recipients and transfers; null until described."
    )
    gaps: list[ProcessingGap]  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, r: p.ProcessingRecord) -> ProcessingRecord:
        x = r.purpose
        n = x.notice(x.latest_version)
        return cls(
            code=x.code,
            name=x.name,
            description=x.description,
            legal_basis=x.legal_basis,
            channels=list(x.channels),
            data_categories=list(x.data_categories),
            retention_days=x.retention_days,
            consent_validity_days=x.consent_validity_days,
            direct_marketing=x.direct_marketing,
            notice_version=n.version if n else None,
            notice_language=n.language if n else None,
            notice_sha256=n.sha256 if n else None,
            notice_published_at=n.published_at if n else None,
            processing=ProcessingDescription.from_model(r.description) if r.description else None,
            gaps=list(r.gaps),
        )


@strawberry.type(description="The records of processing (GDPR Art. 30(1)): every purpose.")
class RecordsOfProcessing:
    generated_at: datetime
    generated_by: str
    controller: Controller | None
    records: list[ProcessingRecord]
    gaps: list[ProcessingGap] = strawberry.field(  # type: ignore[valid-type]
        description="Of the record as a whole (e.g. no controller recorded)."
    )
    json: str = strawberry.field(description="The whole record as a JSON document.")
    sha256: str = strawberry.field(description="SHA-256 of the JSON document.")
    csv: str = strawberry.field(
        description="The same as CSV (RFC 4180, header row, lists joined with ';'), one row per "
        "purpose, the controller's columns on every row."
    )

    @classmethod
    def from_model(cls, x: pr.RecordsDocument) -> RecordsOfProcessing:
        return cls(
            generated_at=x.record.generated_at,
            generated_by=x.record.generated_by,
            controller=Controller.from_model(x.record.controller) if x.record.controller else None,
            records=[ProcessingRecord.from_model(r) for r in x.record.records],
            gaps=list(x.record.gaps),
            json=x.json,
            sha256=x.sha256,
            csv=x.csv,
        )


@strawberry.input(description="The controller's details (Art. 30(1)(a), (g)).")
class ControllerInput:
    name: str
    address: str
    email: str
    security_measures_ref: str
    reason: str = strawberry.field(description="Why it changes (10-2,000 characters).")
    representative: str | None = None
    dpo_name: str | None = None
    dpo_email: str | None = None


@strawberry.input
class RecipientInput:
    name: str
    kind: RecipientKind  # type: ignore[valid-type]
    country: str


@strawberry.input
class TransferInput:
    country: str
    recipient: str
    safeguard: TransferSafeguard  # type: ignore[valid-type]
    document_ref: str


@strawberry.input(description="Replaces the purpose's description with a new revision.")
class DescribeProcessingInput:
    purpose: str
    data_subject_categories: list[DataSubjectCategory]  # type: ignore[valid-type]
    recipients: list[RecipientInput]
    reason: str = strawberry.field(description="Why it changes (10-2,000 characters).")
    transfers: list[TransferInput] = strawberry.field(default_factory=list)


@strawberry.type
class ProcessingQuery:
    @strawberry.field(
        description="The records of processing (GDPR Art. 30(1)): the controller and every "
        "registered purpose with its data subjects, data categories, recipients, transfers, "
        "retention and gaps; as JSON and CSV too. Role: compliance; audited."
    )
    async def records_of_processing(self, info: Info) -> RecordsOfProcessing:
        reader = info.context.require(*ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: pr.records_of_processing(s, reader=reader, now=now)
        )
        return RecordsOfProcessing.from_model(found)


@strawberry.type
class ProcessingMutation:
    @strawberry.mutation(
        description="Record the controller's details as a new revision. Role: compliance."
    )
    async def set_controller(self, info: Info, input: ControllerInput) -> Controller:  # noqa: A002 - GraphQL argument name
        principal = info.context.require(*ROLES)
        draft = p.Controller(
            name=input.name,
            address=input.address,
            email=input.email,
            security_measures_ref=input.security_measures_ref,
            representative=input.representative,
            dpo_name=input.dpo_name,
            dpo_email=input.dpo_email,
        )
        now = datetime.now(UTC)
        stored = await info.context.transactions.write(
            lambda s: p.set_controller(
                draft, reason=input.reason, stores=s, actor=principal.subject, now=now
            )
        )
        return Controller.from_model(stored)

    @strawberry.mutation(
        description="Describe a purpose's data subjects, recipients and third-country "
        "transfers (a new revision). Role: compliance."
    )
    async def describe_processing(
        self,
        info: Info,
        input: DescribeProcessingInput,  # noqa: A002 - GraphQL argument name
    ) -> ProcessingDescription:
        principal = info.context.require(*ROLES)
        draft = p.ProcessingDescription(
            purpose=input.purpose,
            data_subject_categories=tuple(
                p.DataSubjectCategory(c) for c in input.data_subject_categories
            ),
            recipients=tuple(
                p.Recipient(r.name, p.RecipientKind(r.kind), r.country) for r in input.recipients
            ),
            transfers=tuple(
                p.Transfer(t.country, t.recipient, p.Safeguard(t.safeguard), t.document_ref)
                for t in input.transfers
            ),
        )
        now = datetime.now(UTC)
        stored = await info.context.transactions.write(
            lambda s: p.describe(
                draft, reason=input.reason, stores=s, actor=principal.subject, now=now
            )
        )
        return ProcessingDescription.from_model(stored)
