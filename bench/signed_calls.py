"""What a single-use gateway signature costs a subgraph request.

    .venv/bin/python bench/signed_calls.py [--requests 5000] [--work-ms 1.0]

Starts a Valkey server (the embedded broker) on a free port in a temporary
directory and times, in one process and event loop, the subgraphs' request check
(``GatewayOnly`` around an application that answers at once, called as ASGI, no
HTTP): with the nonce remembered in the process only (the check as it was plus
a set lookup), and in the shared store (``SET NX PX`` on Valkey, as the platform
runs it), for a read (which runs while the store answers) and for a write (checked
before it runs). The application waits ``--work-ms`` as if for the graph, so the
read's overlap shows. Reports p50 and p99 per request; the variants alternate request
by request, so all see the same machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mdm_common.auth import GatewayOnly, signed_headers
from mdm_common.replay import NonceRegistry
from mdm_infra import broker

SECRET = b"bench-secret-shared-with-the-gateway"


def body(query: str) -> bytes:
    return json.dumps(
        {
            "query": query,
            "variables": {"id": "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"},
            "extensions": {"jwt": {"payload": {"sub": "bench", "roles": ["app"]}}},
        }
    ).encode()


READ = body("query Read($id: ID!) { person(id: $id) { id givenName email } }")
WRITE = body("mutation Erase($id: ID!) { erasePerson(id: $id) { id } }")


def answering_after(work_s: float) -> ASGIApp:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if work_s:
            await asyncio.sleep(work_s)  # the resolvers waiting for the graph
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return answer


async def call(app: GatewayOnly, request: bytes = READ) -> tuple[float, int]:
    headers = [(k.encode(), v.encode()) for k, v in signed_headers(SECRET, request).items()]
    scope: Scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": request, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    started = time.perf_counter()
    await app(scope, receive, send)
    return (time.perf_counter() - started) * 1000, status


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(store_url: str, requests: int, work_s: float) -> dict[str, list[float]]:
    answer = answering_after(work_s)

    def edge(nonces: NonceRegistry) -> GatewayOnly:
        return GatewayOnly(
            answer, secret=SECRET, nonces=nonces, max_bytes=256 * 1024, max_age_s=5.0, skew_s=1.0
        )

    local = edge(NonceRegistry(None, ttl_s=6))
    shared_nonces = NonceRegistry(store_url, ttl_s=6)
    shared = edge(shared_nonces)
    variants = {
        "process memory, a read": (local, READ),
        "shared store (Valkey), a read (runs while the store answers)": (shared, READ),
        "shared store (Valkey), a write (waits for the store)": (shared, WRITE),
    }
    samples: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(200):  # warm-up: connection to the store, caches
        await call(shared)
    rounds = 10
    for _ in range(rounds):
        for _ in range(requests // rounds):
            for label, (app, request) in variants.items():
                elapsed, status = await call(app, request)
                assert status == 200
                samples[label].append(elapsed)
    await shared_nonces.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--work-ms", type=float, default=1.0, help="the application's wait")
    args = parser.parse_args()
    with broker.standalone() as config:
        samples = asyncio.run(measure(config.url, args.requests, args.work_ms / 1000))
    for label, values in samples.items():
        print(
            f"{label}: p50 {statistics.median(values) * 1000:.0f} us, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} us over {len(values)} requests"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
