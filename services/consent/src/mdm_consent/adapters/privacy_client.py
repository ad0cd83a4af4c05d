"""The profile and matching services' operations for data-subject requests.

Signed direct calls (see :mod:`mdm_common.subgraph_client`) on behalf of the
compliance officer who carries the request out, so each service checks the role and
its own records name the officer. The operations are in docs/data-subject-requests.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from mdm_common.auth import Principal, Role
from mdm_common.contracts import PersonalDataItem
from mdm_common.subgraph_client import SubgraphClient
from mdm_consent.domain.fulfilment import PROFILE, HeldData, Outcome
from mdm_consent.domain.legal_holds import Expired, LegalHold, LegalReference, Restricted

_ITEM = "personId origin category field value recordedAt"

PROFILE_DATA = (
    "query ProfileDataForRequest($id: ID!) { profilePersonalData(personId: $id) { "
    f"personIds erased restricted items {{ {_ITEM} source sourceId }} }} }}"
)
MATCHING_DATA = (
    "query MatchingDataForRequest($ids: [ID!]!) { matchingPersonalData(personIds: $ids) { "
    f"personIds restricted items {{ {_ITEM} }} }} }}"
)
DISTRIBUTION_DATA = (
    "query DistributionDataForRequest($ids: [ID!]!) { distributionPersonalData(personIds: $ids) "
    f"{{ personIds items {{ {_ITEM} }} }} }}"
)
_HELD = "personId source sourceId categories until holds { duty name legalReference until }"
ERASE_PROFILE = (
    "mutation EraseProfileForRequest($id: ID!, $request: ID!, $holds: [ProfileHoldInput!]) { "
    "eraseProfileData(personId: $id, requestId: $request, holds: $holds) { "
    f"personIds removedRecords suppressionEntries alreadyErased erasedCategories "
    f"restricted {{ {_HELD} }} }} }}"
)
EXPIRED_HOLDS = (
    "query ExpiredHoldsForRetention($first: Int!) { expiredProfileHolds(first: $first) "
    f"{{ {_HELD} }} }}"
)
RELEASE_HOLDS = (
    "mutation ReleaseHoldsForRetention($id: ID!, $reference: ID!) { "
    "releaseProfileHolds(personId: $id, reference: $reference) { personIds released { "
    "sourceId } } }"
)
ERASE_MATCHING = (
    "mutation EraseMatchingForRequest($ids: [ID!]!, $request: ID!) { "
    "eraseMatchingData(personIds: $ids, requestId: $request) { "
    "personIds removedSubjects removedTasks } }"
)
RESTRICT_PROFILE = (
    "mutation RestrictProfileForRequest($id: ID!, $request: ID!, $restricted: Boolean!) { "
    "restrictProfileProcessing(personId: $id, requestId: $request, restricted: $restricted) "
    "{ personIds restricted } }"
)
RESTRICT_MATCHING = (
    "mutation RestrictMatchingForRequest($ids: [ID!]!, $request: ID!, $restricted: Boolean!) "
    "{ restrictMatchingProcessing(personIds: $ids, requestId: $request, "
    "restricted: $restricted) { personIds restricted } }"
)


PURGE_PROFILE = (
    "mutation PurgeProfileForRetention($id: ID!, $categories: [String!]!, $reference: ID!, "
    "$holds: [ProfileHoldInput!]) { purgeProfileAttributes(personId: $id, categories: "
    "$categories, reference: $reference, holds: $holds) { personIds removedValues "
    "restricted { categories until holds { legalReference } } } }"
)
# The retention job acts as the consent service itself.
RETENTION_JOB = Principal("service:consent", frozenset({Role.COMPLIANCE}))


def _acting(actor: Principal) -> Principal:
    # The officer's subject, with the one role these operations need.
    return Principal(actor.subject, frozenset({Role.COMPLIANCE}))


def _held(data: dict[str, Any]) -> HeldData:
    items = tuple(
        PersonalDataItem(
            person_id=i["personId"], origin=i["origin"],
            category=i["category"], field=i["field"], value=i["value"],
            source=i.get("source"), source_id=i.get("sourceId"),
            recorded_at=datetime.fromisoformat(i["recordedAt"]) if i.get("recordedAt") else None,
        )
        for i in data["items"]
    )  # fmt: skip
    return HeldData(tuple(data["personIds"]), items, erased=bool(data.get("erased")),
                    restricted=bool(data.get("restricted")))  # fmt: skip


def _counts(data: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {v}"
        for k, v in data.items()
        if k not in ("personIds", "erasedCategories", "restricted")
    )


def _hold_input(hold: LegalHold) -> dict[str, Any]:
    return {
        "duty": hold.duty,
        "name": hold.name,
        "legalReference": hold.legal_reference.value,
        "sourceSystems": list(hold.source_systems),
        "dataCategories": list(hold.data_categories),
        "periodYears": hold.period_years,
        "starts": hold.starts.value,
        "until": hold.until.isoformat() if hold.until else None,
    }


def _restricted(held: dict[str, Any]) -> list[Restricted]:
    """One entry per held record and duty (what, duty, legal reference, until)."""
    return [
        Restricted(
            PROFILE,
            held["personId"],
            f"{held['source']} record {held['sourceId']}",
            tuple(held["categories"]),
            h["duty"],
            LegalReference(h["legalReference"]),
            date.fromisoformat(h["until"]),
        )
        for h in held["holds"]
    ]


class PrivacyClient:
    def __init__(
        self,
        *,
        profile: SubgraphClient,
        matching: SubgraphClient,
        distribution: SubgraphClient,
    ) -> None:
        self._profile = profile
        self._matching = matching
        self._distribution = distribution

    async def profile_data(self, person_id: str, *, actor: Principal) -> HeldData:
        data = await self._profile.execute(PROFILE_DATA, {"id": person_id},
                                           on_behalf_of=_acting(actor))  # fmt: skip
        return _held(data["profilePersonalData"])

    async def matching_data(self, person_ids: Sequence[str], *, actor: Principal) -> HeldData:
        data = await self._matching.execute(MATCHING_DATA, {"ids": list(person_ids)},
                                            on_behalf_of=_acting(actor))  # fmt: skip
        return _held(data["matchingPersonalData"])

    async def distribution_data(self, person_ids: Sequence[str], *, actor: Principal) -> HeldData:
        """Whom the change stream sent the persons' data, and when."""
        data = await self._distribution.execute(
            DISTRIBUTION_DATA, {"ids": list(person_ids)}, on_behalf_of=_acting(actor)
        )
        return _held(data["distributionPersonalData"])

    async def erase_profile(
        self,
        person_id: str,
        request_id: str,
        *,
        actor: Principal,
        holds: Sequence[LegalHold] = (),
    ) -> Outcome:
        data = (await self._profile.execute(
            ERASE_PROFILE, {"id": person_id, "request": request_id,
                            "holds": [_hold_input(h) for h in holds]},
            on_behalf_of=_acting(actor),
        ))["eraseProfileData"]  # fmt: skip
        return Outcome(
            tuple(data["personIds"]),
            _counts(data),
            erased=tuple(data["erasedCategories"]),
            restricted=tuple(r for held in data["restricted"] for r in _restricted(held)),
        )

    async def erase_matching(
        self, person_ids: Sequence[str], request_id: str, *, actor: Principal
    ) -> Outcome:
        data = (await self._matching.execute(
            ERASE_MATCHING, {"ids": list(person_ids), "request": request_id},
            on_behalf_of=_acting(actor),
        ))["eraseMatchingData"]  # fmt: skip
        return Outcome(tuple(data["personIds"]), _counts(data))

    async def restrict_profile(
        self, person_id: str, request_id: str, restricted: bool, *, actor: Principal
    ) -> Outcome:
        data = (await self._profile.execute(
            RESTRICT_PROFILE, {"id": person_id, "request": request_id, "restricted": restricted},
            on_behalf_of=_acting(actor),
        ))["restrictProfileProcessing"]  # fmt: skip
        return Outcome(tuple(data["personIds"]), _counts(data))

    async def restrict_matching(
        self, person_ids: Sequence[str], request_id: str, restricted: bool, *, actor: Principal
    ) -> Outcome:
        data = (await self._matching.execute(
            RESTRICT_MATCHING,
            {"ids": list(person_ids), "request": request_id, "restricted": restricted},
            on_behalf_of=_acting(actor),
        ))["restrictMatchingProcessing"]  # fmt: skip
        return Outcome(tuple(data["personIds"]), _counts(data))

    async def purge(
        self,
        person_id: str,
        categories: Sequence[str],
        reference: str,
        *,
        holds: Sequence[LegalHold] = (),
    ) -> tuple[tuple[str, ...], str]:
        """Remove attribute categories from the profile (the retention job); what the
        holds cover is kept there, restricted."""
        variables = {
            "id": person_id,
            "categories": list(categories),
            "reference": reference,
            "holds": [_hold_input(h) for h in holds],
        }
        data = (await self._profile.execute(PURGE_PROFILE, variables, on_behalf_of=RETENTION_JOB))[
            "purgeProfileAttributes"
        ]
        kept = data["restricted"]
        categories = ", ".join(sorted({c for r in kept for c in r["categories"]}))
        references = ", ".join(sorted({h["legalReference"] for r in kept for h in r["holds"]}))
        until = max((r["until"] for r in kept), default="")
        held = [f"restricted {len(kept)} ({categories}) until {until} ({references})"]
        return tuple(data["personIds"]), "; ".join([_counts(data), *(held if kept else [])])

    async def expired_holds(self, *, first: int) -> list[Expired]:
        """Held records whose duties have all ended (the retention job)."""
        data = await self._profile.execute(
            EXPIRED_HOLDS, {"first": first}, on_behalf_of=RETENTION_JOB
        )
        return [
            Expired(
                h["personId"],
                f"{h['source']} record {h['sourceId']}",
                tuple(h["categories"]),
                date.fromisoformat(h["until"]),
                tuple(sorted({x["legalReference"] for x in h["holds"]})),
            )
            for h in data["expiredProfileHolds"]
        ]

    async def release_holds(self, person_id: str, reference: str) -> tuple[tuple[str, ...], int]:
        data = (
            await self._profile.execute(
                RELEASE_HOLDS, {"id": person_id, "reference": reference}, on_behalf_of=RETENTION_JOB
            )
        )["releaseProfileHolds"]
        return tuple(data["personIds"]), len(data["released"])
