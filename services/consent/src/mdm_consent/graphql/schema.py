"""The consent subgraph: purposes, consent history, contact check, read audit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.graphql import Extension, SubgraphSchema
from mdm_common.metrics import contact_checks
from mdm_consent.domain import audit, checks, consents, figures, merges, purposes, reports
from mdm_consent.domain import models as m
from mdm_consent.graphql import types as t
from mdm_consent.graphql import views as v
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.expiry import ExpiryMutation, ExpiryQuery
from mdm_consent.graphql.holds import HoldMutation, HoldQuery
from mdm_consent.graphql.imports import ImportMutation, draft_of
from mdm_consent.graphql.objections import ObjectionMutation
from mdm_consent.graphql.person import Person
from mdm_consent.graphql.processing import ProcessingMutation, ProcessingQuery
from mdm_consent.graphql.reconsent import ReconsentQuery
from mdm_consent.graphql.rectification import RectificationMutation, RectificationQuery
from mdm_consent.graphql.requests import RequestMutation, RequestQuery
from mdm_consent.graphql.retention import RetentionMutation, RetentionQuery
from mdm_consent.graphql.submissions import SubmissionMutation

Info = strawberry.Info[ConsentContext, None]


@strawberry.type
class Query(
    RequestQuery,
    RetentionQuery,
    ProcessingQuery,
    ExpiryQuery,
    ReconsentQuery,
    HoldQuery,
    RectificationQuery,
):
    @strawberry.field(description="The purpose registry, by code. Roles: app, compliance.")
    async def purposes(self, info: Info) -> list[t.Purpose]:
        info.context.require(*t.PURPOSE_READ_ROLES)
        found = await info.context.transactions.read(lambda s: s.purposes.all())
        return [t.Purpose.from_model(p) for p in found]

    @strawberry.field(description="One purpose; NOT_FOUND if unknown. Roles: app, compliance.")
    async def purpose(self, info: Info, code: str) -> t.Purpose:
        info.context.require(*t.PURPOSE_READ_ROLES)
        found = await info.context.transactions.read(
            lambda s: purposes.known_purpose(s, code, field="code", texts=True)
        )
        return t.Purpose.from_model(found)

    @strawberry.field(
        description="A purpose's changes, oldest first (who, when, why, before and after). "
        "Role: compliance."
    )
    async def purpose_changes(self, info: Info, code: str) -> list[t.PurposeChange]:
        info.context.require(*t.REGISTRY_ROLES)
        found = await info.context.transactions.read(lambda s: purposes.changes_of(s, code))
        return [t.PurposeChange.from_model(c) for c in found]

    @strawberry.field(
        description="A person's consent history with its proof, newest first. "
        "Role: compliance; every read is audited."
    )
    async def consent_history(self, info: Info, person_id: strawberry.ID) -> list[t.ConsentEvent]:
        info.context.require(*t.READ_ROLES)
        history = await info.context.histories.load(str(person_id))
        return [t.ConsentEvent.from_model(e) for e in history]

    @strawberry.field(
        description="May we contact this person for this purpose over this channel now (or at "
        "`at`)? Roles: app, compliance."
    )
    async def contact_check(
        self, info: Info, person_id: strawberry.ID, purpose: str,
        channel: t.Channel,  # type: ignore[valid-type]
        at: datetime | None = None,
    ) -> t.ContactDecision:  # fmt: skip
        (decision,) = await _check(info, [str(person_id)], purpose, channel, at)
        return decision

    @strawberry.field(
        description="The contact check for many persons at once (campaign selection), at most "
        f"{checks.MAX_BATCH:,}; answers in the order asked. Roles: app, compliance."
    )
    async def contact_check_batch(
        self, info: Info, person_ids: list[strawberry.ID], purpose: str,
        channel: t.Channel,  # type: ignore[valid-type]
        at: datetime | None = None,
    ) -> list[t.ContactDecision]:  # fmt: skip
        return await _check(info, [str(p) for p in person_ids], purpose, channel, at)

    @strawberry.field(
        description="What merging mergedId into survivorId would do to the contact check at "
        "`at` (default now), for every registered purpose and each of its channels, by the "
        "rules the check applies to a merge group; writes nothing. Roles: steward, compliance."
    )
    async def merge_contact_preview(
        self,
        info: Info,
        survivor_id: strawberry.ID,
        merged_id: strawberry.ID,
        at: datetime | None = None,
    ) -> list[t.MergeContactChange]:
        info.context.require(*t.PREVIEW_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.read(
            lambda s: merges.preview_contacts(
                str(survivor_id), str(merged_id), s, at=at or now, now=now
            )
        )
        return [t.MergeContactChange.from_model(c) for c in found]

    @strawberry.field(
        description="The profile merges and unmerges the consent service recorded for a "
        "person, oldest first. Role: compliance; every read is audited."
    )
    async def consent_merges(self, info: Info, person_id: strawberry.ID) -> list[t.ConsentMerge]:
        reader = info.context.require(*t.READ_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: audit.read_merges(str(person_id), s, reader=reader, now=now)
        )
        return [t.ConsentMerge.from_model(link) for link in found]

    @strawberry.field(
        description="Who read a person's consent records, newest first. Role: compliance."
    )
    async def consent_reads(
        self, info: Info, person_id: strawberry.ID, since: datetime | None = None,
        first: int = 100,
    ) -> list[t.ConsentRead]:  # fmt: skip
        info.context.require(*t.READ_ROLES)
        found = await info.context.transactions.read(
            lambda s: audit.reads_of(str(person_id), s, since=since, limit=first)
        )
        return [t.ConsentRead.from_model(a) for a in found]

    @strawberry.field(
        description="A person's consent history (with the merge group's events) as a printable "
        "Markdown document: every event with its proof, oldest first, and the full text and "
        "SHA-256 of every notice version it refers to. Role: compliance; audited."
    )
    async def consent_history_document(
        self, info: Info, person_id: strawberry.ID
    ) -> v.ConsentHistoryDocument:
        reader = info.context.require(*t.READ_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: reports.history_document(str(person_id), s, reader=reader, now=now)
        )
        return v.ConsentHistoryDocument.from_model(found)

    @strawberry.field(
        description="A purpose's consent events per bucket and type in [since, until), and the "
        "persons the contact check allows now per channel. Role: compliance; audited."
    )
    async def consent_figures(
        self, info: Info, purpose: str, since: datetime, until: datetime,
        bucket: v.TimeBucket,  # type: ignore[valid-type]
    ) -> v.PurposeFigures:  # fmt: skip
        reader = info.context.require(*t.READ_ROLES)
        now = datetime.now(UTC)
        found = await info.context.transactions.write(
            lambda s: figures.purpose_figures(
                purpose, s, since=since, until=until, bucket=bucket, reader=reader, now=now
            )
        )
        return v.PurposeFigures.from_model(found)

    @strawberry.field(
        description="Who read the views that name no person (figures, records of processing), "
        "newest first. Role: compliance."
    )
    async def compliance_view_reads(
        self, info: Info, since: datetime | None = None, first: int = 100
    ) -> list[v.ComplianceViewRead]:
        info.context.require(*t.READ_ROLES)
        found = await info.context.transactions.read(
            lambda s: audit.view_reads(s, since=since, limit=first)
        )
        return [v.ComplianceViewRead.from_model(a) for a in found]


async def _check(
    info: Info, person_ids: list[str], purpose: str, channel: m.Channel, at: datetime | None
) -> list[t.ContactDecision]:
    info.context.require(*t.CHECK_ROLES)
    when = at or datetime.now(UTC)
    found = await info.context.transactions.read(
        lambda s: checks.contact_check(
            person_ids, s, purpose=purpose, channel=channel, at=when, cache=info.context.purposes
        )
    )
    for allowed, count in Counter(d.verdict.allowed for d in found).items():
        contact_checks.add(count, {"allowed": str(allowed).lower(), "channel": channel.value})
    return [t.ContactDecision.from_model(d) for d in found]


@strawberry.type
class Mutation(
    RequestMutation,
    RetentionMutation,
    ImportMutation,
    ProcessingMutation,
    ExpiryMutation,
    HoldMutation,
    RectificationMutation,
    ObjectionMutation,
    SubmissionMutation,
):
    @strawberry.mutation(description="Add a purpose to the registry. Role: compliance.")
    async def register_purpose(self, info: Info, input: t.RegisterPurposeInput) -> t.Purpose:  # noqa: A002 - GraphQL argument name
        principal = info.context.require(*t.REGISTRY_ROLES)
        draft = purposes.PurposeDraft(
            code=input.code, name=input.name, description=input.description,
            legal_basis=m.LegalBasis(input.legal_basis),
            channels=tuple(m.Channel(c) for c in input.channels),
            data_categories=tuple(input.data_categories), retention_days=input.retention_days,
            direct_marketing=input.direct_marketing,
            consent_validity_days=input.consent_validity_days,
            product_categories=tuple(input.product_categories),
        )  # fmt: skip
        now = datetime.now(UTC)
        created = await info.context.transactions.write(
            lambda s: purposes.register_purpose(draft, s, now=now, actor=principal.subject)
        )
        return t.Purpose.from_model(created)

    @strawberry.mutation(
        description="Change a purpose's name, description, channels, data categories, retention, "
        "consent validity or product categories, with the reason; the change is kept "
        "(`purposeChanges`). Takes effect at once for contact checks and from the next run "
        "for retention. Role: compliance."
    )
    async def update_purpose(self, info: Info, input: t.UpdatePurposeInput) -> t.Purpose:  # noqa: A002 - GraphQL argument name
        principal = info.context.require(*t.REGISTRY_ROLES)
        update = purposes.PurposeUpdate(
            reason=input.reason, name=input.name, description=input.description,
            channels=(tuple(m.Channel(c) for c in input.channels)
                      if input.channels is not None else None),
            data_categories=(tuple(input.data_categories)
                             if input.data_categories is not None else None),
            retention_days=input.retention_days,
            consent_validity_days=input.consent_validity_days,
            clear_consent_validity=input.clear_consent_validity,
            product_categories=(tuple(input.product_categories)
                                if input.product_categories is not None else None),
        )  # fmt: skip
        now = datetime.now(UTC)
        updated, _ = await info.context.transactions.write(
            lambda s: purposes.update_purpose(
                input.code, update, s, now=now, actor=principal.subject
            )
        )
        return t.Purpose.from_model(updated)

    @strawberry.mutation(
        description="Publish the next version of a purpose's notice text. Role: compliance."
    )
    async def publish_notice(self, info: Info, input: t.PublishNoticeInput) -> t.NoticeVersion:  # noqa: A002 - GraphQL argument name
        principal = info.context.require(*t.REGISTRY_ROLES)
        draft = purposes.NoticeDraft(purpose=input.purpose, language=input.language,
                                     text=input.text, material=input.material)  # fmt: skip
        now = datetime.now(UTC)
        notice = await info.context.transactions.write(
            lambda s: purposes.publish_notice(draft, s, now=now, actor=principal.subject)
        )
        return t.NoticeVersion.from_model(notice)

    @strawberry.mutation(
        description="Append an event that happens now (occurredAt within the configured "
        "skew of the server's clock) to a person's consent history; refused as a whole "
        "without the proof its type needs. Roles: app (what a customer does: GRANTED, "
        "PENDING_DOUBLE_OPT_IN, CONFIRMED, WITHDRAWN, OBJECTED), compliance (every type). "
        "E-mail marketing needs a double opt-in: GRANTED is refused there "
        "(DOUBLE_OPT_IN_REQUIRED). Events of the past: importConsentEvents."
    )
    async def record_consent_event(
        self,
        info: Info,
        input: t.ConsentEventInput,  # noqa: A002 - GraphQL argument name
    ) -> t.ConsentEvent:
        ctx = info.context
        principal = ctx.require(*t.WRITE_ROLES)
        draft = draft_of(input)
        # Applications record what a customer does; compliance also the controller's
        # own assertions (an expiry, a guardian's authorisation, evidence of age).
        officer = principal.has_any(frozenset({Role.COMPLIANCE}))
        event = await consents.record_event(
            draft,
            directory=ctx.directory,
            transactions=ctx.transactions,
            now=datetime.now(UTC),
            recorded_by=principal.subject,
            may_record=consents.EVERY_TYPE if officer else consents.CUSTOMER_ACTS,
            skew=ctx.event_skew,
            confirm_within=ctx.double_opt_in_window,
        )
        return t.ConsentEvent.from_model(event)


def build_schema(extensions: Sequence[Extension] = ()) -> SubgraphSchema:
    return SubgraphSchema(
        query=Query, mutation=Mutation, types=[Person], extensions=list(extensions)
    )
