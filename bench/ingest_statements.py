"""Where ingest time goes, per Cypher statement: the domain's ingest against the graph only.

    .venv/bin/python bench/ingest_statements.py [--records 20000] [--every 5] [--updates]

Starts its own graph server (free ports, temporary directory), then runs the same
``people.ingest`` use case as ``ingestSourceRecords`` in batches of 500, one write
transaction each, without HTTP, gateway or broker. Every statement is timed; every
``--every``-th batch prints its statements' times, and the end prints the median of
each statement over all batches. Records are the ones ``bench/ingest.py`` sends;
``--updates`` sends them all again with another e-mail address each, after the first
load (the path on which golden records change and value history is written).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdm_common.graph import GraphClient, Row, Transaction
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.adapters import (
    company_store,
    graph_store,
    household_store,
    merge_store,
    privacy_store,
)
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import people
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.domain.suppression import Suppressor
from mdm_profile.settings import DEFAULT_SOURCES

# The same records as the end-to-end benchmark (bench/ingest.py).
sys.path.insert(0, str(Path(__file__).parent))
from ingest import cpu_seconds, generate

_SNAKE = {"sourceId": "source_id", "fullName": "full_name", "postalCode": "postal_code"}


class _NoEvents:
    def record(self, event: str, **ids: str) -> None:
        pass


class _Timings:
    def __init__(self) -> None:
        self.batch: dict[str, float] = defaultdict(float)
        self.all: dict[str, list[float]] = defaultdict(list)

    def install(self) -> None:
        original = Transaction.execute
        timings = self

        async def timed(
            tx: Transaction, operation: str, cypher: str, params: dict[str, Any], *, plain: bool
        ) -> list[Row]:
            started = time.perf_counter()
            try:
                return await original(tx, operation, cypher, params, plain=plain)
            finally:
                timings.batch[operation] += time.perf_counter() - started

        Transaction.execute = timed  # type: ignore[method-assign]

    def close_batch(self) -> dict[str, float]:
        done = dict(self.batch)
        for operation, seconds in done.items():
            self.all[operation].append(seconds)
        self.batch.clear()
        return done


def _raws(path: Path) -> list[RawRecord]:
    with path.open(encoding="utf-8") as handle:
        return [
            RawRecord(**{_SNAKE.get(k, k): v for k, v in json.loads(line).items()})
            for line in handle
        ]


async def _run(graph: GraphClient, raws: list[RawRecord], every: int, updates: bool) -> None:
    await graph.apply_schema((*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA,
                              *company_store.SCHEMA, *privacy_store.SCHEMA))  # fmt: skip
    timings = _Timings()
    timings.install()
    print("first load:")
    await _load(graph, raws, every, timings)
    if updates:
        # Every record again with another e-mail address: each golden record changes.
        print("\nupdates (every record, a new e-mail address):")
        changed = [replace(r, email=f"neu.{r.email}") for r in raws]
        timings.all.clear()
        await _load(graph, changed, every, timings)


async def _load(graph: GraphClient, raws: list[RawRecord], every: int, timings: _Timings) -> None:
    sources = SourceRegistry(DEFAULT_SOURCES)
    suppressor = Suppressor(b"bench-suppression-key")
    totals = []
    for start in range(0, len(raws), 500):
        batch = raws[start : start + 500]
        t = time.perf_counter()
        await graph.write(
            lambda tx, batch=batch: people.ingest(
                "crm", batch, store=GraphPersonStore(tx), households=GraphHouseholdStore(tx),
                employers=GraphEmploymentStore(tx),
                sources=sources, events=_NoEvents(), suppressor=suppressor,
                suppressions=GraphSuppressionList(tx), now=datetime.now(UTC),
            )
        )  # fmt: skip
        totals.append(time.perf_counter() - t)
        done = timings.close_batch()
        index = start // 500 + 1
        if index % every == 0 or index == 1:
            parts = "  ".join(f"{op} {s * 1000:.0f}" for op, s in done.items())
            print(f"batch {index:4d} total {totals[-1] * 1000:5.0f} ms: {parts}", flush=True)
    print("\nmedian per batch (ms):")
    print(f"  {'total':24s} {statistics.median(totals) * 1000:7.1f}")
    for operation, values in timings.all.items():
        print(f"  {operation:24s} {statistics.median(values) * 1000:7.1f}")
    print(f"{len(raws) / sum(totals):.0f} records/s over {len(totals)} transactions")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument(
        "--updates", action="store_true", help="then send every record again, changed"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "persons.jsonl"
        generate(data, args.records)
        config = PlatformConfig(state_dir=Path(tmp) / "platform", ports=Ports.free(),
                                secrets=Secrets.generate(), graph_heap="4g")  # fmt: skip
        platform = Platform(config)
        platform.start_backing_servers()
        try:
            graph = GraphClient(
                uri=config.graph.bolt_uri,
                user="root",
                password=config.secrets.graph_password,
                database="profile",
            )

            async def run() -> None:
                try:
                    await _run(graph, _raws(data), args.every, args.updates)
                finally:
                    await graph.close()

            graph_cpu = cpu_seconds(platform.processes["graph"].pid)
            asyncio.run(run())
            graph_cpu = cpu_seconds(platform.processes["graph"].pid) - graph_cpu
            print(f"graph server CPU during the run: {graph_cpu:.1f} s")
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
