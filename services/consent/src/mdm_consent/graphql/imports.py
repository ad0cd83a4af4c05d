"""GraphQL for importing consent histories from another system (compliance only)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import imports
from mdm_consent.domain import models as m
from mdm_consent.domain.consents import EventDraft
from mdm_consent.graphql.context import ConsentContext
from mdm_consent.graphql.types import ConsentEvent, ConsentEventInput, ConsentImportProof

Info = strawberry.Info[ConsentContext, None]
IMPORT_ROLES = (Role.COMPLIANCE,)


@strawberry.input(
    description="Consent events taken over from another system, with the evidence they "
    f"were taken from; 1 to {imports.MAX_EVENTS} events, all of them or none."
)
class ConsentImportInput:
    source: str = strawberry.field(description="The system the events come from.")
    reference: str = strawberry.field(
        description="The batch's reference in that system (export name, file, case)."
    )
    document_sha256: str = strawberry.field(
        description="SHA-256 (hex) of the document the events were taken from."
    )
    events: list[ConsentEventInput] = strawberry.field(
        description="Each with its proof as for recordConsentEvent, and occurredAt."
    )


@strawberry.type(description="An import: its proof, and the events as stored.")
class ConsentImport:
    proof: ConsentImportProof
    events: list[ConsentEvent]

    @classmethod
    def from_model(cls, x: imports.ConsentImport) -> ConsentImport:
        return cls(
            proof=ConsentImportProof.from_model(x.proof),
            events=[ConsentEvent.from_model(e) for e in x.events],
        )


def draft_of(input: ConsentEventInput) -> EventDraft:  # noqa: A002 - GraphQL argument name
    return EventDraft(
        person_id=str(input.person_id),
        type=m.EventType(input.type),
        collection_point=input.collection_point,
        method=m.Method(input.method),
        actor=m.ActorType(input.actor),
        occurred_at=input.occurred_at,
        purpose=input.purpose,
        channel=m.Channel(input.channel) if input.channel else None,
        notice_version=input.notice_version,
        language=input.language,
        staff_id=input.staff_id,
        evidence_ref=input.evidence_ref,
        confirms=str(input.confirms) if input.confirms else None,
        birth_date=input.birth_date,
        product_category=input.product_category,
    )


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        description="Import consent events of the past from another system: any type, any "
        "past time, each with its proof; stored marked as imported with the import's "
        "evidence (source, reference, document SHA-256, who, when), shown in the history, "
        "the printable document and exports. An imported grant never lifts an objection. "
        "Role: compliance."
    )
    async def import_consent_events(
        self,
        info: Info,
        input: ConsentImportInput,  # noqa: A002 - GraphQL argument name
    ) -> ConsentImport:
        ctx = info.context
        principal = ctx.require(*IMPORT_ROLES)
        draft = imports.ImportDraft(
            source=input.source,
            reference=input.reference,
            document_sha256=input.document_sha256,
            events=tuple(draft_of(e) for e in input.events),
        )
        done = await imports.import_events(
            draft,
            directory=ctx.directory,
            transactions=ctx.transactions,
            now=datetime.now(UTC),
            imported_by=principal.subject,
        )
        return ConsentImport.from_model(done)
