"""Merge latency at scale, per Cypher statement: ``mergePersons`` without HTTP.

    .venv/bin/python bench/profile_merge.py [--persons 20000] [--merges 200] [--bulk N]

Starts its own graph server (free ports, temporary directory), loads ``--persons``
persons with one source record each through ``people.ingest`` (the records of
``bench/ingest.py``: shared addresses, so households form), then runs ``--merges``
merges of random pairs of persons not merged away, each as the mutation does it:
``merging.merge`` in one write transaction with a caller-chosen merge id, then the
survivor read back (``person.get_many``) after the commit. Some pairs take a survivor
of an earlier merge, so chains of merged ids are redirected too. Every statement is
timed; the end prints the median, p90 and p99 per merge, and each statement's median.

``--bulk N`` then merges ``--bulk-merges`` more pairs N at a time as ``mergePersonsBulk``
does: ``bulk_merging.merge_many`` in one write transaction (no read-back: the mutation
answers with ids). ``--rounds R`` alternates the two R times on the same graph. Merges/s
is merges over the whole time of the timed merges or batches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
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
from mdm_profile.adapters.bulk_merge_store import GraphBulkMergeStore
from mdm_profile.adapters.employment_store import GraphEmploymentStore
from mdm_profile.adapters.graph_store import GraphPersonStore
from mdm_profile.adapters.household_store import GraphHouseholdStore
from mdm_profile.adapters.merge_store import GraphMergeStore
from mdm_profile.adapters.privacy_store import GraphSuppressionList
from mdm_profile.domain import bulk_merging, merging, people
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.records import RawRecord
from mdm_profile.domain.sources import SourceRegistry
from mdm_profile.domain.suppression import Suppressor
from mdm_profile.settings import DEFAULT_SOURCES

# The same records as the end-to-end ingest benchmark (bench/ingest.py).
sys.path.insert(0, str(Path(__file__).parent))
from ingest import cpu_seconds, generate

_SNAKE = {"sourceId": "source_id", "fullName": "full_name", "postalCode": "postal_code"}
_SCHEMA = (*graph_store.SCHEMA, *merge_store.SCHEMA, *household_store.SCHEMA,
           *company_store.SCHEMA, *privacy_store.SCHEMA)  # fmt: skip
_BATCH = 500


class _Events:
    def __init__(self) -> None:
        self.count = 0

    def record(self, event: str, **ids: str) -> None:
        self.count += 1


class _Timings:
    """Seconds per statement (operation name) within the current unit, and over all."""

    def __init__(self) -> None:
        self.unit: dict[str, float] = defaultdict(float)
        self.all: dict[str, list[float]] = defaultdict(list)
        self.original = Transaction.execute

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
                timings.unit[operation] += time.perf_counter() - started

        Transaction.execute = timed  # type: ignore[method-assign]

    def close_unit(self, *, keep: bool) -> None:
        if keep:
            for operation, seconds in self.unit.items():
                self.all[operation].append(seconds)
        self.unit.clear()


def _raws(path: Path) -> list[RawRecord]:
    with path.open(encoding="utf-8") as handle:
        return [
            RawRecord(**{_SNAKE.get(k, k): v for k, v in json.loads(line).items()})
            for line in handle
        ]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _load(graph: GraphClient, raws: list[RawRecord], sources: SourceRegistry) -> list[str]:
    suppressor = Suppressor(b"bench-suppression-key")
    ids: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(raws), _BATCH):
        batch = raws[start : start + _BATCH]
        ingestion = await graph.write(
            lambda tx, batch=batch: people.ingest(
                "crm", batch, store=GraphPersonStore(tx), households=GraphHouseholdStore(tx),
                employers=GraphEmploymentStore(tx),
                sources=sources, events=_Events(), suppressor=suppressor,
                suppressions=GraphSuppressionList(tx), now=datetime.now(UTC),
            )
        )  # fmt: skip
        ids.extend(o.person_id for o in ingestion.outcomes)
    seconds = time.perf_counter() - started
    print(f"loaded {len(ids)} persons in {seconds:.1f} s ({len(ids) / seconds:.0f}/s)", flush=True)
    return ids


class _Pairs:
    """Random pairs of persons not merged away; one in four merges an earlier survivor
    away, so chains of merged ids are redirected."""

    def __init__(self, ids: list[str], *, seed: int) -> None:
        self._rng = random.Random(seed)
        self._active = list(ids)
        self._survivors: dict[str, None] = {}  # in order, each once

    def next(self) -> tuple[str, str]:
        rng, active = self._rng, self._active
        if self._survivors and rng.random() < 0.25:
            merged_id = rng.choice(list(self._survivors))
        else:
            merged_id = active[rng.randrange(len(active))]
        survivor_id = merged_id
        while survivor_id == merged_id:
            survivor_id = active[rng.randrange(len(active))]
        active.remove(merged_id)
        self._survivors.pop(merged_id, None)
        self._survivors[survivor_id] = None
        return survivor_id, merged_id


def _statements(timings: _Timings, unit: str) -> None:
    print(f"\nmedian per statement, its runs in one {unit} summed (ms):")
    for operation, values in sorted(timings.all.items(), key=lambda kv: -statistics.median(kv[1])):
        print(
            f"  {operation:34s} {statistics.median(values) * 1000:9.2f}  "
            f"(p90 {_quantile(values, 0.9) * 1000:9.2f}, in {len(values)})"
        )


async def _merges(
    graph: GraphClient, pairs: _Pairs, *, count: int, sources: SourceRegistry
) -> float:
    """``count`` merges one at a time, as ``mergePersons`` does them; merges/s."""
    events = _Events()
    timings = _Timings()
    timings.install()
    totals: list[float] = []
    writes: list[float] = []
    for n in range(count):
        survivor_id, merged_id = pairs.next()
        started = time.perf_counter()
        await graph.write(
            lambda tx, s=survivor_id, m=merged_id: merging.merge(
                s,
                m,
                store=GraphMergeStore(tx),
                households=GraphHouseholdStore(tx),
                sources=sources,
                rules=DEFAULT_RULES,
                events=events,
                actor="bench",
                reason="benchmark",
                now=datetime.now(UTC),
                merge_id=uuid.uuid4().hex,
            )
        )
        written = time.perf_counter()
        # The mutation reads the survivor back after the commit.
        await graph.read(lambda tx, s=survivor_id: GraphPersonStore(tx).get_many([s]))
        done = time.perf_counter()
        warm = n >= min(10, count // 10)  # the first merges warm caches and JIT
        timings.close_unit(keep=warm)
        if warm:
            totals.append(done - started)
            writes.append(written - started)
    ms = [t * 1000 for t in totals]
    rate = len(totals) / sum(totals)
    print(f"\nsingle: {len(ms)} merges timed (events published: {events.count}); per merge (ms):")
    print(
        f"  {'mergePersons (write + read)':34s} median {statistics.median(ms):7.1f}  "
        f"p90 {_quantile(ms, 0.9):7.1f}  p99 {_quantile(ms, 0.99):7.1f}"
    )
    print(f"  {'write transaction':34s} median {statistics.median(writes) * 1000:7.1f}")
    print(f"{1000 / statistics.median(ms):.1f} merges/s at the median ({rate:.1f} over all)")
    _statements(timings, "merge")
    Transaction.execute = timings.original  # type: ignore[method-assign]
    return rate


async def _bulk_merges(
    graph: GraphClient, pairs: _Pairs, *, count: int, size: int, sources: SourceRegistry
) -> float:
    """``count`` merges ``size`` at a time, as ``mergePersonsBulk`` does them; merges/s."""
    events = _Events()
    timings = _Timings()
    timings.install()
    totals: list[float] = []
    writes: list[float] = []
    timed_merges = 0
    batches = [[pairs.next() for _ in range(min(size, count - i))] for i in range(0, count, size)]
    for n, batch in enumerate(batches):
        requests = [
            bulk_merging.MergeRequest(s, m, uuid.uuid4().hex, "benchmark") for s, m in batch
        ]
        started = time.perf_counter()
        outcomes = await graph.write(
            lambda tx, requests=requests: bulk_merging.merge_many(
                requests,
                store=GraphBulkMergeStore(tx),
                households=GraphHouseholdStore(tx),
                sources=sources,
                rules=DEFAULT_RULES,
                events=events,
                actor="bench",
                now=datetime.now(UTC),
            )
        )
        # mergePersonsBulk answers per item with ids only: no read-back.
        written = done = time.perf_counter()
        skipped = sum(o.error is not None for o in outcomes)
        if skipped:
            print(f"batch {n}: {skipped} skipped", flush=True)
        warm = n >= 1 or len(batches) == 1  # the first batch warms caches and JIT
        timings.close_unit(keep=warm)
        if warm:
            totals.append(done - started)
            writes.append(written - started)
            timed_merges += len(batch) - skipped
    ms = [t * 1000 for t in totals]
    rate = timed_merges / sum(totals)
    print(
        f"\nbulk: {len(ms)} batches of {size} timed ({timed_merges} merges, events published: "
        f"{events.count}); per batch (ms):"
    )
    print(
        f"  {'mergePersonsBulk (write)':34s} median {statistics.median(ms):7.1f}  "
        f"p90 {_quantile(ms, 0.9):7.1f}  max {max(ms):7.1f}"
    )
    print(f"  {'write transaction':34s} median {statistics.median(writes) * 1000:7.1f}")
    print(f"{rate:.1f} merges/s over the timed batches")
    _statements(timings, "batch")
    Transaction.execute = timings.original  # type: ignore[method-assign]
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--merges", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--bulk", type=int, default=0, help="also merge this many pairs at a time (bulk)"
    )
    parser.add_argument("--bulk-merges", type=int, default=2000, help="merges per bulk round")
    parser.add_argument("--rounds", type=int, default=1, help="single, then bulk, this often")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "persons.jsonl"
        generate(data, args.persons)
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
                # The machine is shared: a slow statement is measured, not cut off (the
                # service's own deadline is 5 s; compare the batch times with it).
                timeout_s=120,
            )
            sources = SourceRegistry(DEFAULT_SOURCES)

            async def run() -> None:
                try:
                    await graph.apply_schema(_SCHEMA)
                    ids = await _load(graph, _raws(data), sources)
                    graph_cpu = cpu_seconds(platform.processes["graph"].pid)
                    pairs = _Pairs(ids, seed=args.seed)
                    rates: dict[str, list[float]] = defaultdict(list)
                    # Single and bulk alternate on the same graph: same data, same load.
                    for _ in range(args.rounds):
                        rates["single"].append(
                            await _merges(graph, pairs, count=args.merges, sources=sources)
                        )
                        if args.bulk:
                            rates["bulk"].append(
                                await _bulk_merges(
                                    graph,
                                    pairs,
                                    count=args.bulk_merges,
                                    size=args.bulk,
                                    sources=sources,
                                )
                            )
                    for path, found in rates.items():
                        print(
                            f"{path}: merges/s per round {[round(r, 1) for r in found]}, "
                            f"median {statistics.median(found):.1f}"
                        )
                    graph_cpu = cpu_seconds(platform.processes["graph"].pid) - graph_cpu
                    print(f"graph server CPU during the merges: {graph_cpu:.1f} s")
                finally:
                    await graph.close()

            asyncio.run(run())
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
