"""GraphQL for data-subject requests (docs/data-subject-requests.md, "Profile").

Role ``compliance`` only (``admin`` holds every role): the consent service calls
these as ``service:consent`` when it carries out a request.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from mdm_common.auth import Role
from mdm_common.contracts import PersonalDataItem
from mdm_common.read_audit.edge import PersonDataRead
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.history_store import GraphHistoryStore
from mdm_profile.adapters.hold_store import GraphHoldStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore, GraphSuppressionList
from mdm_profile.domain import personal_data, privacy, retention
from mdm_profile.graphql.context import ProfileContext
from mdm_profile.graphql.holds import ProfileHeldData, ProfileHoldInput

Info = strawberry.Info[ProfileContext, None]
PRIVACY_ROLES = (Role.COMPLIANCE,)


@strawberry.type(description="One thing the profile holds on a person.")
class ProfileDataItem:
    person_id: strawberry.ID = strawberry.field(
        description="The id the item is stored under (survivor or merged-away id)."
    )
    origin: str = strawberry.field(
        description="golden | sourceRecord | household | company | relation | merge"
    )
    category: str = strawberry.field(description="mdm_common.contracts.DataCategory")
    field: str
    value: str = strawberry.field(description="As text; structured values as compact JSON.")
    source: str | None
    source_id: str | None
    recorded_at: datetime | None

    @classmethod
    def from_model(cls, item: PersonalDataItem) -> ProfileDataItem:
        return cls(
            person_id=strawberry.ID(item.person_id), origin=item.origin, category=item.category,
            field=item.field, value=item.value, source=item.source, source_id=item.source_id,
            recorded_at=item.recorded_at,
        )  # fmt: skip


@strawberry.type(description="Everything the profile holds on a person's merge group.")
class ProfilePersonalData:
    person_ids: list[strawberry.ID] = strawberry.field(
        description="The merge group: the survivor first, then merged-away ids."
    )
    erased: bool = strawberry.field(description="Erased earlier: no items.")
    restricted: bool = strawberry.field(description="Processing restricted (Art. 18).")
    items: list[ProfileDataItem]


@strawberry.type(description="What an erasure did; all zero when erased before.")
class ProfileErasure:
    person_ids: list[strawberry.ID]
    removed_records: int
    suppression_entries: int
    already_erased: bool
    erased_categories: list[str] = strawberry.field(
        description="Categories of which values were erased (empty when erased before)."
    )
    restricted: list[ProfileHeldData] = strawberry.field(
        description="What retention duties keep, restricted, with the duty, the legal "
        "reference and the end (Art. 17(3)(b), (e))."
    )


@strawberry.type(description="What the retention job's removal of categories did.")
class ProfilePurge:
    person_ids: list[strawberry.ID]
    removed_values: int = strawberry.field(
        description="Values emptied (source records, golden and merged-away values); 0 when "
        "nothing was left to remove."
    )
    restricted: list[ProfileHeldData] = strawberry.field(
        description="Values removed from the person but kept, restricted, under a legal hold."
    )


@strawberry.type
class ProfileRestriction:
    person_ids: list[strawberry.ID]
    restricted: bool


def _ids(ids: list[str]) -> list[strawberry.ID]:
    return [strawberry.ID(i) for i in ids]


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        description="Access and portability (Art. 15/20): everything the profile holds on the "
        "person's merge group. NOT_FOUND for an id the profile never had. Role: compliance."
    )
    async def profile_personal_data(
        self, info: Info, person_id: strawberry.ID
    ) -> ProfilePersonalData:
        info.context.require(*PRIVACY_ROLES)
        found = await info.context.graph.read(
            lambda tx: personal_data.personal_data(str(person_id), store=GraphPrivacyStore(tx))
        )
        info.context.read_persons(found.person_ids)
        return ProfilePersonalData(
            person_ids=_ids(found.person_ids), erased=found.erased, restricted=found.restricted,
            items=[ProfileDataItem.from_model(i) for i in found.items],
        )  # fmt: skip

    @strawberry.field(
        description="The read audit (GDPR Art. 5(2)): who read a person's profile data, or whose "
        "profile data a reader read, or both; newest first, one entry per request and person. "
        "Role: compliance."
    )
    async def profile_reads(
        self,
        info: Info,
        person_id: strawberry.ID | None = None,
        reader: str | None = None,
        since: datetime | None = None,
        first: int = 100,
    ) -> list[PersonDataRead]:
        info.context.require(*PRIVACY_ROLES)
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
        description="Erasure (Art. 17) of the person's merge group in one transaction: records, "
        "contact points, memberships go; tombstones and a suppression list stay; what the "
        "retention duties in `holds` cover stays, restricted, until they end. Idempotent. "
        "Role: compliance."
    )
    async def erase_profile_data(
        self,
        info: Info,
        person_id: strawberry.ID,
        request_id: strawberry.ID,
        holds: list[ProfileHoldInput] | None = None,
    ) -> ProfileErasure:
        ctx = info.context
        ctx.require(*PRIVACY_ROLES)
        now = datetime.now(UTC)
        done = await ctx.unit_of_work.write(
            lambda tx, events: privacy.erase(
                str(person_id), str(request_id), store=GraphPrivacyStore(tx),
                suppressions=GraphSuppressionList(tx), suppressor=ctx.suppressor,
                events=events, now=now,
                holds=[x.to_model() for x in holds or ()], held=GraphHoldStore(tx),
            )
        )  # fmt: skip
        ctx.forget_reads()
        return ProfileErasure(
            person_ids=_ids(done.person_ids), removed_records=done.removed_records,
            suppression_entries=done.suppression_entries, already_erased=done.already_erased,
            erased_categories=list(done.erased_categories),
            restricted=[ProfileHeldData.from_model(x) for x in done.restricted],
        )  # fmt: skip

    @strawberry.mutation(
        description="Restriction of processing (Art. 18) of the person's merge group, set or "
        "lifted: while set, merges with it are refused (CONFLICT, reason "
        "PROCESSING_RESTRICTED). Role: compliance."
    )
    async def restrict_profile_processing(
        self, info: Info, person_id: strawberry.ID, request_id: strawberry.ID, restricted: bool
    ) -> ProfileRestriction:
        ctx = info.context
        ctx.require(*PRIVACY_ROLES)
        now = datetime.now(UTC)
        done = await ctx.unit_of_work.write(
            lambda tx, events: privacy.restrict(
                str(person_id), str(request_id), restricted=restricted,
                store=GraphPrivacyStore(tx), events=events, now=now,
            )
        )  # fmt: skip
        ctx.forget_reads()
        return ProfileRestriction(person_ids=_ids(done.person_ids), restricted=done.restricted)

    @strawberry.mutation(
        description="Retention (the consent service's job): remove attribute categories "
        "(identity, birth_date, email, phone, postal_address, language) whose purposes have "
        "lapsed from the person's merge group, in one transaction; the golden record is rebuilt "
        "from what is left. `reference`: the retention run. What `holds` cover (the UWG §7a "
        "phone proof) is kept, restricted, until they end. Idempotent. Role: compliance."
    )
    async def purge_profile_attributes(
        self, info: Info, person_id: strawberry.ID, categories: list[str],
        reference: strawberry.ID, holds: list[ProfileHoldInput] | None = None,
    ) -> ProfilePurge:  # fmt: skip
        ctx = info.context
        ctx.require(*PRIVACY_ROLES)
        now = datetime.now(UTC)
        done = await ctx.unit_of_work.write(
            lambda tx, events: retention.purge(
                str(person_id), categories, str(reference), store=GraphPrivacyStore(tx),
                contacts=GraphPrivacyStore(tx), people=GraphPersonStore(tx),
                snapshots=GraphMergeStore(tx), history=GraphHistoryStore(tx),
                households=ctx.household_store(tx),
                sources=ctx.sources, rules=ctx.rules, events=events, now=now,
                holds=[x.to_model() for x in holds or ()], held=GraphHoldStore(tx),
            )
        )  # fmt: skip
        ctx.forget_reads()
        return ProfilePurge(
            person_ids=_ids(done.person_ids),
            removed_values=done.removed_values,
            restricted=[ProfileHeldData.from_model(x) for x in done.restricted],
        )
