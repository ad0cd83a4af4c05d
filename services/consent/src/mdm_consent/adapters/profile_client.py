"""The profile service as consent sees it: does this person exist, under which id, and
which birth date does its golden record hold (GDPR Art. 8: the age at a consent)?

A signed direct call to the profile subgraph (see :mod:`mdm_common.subgraph_client`)
as the consent service itself, with the ``app`` role that reading a person needs.
"""

from __future__ import annotations

from datetime import date

from mdm_common.auth import Principal, Role
from mdm_common.errors import NotFound
from mdm_common.subgraph_client import SubgraphClient
from mdm_consent.domain.ports import ProfilePerson

READER = Principal("service:consent", frozenset({Role.APP}))
PERSON_QUERY = (
    "query ConsentPersonLookup($id: ID!) { person(id: $id) { id birthDate birthDatePartial } }"
)


class ProfileDirectory:
    def __init__(self, client: SubgraphClient) -> None:
        self._client = client

    async def resolve(self, person_id: str) -> str | None:
        found = await self.lookup(person_id)
        return found.id if found is not None else None

    async def lookup(self, person_id: str) -> ProfilePerson | None:
        try:
            data = await self._client.execute(PERSON_QUERY, {"id": person_id}, on_behalf_of=READER)
        except NotFound:
            return None
        person = data["person"]
        birth = person.get("birthDate")
        return ProfilePerson(
            id=str(person["id"]),
            birth_date=date.fromisoformat(birth) if birth else None,
            birth_date_partial=person.get("birthDatePartial"),
        )
