"""Scoring off the graph: a re-matching job's partitions fed from a Parquet export.

    .venv-bench/bin/python bench/rematch_parquet.py --records 20000 --partitions 8

A prototype of docs/scaling.md, "Scoring that leaves the graph" (needs ``pyarrow``,
which the bench environment has through Splink; the services do not depend on it).
It starts a graph server of its own (free ports, temporary directory), stores the
German generator's records as match subjects (features and block keys, bulk
``save_many``), then scores two jobs of ``--partitions`` partitions with the same
domain code (``rematch.score_partition``):

- ``graph``: every partition reads all active features from the graph (today's path);
- ``parquet``: the features are exported once, in bulk, to one Parquet file (one row
  group per page of the graph read), and every partition reads that file instead.

Proposals go back through the same path either way (``save_proposals`` in slices,
``finish_partition``), and the merge plan of each job is made by the same
``rematch_merge.make_plan``; the two jobs must propose the same pairs and plan the
same merges. Merges are not applied here (they need the profile service). Printed:
the export, the per-partition feature read (graph vs Parquet), the scoring phase, and
the plan.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

import matching_data
import matching_quality

from mdm_common.graph import GraphClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain import rematch, rematch_merge
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.online import Policy, ScorerCache
from mdm_matching.domain.ports import SubjectFeatures
from mdm_matching.domain.stores import Stores
from mdm_matching.domain.subjects import all_active_features

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PAGE = 5_000
TEXT = (
    "id",
    "given",
    "family",
    "given_code",
    "family_code",
    "birth",
    "suffix",
    "email",
    "phone",
    "postal_code",
    "city",
    "street",
    "house_number",
)
SCHEMA_PARQUET = pa.schema(
    [pa.field(name, pa.string(), nullable=name != "id") for name in TEXT]
    + [pa.field("identifiers", pa.list_(pa.string()))]
)


def write_features(records: list[MatchRecord], path: Path) -> None:
    """The features as one Parquet file, a row group per page (zstd)."""
    with pq.ParquetWriter(path, SCHEMA_PARQUET, compression="zstd") as writer:
        for start in range(0, len(records), PAGE):
            page = records[start : start + PAGE]
            columns = {name: [getattr(r, name) for r in page] for name in TEXT}
            columns["identifiers"] = [list(r.identifiers) for r in page]
            writer.write_table(pa.table(columns, schema=SCHEMA_PARQUET))


def read_features(path: Path) -> list[MatchRecord]:
    rows = pq.read_table(path).to_pylist()
    return [MatchRecord(**(row | {"identifiers": tuple(row["identifiers"] or ())})) for row in rows]


async def store_subjects(transactions: GraphTransactions, records: list[MatchRecord]) -> None:
    for start in range(0, len(records), 1000):
        page = [
            SubjectFeatures(r, tuple(blocking.keys_of(r)), fingerprint(r))
            for r in records[start : start + 1000]
        ]

        async def save(stores: Stores, page: list[SubjectFeatures] = page) -> None:
            await stores.subjects.save_many(page, at=NOW)

        await transactions.write(save)


async def score_job(
    transactions: GraphTransactions,
    name: str,
    partitions: int,
    features: Callable[[], Awaitable[list[MatchRecord]]] | None,
) -> tuple[str, list[float], float]:
    """A job in SCORING, every partition scored; its id, the feature reads' seconds
    and the scoring phase's seconds."""
    job = rematch.new_job(
        f"bench-{name}-{time.time_ns()}", partitions=partitions, requested_by="bench", now=NOW
    )

    async def create(stores: Stores) -> None:
        await stores.rematch.create(job)
        await stores.rematch.update(job.id, phase=rematch.RematchPhase.SCORING)

    await transactions.write(create)
    reads: list[float] = []

    async def timed() -> list[MatchRecord]:
        started = time.perf_counter()
        records = await (features() if features else all_active_features(transactions))
        reads.append(time.perf_counter() - started)
        return records

    policy, scorers = Policy(), ScorerCache()
    started = time.perf_counter()
    for number in range(partitions):
        await rematch.score_partition(
            job.id,
            number,
            transactions=transactions,
            policy=policy,
            scorers=scorers,
            features=timed,
        )
    return job.id, reads, time.perf_counter() - started


async def proposals_of(transactions: GraphTransactions, job_id: str) -> set[str]:
    keys: set[str] = set()
    after = ""
    while True:
        page = await transactions.read(
            lambda s, after=after: s.rematch.proposals_page(job_id, after=after, limit=5000)
        )
        keys |= {e.pair_key for e in page}
        if len(page) < 5000:
            return keys
        after = page[-1].pair_key


async def bench(config: PlatformConfig, args: argparse.Namespace, workdir: Path) -> None:
    graph = GraphClient(
        uri=config.graph.bolt_uri,
        user="root",
        password=config.secrets.graph_password,
        database="matching",
        timeout_s=600,
    )
    try:
        await graph.apply_schema(SCHEMA)
        transactions = GraphTransactions(graph)
        records = matching_quality.prepare(matching_data.german(args.records)).records
        started = time.perf_counter()
        await store_subjects(transactions, records)
        print(f"{len(records)} subjects stored in {time.perf_counter() - started:.1f} s")

        graph_job, graph_reads, graph_scoring = await score_job(
            transactions, "graph", args.partitions, None
        )
        path = workdir / "features.parquet"
        started = time.perf_counter()
        write_features(await all_active_features(transactions), path)
        export_s = time.perf_counter() - started

        async def from_parquet() -> list[MatchRecord]:
            return read_features(path)

        parquet_job, parquet_reads, parquet_scoring = await score_job(
            transactions, "parquet", args.partitions, from_parquet
        )
        same = await proposals_of(transactions, graph_job) == await proposals_of(
            transactions, parquet_job
        )
        plans = []
        for job_id in (graph_job, parquet_job):
            plan = await rematch_merge.make_plan(
                job_id, transactions=transactions, policy=Policy(), scorers=ScorerCache()
            )
            plans.append(plan)
        print(f"export: {export_s:.2f} s, {path.stat().st_size / 2**20:.2f} MiB")
        print(
            f"feature read per partition, median: graph {statistics.median(graph_reads):.2f} s, "
            f"parquet {statistics.median(parquet_reads):.2f} s"
        )
        print(
            f"scoring phase ({args.partitions} partitions, one process): graph "
            f"{graph_scoring:.1f} s, parquet {parquet_scoring:.1f} s (+ export {export_s:.1f} s)"
        )
        print(
            f"same proposals: {same} ({len(await proposals_of(transactions, graph_job))}); "
            f"plans: {[(len(p.steps), len(p.tasks)) for p in plans]}"
        )
    finally:
        await graph.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rematch-parquet-") as tmp:
        config = PlatformConfig(
            state_dir=Path(tmp) / "platform", ports=Ports.free(), secrets=Secrets.generate()
        )
        platform = Platform(config)
        platform.start_backing_servers()
        try:
            asyncio.run(bench(config, args, Path(tmp)))
        finally:
            platform.stop()


if __name__ == "__main__":
    main()
