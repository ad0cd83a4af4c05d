"""Parallel identical ingests straight at the profile subgraph all succeed, with one
person: the conflict of the second writer is retried inside the service."""

from __future__ import annotations

import asyncio
import uuid

from mdm_common.auth import Principal, Role
from mdm_common.subgraph_client import SubgraphClient
from mdm_infra.platform import Platform

INGEST = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    created updated records { sourceId personId created }
  }
}
"""
PARALLEL = 8


async def test_parallel_identical_ingests_all_succeed_with_one_person(platform: Platform) -> None:
    profile = SubgraphClient(
        platform.config.service_url("profile") + "/graphql",
        secret=platform.config.secrets.gateway.encode(),
    )
    record = {
        "sourceId": uuid.uuid4().hex,
        "givenName": "Greta",
        "familyName": "Gleichzeitig",
        "email": f"greta.{uuid.uuid4().hex[:8]}@example.org",
    }
    caller = Principal(subject="test-loader", roles=frozenset({Role.APP}))
    try:
        answers = await asyncio.gather(
            *(
                profile.execute(INGEST, {"source": "crm", "records": [record]}, on_behalf_of=caller)
                for _ in range(PARALLEL)
            )
        )
    finally:
        await profile.close()
    results = [a["ingestSourceRecords"] for a in answers]
    persons = {r["records"][0]["personId"] for r in results}
    assert len(persons) == 1
    assert sum(r["created"] for r in results) == 1
    assert sum(r["updated"] for r in results) == PARALLEL - 1
