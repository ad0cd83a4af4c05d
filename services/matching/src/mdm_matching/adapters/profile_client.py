"""The profile service as matching sees it: read a person or a company, merge, unmerge.

Calls the profile subgraph directly with a signed request (see
:mod:`mdm_common.subgraph_client`), on behalf of the engine or of the deciding
steward, so that the profile service records who merged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdm_common.auth import Principal, Role
from mdm_common.subgraph_client import SubgraphClient
from mdm_matching.domain.company_ports import CompanyView
from mdm_matching.domain.engine.companies.features import make_company_record
from mdm_matching.domain.engine.features import MatchRecord, make_record
from mdm_matching.domain.ports import PairToMerge, ProfileView

# Reading a person for comparison is the engine's own business, not a steward's.
READER = Principal("service:matching", frozenset({Role.APP}))
BATCH = 500  # persons per call when reading many (the most `personFeatures` takes)
READERS = 2  # calls in flight when reading many (the sync reads thousands)

# The values matching compares, one JSON object a person (`personFeatures`): one
# graph statement in the profile service, no per-field GraphQL resolution, no source
# record read in full.
FEATURES_QUERY = """
query MatchingFeatures($ids: [ID!]!) { personFeatures(ids: $ids) }
"""
ACTIVE_IDS_QUERY = """
query MatchingActiveIds($after: ID, $first: Int!) { activePersonIds(after: $after, first: $first) }
"""
MERGE_MUTATION = """
mutation MatchingMerge($survivorId: ID!, $mergedId: ID!, $reason: String!, $mergeId: ID) {
  mergePersons(survivorId: $survivorId, mergedId: $mergedId, reason: $reason,
               mergeId: $mergeId) { merge { id } }
}
"""
MERGE_BULK_MUTATION = """
mutation MatchingMergeBulk($merges: [BulkMergeInput!]!) {
  mergePersonsBulk(merges: $merges) { results { status mergeId } }
}
"""
UNMERGE_MUTATION = """
mutation MatchingUnmerge($mergeId: ID!) { unmergePersons(mergeId: $mergeId) { merge { id } } }
"""
COMPANY_FEATURES_QUERY = """
query MatchingCompanyFeatures($ids: [ID!]!) { companyFeatures(ids: $ids) }
"""
COMPANY_MERGE_MUTATION = """
mutation MatchingCompanyMerge($survivorId: ID!, $mergedId: ID!, $reason: String!) {
  mergeCompanies(survivorId: $survivorId, mergedId: $mergedId, reason: $reason) { merge { id } }
}
"""
COMPANY_MERGE_BULK_MUTATION = """
mutation MatchingCompanyMergeBulk($merges: [CompanyMergeInput!]!) {
  mergeCompaniesBulk(merges: $merges) { results { mergeId } }
}
"""
COMPANY_UNMERGE_MUTATION = """
mutation MatchingCompanyUnmerge($mergeId: ID!) {
  unmergeCompanies(mergeId: $mergeId) { merge { id } }
}
"""


def record_from_person(person: dict[str, Any]) -> MatchRecord:
    address = person.get("address") or {}
    return make_record(
        person["id"],
        given=person.get("givenName"),
        family=person.get("familyName"),
        birth=person.get("birthDate") or person.get("birthDatePartial"),
        suffix=person.get("suffix"),
        email=person.get("email"),
        phone=person.get("phone"),
        postal_code=address.get("postalCode"),
        city=address.get("city"),
        street=address.get("street"),
        house_number=address.get("houseNumber"),
        identifiers=[
            (i["scheme"], i.get("issuer"), i["value"]) for i in person.get("identifiers") or ()
        ],
    )


def view_of(requested_id: str, person: dict[str, Any]) -> ProfileView:
    created = person.get("createdAt")
    return ProfileView(
        requested_id,
        record_from_person(person),
        datetime.fromisoformat(created) if created else None,
        tuple(sorted(set(person.get("sources") or ()))),
    )


def company_view_of(requested_id: str, company: dict[str, Any]) -> CompanyView:
    """A company as ``companyFeatures`` answers it, as the engine compares it."""
    address = company.get("address") or {}
    created = company.get("createdAt")
    record = make_company_record(
        company["id"],
        name_key=company.get("nameKey") or "",
        legal_form=company.get("legalForm"),
        register=company.get("register"),
        court=company.get("court"),
        vat=company.get("vatId"),
        lei=company.get("lei"),
        domains=company.get("domains") or (),
        postal_code=address.get("postalCode"),
        street=address.get("street"),
        house_number=address.get("houseNumber"),
        city=address.get("city"),
    )
    return CompanyView(
        requested_id,
        record,
        datetime.fromisoformat(created) if created else None,
        tuple(company.get("sources") or ()),
    )


class ProfileClient:
    def __init__(self, client: SubgraphClient) -> None:
        self._client = client

    async def fetch(self, person_id: str) -> ProfileView | None:
        """The person (its survivor, if merged away); None if unknown or erased."""
        data = await self._client.execute(FEATURES_QUERY, {"ids": [person_id]}, on_behalf_of=READER)
        [person] = data["personFeatures"]
        return view_of(person_id, person) if person is not None else None

    async def fetch_many(self, person_ids: Sequence[str]) -> dict[str, ProfileView]:
        """``BATCH`` persons a call, ``READERS`` calls at a time (while the profile
        service waits for its graph on one, it works on the other)."""
        limit = asyncio.Semaphore(READERS)

        async def read(asked: Sequence[str]) -> dict[str, ProfileView]:
            async with limit:
                data = await self._client.execute(
                    FEATURES_QUERY, {"ids": list(asked)}, on_behalf_of=READER
                )
            found = zip(asked, data["personFeatures"], strict=True)
            return {pid: view_of(pid, person) for pid, person in found if person is not None}

        calls = [
            asyncio.ensure_future(read(person_ids[start : start + BATCH]))
            for start in range(0, len(person_ids), BATCH)
        ]
        try:
            parts = await asyncio.gather(*calls)
        except BaseException:
            # The first error as it is (Unavailable is retried by the caller's task),
            # not wrapped in a group; the other calls are not left running.
            for call in calls:
                call.cancel()
            raise
        return {pid: view for part in parts for pid, view in part.items()}

    async def active_ids(self, *, after: str, first: int) -> list[str]:
        data = await self._client.execute(
            ACTIVE_IDS_QUERY, {"after": after or None, "first": first}, on_behalf_of=READER
        )
        return [str(i) for i in data["activePersonIds"]]

    async def merge(
        self, survivor_id: str, merged_id: str, *, reason: str, on_behalf_of: Principal,
        merge_id: str | None = None,
    ) -> str:  # fmt: skip
        variables = {"survivorId": survivor_id, "mergedId": merged_id, "reason": reason,
                     "mergeId": merge_id}  # fmt: skip
        data = await self._client.execute(MERGE_MUTATION, variables, on_behalf_of=on_behalf_of)
        return str(data["mergePersons"]["merge"]["id"])

    async def merge_many(
        self, pairs: Sequence[PairToMerge], *, on_behalf_of: Principal
    ) -> list[str | None]:
        if not pairs:
            return []
        merges = [
            {
                "survivorId": p.survivor_id,
                "mergedId": p.merged_id,
                "mergeId": p.merge_id,
                "reason": p.reason,
            }
            for p in pairs
        ]
        data = await self._client.execute(
            MERGE_BULK_MUTATION, {"merges": merges}, on_behalf_of=on_behalf_of
        )
        return [
            None if item["status"] == "SKIPPED" else str(item["mergeId"])
            for item in data["mergePersonsBulk"]["results"]
        ]

    async def unmerge(self, merge_id: str, *, on_behalf_of: Principal) -> None:
        await self._client.execute(
            UNMERGE_MUTATION, {"mergeId": merge_id}, on_behalf_of=on_behalf_of
        )

    async def fetch_company(self, company_id: str) -> CompanyView | None:
        """The company (the one it was merged into, if merged away); None if unknown."""
        return (await self.fetch_companies([company_id])).get(company_id)

    async def fetch_companies(self, company_ids: Sequence[str]) -> dict[str, CompanyView]:
        """``BATCH`` companies a call (a pass holds fewer)."""
        found: dict[str, CompanyView] = {}
        for start in range(0, len(company_ids), BATCH):
            asked = list(company_ids[start : start + BATCH])
            data = await self._client.execute(
                COMPANY_FEATURES_QUERY, {"ids": asked}, on_behalf_of=READER
            )
            found |= {
                cid: company_view_of(cid, company)
                for cid, company in zip(asked, data["companyFeatures"], strict=True)
                if company is not None
            }
        return found

    async def merge_companies(
        self, survivor_id: str, merged_id: str, *, reason: str, on_behalf_of: Principal
    ) -> str:
        variables = {"survivorId": survivor_id, "mergedId": merged_id, "reason": reason}
        data = await self._client.execute(
            COMPANY_MERGE_MUTATION, variables, on_behalf_of=on_behalf_of
        )
        return str(data["mergeCompanies"]["merge"]["id"])

    async def merge_companies_many(
        self, pairs: Sequence[tuple[str, str]], *, reason: str, on_behalf_of: Principal
    ) -> list[str | None]:
        if not pairs:
            return []
        merges = [{"survivorId": s, "mergedId": m, "reason": reason} for s, m in pairs]
        data = await self._client.execute(
            COMPANY_MERGE_BULK_MUTATION, {"merges": merges}, on_behalf_of=on_behalf_of
        )
        return [
            str(item["mergeId"]) if item["mergeId"] else None
            for item in data["mergeCompaniesBulk"]["results"]
        ]

    async def unmerge_companies(self, merge_id: str, *, on_behalf_of: Principal) -> None:
        await self._client.execute(
            COMPANY_UNMERGE_MUTATION, {"mergeId": merge_id}, on_behalf_of=on_behalf_of
        )
