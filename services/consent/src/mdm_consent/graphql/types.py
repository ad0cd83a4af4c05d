"""GraphQL types of the consent subgraph and their mapping from the domain models."""

from __future__ import annotations

import json
from datetime import date, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.read_audit.records import ReadAudit
from mdm_consent.domain import models as m
from mdm_consent.domain.checks import ContactDecision as ContactDecisionModel
from mdm_consent.domain.merges import ContactChange
from mdm_consent.domain.purposes import PurposeChange as PurposeChangeModel
from mdm_consent.domain.rules import Obligation, Reason

READ_ROLES = (Role.COMPLIANCE,)  # consent records with their proof
WRITE_ROLES = (Role.APP, Role.COMPLIANCE)  # applications record what their forms collected
REGISTRY_ROLES = (Role.COMPLIANCE,)  # the purpose registry is changed by compliance only
PURPOSE_READ_ROLES = (Role.APP, Role.COMPLIANCE)
CHECK_ROLES = (Role.APP, Role.COMPLIANCE)
PREVIEW_ROLES = (Role.STEWARD, Role.COMPLIANCE)  # what a merge a steward considers would do

LegalBasis = strawberry.enum(m.LegalBasis, description="GDPR Art. 6(1) (a) to (f).")
Channel = strawberry.enum(m.Channel)
ConsentEventType = strawberry.enum(m.EventType, name="ConsentEventType")
CollectionMethod = strawberry.enum(m.Method, name="CollectionMethod")
ConsentActor = strawberry.enum(
    m.ActorType, name="ConsentActor",
    description="Who acted: the person, a holder of parental responsibility, staff, or the "
    "consent service itself (SYSTEM: an expiry recorded by the daily job, the profile's "
    "birth date kept as evidence of age).",
)  # fmt: skip
ContactReason = strawberry.enum(Reason, name="ContactReason")
ContactObligation = strawberry.enum(
    Obligation,
    name="ContactObligation",
    description="What the sending system must do for the contact to be lawful.",
)


@strawberry.type(description="One version of a purpose's notice text.")
class NoticeVersion:
    purpose: str
    version: int
    language: str
    text: str | None
    sha256: str = strawberry.field(description="SHA-256 of the text (UTF-8), hex.")
    material: bool = strawberry.field(
        description="Consent given under an earlier version must be renewed."
    )
    published_at: datetime
    published_by: str

    @classmethod
    def from_model(cls, n: m.NoticeVersion) -> NoticeVersion:
        return cls(
            purpose=n.purpose, version=n.version, language=n.language, text=n.text,
            sha256=n.sha256, material=n.material, published_at=n.published_at,
            published_by=n.published_by,
        )  # fmt: skip


@strawberry.type(description="A processing purpose: what personal data is used for, and why.")
class Purpose:
    code: str
    name: str
    description: str
    legal_basis: LegalBasis  # type: ignore[valid-type]
    channels: list[Channel]  # type: ignore[valid-type]
    data_categories: list[str]
    retention_days: int
    consent_validity_days: int | None = strawberry.field(
        description="A consent older than this many days no longer counts (null: no limit)."
    )
    direct_marketing: bool
    created_at: datetime
    created_by: str
    notices: list[NoticeVersion] = strawberry.field(description="Oldest first.")
    revision: int | None = strawberry.field(
        description="Counts every change: registration, notice versions, updates."
    )
    product_categories: list[str] = strawberry.field(
        description="The controller's own goods or services the purpose advertises; the "
        "existing-customer exception (UWG §7(3)) holds for sales of these categories only."
    )

    @classmethod
    def from_model(cls, p: m.Purpose) -> Purpose:
        return cls(
            code=p.code, name=p.name, description=p.description, legal_basis=p.legal_basis,
            channels=list(p.channels), data_categories=list(p.data_categories),
            retention_days=p.retention_days, consent_validity_days=p.consent_validity_days,
            direct_marketing=p.direct_marketing, created_at=p.created_at,
            created_by=p.created_by, notices=[NoticeVersion.from_model(n) for n in p.notices],
            revision=p.revision, product_categories=list(p.product_categories),
        )  # fmt: skip


@strawberry.type(description="One field a purpose change changed.")
class PurposeFieldChange:
    field: str
    before: str = strawberry.field(description="As JSON.")
    after: str = strawberry.field(description="As JSON.")


@strawberry.type(description="A change of a purpose, with who made it and why.")
class PurposeChange:
    purpose: str
    revision: int
    changed_at: datetime
    changed_by: str
    reason: str
    changes: list[PurposeFieldChange]

    @classmethod
    def from_model(cls, c: PurposeChangeModel) -> PurposeChange:
        return cls(
            purpose=c.purpose, revision=c.revision, changed_at=c.changed_at,
            changed_by=c.changed_by, reason=c.reason,
            changes=[PurposeFieldChange(field=k, before=json.dumps(b, default=str),
                                        after=json.dumps(a, default=str))
                     for k, (b, a) in sorted(c.changes.items())],
        )  # fmt: skip


@strawberry.type(
    description="How an event came in by importConsentEvents: the system, the batch's "
    "reference, the SHA-256 of the document it was taken from, who imported it and when."
)
class ConsentImportProof:
    import_id: strawberry.ID
    source: str
    reference: str
    document_sha256: str
    imported_by: str
    imported_at: datetime

    @classmethod
    def from_model(cls, p: m.ImportProof) -> ConsentImportProof:
        return cls(
            import_id=strawberry.ID(p.import_id),
            source=p.source,
            reference=p.reference,
            document_sha256=p.document_sha256,
            imported_by=p.imported_by,
            imported_at=p.imported_at,
        )


@strawberry.type(description="One event in a person's append-only consent history, with proof.")
class ConsentEvent:
    id: strawberry.ID
    person_id: strawberry.ID
    type: ConsentEventType  # type: ignore[valid-type]
    purpose: str | None
    channel: Channel | None  # type: ignore[valid-type]
    notice_version: int | None
    notice_sha256: str | None
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str = strawberry.field(description="The caller that recorded it (token subject).")
    collection_point: str = strawberry.field(description="Where it was collected: form, shop.")
    method: CollectionMethod  # type: ignore[valid-type]
    actor: ConsentActor  # type: ignore[valid-type]
    staff_id: str | None
    language: str | None
    evidence_ref: str | None
    confirms: strawberry.ID | None
    birth_date: date | None
    imported: ConsentImportProof | None = strawberry.field(
        default=None, description="Set when the event was imported (not recorded as it happened)."
    )
    product_category: str | None = strawberry.field(
        default=None, description="SALE_RECORDED: the product category of the sale."
    )

    @classmethod
    def from_model(cls, e: m.ConsentEvent) -> ConsentEvent:
        return cls(
            id=strawberry.ID(e.id),
            person_id=strawberry.ID(e.person_id),
            type=e.type,
            purpose=e.purpose,
            channel=e.channel,
            notice_version=e.notice_version,
            notice_sha256=e.notice_sha256,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
            recorded_by=e.recorded_by,
            collection_point=e.collection_point,
            method=e.method,
            actor=e.actor,
            staff_id=e.staff_id,
            language=e.language,
            evidence_ref=e.evidence_ref,
            confirms=strawberry.ID(e.confirms) if e.confirms else None,
            birth_date=e.birth_date,
            imported=ConsentImportProof.from_model(e.imported) if e.imported else None,
            product_category=e.product_category,
        )


@strawberry.type(description="The answer of the contact check, with its reason.")
class ContactDecision:
    person_id: strawberry.ID
    answered_for: strawberry.ID = strawberry.field(
        description="The person the answer is for: the id asked about, or the survivor it "
        "was merged into (the answer then covers the whole merge group's histories)."
    )
    purpose: str
    channel: Channel  # type: ignore[valid-type]
    at: datetime
    allowed: bool
    reason: ContactReason  # type: ignore[valid-type]
    legal_basis: LegalBasis | None  # type: ignore[valid-type]
    deciding_event_id: strawberry.ID | None
    deciding_event_type: ConsentEventType | None  # type: ignore[valid-type]
    deciding_event_at: datetime | None
    obligations: list[ContactObligation] = strawberry.field(  # type: ignore[valid-type]
        description="What the sending system must do when it contacts the person on this "
        "answer (EXISTING_CUSTOMER: OPT_OUT_NOTICE_IN_EVERY_MESSAGE, UWG §7(3) Nr. 4)."
    )

    @classmethod
    def from_model(cls, d: ContactDecisionModel) -> ContactDecision:
        v, fact = d.verdict, d.verdict.deciding
        return cls(
            person_id=strawberry.ID(d.person_id), answered_for=strawberry.ID(d.answered_for),
            purpose=d.purpose, channel=d.channel, at=d.at, allowed=v.allowed, reason=v.reason,
            legal_basis=v.legal_basis,
            deciding_event_id=strawberry.ID(fact.id) if fact else None,
            deciding_event_type=fact.type if fact else None,
            deciding_event_at=fact.occurred_at if fact else None,
            obligations=list(v.obligations),
        )  # fmt: skip


MergeState = strawberry.enum(m.MergeState, name="ConsentMergeState")


@strawberry.type(
    description="A profile merge as the consent service recorded it: from `linkedAt` on, the "
    "two histories count as one (restrictive side wins until a consent given after it)."
)
class ConsentMerge:
    merge_id: strawberry.ID
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    linked_at: datetime
    state: MergeState  # type: ignore[valid-type]
    undone_at: datetime | None

    @classmethod
    def from_model(cls, link: m.MergeLink) -> ConsentMerge:
        return cls(
            merge_id=strawberry.ID(link.merge_id), survivor_id=strawberry.ID(link.survivor_id),
            merged_id=strawberry.ID(link.merged_id), linked_at=link.linked_at,
            state=link.state, undone_at=link.undone_at,
        )  # fmt: skip


@strawberry.type(description="Someone read a person's consent records.")
class ConsentRead:
    audit_id: strawberry.ID
    person_id: strawberry.ID
    reader: str
    roles: list[str]
    operation: str
    at: datetime

    @classmethod
    def from_model(cls, a: ReadAudit) -> ConsentRead:
        return cls(
            audit_id=strawberry.ID(a.id), person_id=strawberry.ID(a.person_ids[0]),
            reader=a.reader, roles=list(a.roles), operation=a.operation, at=a.at,
        )  # fmt: skip


@strawberry.input
class RegisterPurposeInput:
    code: str
    name: str
    description: str
    legal_basis: LegalBasis  # type: ignore[valid-type]
    channels: list[Channel]  # type: ignore[valid-type]
    data_categories: list[str]
    retention_days: int
    direct_marketing: bool
    consent_validity_days: int | None = None
    product_categories: list[str] = strawberry.field(
        default_factory=list,
        description="The controller's own goods or services the purpose advertises "
        "(lower-case codes such as 'shoes'); the existing-customer exception needs a sale of "
        "one of them.",
    )


@strawberry.input(description="Only the fields given change; the code, legal basis and "
                  "direct-marketing flag never do.")  # fmt: skip
class UpdatePurposeInput:
    code: str
    reason: str = strawberry.field(description="Why (10-2,000 characters); kept with the change.")
    name: str | None = None
    description: str | None = None
    channels: list[Channel] | None = None  # type: ignore[valid-type]
    data_categories: list[str] | None = None
    retention_days: int | None = None
    consent_validity_days: int | None = strawberry.field(
        default=None, description="A number of days; see clearConsentValidity to remove it."
    )
    clear_consent_validity: bool = False
    product_categories: list[str] | None = strawberry.field(
        default=None, description="Replaces the list; [] ends the existing-customer exception."
    )


@strawberry.input
class PublishNoticeInput:
    purpose: str
    language: str
    text: str
    material: bool = strawberry.field(
        default=False, description="Those who agreed to an earlier version must agree again."
    )


@strawberry.input(description="A consent event with its proof; which proof each type needs "
                  "is in docs/consent.md.")  # fmt: skip
class ConsentEventInput:
    person_id: strawberry.ID
    type: ConsentEventType  # type: ignore[valid-type]
    collection_point: str
    method: CollectionMethod  # type: ignore[valid-type]
    actor: ConsentActor  # type: ignore[valid-type]
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When it happened; default: now."
    )
    purpose: str | None = None
    channel: Channel | None = None  # type: ignore[valid-type]
    notice_version: int | None = None
    language: str | None = None
    staff_id: str | None = None
    evidence_ref: str | None = None
    confirms: strawberry.ID | None = strawberry.field(
        default=None, description="CONFIRMED: the PENDING_DOUBLE_OPT_IN event it confirms."
    )
    birth_date: date | None = strawberry.field(default=None, description="AGE_EVIDENCE only.")
    product_category: str | None = strawberry.field(
        default=None,
        description="SALE_RECORDED only (required): the product category of the sale, one "
        "of the purpose's productCategories for the existing-customer exception.",
    )


@strawberry.type(
    description="What a merge would do to the contact check for one purpose and channel: "
    "the survivor now (before) and the merged group (after). Reasons are the contact check's "
    "reason codes."
)
class MergeContactChange:
    purpose: str
    purpose_name: str
    channel: Channel  # type: ignore[valid-type]
    allowed_before: bool
    allowed_after: bool
    reason_before: str
    reason_after: str
    merged_allowed_before: bool = strawberry.field(
        description="The merged person now, before the merge."
    )

    @classmethod
    def from_model(cls, c: ContactChange) -> MergeContactChange:
        return cls(
            purpose=c.purpose.code,
            purpose_name=c.purpose.name,
            channel=c.channel,
            allowed_before=c.before.allowed,
            allowed_after=c.after.allowed,
            reason_before=c.before.reason.value,
            reason_after=c.after.reason.value,
            merged_allowed_before=c.merged_before.allowed,
        )
