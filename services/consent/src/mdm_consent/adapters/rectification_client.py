"""The profile's rectification operations (docs/data-subject-requests.md, "Rectification").

Signed direct calls (:mod:`mdm_common.subgraph_client`) on behalf of the steward or
officer who submits or decides the request, with the one role the profile's
operations need; the profile's errors (a bad value naming its field) come back as
the same domain errors.
"""

from __future__ import annotations

from typing import Any

from mdm_common.auth import Principal, Role
from mdm_common.subgraph_client import SubgraphClient
from mdm_consent.domain.rectification import ProfileAnswer

CHECK = (
    "query CheckRectification($id: ID!, $field: String!, $value: String!) { "
    "profileRectificationCheck(personId: $id, field: $field, value: $value) { "
    "personIds recipients } }"
)
RECTIFY = (
    "mutation RectifyForRequest($id: ID!, $request: ID!, $field: String!, $value: String!) { "
    "rectifyProfileValue(personId: $id, requestId: $request, field: $field, value: $value) { "
    "personIds recipients alreadyApplied } }"
)


def _acting(actor: Principal) -> Principal:
    return Principal(actor.subject, frozenset({Role.COMPLIANCE}))


def _answer(data: dict[str, Any]) -> ProfileAnswer:
    return ProfileAnswer(
        person_ids=tuple(data["personIds"]),
        recipients=tuple(data["recipients"]),
        already_applied=bool(data.get("alreadyApplied")),
    )


class RectificationClient:
    def __init__(self, profile: SubgraphClient) -> None:
        self._profile = profile

    async def check(
        self, person_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer:
        variables = {"id": person_id, "field": field, "value": value}
        data = await self._profile.execute(CHECK, variables, on_behalf_of=_acting(actor))
        return _answer(data["profileRectificationCheck"])

    async def rectify(
        self, person_id: str, request_id: str, field: str, value: str, *, actor: Principal
    ) -> ProfileAnswer:
        variables = {"id": person_id, "request": request_id, "field": field, "value": value}
        data = await self._profile.execute(RECTIFY, variables, on_behalf_of=_acting(actor))
        return _answer(data["rectifyProfileValue"])
