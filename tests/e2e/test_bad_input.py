"""Bad input gets a typed error through the gateway and leaves the profile graph as it was.

Each test compares every node and relationship of the profile database, with all
their properties, before and after the refused request.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_common.graph import GraphClient, Transaction
from mdm_infra.client import GatewayClient

from .queries import CREATE_PERSON, INGEST, person_input

CREATE_COMPANY = "mutation($name: String!) { createCompany(name: $name) { id } }"
SET_PARENT = "mutation($c: ID!, $p: ID) { setParentCompany(companyId: $c, parentId: $p) { id } }"


@pytest.fixture
def profile_graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    return graph_for("profile")


async def whole_graph(graph: GraphClient) -> list[str]:
    """Every node and relationship with its properties, in a stable order."""

    async def read(tx: Transaction) -> list[str]:
        nodes = await tx.run(
            "test.nodes", "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
        )
        relationships = await tx.run(
            "test.relationships",
            "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
            "coalesce(a.id, a.key, a.address, a.e164) AS start, "
            "coalesce(b.id, b.key, b.address, b.e164) AS end",
        )
        return sorted(
            [repr((sorted(row["labels"]), sorted(row["props"].items()))) for row in nodes]
            + [repr((row["type"], sorted(row["props"].items()), row["start"], row["end"]))
               for row in relationships]
        )  # fmt: skip

    return await graph.read(read)


async def settled_graph(graph: GraphClient) -> list[str]:
    """The whole graph once it has stopped changing.

    Earlier tests may still have work in flight (events, the matching worker); a
    refused request starts none, so only the state before it needs to settle.
    """
    seen = await whole_graph(graph)
    for _ in range(20):
        await asyncio.sleep(0.3)
        again = await whole_graph(graph)
        if again == seen:
            return seen
        seen = again
    raise AssertionError("the profile graph did not settle")


def sid() -> str:
    return f"bad-{uuid.uuid4().hex[:12]}"


def refused(gateway: GatewayClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = gateway.post(query, variables).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert body.get("data") is None or not any(body["data"].values()), body
    return dict(error["extensions"])


GOOD = {"familyName": "Gutmann", "givenName": "Greta", "email": "greta.gutmann@example.org"}


INGEST_ATOMIC = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records, atomic: true) { created }
}
"""


@pytest.mark.parametrize(
    ("bad", "field", "code"),
    [({"email": "greta@@example"}, "record", "NOT_IDENTIFIABLE"),
     ({"phone": "bitte anrufen", "birthDate": "1980-01-01"}, "record", "NOT_IDENTIFIABLE"),
     ({"familyName": "B" * 301}, "familyName", "INVALID"),
     ({"familyName": "Boes", "identifiers": [{"scheme": "PASSPORT", "value": "C01X00T47"}]},
      "identifiers.issuer", "INVALID")],
)  # fmt: skip
async def test_an_atomic_batch_with_a_refused_record_writes_nothing(
    gateway: GatewayClient, profile_graph: GraphClient, bad: dict[str, str], field: str,
    code: str,
) -> None:  # fmt: skip
    good_id, bad_id = sid(), sid()
    records = [{"sourceId": good_id, **GOOD}, {"sourceId": bad_id, **bad}]
    before = await settled_graph(profile_graph)

    extensions = refused(gateway, INGEST_ATOMIC, {"source": "crm", "records": records})

    assert extensions["rejected"] == [
        {"index": 1, "sourceId": bad_id, "field": field, "code": code}]  # fmt: skip
    assert await whole_graph(profile_graph) == before


async def test_an_invalid_email_for_a_new_person_writes_nothing(
    gateway: GatewayClient, profile_graph: GraphClient
) -> None:
    before = await settled_graph(profile_graph)
    extensions = refused(gateway, CREATE_PERSON, {"input": person_input(email="greta@")})
    assert extensions["field"] == "email"
    assert await whole_graph(profile_graph) == before


async def test_an_unknown_source_writes_nothing(
    gateway: GatewayClient, profile_graph: GraphClient
) -> None:
    before = await settled_graph(profile_graph)
    extensions = refused(
        gateway, INGEST, {"source": "fax", "records": [{"sourceId": sid(), **GOOD}]}
    )
    assert extensions["field"] == "source"
    assert await whole_graph(profile_graph) == before


async def test_a_hierarchy_cycle_writes_nothing(
    gateway: GatewayClient, profile_graph: GraphClient
) -> None:
    def company(name: str) -> str:
        return str(gateway.execute(CREATE_COMPANY, {"name": name})["createCompany"]["id"])

    top, middle, bottom = company("Kreis AG"), company("Kreis GmbH"), company("Kreis KG")
    gateway.execute(SET_PARENT, {"c": middle, "p": top})
    gateway.execute(SET_PARENT, {"c": bottom, "p": middle})
    before = await settled_graph(profile_graph)

    extensions = refused(gateway, SET_PARENT, {"c": top, "p": bottom})
    assert (extensions["reason"], extensions["cycle"]) == (
        "HIERARCHY_CYCLE", [bottom, middle, top, bottom])  # fmt: skip
    extensions = refused(gateway, SET_PARENT, {"c": top, "p": top})
    assert extensions["reason"] == "HIERARCHY_CYCLE"
    assert await whole_graph(profile_graph) == before
