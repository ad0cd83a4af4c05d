"""Data-subject requests in the matching subgraph (docs/data-subject-requests.md).

The consent service calls these with the whole merge group's ids; role compliance.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.contracts import PersonalDataItem
from mdm_common.read_audit.edge import PersonDataRead
from mdm_matching.domain import privacy
from mdm_matching.graphql.context import MatchingContext

Info = strawberry.Info[MatchingContext, None]

COMPLIANCE_ROLES = (Role.COMPLIANCE,)


@strawberry.type(description="One thing matching holds under a person id.")
class MatchingDataItem:
    person_id: strawberry.ID
    origin: str = strawberry.field(
        description="subject | reviewTask | decision | rematchProposal | rematchStep | erasure"
    )
    category: str = strawberry.field(
        description="Data category (mdm_common DataCategory); a stored feature keeps its "
        "attribute's category."
    )
    field: str
    value: str = strawberry.field(description="As text; structured entries as compact JSON.")
    recorded_at: datetime | None

    @classmethod
    def from_model(cls, item: PersonalDataItem) -> MatchingDataItem:
        return cls(
            person_id=strawberry.ID(item.person_id), origin=item.origin,
            category=item.category, field=item.field, value=item.value,
            recorded_at=item.recorded_at,
        )  # fmt: skip


@strawberry.type(description="Everything matching holds under these person ids.")
class MatchingPersonalData:
    person_ids: list[strawberry.ID]
    restricted: bool = strawberry.field(description="Processing restricted (Art. 18).")
    items: list[MatchingDataItem]


@strawberry.type(description="What an erasure removed (0s when erased before).")
class MatchingErasure:
    person_ids: list[strawberry.ID]
    removed_subjects: int
    removed_tasks: int


@strawberry.type
class MatchingRestriction:
    person_ids: list[strawberry.ID]
    restricted: bool


def _ids(ids: tuple[str, ...]) -> list[strawberry.ID]:
    return [strawberry.ID(i) for i in ids]


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description="Everything matching holds on these ids (a merge group): the comparable "
        "copy with its features, review tasks, decisions, re-matching proposals and steps. "
        "Unknown ids hold nothing. Role: compliance."
    )
    async def matching_personal_data(
        self, info: Info, person_ids: list[strawberry.ID]
    ) -> MatchingPersonalData:
        ctx = info.context
        ctx.require(*COMPLIANCE_ROLES)
        ids = privacy.checked_ids([str(i) for i in person_ids])
        found = await ctx.transactions.read(lambda s: privacy.export(ids, s))
        ctx.read_persons(found.person_ids)
        return MatchingPersonalData(
            person_ids=_ids(found.person_ids), restricted=found.restricted,
            items=[MatchingDataItem.from_model(i) for i in found.items],
        )  # fmt: skip

    @strawberry.field(
        description="The read audit (GDPR Art. 5(2)): who read what matching holds on a person "
        "(review tasks, candidates, decisions), or whose data a reader read, or both; newest "
        "first, one entry per request and person. Role: compliance."
    )
    async def matching_reads(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        reader: str | None = None,
        since: datetime | None = None,
        first: int = 100,
    ) -> list[PersonDataRead]:
        info.context.require(*COMPLIANCE_ROLES)
        found = await info.context.read_audits.reads(
            person_id=str(person_id) if person_id is not None else None,
            reader=reader,
            since=since,
            first=first,
        )
        return [PersonDataRead.from_model(r) for r in found]


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Erase what matching holds on these ids, in one transaction: subjects with "
        "features and blocking keys, review tasks, re-matching proposals; decisions stay as "
        "the audit trail without notes or fingerprints. The ids are never registered again. "
        "Idempotent. Role: compliance."
    )
    async def erase_matching_data(
        self, info: Info, person_ids: list[strawberry.ID], request_id: strawberry.ID
    ) -> MatchingErasure:
        ctx = info.context
        ctx.require(*COMPLIANCE_ROLES)
        ids = privacy.checked_ids([str(i) for i in person_ids])
        request = privacy.checked_request_id(str(request_id))
        now = datetime.now(UTC)
        done = await ctx.transactions.write(lambda s: privacy.erase(ids, request, s, now=now))
        return MatchingErasure(
            person_ids=_ids(done.person_ids), removed_subjects=done.removed_subjects,
            removed_tasks=done.removed_tasks,
        )  # fmt: skip

    @strawberry.mutation(
        description="Restrict (or, with restricted: false, lift) the processing of these ids: "
        "while restricted they are neither merged nor proposed for review, as newcomers or "
        "as candidates. After lifting, rematchPerson (or the next update or batch job) "
        "matches them again. Idempotent. Role: compliance."
    )
    async def restrict_matching_processing(
        self, info: Info, person_ids: list[strawberry.ID], request_id: strawberry.ID,
        restricted: bool,
    ) -> MatchingRestriction:  # fmt: skip
        ctx = info.context
        ctx.require(*COMPLIANCE_ROLES)
        ids = privacy.checked_ids([str(i) for i in person_ids])
        request = privacy.checked_request_id(str(request_id))
        now = datetime.now(UTC)
        done = await ctx.transactions.write(
            lambda s: privacy.restrict(ids, request, s, restricted=restricted, now=now)
        )
        return MatchingRestriction(person_ids=_ids(done.person_ids), restricted=done.restricted)
