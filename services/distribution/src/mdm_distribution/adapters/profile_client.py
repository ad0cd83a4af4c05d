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

PERSONS_QUERY = """
query DistributionPersons($ids: [ID!]!) {
  persons(ids: $ids) {
    id givenName familyName titles suffix salutation birthDate birthDatePartial
    email phone language
    address { street houseNumber postalCode city country }
    identifiers { scheme issuer value }
    processingRestricted
  }
}
"""
# The export's read: every column, with the change time.
RECORDS_QUERY = """
query DistributionRecords($ids: [ID!]!) {
  persons(ids: $ids) {
    id updatedAt givenName familyName titles suffix salutation birthDate birthDatePartial
    email phone language
    address { street houseNumber postalCode city country }
    identifiers { scheme issuer value }
  }
}
"""
ACTIVE_IDS_QUERY = """
query DistributionActiveIds($after: ID, $first: Int!) {
  activePersonIds(after: $after, first: $first)
}
"""


def view_of(person: dict[str, Any]) -> PersonView:
    attributes = {k: v for k, v in person.items() if k not in ("id", "processingRestricted")}
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
            data = await self._client.execute(PERSONS_QUERY, {"ids": page}, on_behalf_of=READER)
            for asked, person in zip(page, data["persons"], strict=True):
                found[asked] = view_of(person) if person else None
        return found

    async def records(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The golden records of these ids as the profile answers them, each once
        (an erased id gives none, a merged-away id its survivor)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), BATCH):
            page = list(ids[start : start + BATCH])
            data = await self._client.execute(RECORDS_QUERY, {"ids": page}, on_behalf_of=READER)
            found.update((p["id"], p) for p in data["persons"] if p)
        return list(found.values())

    async def active_ids(self, *, after: str | None, first: int) -> list[str]:
        data = await self._client.execute(
            ACTIVE_IDS_QUERY, {"after": after, "first": first}, on_behalf_of=READER
        )
        return list(data["activePersonIds"])
