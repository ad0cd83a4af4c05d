"""Read latency of federated person queries through the gateway.

    .venv/bin/python bench/gateway_read.py [--requests 400] [--persons 200]

Starts its own platform on free ports in a temporary directory (no tracing export),
ingests persons in households of two with a consent each through the gateway, then
times ``person(id) { ... household { members } consents }`` (issue 3's read) and
the same with ``matching ... matchCandidates`` (all three subgraphs) with 1 and 8
concurrent clients. Reports medians and p99; the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mdm_infra import demo, tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_reads(client: GatewayClient, query: str, ids: list[str], count: int) -> list[float]:
    rng = random.Random(7)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.execute(query, {"id": rng.choice(ids)})
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="reads per client")
    parser.add_argument("--persons", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate())
        platform = Platform(config)
        started = time.perf_counter()
        platform.start()
        print(f"platform start: {time.perf_counter() - started:.1f} s")
        try:
            token = tokens.mint(
                config.secrets.jwt, subject="bench", roles=["app", "steward", "compliance"]
            )
            loader = GatewayClient(config.gateway_url, token)
            records = [
                {"sourceId": f"R{i:05d}", "givenName": f"Bench{i}",
                 "familyName": f"Messreihe{i // 2}", "email": f"b{i}@example.org",
                 "street": f"Messweg {i // 2 + 1}", "postalCode": "10115", "city": "Berlin"}
                for i in range(args.persons)
            ]  # fmt: skip
            ingested = loader.execute(demo.INGEST, {"source": "crm", "records": records})
            ids = [r["personId"] for r in ingested["ingestSourceRecords"]["records"]]
            demo.ensure_newsletter(loader)
            for person_id in ids:
                demo.newsletter_opt_in(loader, person_id)
            sample = loader.execute(QUERY_360, {"id": ids[0]})["person"]
            if sample["household"] is None or not sample["consents"]:
                raise SystemExit("bench data lacks a household or a consent")
            for label, query in (("household+consents", QUERY), ("+matching", QUERY_360)):
                timed_reads(loader, query, ids, 50)  # warm-up: connections, JIT, caches
                for clients in (1, 8):
                    pool = [GatewayClient(config.gateway_url, token) for _ in range(clients)]
                    wall = time.perf_counter()
                    with ThreadPoolExecutor(clients) as executor:
                        runs = list(
                            executor.map(
                                lambda c, q=query: timed_reads(c, q, ids, args.requests), pool
                            )
                        )
                    wall = time.perf_counter() - wall
                    samples = [s for run in runs for s in run]
                    print(
                        f"{label}, {clients} client(s): p50 {statistics.median(samples):.1f} ms, "
                        f"p99 {percentile(samples, 0.99):.1f} ms, "
                        f"{len(samples) / wall:.0f} req/s over {len(samples)} requests"
                    )
                    for client in pool:
                        client.close()
            loader.close()
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
