"""Server time of the steward's two busiest pages with a full review queue.

    .venv/bin/python bench/console.py [--tasks 20000] [--persons 2000] [--requests 60]

Starts its own platform on free ports in a temporary directory, ingests persons
through the gateway (the worker registers them for matching), opens ``--tasks``
review tasks between pairs of them in matching's graph (bulk, through matching's own
store: the engine would need a real duplicate-rich data set to propose that many),
signs in to the console as a steward and times, over loopback:

- the review queue page (counts by reason, 25 tasks with both persons' names,
  totalCount), in its default order, oldest first, filtered by a family name prefix;
- the task page (both golden records, their source records, households, evidence).

Each figure is the median and p99 of ``--requests`` page loads after a warm-up; the
machines are shared and noisy. The target (issue 14): p50 <= 150 ms for each page.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from mdm_common.graph import GraphClient
from mdm_infra import demo, tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_matching.adapters.transactions import SCHEMA, GraphTransactions
from mdm_matching.domain.engine.model import Contribution
from mdm_matching.domain.models import PairEvidence, TaskReason
from mdm_matching.domain.ports import NewTask
from mdm_matching.domain.stores import Stores

COUNT = "{ matchSubjectCount }"
EXPLANATION = (
    Contribution("givenName", "exact", 6.3),
    Contribution("familyName", "exact", 7.3),
    Contribution("birthDate", None, 0.0),
    Contribution("email", None, 0.0),
    Contribution("phone", None, 0.0),
    Contribution("address", "same postal code", 5.8),
)
REASONS = (TaskReason.UNCERTAIN, TaskReason.GUARDED, TaskReason.AMBIGUOUS)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ingest_persons(client: GatewayClient, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 500):
        records = [
            {
                "sourceId": f"C{i:06d}",
                "givenName": f"Jürgen{i % 97}",
                "familyName": f"Konsole{i // 3:05d}",
                "street": f"Messweg {i % 50 + 1}",
                "postalCode": f"{10000 + i % 900}",
                "city": "Berlin",
            }
            for i in range(start, min(start + 500, count))
        ]
        result = client.execute(demo.INGEST, {"source": "crm", "records": records})
        ids += [r["personId"] for r in result["ingestSourceRecords"]["records"]]
    return ids


async def open_tasks(graph: GraphClient, ids: list[str], count: int) -> None:
    """``count`` open tasks between distinct pairs of the persons, a minute apart."""
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    rng = random.Random(14)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < count:
        a, b = rng.sample(ids, 2)
        pairs.add((min(a, b), max(a, b)))
    start = datetime.now(UTC) - timedelta(minutes=count)
    batch: list[NewTask] = []
    for n, (left, right) in enumerate(sorted(pairs)):
        evidence = PairEvidence(
            left, right, 0.5 + rng.random() * 0.49, 1.0, EXPLANATION, (), "bench", "bench"
        )
        batch.append(NewTask(str(uuid.uuid4()), evidence, REASONS[n % 3]))
        if len(batch) == 500 or n == count - 1:
            at = start + timedelta(minutes=n)

            async def write(
                stores: Stores, tasks: list[NewTask] = batch, at: datetime = at
            ) -> None:
                await stores.reviews.open_tasks(tasks, at=at)

            await transactions.write(write)
            batch = []


PARTS = {
    "counts by reason (reviewQueueSummary)": "{ reviewQueueSummary { open deferred } }",
    "a page of 25 with both names (reviewTasks)": """{ reviewTasks(first: 25) { edges {
        node { id left { givenName familyName } right { givenName familyName } } } } }""",
    "a page of 25 without names": "{ reviewTasks(first: 25) { edges { node { id } } } }",
    "totalCount of the queue": "{ reviewTasks(first: 1) { totalCount } }",
}


def timed_query(client: GatewayClient, query: str, count: int) -> list[float]:
    for _ in range(5):
        client.execute(query)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.execute(query)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def sign_in(console: httpx.Client) -> None:
    page = console.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the sign-in page")
    done = console.post(
        "/signin/dev",
        data={"csrf_token": token.group(1), "name": "bench", "roles": "steward", "next": "/review"},
    )
    if done.status_code != 303:
        raise SystemExit(f"sign-in failed: {done.status_code}")


def timed(console: httpx.Client, path: str, count: int) -> list[float]:
    for _ in range(5):  # warm-up
        console.get(path)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = console.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--persons", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate())
        platform = Platform(config)
        platform.start()
        try:
            token = tokens.mint(config.secrets.jwt, subject="bench", roles=["app", "steward"])
            client = GatewayClient(config.gateway_url, token)
            ids = ingest_persons(client, args.persons)
            deadline = time.monotonic() + 600
            while client.execute(COUNT)["matchSubjectCount"] < len(ids):
                if time.monotonic() > deadline:
                    raise SystemExit("the worker did not register the persons in time")
                time.sleep(1)
            client.close()
            graph = GraphClient(
                uri=config.graph.bolt_uri,
                user="root",
                password=config.secrets.graph_password,
                database="matching",
            )
            started = time.perf_counter()
            asyncio.run(open_tasks(graph, ids, args.tasks))
            print(f"{args.tasks} open tasks written in {time.perf_counter() - started:.0f} s")

            with httpx.Client(base_url=config.console_url, timeout=30) as console:
                sign_in(console)
                first = console.get("/review")
                task_id = re.search(r'href="/review/tasks/([0-9a-f-]+)"', first.text)
                total = re.search(r"(\d+) tasks? match", first.text)
                if task_id is None or total is None:
                    raise SystemExit("the queue page shows no task")
                # The ingested persons' own matching opens some tasks as well.
                print(f"open tasks in the queue: {total.group(1)}")
                pages = {
                    "queue, default order": "/review",
                    "queue, oldest first": "/review?order=oldest",
                    "queue, family name prefix": "/review?name=Konsole0012",
                    "task page": f"/review/tasks/{task_id.group(1) if task_id else ''}",
                }
                for label, path in pages.items():
                    samples = timed(console, path, args.requests)
                    print(
                        f"{label}: p50 {statistics.median(samples):.0f} ms, "
                        f"p99 {percentile(samples, 0.99):.0f} ms ({len(samples)} loads)"
                    )
            # Where the queue page's time goes: its two root fields alone at the gateway.
            client = GatewayClient(config.gateway_url, token)
            for label, query in PARTS.items():
                samples = timed_query(client, query, args.requests)
                print(
                    f"  gateway, {label}: p50 {statistics.median(samples):.0f} ms, "
                    f"p99 {percentile(samples, 0.99):.0f} ms"
                )
            client.close()
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
