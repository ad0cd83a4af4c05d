"""What a single-use gateway signature costs a subgraph request.

    .venv/bin/python bench/signed_calls.py [--requests 5000]

Starts a Valkey server (the embedded broker) on a free port in a temporary
directory and times, in one process and event loop, the subgraphs' request check
(``GatewayOnly`` around an application that answers at once, called as ASGI, no
HTTP): with the nonce remembered in the process only (the check as it was plus
a set lookup), and in the shared store (``SET NX PX`` on Valkey, as the platform
runs it). Reports p50 and p99 per request; the variants alternate request by
request, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.types import Message, Receive, Scope, Send

from mdm_common.auth import GatewayOnly, signed_headers
from mdm_common.replay import NonceRegistry
from mdm_infra import broker
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess

SECRET = b"bench-secret-shared-with-the-gateway"
BODY = json.dumps(
    {
        "query": "query Read($id: ID!) { person(id: $id) { id givenName email } }",
        "variables": {"id": "0b6f7c1e-1d2f-4c1a-9a0e-2f3b4c5d6e7f"},
        "extensions": {"jwt": {"payload": {"sub": "bench", "roles": ["app"]}}},
    }
).encode()


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def call(app: GatewayOnly) -> tuple[float, int]:
    headers = [(k.encode(), v.encode()) for k, v in signed_headers(SECRET, BODY).items()]
    scope: Scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": BODY, "more_body": False}

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


async def measure(store_url: str, requests: int) -> dict[str, list[float]]:
    window = {"max_bytes": 256 * 1024, "max_age_s": 5.0, "skew_s": 1.0}
    local = GatewayOnly(answer, secret=SECRET, nonces=NonceRegistry(None, ttl_s=6), **window)
    shared_nonces = NonceRegistry(store_url, ttl_s=6)
    shared = GatewayOnly(answer, secret=SECRET, nonces=shared_nonces, **window)
    labels = ("process memory", "shared store (Valkey)")
    samples: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(200):  # warm-up: connection to the store, caches
        await call(shared)
    rounds = 10
    for _ in range(rounds):
        for _ in range(requests // rounds):
            elapsed, status = await call(local)
            assert status == 200
            samples["process memory"].append(elapsed)
            elapsed, status = await call(shared)
            assert status == 200
            samples["shared store (Valkey)"].append(elapsed)
    await shared_nonces.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = broker.BrokerConfig(data_dir=Path(tmp) / "broker", port=free_port())
        valkey = ManagedProcess(
            name="broker", argv=config.argv(), log_path=Path(tmp) / "broker.log"
        )
        valkey.start()
        try:
            valkey.wait_ready(lambda: broker.is_ready(config), timeout_s=30)
            samples = asyncio.run(measure(config.url, args.requests))
        finally:
            valkey.stop()
    for label, values in samples.items():
        print(
            f"{label}: p50 {statistics.median(values) * 1000:.0f} us, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} us over {len(values)} requests"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
