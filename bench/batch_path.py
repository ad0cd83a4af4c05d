"""The profile subgraph's side of the batch path, in one process: ingest, sync reads,
read back.

    .venv/bin/python bench/batch_path.py [--records 20000] [--rounds 1] [--statements]
        [--profile DIR [--cprofile]] [--json FILE]

Starts its own graph server and broker (free ports, temporary directory), builds the
profile subgraph's real application (``mdm_profile.app.create_app``: signature check,
nonce store, Strawberry, read audit, relay) and calls it in process over ASGI with
signed requests, as the gateway and the matching service do; no uvicorn, gateway or
worker. Then, timing each phase in wall and CPU seconds of this process:

- ingest: German records of ``bench/matching_data.py`` through ``ingestSourceRecords``,
  500 a call, one call at a time (as the pipeline benchmark sends them);
- sync: what matching's batch job reads when it knows no person yet
  (``activePersonIds`` pages, then every person through ``ProfileClient.fetch_many``,
  the worker's own client);
- read back: every ingested person through ``persons(ids:)``, 500 a request;
- with ``--matching-sync``, matching's whole SYNCING phase as its worker runs it (the
  domain's ``sync`` with the worker's profile client and matching's stores on the same
  graph server, database ``matching``), after the reads above: this process is then
  both services.

The CPU seconds are this process's (subgraph and client together: the client's part
is small) and the graph server's; the profile's graph deadline is 60 s. ``--rounds N``
repeats the sync and the read back on the same data. ``--statements`` prints the wall
seconds spent per Cypher statement (by operation name) in each phase. ``--profile DIR``
writes a pyinstrument profile of each phase there (``pip install pyinstrument`` into
the environment first; it is not a project dependency), with ``--cprofile`` a cProfile
one instead. Run another checkout's code by putting its sources first on
``PYTHONPATH`` (bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import matching_data

from mdm_common.auth import Principal, Role
from mdm_common.graph import GraphClient, Transaction
from mdm_common.subgraph_client import SubgraphClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_matching.adapters.profile_client import ProfileClient
from mdm_matching.adapters.transactions import SCHEMA as MATCHING_SCHEMA
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain import rematch
from mdm_profile.importing.files import FIELDS
from mdm_profile.settings import DEFAULT_SOURCES

INGEST = """mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    records { sourceId personId } results { status refusal { code } } }
}"""
PERSONS = "query Resolve($ids: [ID!]!) { persons(ids: $ids) { id } }"
BATCH = 500
try:  # the sync's own module; before it had one, the sync lived in rematch
    from mdm_matching.domain.rematch_sync import ID_PAGE
    from mdm_matching.domain.rematch_sync import sync as matching_sync
except ImportError:
    ID_PAGE = 1000
    from mdm_matching.domain.rematch import sync as matching_sync
APP = Principal("bench", frozenset({Role.APP, Role.STEWARD}))


class Statements:
    """Wall seconds per Cypher statement, by operation name (sent to rows converted)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        execute = Transaction.execute

        async def timed(
            tx: Transaction, operation: str, cypher: str, params: dict[str, Any], *, plain: bool
        ) -> Any:
            started = time.perf_counter()
            try:
                return await execute(tx, operation, cypher, params, plain=plain)
            finally:
                self.seconds.setdefault(operation, []).append(time.perf_counter() - started)

        Transaction.execute = timed  # type: ignore[method-assign]

    def report(self) -> str:
        top = sorted(self.seconds.items(), key=lambda item: -sum(item[1]))[:14]
        self.seconds.clear()
        return ", ".join(f"{name} {sum(times):.2f}/{len(times)}" for name, times in top)


class Profiling:
    """A pyinstrument (or cProfile) profile of one phase, written to a directory."""

    def __init__(self, directory: Path, *, cprofile: bool) -> None:
        self.directory = directory
        self.cprofile = cprofile
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> Callable[[str], None]:
        if self.cprofile:
            profile = cProfile.Profile()
            profile.enable()

            def stop_cprofile(name: str) -> None:
                profile.disable()
                profile.dump_stats(self.directory / f"{name}.pstats")

            return stop_cprofile
        from pyinstrument import Profiler  # noqa: PLC0415 - optional, for profiling only

        # Samples of the running stack (not of awaiting coroutines): close to CPU time.
        profiler = Profiler(async_mode="disabled", interval=0.0005)
        profiler.start()

        def stop_pyinstrument(name: str) -> None:
            profiler.stop()
            (self.directory / f"{name}.html").write_text(profiler.output_html())
            (self.directory / f"{name}.txt").write_text(profiler.output_text(unicode=False))

        return stop_pyinstrument


class Phases:
    """Wall and CPU seconds of this process and of the graph server over each phase."""

    def __init__(
        self, graph_pid: int, *, statements: Statements | None, profiling: Profiling | None
    ) -> None:
        self._graph = graph_pid
        self._statements = statements
        self._profiling = profiling
        self.results: dict[str, dict[str, float]] = {}

    @asynccontextmanager
    async def timed(self, name: str, count: int) -> AsyncIterator[None]:
        stop = self._profiling.start() if self._profiling else None
        graph_cpu = cpu_seconds(self._graph)
        own = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        yield
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        graph = cpu_seconds(self._graph) - graph_cpu
        if stop is not None:
            stop(name)
        cpu = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
        self.results[name] = {
            "wall_s": wall,
            "per_s": count / wall,
            "cpu_s": cpu,
            "cpu_ms_per_person": 1000 * cpu / count,
            "graph_cpu_s": graph,
            "load": os.getloadavg()[0],
        }
        print(
            f"{name}: {count} in {wall:.1f} s ({count / wall:.0f}/s); CPU here {cpu:.1f} s "
            f"({1000 * cpu / count:.2f} ms a person), graph server {graph:.1f} s; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if self._statements is not None:
            print(f"  statements (wall s / count): {self._statements.report()}", flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def rows_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a source sends: the importer's fields, never ``truth``."""
    sent = {*FIELDS, "identifiers"}
    return [{k: v for k, v in row.items() if k in sent and v is not None} for row in records]


async def ingest(client: SubgraphClient, source: str, rows: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(rows), BATCH):
        data = await client.execute(
            INGEST, {"source": source, "records": rows[start : start + BATCH]}, on_behalf_of=APP
        )
        ids.extend(r["personId"] for r in data["ingestSourceRecords"]["records"])
    return ids


async def sync_reads(profiles: ProfileClient) -> int:
    """The persons matching's sync reads when it knows none of them."""
    read, after = 0, ""
    while True:
        ids = await profiles.active_ids(after=after, first=ID_PAGE)
        read += len(await profiles.fetch_many(ids))
        if len(ids) < ID_PAGE:
            return read
        after = ids[-1]


async def sync_matching(config: PlatformConfig, profiles: ProfileClient) -> int:
    """Matching's SYNCING phase of a new job on an empty matching database."""
    graph = GraphClient(
        uri=config.graph.bolt_uri,
        user="root",
        password=config.secrets.graph_password,
        database="matching",
        timeout_s=60,
    )
    try:
        await graph.apply_schema(MATCHING_SCHEMA)
        transactions = GraphTransactions(graph)
        now = datetime.now(UTC)
        job_id = str(uuid.uuid4())
        await rematch.start(
            job_id, partitions=2, requested_by="bench", transactions=transactions, now=now
        )
        job = await matching_sync(job_id, profiles=profiles, transactions=transactions, now=now)
        assert job is not None
        assert job.phase == rematch.RematchPhase.TRAINING, job
        return job.synced_persons
    finally:
        await graph.close()


async def read_back(client: SubgraphClient, ids: list[str]) -> int:
    found = 0
    for start in range(0, len(ids), BATCH):
        data = await client.execute(PERSONS, {"ids": ids[start : start + BATCH]}, on_behalf_of=APP)
        found += sum(p is not None for p in data["persons"])
    return found


async def run(config: PlatformConfig, args: argparse.Namespace) -> dict[str, Any]:
    from mdm_profile.app import create_app  # noqa: PLC0415 - reads the environment set in main

    data = matching_data.german(args.records)
    phases = Phases(
        Platform(config).processes["graph"].pid,
        statements=Statements() if args.statements else None,
        profiling=Profiling(args.profile, cprofile=args.cprofile) if args.profile else None,
    )
    app = create_app()
    async with app.router.lifespan_context(app):
        client = SubgraphClient("http://profile/graphql", secret=config.secrets.gateway.encode())
        await client.close()
        client._http = httpx.AsyncClient(  # in process, no sockets
            transport=httpx.ASGITransport(app=app), timeout=120
        )
        ids: list[str] = []
        async with phases.timed("ingest", args.records):
            for source, records in data.sources.items():
                ids += await ingest(client, source, rows_of(records))
        persons = sorted(set(ids))
        for round_ in range(1, args.rounds + 1):
            suffix = f" {round_}" if args.rounds > 1 else ""
            async with phases.timed(f"sync{suffix}", len(persons)):
                read = await sync_reads(profiles=ProfileClient(client))
            assert read == len(persons), (read, len(persons))
            async with phases.timed(f"read back{suffix}", len(persons)):
                await read_back(client, persons)
        if args.matching_sync:
            async with phases.timed("matching sync", len(persons)):
                synced = await sync_matching(config, ProfileClient(client))
            assert synced == len(persons), (synced, len(persons))
        await client.close()
    return phases.results


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--matching-sync", action="store_true", help="and matching's own sync")
    parser.add_argument("--profile", type=Path, default=None, help="a profile per phase here")
    parser.add_argument("--cprofile", action="store_true", help="with --profile: cProfile")
    parser.add_argument("--json", type=Path, default=None, help="the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(
            state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate(), graph_heap="2g"
        )
        platform = Platform(config)
        platform.start_backing_servers()
        os.environ.update(config.service_env("profile"))
        os.environ["PROFILE_GRAPH_TIMEOUT_S"] = "60"
        os.environ["PROFILE_SOURCES"] = json.dumps(DEFAULT_SOURCES | {"crm": 2, "shop": 2})
        try:
            results = asyncio.run(run(config, args))
        finally:
            platform.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
