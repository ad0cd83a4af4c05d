"""GraphQL for legal holds (docs/data-subject-requests.md, "Legal holds").

What retention duties keep of an erased person, restricted: the consent service names
the duties at erasure, lists what has expired and releases it in its daily job. Role
``compliance`` only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import strawberry

from mdm_common.auth import Role
from mdm_profile.adapters.hold_store import GraphHoldStore
from mdm_profile.adapters.privacy_store import GraphPrivacyStore
from mdm_profile.domain import holds as hd
from mdm_profile.domain import privacy
from mdm_profile.graphql.context import ProfileContext

Info = strawberry.Info[ProfileContext, None]

HOLD_ROLES = (Role.COMPLIANCE,)
PeriodStart = strawberry.enum(hd.PeriodStart, name="ProfileHoldPeriodStart")


@strawberry.input(description="A retention duty that applies to an erasure (Art. 17(3)).")
class ProfileHoldInput:
    duty: str = strawberry.field(description="The duty's code.")
    name: str
    legal_reference: str = strawberry.field(description="e.g. HGB_257, AO_147, UWG_7A")
    source_systems: list[str] = strawberry.field(
        default_factory=list, description="Records of these systems are kept whole."
    )
    data_categories: list[str] = strawberry.field(
        default_factory=list, description="Of other records, these categories' values are kept."
    )
    period_years: int = 0
    starts: PeriodStart = hd.PeriodStart.END_OF_YEAR  # type: ignore[valid-type]
    until: date | None = strawberry.field(
        default=None, description="A fixed end instead of a period (the UWG §7a proof)."
    )

    def to_model(self) -> hd.HoldInstruction:
        return hd.HoldInstruction(
            duty=self.duty,
            name=self.name,
            legal_reference=self.legal_reference,
            source_systems=tuple(self.source_systems),
            data_categories=tuple(self.data_categories),
            period_years=self.period_years,
            starts=hd.PeriodStart(self.starts),
            until=self.until,
        )


@strawberry.type(description="A duty that keeps a held record, and until when.")
class ProfileHoldReason:
    duty: str
    name: str
    legal_reference: str
    until: date


@strawberry.type(
    description="What a retention duty keeps of a source record of an erased person, "
    "restricted: never in the golden record, search, matching or exports."
)
class ProfileHeldData:
    person_id: strawberry.ID
    source: str
    source_id: str
    categories: list[str] = strawberry.field(description="The attribute categories kept.")
    until: date = strawberry.field(description="The day the last duty ends.")
    holds: list[ProfileHoldReason]

    @classmethod
    def from_model(cls, x: hd.HeldRecord) -> ProfileHeldData:
        return cls(
            person_id=strawberry.ID(x.person_id),
            source=x.record.source,
            source_id=x.record.source_id,
            categories=list(x.categories),
            until=x.until,
            holds=[
                ProfileHoldReason(
                    duty=r.duty, name=r.name, legal_reference=r.legal_reference, until=r.until
                )
                for r in x.reasons
            ],
        )


@strawberry.type(description="What the end of holds erased.")
class ProfileHoldRelease:
    person_ids: list[strawberry.ID]
    released: list[ProfileHeldData]


def _today() -> date:
    return datetime.now(UTC).date()


@strawberry.type
class HoldQuery:
    @strawberry.field(
        description="Held records whose every duty has ended (to be erased by the retention "
        "job), the oldest end first. Role: compliance."
    )
    async def expired_profile_holds(self, info: Info, first: int = 200) -> list[ProfileHeldData]:
        info.context.require(*HOLD_ROLES)
        found = await info.context.graph.read(
            lambda tx: hd.expired_holds(GraphHoldStore(tx), today=_today(), first=first)
        )
        return [ProfileHeldData.from_model(x) for x in found]


@strawberry.type
class HoldMutation:
    @strawberry.mutation(
        description="Erase what retention duties held of the person's (erased) merge group once "
        "every duty has ended; the rest stays. `reference`: the retention run. Idempotent. "
        "Role: compliance."
    )
    async def release_profile_holds(
        self, info: Info, person_id: strawberry.ID, reference: strawberry.ID
    ) -> ProfileHoldRelease:
        ctx = info.context
        ctx.require(*HOLD_ROLES)
        today = _today()
        ids, released = await ctx.unit_of_work.write(
            lambda tx, events: privacy.release_holds(
                str(person_id),
                str(reference),
                store=GraphPrivacyStore(tx),
                held=GraphHoldStore(tx),
                today=today,
            )
        )
        return ProfileHoldRelease(
            person_ids=[strawberry.ID(i) for i in ids],
            released=[ProfileHeldData.from_model(x) for x in released],
        )
