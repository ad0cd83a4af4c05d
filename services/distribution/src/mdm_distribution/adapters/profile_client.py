"""The profile service as distribution sees it: golden records by id, all ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdm_common.auth import Principal, Role
from mdm_common.subgraph_client import GraphQLCaller
from mdm_distribution.domain.models import PersonView

# Reading records to hand them on is the service's own business; the profile service
# records the read (its read audit) under this subject.
READER = Principal("service:distribution", frozenset({Role.APP}))
BATCH = 500  # the most `persons` takes

# One JSON object a person (`goldenRecords`): the profile reads each with one statement
# and no per-field GraphQL resolution, a tenth of what `persons` costs it.
GOLDEN_QUERY = """
query DistributionGolden($ids: [ID!]!) { goldenRecords(ids: $ids) }
"""
ACTIVE_IDS_QUERY = """
query DistributionActiveIds($after: ID, $first: Int!) {
  activePersonIds(after: $after, first: $first)
}
"""


def view_of(person: dict[str, Any]) -> PersonView:
    attributes = {
        k: v for k, v in person.items() if k not in ("id", "processingRestricted", "updatedAt")
    }
    return PersonView(
        id=person["id"], attributes=attributes, restricted=bool(person["processingRestricted"])
    )


class ProfileRecords:
    def __init__(self, client: GraphQLCaller) -> None:
        self._client = client

    async def persons(self, ids: Sequence[str]) -> dict[str, PersonView | None]:
        found: dict[str, PersonView | None] = {}
        for start in range(0, len(ids), BATCH):
            page = list(ids[start : start + BATCH])
            data = await self._client.execute(GOLDEN_QUERY, {"ids": page}, on_behalf_of=READER)
            for asked, person in zip(page, data["goldenRecords"], strict=True):
                found[asked] = view_of(person) if person else None
        return found

    async def records(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The golden records of these ids as the profile answers them, each once
        (an erased id gives none, a merged-away id its survivor)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), BATCH):
            page = list(ids[start : start + BATCH])
            data = await self._client.execute(GOLDEN_QUERY, {"ids": page}, on_behalf_of=READER)
            found.update((p["id"], p) for p in data["goldenRecords"] if p)
        return list(found.values())

    async def active_ids(self, *, after: str | None, first: int) -> list[str]:
        data = await self._client.execute(
            ACTIVE_IDS_QUERY, {"after": after, "first": first}, on_behalf_of=READER
        )
        return list(data["activePersonIds"])
