"""The profile service as matching sees it: read a person, merge, unmerge.

Calls the profile subgraph directly with a signed request (see
:mod:`mdm_common.subgraph_client`), on behalf of the engine or of the deciding
steward, so that the profile service records who merged.
"""

from __future__ import annotations

from typing import Any

from mdm_common.auth import Principal, Role
from mdm_common.errors import NotFound
from mdm_common.subgraph_client import SubgraphClient
from mdm_matching.domain.engine.features import MatchRecord, make_record
from mdm_matching.domain.ports import ProfileView

# Reading a person for comparison is the engine's own business, not a steward's.
READER = Principal("service:matching", frozenset({Role.APP}))

PERSON_QUERY = """
query MatchingPerson($id: ID!) {
  person(id: $id) {
    id givenName familyName suffix birthDate email phone
    address { street houseNumber postalCode city }
  }
}
"""
MERGE_MUTATION = """
mutation MatchingMerge($survivorId: ID!, $mergedId: ID!, $reason: String!) {
  mergePersons(survivorId: $survivorId, mergedId: $mergedId, reason: $reason) { merge { id } }
}
"""
UNMERGE_MUTATION = """
mutation MatchingUnmerge($mergeId: ID!) { unmergePersons(mergeId: $mergeId) { merge { id } } }
"""


def record_from_person(person: dict[str, Any]) -> MatchRecord:
    address = person.get("address") or {}
    return make_record(
        person["id"], given=person.get("givenName"), family=person.get("familyName"),
        birth=person.get("birthDate"), suffix=person.get("suffix"), email=person.get("email"),
        phone=person.get("phone"), postal_code=address.get("postalCode"),
        city=address.get("city"), street=address.get("street"),
        house_number=address.get("houseNumber"),
    )  # fmt: skip


class ProfileClient:
    def __init__(self, client: SubgraphClient) -> None:
        self._client = client

    async def fetch(self, person_id: str) -> ProfileView | None:
        try:
            data = await self._client.execute(PERSON_QUERY, {"id": person_id}, on_behalf_of=READER)
        except NotFound:
            return None
        return ProfileView(person_id, record_from_person(data["person"]))

    async def merge(
        self, survivor_id: str, merged_id: str, *, reason: str, on_behalf_of: Principal
    ) -> str:
        data = await self._client.execute(
            MERGE_MUTATION,
            {"survivorId": survivor_id, "mergedId": merged_id, "reason": reason},
            on_behalf_of=on_behalf_of,
        )
        return str(data["mergePersons"]["merge"]["id"])

    async def unmerge(self, merge_id: str, *, on_behalf_of: Principal) -> None:
        await self._client.execute(
            UNMERGE_MUTATION, {"mergeId": merge_id}, on_behalf_of=on_behalf_of
        )
