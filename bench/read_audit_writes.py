"""What writing the read audit costs the graph server and the subgraph, per person read.

    .venv/bin/python bench/read_audit_writes.py [--rounds 2] [--persons 20000]

Starts its own graph server and writes read-audit records through the store the
subgraphs use (``GraphReadAuditStore``, five records a transaction as the buffered log
gathers them) in two shapes of 100 requests of 200 persons each:

- sorted pages: neighbouring ids out of ``--persons`` sorted ids, as matching's sync
  reads persons page by page in id order;
- scattered: 200 random ids a request.

Prints, per shape and round, the wall seconds, this process's CPU seconds (the
subgraph's share: building rows, the driver encoding them) and the graph server's CPU
seconds, then the time of one audit question by person. Run another checkout's code
by putting its sources first on ``PYTHONPATH`` (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from mdm_common.graph import GraphClient
from mdm_common.read_audit.records import ReadAudit
from mdm_common.read_audit.store import SCHEMA, GraphReadAuditStore
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets

REQUESTS = 100
PER_REQUEST = 200
PER_TRANSACTION = 5


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def requests(*, sorted_pages: bool, persons: int) -> list[ReadAudit]:
    everyone = sorted(str(uuid.uuid4()) for _ in range(persons))
    made = []
    for n in range(REQUESTS):
        if sorted_pages:
            ids = everyone[n * PER_REQUEST : (n + 1) * PER_REQUEST]
        else:
            ids = [str(uuid.uuid4()) for _ in range(PER_REQUEST)]
        made.append(
            ReadAudit(
                id=str(uuid.uuid4()),
                reader="service:matching",
                roles=("app",),
                operation="MatchingFeatures",
                person_ids=tuple(ids),
                at=datetime.now(UTC),
                fields=("personFeatures",),
            )
        )
    return made


async def run(graph: GraphClient, graph_pid: int, args: argparse.Namespace) -> None:
    await graph.apply_schema(SCHEMA)
    store = GraphReadAuditStore(graph)
    last: list[ReadAudit] = []
    for round_ in range(1, args.rounds + 1):
        for shape, sorted_pages in (("sorted pages", True), ("scattered", False)):
            last = requests(sorted_pages=sorted_pages, persons=args.persons)
            cpu, graph_cpu, started = own_cpu(), cpu_seconds(graph_pid), time.perf_counter()
            for start in range(0, len(last), PER_TRANSACTION):
                await store.write(last[start : start + PER_TRANSACTION])
            print(
                f"round {round_}, {shape}: {REQUESTS * PER_REQUEST} person reads in "
                f"{time.perf_counter() - started:.2f} s; CPU here {own_cpu() - cpu:.2f} s, "
                f"graph server {cpu_seconds(graph_pid) - graph_cpu:.2f} s; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    asked = last[REQUESTS // 2].person_ids[7]
    started = time.perf_counter()
    for _ in range(10):
        found = await store.reads(person_id=asked, reader=None, since=None, limit=10)
    print(f"asked by person: {(time.perf_counter() - started) * 100:.1f} ms, {len(found)} found")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--persons", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate())
        platform = Platform(config)
        platform.start_backing_servers()
        graph = GraphClient(
            uri=config.graph.bolt_uri,
            user="root",
            password=config.secrets.graph_password,
            database="matching",
            timeout_s=60,
        )
        try:
            asyncio.run(_with(graph, platform.processes["graph"].pid, args))
        finally:
            platform.stop()
    return 0


async def _with(graph: GraphClient, graph_pid: int, args: argparse.Namespace) -> None:
    try:
        await run(graph, graph_pid, args)
    finally:
        await graph.close()


if __name__ == "__main__":
    sys.exit(main())
