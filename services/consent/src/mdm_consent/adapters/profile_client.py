"""The profile service as consent sees it: does this person exist, under which id?

A signed direct call to the profile subgraph (see :mod:`mdm_common.subgraph_client`)
as the consent service itself, with the ``app`` role that reading a person needs.
"""

from __future__ import annotations

from mdm_common.auth import Principal, Role
from mdm_common.errors import NotFound
from mdm_common.subgraph_client import SubgraphClient

READER = Principal("service:consent", frozenset({Role.APP}))
PERSON_QUERY = "query ConsentPersonExists($id: ID!) { person(id: $id) { id } }"


class ProfileDirectory:
    def __init__(self, client: SubgraphClient) -> None:
        self._client = client

    async def resolve(self, person_id: str) -> str | None:
        try:
            data = await self._client.execute(PERSON_QUERY, {"id": person_id}, on_behalf_of=READER)
        except NotFound:
            return None
        return str(data["person"]["id"])
