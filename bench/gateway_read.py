"""Read latency of federated person queries through the gateway.

    .venv/bin/python bench/gateway_read.py [--requests 400] [--persons 200] \
        [--clients 1,8] [--queries household,360,as-of]

Starts its own platform on free ports in a temporary directory (no tracing export),
ingests persons in households of two with a consent each through the gateway, then
times ``person(id) { ... household { members } consents }`` (issue 3's read) and
the same with ``matching ... matchCandidates`` (all three subgraphs), and
(``as-of``) the household read as of a time with the consent state then, with 1 and 8
concurrent clients (each client a token of its own subject, as separate callers are).
Reports medians, p99 and requests per second, and the CPU time each part of the
platform spent per request (from /proc, so it stays comparable when the shared
machine is busy, where the wall times do not).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx

from mdm_infra import demo, tokens
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_infra.process import children_of, stat_fields

# Issue 3's read: a person with household and consents (profile, then consent).
QUERY = """query PersonHousehold($id: ID!) { person(id: $id) {
  id givenName familyName email
  household { id members { personId role } }
  consents { purpose type channel occurredAt }
} }"""
# The same plus matching, as measured for the foundation: all three subgraphs.
QUERY_360 = """query Person360($id: ID!) { person(id: $id) {
  id givenName familyName email
  household { id members { personId role } }
  consents { purpose type channel occurredAt }
  matching { registered }
  matchCandidates { personId score }
} }"""


# The household read as of a time (issue 20): values and household from history, and
# the consent state at that time from the consent subgraph (@requires asOf).
QUERY_AS_OF = """query PersonAsOf($id: ID!, $at: DateTime!) { person(id: $id, asOf: $at) {
  id givenName familyName email
  household { id members { personId role } }
  consentState { purpose channel allowed }
} }"""


QUERIES = {
    "household": ("household+consents", QUERY),
    "360": ("+matching", QUERY_360),
    "as-of": ("as of a time, household+consent state", QUERY_AS_OF),
}
# The parts whose CPU time is counted (with their child processes).
CPU_PARTS = (
    "gateway",
    "profile",
    "consent",
    "matching",
    "graph",
    "broker",
    "matching-worker",
    "consent-worker",
)
INGEST_CHUNK = 10
TRIES = 5
T = TypeVar("T")
ROLES = ["app", "steward", "compliance"]


def cpu_seconds(platform: Platform) -> dict[str, float]:
    """User plus system CPU seconds of each part so far (its children included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    processes = platform.processes
    for part in CPU_PARTS:
        pid = processes[part].pid
        total = 0
        for each in (pid, *children_of(pid)):
            fields = stat_fields(str(each))
            total += int(fields[11]) + int(fields[12])  # utime, stime
        found[part] = total / ticks
    return found


def settle(platform: Platform, *, timeout_s: float = 300) -> None:
    """Wait until the workers have matched the ingested persons (their CPU time stands
    still), so that their graph statements do not fall into the reads' figures."""
    deadline = time.monotonic() + timeout_s
    previous = cpu_seconds(platform)
    while time.monotonic() < deadline:
        time.sleep(2)
        now = cpu_seconds(platform)
        busy = sum(now[w] - previous[w] for w in ("matching-worker", "consent-worker", "graph"))
        if busy < 0.1:  # under 5 % of a core over 2 s
            return
        previous = now
    print("workers still busy; the figures include their work")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_reads(
    client: GatewayClient, query: str, ids: list[str], count: int, at: str = ""
) -> list[float]:
    """Milliseconds per read; a read that fails (a busy machine: a deadline passed)
    counts as ``inf``, so it weighs on the percentiles and is counted apart. ``at``:
    the time of an as-of query."""
    rng = random.Random(7)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            client.execute(query, {"id": rng.choice(ids), **({"at": at} if at else {})})
        except (GraphQLError, httpx.HTTPError):
            samples.append(math.inf)
        else:
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="reads per client")
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--clients", default="1,8", help="concurrent clients, comma-separated")
    parser.add_argument("--queries", default="household,360", help="of: household, 360, as-of")
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]
    queries = [QUERIES[q] for q in args.queries.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate())
        platform = Platform(config)
        started = time.perf_counter()
        platform.start()
        print(f"platform start: {time.perf_counter() - started:.1f} s")
        try:
            token = tokens.mint(config.secrets.jwt, subject="bench", roles=ROLES)
            loader = GatewayClient(config.gateway_url, token)
            ids = ingest(loader, args.persons)
            demo.ensure_newsletter(loader)
            with_consent = opt_in(loader, ids)
            settle(platform)
            # The matching worker may have merged some of them: read the ones that
            # still have a household and a consent.
            ids = [i for i in with_consent if complete(loader.execute(QUERY, {"id": i}))]
            print(f"{len(ids)} persons with a household and a consent are read")
            if not ids:
                raise SystemExit("bench data lacks a household or a consent")
            # As-of reads ask for a time after the load, half a second ago.
            at = (datetime.now(UTC) - timedelta(seconds=0.5)).isoformat()
            for label, query in queries:
                when = at if "$at" in query else ""
                timed_reads(loader, query, ids, 50, when)  # warm-up: connections, caches
                for clients in client_counts:
                    measure(
                        platform,
                        config,
                        label=label,
                        query=query,
                        ids=ids,
                        clients=clients,
                        requests=args.requests,
                        at=when,
                    )
            loader.close()
        finally:
            platform.stop()
    return 0


def ingest(loader: GatewayClient, persons: int) -> list[str]:
    """Persons in households of two (same family name and street), in chunks that
    a busy machine answers within the graph deadline (and again when it did not)."""
    records = [
        {
            "sourceId": f"R{i:05d}",
            "givenName": f"Bench{i}",
            "familyName": f"Messreihe{i // 2}",
            "email": f"b{i}@example.org",
            "street": f"Messweg {i // 2 + 1}",
            "postalCode": "10115",
            "city": "Berlin",
        }
        for i in range(persons)
    ]
    ids: list[str] = []
    for start in range(0, persons, INGEST_CHUNK):
        chunk = records[start : start + INGEST_CHUNK]
        variables = {"source": "crm", "records": chunk}
        ingested = again_if_unavailable(partial(loader.execute, demo.INGEST, variables))
        ids.extend(r["personId"] for r in ingested["ingestSourceRecords"]["records"])
    return ids


def complete(data: dict[str, Any]) -> bool:
    return data["person"]["household"] is not None and bool(data["person"]["consents"])


def opt_in(loader: GatewayClient, ids: list[str]) -> list[str]:
    """The newsletter consent of each person; those whose opt-in ran into the graph
    deadline (a busy machine) are read without one. Returns those with one."""
    done = []
    for person_id in ids:
        try:
            demo.newsletter_opt_in(loader, person_id)
        except GraphQLError:
            continue  # its request or confirmation ran into the deadline
        done.append(person_id)
    if len(done) < len(ids):
        print(f"{len(ids) - len(done)} of {len(ids)} opt-ins failed (graph deadline)")
    return done


def again_if_unavailable(call: Callable[[], T]) -> T:
    """``call`` tried again while it answers UNAVAILABLE (the graph deadline passed on a
    busy machine); for idempotent calls only."""
    for _ in range(TRIES - 1):
        try:
            return call()
        except GraphQLError as exc:
            if exc.codes != ["UNAVAILABLE"]:
                raise
    return call()


def measure(
    platform: Platform,
    config: PlatformConfig,
    *,
    label: str,
    query: str,
    ids: list[str],
    clients: int,
    requests: int,
    at: str = "",
) -> None:
    pool = [
        GatewayClient(
            config.gateway_url,
            tokens.mint(config.secrets.jwt, subject=f"bench-{i}", roles=ROLES),
        )
        for i in range(clients)
    ]
    load = os.getloadavg()[0]
    cpu_before = cpu_seconds(platform)
    wall = time.perf_counter()
    with ThreadPoolExecutor(clients) as executor:
        runs = list(executor.map(lambda c: timed_reads(c, query, ids, requests, at), pool))
    wall = time.perf_counter() - wall
    cpu_after = cpu_seconds(platform)
    samples = [s for run in runs for s in run]
    per_request = {
        part: (cpu_after[part] - cpu_before[part]) * 1000 / len(samples) for part in CPU_PARTS
    }
    print(
        f"{label}, {clients} client(s): p50 {statistics.median(samples):.1f} ms, "
        f"p99 {percentile(samples, 0.99):.1f} ms, "
        f"{len(samples) / wall:.0f} req/s over {len(samples)} requests "
        f"({sum(1 for s in samples if s == math.inf)} failed), load {load:.1f}"
    )
    print(
        "  CPU ms per request: "
        + ", ".join(f"{part} {ms:.2f}" for part, ms in per_request.items())
        + f"; sum {sum(per_request.values()):.2f}"
    )
    for client in pool:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
