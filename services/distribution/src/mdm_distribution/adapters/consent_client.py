"""The consent service as distribution sees it: the contact check, the purpose registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mdm_common.auth import Principal, Role
from mdm_common.errors import NotFound
from mdm_common.subgraph_client import GraphQLCaller
from mdm_distribution.domain.models import Verdict
from mdm_distribution.domain.ports import PurposeTerms

CHECKER = Principal("service:distribution", frozenset({Role.APP}))
BATCH = 10_000  # the most `contactCheckBatch` takes

CHECK_QUERY = """
query DistributionCheck($ids: [ID!]!, $purpose: String!, $channel: Channel!, $at: DateTime) {
  contactCheckBatch(personIds: $ids, purpose: $purpose, channel: $channel, at: $at) {
    personId allowed reason
  }
}
"""
PURPOSE_QUERY = """
query DistributionPurpose($code: String!) { purpose(code: $code) { code channels dataCategories } }
"""
# A purpose removed from the registry allows nobody.
PURPOSE_GONE = "PURPOSE_NOT_FOUND"


class ConsentChecks:
    def __init__(self, client: GraphQLCaller) -> None:
        self._client = client

    async def check(
        self, person_ids: Sequence[str], *, purpose: str, channel: str, at: datetime
    ) -> dict[str, Verdict]:
        verdicts: dict[str, Verdict] = {}
        for start in range(0, len(person_ids), BATCH):
            page = list(person_ids[start : start + BATCH])
            variables = {"ids": page, "purpose": purpose, "channel": channel, "at": at.isoformat()}
            try:
                data = await self._client.execute(CHECK_QUERY, variables, on_behalf_of=CHECKER)
            except NotFound:
                return {i: Verdict(False, PURPOSE_GONE) for i in person_ids}
            for asked, decision in zip(page, data["contactCheckBatch"], strict=True):
                verdicts[asked] = Verdict(bool(decision["allowed"]), decision["reason"])
        return verdicts

    async def purpose(self, code: str) -> PurposeTerms | None:
        try:
            data = await self._client.execute(PURPOSE_QUERY, {"code": code}, on_behalf_of=CHECKER)
        except NotFound:
            return None
        found = data["purpose"]
        return PurposeTerms(
            code=found["code"],
            channels=tuple(found["channels"]),
            data_categories=tuple(found["dataCategories"]),
        )
