"""Online match decision time against N existing profiles, on the real graph server.

    .venv-bench/bin/python bench/matching_online.py [--existing 20000] [--decisions 300]

Starts its own graph server (free ports, temporary directory), stores N generated
German profiles as match subjects (features and blocking keys, the worker's own
code path), then times the decision for new records (step 2 of online matching:
store the newcomer, find the subjects sharing a key, score, decide, open review
tasks) in its write transaction. The profile read before it (one subgraph call,
about 5 ms) and a merge after it are not included. Reports p50 / p99.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import matching_data
from matching_quality import match_record

from mdm_common.graph import GraphClient, Transaction
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_matching.adapters.graph_store import SCHEMA
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.online import Policy, ScorerCache, plan_match
from mdm_matching.domain.online_batch import _decide_in_order
from mdm_matching.domain.ports import ProfileView, SubjectFeatures

BATCH = 1_000


async def load(transactions: GraphTransactions, records: list[MatchRecord]) -> None:
    """Stores the subjects a thousand at a time, as the re-matching job's sync does."""
    now = datetime.now(UTC)
    for start in range(0, len(records), BATCH):
        batch = [
            SubjectFeatures(r, tuple(blocking.keys_of(r)), fingerprint(r))
            for r in records[start : start + BATCH]
        ]
        await transactions.write(lambda s, b=batch: s.subjects.save_many(b, at=now))
        print(f"\rloaded {start + len(batch)}/{len(records)}", end="", flush=True)
    print()


class StatementClock:
    """Adds up the time of each named statement (``--statements``)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self._run = Transaction.execute

    def install(self) -> None:
        clock, run = self, self._run

        async def timed(
            tx: Transaction, operation: str, cypher: str, params: dict[str, Any], *, plain: bool
        ) -> Any:
            started = time.perf_counter()
            try:
                return await run(tx, operation, cypher, params, plain=plain)
            finally:
                clock.times[operation].append((time.perf_counter() - started) * 1000)

        Transaction.execute = timed  # type: ignore[method-assign]

    def report(self, decisions: int) -> None:
        print("statement                         calls/decision  median ms  total ms/decision")
        for name, times in sorted(self.times.items(), key=lambda kv: -sum(kv[1])):
            print(f"{name:34s}{len(times) / decisions:14.2f}{statistics.median(times):11.2f}"
                  f"{sum(times) / decisions:19.2f}")  # fmt: skip


def _graph(config: PlatformConfig) -> GraphClient:
    # A long timeout: loading a thousand subjects a transaction into a large graph,
    # or on a busy machine, takes longer than a request's deadline.
    return GraphClient(
        uri=config.graph.bolt_uri,
        user="root",
        password=config.secrets.graph_password,
        database="matching",
        timeout_s=120,
    )


async def measure(
    config: PlatformConfig, existing: int, decisions: int, clock: StatementClock | None
) -> tuple[list[float], list[int]]:
    data = matching_data.german(existing + decisions)
    rows = [row for rows in data.sources.values() for row in rows]
    records = [r for i, row in enumerate(rows) if (r := match_record(f"p{i}", row)) is not None]
    graph = _graph(config)
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    try:
        # The generator writes every distinct person first and the noisy
        # duplicates after them: the newcomers are mostly duplicates of stored ones.
        await load(transactions, records[:existing])
        if clock is not None:
            clock.install()
        policy, scorers, times, candidates = Policy(), ScorerCache(), [], []
        for record in records[existing : existing + decisions]:
            started = time.perf_counter()
            plan = await transactions.write(
                lambda s, r=record: plan_match(
                    r, s, policy=policy, scorers=scorers, now=datetime.now(UTC), sources=()
                )
            )
            times.append((time.perf_counter() - started) * 1000)
            candidates.append(plan.candidates)
        return times, candidates
    finally:
        await graph.close()


async def compare_batches(
    config: PlatformConfig, existing: int, decisions: int, size: int
) -> dict[str, list[float]]:
    """Per newcomer, ms: one transaction each (as a task per event did) against one
    transaction for ``size`` newcomers in arrival order (``online_batch``), in
    alternating blocks of ``size`` so that both see the same load."""
    data = matching_data.german(existing + decisions)
    rows = [row for rows in data.sources.values() for row in rows]
    records = [r for i, row in enumerate(rows) if (r := match_record(f"p{i}", row)) is not None]
    graph = _graph(config)
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    policy, scorers = Policy(), ScorerCache()
    found: dict[str, list[float]] = {"single": [], "batch": []}
    try:
        await load(transactions, records[:existing])
        newcomers = records[existing : existing + decisions]
        for index, start in enumerate(range(0, len(newcomers), size)):
            block = newcomers[start : start + size]
            started = time.perf_counter()
            if index % 2 == 0:
                for record in block:
                    await transactions.write(
                        lambda s, r=record: plan_match(
                            r,
                            s,
                            policy=policy,
                            scorers=scorers,
                            now=datetime.now(UTC),
                            sources=(),
                        )
                    )
            else:
                views = [ProfileView(r.id, r) for r in block]
                await transactions.write(
                    lambda s, v=views: _decide_in_order(
                        v,
                        s,
                        policy=policy,
                        scorers=scorers,
                        clock=lambda: datetime.now(UTC),
                        budget_s=3600,
                    )
                )
            per_record = (time.perf_counter() - started) * 1000 / len(block)
            found["single" if index % 2 == 0 else "batch"].append(per_record)
        return found
    finally:
        await graph.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--statements", action="store_true",
                        help="also report the time of each statement per decision")  # fmt: skip
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="instead: per newcomer, a transaction each against batches of N",
    )
    parser.add_argument("--graph-heap", default="4g", help="graph server heap (8g for 1M)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(
            state_dir=Path(tmp) / "platform",
            ports=Ports.free(),
            secrets=Secrets.generate(),
            graph_heap=args.graph_heap,
        )
        platform = Platform(config)
        platform.start_backing_servers()
        try:
            if args.batch:
                blocks = asyncio.run(
                    compare_batches(config, args.existing, args.decisions, args.batch)
                )
                for name, per_record in blocks.items():
                    print(
                        f"{name}: {len(per_record)} blocks of {args.batch}, per newcomer "
                        f"median {statistics.median(per_record):.2f} ms "
                        f"({', '.join(f'{t:.1f}' for t in per_record)})"
                    )
                return 0
            clock = StatementClock() if args.statements else None
            times, candidates = asyncio.run(measure(config, args.existing, args.decisions, clock))
        finally:
            platform.stop()
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    middle = statistics.median(candidates)
    print(f"{len(times)} decisions against {args.existing} profiles: "
          f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, "
          f"candidates scored median {middle:.0f}, max {max(candidates)}")  # fmt: skip
    if clock is not None:
        clock.report(len(times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
