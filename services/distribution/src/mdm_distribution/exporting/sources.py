"""Where an export reads from: the profile and consent services, called directly (the
export job) or through the gateway with the caller's token (``mdm export``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from mdm_common.auth import Principal
from mdm_common.errors import Unavailable
from mdm_common.subgraph_client import GraphQLCaller, answer_of
from mdm_distribution.adapters.consent_client import ConsentChecks
from mdm_distribution.adapters.profile_client import ProfileRecords
from mdm_distribution.domain.models import Verdict
from mdm_distribution.domain.ports import PurposeTerms


class ServiceSource:
    """An :class:`~mdm_distribution.exporting.export.ExportSource` of the two services."""

    def __init__(self, records: ProfileRecords, checks: ConsentChecks) -> None:
        self._records = records
        self._checks = checks

    async def active_ids(self, *, after: str | None, first: int) -> list[str]:
        return await self._records.active_ids(after=after, first=first)

    async def records(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self._records.records(ids)

    async def check(
        self, person_ids: Sequence[str], *, purpose: str, channel: str, at: datetime
    ) -> dict[str, Verdict]:
        return await self._checks.check(person_ids, purpose=purpose, channel=channel, at=at)

    async def purpose(self, code: str) -> PurposeTerms | None:
        return await self._checks.purpose(code)


class GatewayCaller:
    """Operations through the gateway with a bearer token: the token's subject and roles
    are the caller's (the principal a service would name is not used)."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 120) -> None:
        self._url = url
        self._http = httpx.AsyncClient(
            headers={"authorization": f"Bearer {token}"}, timeout=timeout_s
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def execute(
        self, query: str, variables: dict[str, Any], *, on_behalf_of: Principal
    ) -> dict[str, Any]:
        try:
            response = await self._http.post(
                self._url, json={"query": query, "variables": variables}
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"The gateway at {self._url} is not reachable.") from exc
        return answer_of(response)


def through(caller: GraphQLCaller) -> ServiceSource:
    return ServiceSource(ProfileRecords(caller), ConsentChecks(caller))
