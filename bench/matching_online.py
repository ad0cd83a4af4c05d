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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import matching_data
from matching_quality import match_record

from mdm_common.graph import GraphClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_matching.adapters.graph_store import SCHEMA
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint
from mdm_matching.domain.online import Policy, ScorerCache, _plan
from mdm_matching.domain.stores import Stores

BATCH = 500


async def load(transactions: GraphTransactions, records: list[MatchRecord]) -> None:
    now = datetime.now(UTC)
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]

        async def save(stores: Stores, batch: list[MatchRecord] = batch) -> None:
            for record in batch:
                await stores.subjects.register(record.id, at=now)
                await stores.subjects.save_features(
                    record, keys=blocking.keys_of(record), fingerprint=fingerprint(record), at=now
                )

        await transactions.write(save)
        print(f"\rloaded {start + len(batch)}/{len(records)}", end="", flush=True)
    print()


async def measure(config: PlatformConfig, existing: int, decisions: int) -> list[float]:
    data = matching_data.german(existing + decisions)
    rows = [row for rows in data.sources.values() for row in rows]
    records = [r for i, row in enumerate(rows) if (r := match_record(f"p{i}", row)) is not None]
    graph = GraphClient(uri=config.graph.bolt_uri, user="root",
                        password=config.secrets.graph_password, database="matching")  # fmt: skip
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    try:
        # The generator writes every distinct person first and the noisy
        # duplicates after them: the newcomers are mostly duplicates of stored ones.
        await load(transactions, records[:existing])
        policy, scorers, times = Policy(), ScorerCache(), []
        for record in records[existing : existing + decisions]:
            started = time.perf_counter()
            await transactions.write(
                lambda s, r=record: _plan(
                    r, s, policy=policy, scorers=scorers, now=datetime.now(UTC)
                )
            )
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        await graph.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp) / "platform", ports=Ports.free(),
                                secrets=Secrets.generate(), graph_heap="4g")  # fmt: skip
        platform = Platform(config)
        platform.start_backing_servers()
        try:
            times = asyncio.run(measure(config, args.existing, args.decisions))
        finally:
            platform.stop()
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{len(times)} decisions against {args.existing} profiles: "
          f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
