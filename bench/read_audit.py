"""What the read audit costs a person read, inside one subgraph process.

    .venv/bin/python bench/read_audit.py [--blocks 10] [--requests 200]

Starts its own graph server (no gateway, no subgraph processes) and runs the same
GraphQL person read (one Cypher read on the real graph server, as a subgraph does)
through two schemas in one process: the subgraph edge without the read audit, and
with it (records buffered and written to the graph in batches by the background
task, as in profile and matching). The two alternate in blocks so that the
machine's noise falls on both alike; prints p50 and p99 of each and the records
written. The gateway figures are bench/gateway_read.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import strawberry

from mdm_common.auth import Principal, Role
from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext, SubgraphSchema, schema_extensions
from mdm_common.read_audit.service import ReadAudits
from mdm_common.settings import ServiceSettings
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets

LABEL = "ReadAuditBenchPerson"
QUERY = "query BenchRead($id: String!) { person(id: $id) }"


class Bench:
    """The graph client the resolver reads with (set once the server is up)."""

    graph: GraphClient


@strawberry.type
class Query:
    @strawberry.field
    async def person(self, info: strawberry.Info[RequestContext, None], id: str) -> str | None:  # noqa: A002 - GraphQL argument name
        rows = await Bench.graph.read(
            lambda tx: tx.run(
                "bench.person", f"MATCH (p:{LABEL} {{id: $id}}) RETURN p.name AS name", id=id
            )
        )
        info.context.read_persons([id])
        return str(rows[0]["name"]) if rows else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(schema: SubgraphSchema, ids: list[str], count: int) -> list[float]:
    principal = Principal(subject="bench-steward", roles=frozenset({Role.STEWARD}))
    samples = []
    for i in range(count):
        context = RequestContext(request=None, response=None, principal=principal)  # type: ignore[arg-type]
        started = time.perf_counter()
        result = await schema.execute(
            QUERY, variable_values={"id": ids[i % len(ids)]}, context_value=context
        )
        samples.append((time.perf_counter() - started) * 1000)
        assert result.errors is None, result.errors
    return samples


async def run(graph: GraphClient, blocks: int, requests: int) -> None:
    Bench.graph = graph
    ids = [str(uuid.uuid4()) for _ in range(200)]
    await graph.apply_schema(
        [*ReadAudits.SCHEMA, f"CREATE INDEX bench_person IF NOT EXISTS FOR (p:{LABEL}) ON (p.id)"]
    )
    await graph.write(
        lambda tx: tx.run(
            "bench.people",
            f"UNWIND $ids AS id CREATE (p:{LABEL} {{id: id, name: 'Bench ' + id}})",
            ids=ids,
        )
    )
    settings = ServiceSettings(service_name="bench")
    audits = ReadAudits(graph)
    audits.start()
    variants = {
        "without audit": SubgraphSchema(query=Query, extensions=schema_extensions(settings)),
        "with audit": SubgraphSchema(
            query=Query, extensions=schema_extensions(settings, read_audits=audits)
        ),
    }
    for schema in variants.values():
        await timed(schema, ids, 100)  # warm-up: connections, caches
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(blocks):
        for name, schema in variants.items():
            samples[name].extend(await timed(schema, ids, requests))
    await audits.stop()
    for name, values in samples.items():
        print(
            f"{name}: p50 {statistics.median(values):.2f} ms, "
            f"p99 {percentile(values, 0.99):.2f} ms over {len(values)} reads"
        )
    written = await audits.reads(person_id=None, reader="bench-steward", since=None, first=500)
    print(f"audit records of the last reads found: {len(written)} (a page of at most 500)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200, help="reads per block and variant")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate())
        platform = Platform(config)
        platform.start_backing_servers()
        graph = GraphClient(
            uri=config.graph.bolt_uri,
            user="root",
            password=config.secrets.graph_password,
            database="profile",
        )
        try:
            asyncio.run(_with_graph(graph, args.blocks, args.requests))
        finally:
            platform.stop()
    return 0


async def _with_graph(graph: GraphClient, blocks: int, requests: int) -> None:
    try:
        await run(graph, blocks, requests)
    finally:
        await graph.close()


if __name__ == "__main__":
    sys.exit(main())
