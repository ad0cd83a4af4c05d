"""GraphQL for the re-consent worklist after a material notice version."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_consent.domain import reconsent as rc
from mdm_consent.graphql import types as t
from mdm_consent.graphql.context import ConsentContext

Info = strawberry.Info[ConsentContext, None]
WORKLIST_ROLES = (Role.COMPLIANCE,)


@strawberry.type(description="A person (merge group, by its survivor) to ask for consent again.")
class RenewalDue:
    person_id: strawberry.ID
    purpose: str
    channel: t.Channel  # type: ignore[valid-type]
    agreed_version: int | None = strawberry.field(
        description="The notice version the person agreed to."
    )
    required_version: int = strawberry.field(
        description="The material notice version that requires renewed consent."
    )
    required_published_at: datetime = strawberry.field(
        description="When the required version was published."
    )
    current_version: int = strawberry.field(description="The notice version to ask for now.")
    granted_at: datetime
    grant_event_id: strawberry.ID = strawberry.field(
        description="The grant the contact check rests on (its deciding event)."
    )

    @classmethod
    def from_model(cls, x: rc.RenewalDue) -> RenewalDue:
        return cls(
            person_id=strawberry.ID(x.person_id),
            purpose=x.purpose,
            channel=x.channel,
            agreed_version=x.agreed_version,
            required_version=x.required_version,
            required_published_at=x.required_published_at,
            current_version=x.current_version,
            granted_at=x.granted_at,
            grant_event_id=strawberry.ID(x.grant_event_id),
        )


@strawberry.type(description="A page of the re-consent worklist.")
class ReconsentWorklist:
    purpose: str
    channel: t.Channel  # type: ignore[valid-type]
    generated_at: datetime
    generated_by: str
    total_count: int = strawberry.field(description="Persons due over the whole list.")
    entries: list[RenewalDue]
    has_next_page: bool
    end_cursor: strawberry.ID | None
    csv: str = strawberry.field(
        description="This page's entries as CSV for the mailing system (RFC 4180, CRLF, "
        f"header row: {', '.join(rc.CSV_COLUMNS)})."
    )

    @classmethod
    def from_model(cls, x: rc.Worklist) -> ReconsentWorklist:
        return cls(
            purpose=x.purpose,
            channel=x.channel,
            generated_at=x.generated_at,
            generated_by=x.generated_by,
            total_count=x.total,
            entries=[RenewalDue.from_model(e) for e in x.entries],
            has_next_page=x.has_next_page,
            end_cursor=strawberry.ID(x.end_cursor) if x.end_cursor else None,
            csv=x.csv,
        )


@strawberry.type
class ReconsentQuery:
    @strawberry.field(
        description="Who must be asked for consent again: the persons the contact check now "
        "answers RENEWAL_REQUIRED for the purpose and channel (a material notice version came "
        "after their consent), by person id; a merge group once, by its survivor. Cursor "
        f"pagination (at most {rc.MAX_PAGE} a page). Role: compliance; audited."
    )
    async def reconsent_worklist(
        self,
        info: Info,
        purpose: str,
        channel: t.Channel,  # type: ignore[valid-type]
        first: int = 100,
        after: strawberry.ID | None = None,
    ) -> ReconsentWorklist:
        reader = info.context.require(*WORKLIST_ROLES)
        now = datetime.now(UTC)
        cursor = str(after) if after else None
        found = await info.context.transactions.write(
            lambda s: rc.worklist(
                s,
                purpose=purpose,
                channel=channel,
                first=first,
                after=cursor,
                reader=reader,
                now=now,
            )
        )
        return ReconsentWorklist.from_model(found)
