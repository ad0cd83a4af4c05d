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

    async def _golden(self, ids: Sequence[str]) -> list[tuple[str, dict[str, Any] | None]]:
        """Each id asked with its golden record (None: erased or unknown)."""
        found: list[tuple[str, dict[str, Any] | None]] = []
        for start in range(0, len(ids), BATCH):
            page = list(ids[start : start + BATCH])
            data = await self._client.execute(GOLDEN_QUERY, {"ids": page}, on_behalf_of=READER)
            found += zip(page, data["goldenRecords"], strict=True)
        return found

    async def persons(self, ids: Sequence[str]) -> dict[str, PersonView | None]:
        return {asked: view_of(p) if p else None for asked, p in await self._golden(ids)}

    async def records(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The golden records of these ids as the profile answers them, each once
        (an erased id gives none, a merged-away id its survivor)."""
        return list({p["id"]: p for _, p in await self._golden(ids) if p}.values())

    async def active_ids(self, *, after: str | None, first: int) -> list[str]:
        data = await self._client.execute(
            ACTIVE_IDS_QUERY, {"after": after, "first": first}, on_behalf_of=READER
        )
        return list(data["activePersonIds"])
