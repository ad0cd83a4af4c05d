"""Change-stream lag while ingesting: from an ingest batch's answer to its persons'
``mdm.person.created`` in a subscriber's Redis stream; and from a withdrawal's answer
to the subscriber's ``mdm.person.stopped``.

    .venv/bin/python bench/stream_lag.py [--records 20000] [--rate 1000] [--batch 100] \
        [--workers 1]

Starts its own platform (free ports, temporary directory; ``--keep`` keeps it). An
admin registers a stream subscriber for a purpose on a legitimate interest (not direct
marketing, so the contact check allows every person) with the identity, e-mail and
address categories. Generated German persons are then sent through the gateway in
batches (open loop: batch i is sent at i * batch / rate seconds, by as many threads as
needed, so a slow answer does not lower the offered rate). Each person's lag is the
time of its stream entry (the entry id's milliseconds, Valkey's clock on this machine)
minus the time its batch was answered (its commit is a little earlier). Then, for
``--withdrawals`` persons with consent to a second purpose and a second subscriber,
each consent is withdrawn and the stop event's lag measured the same way.

Printed, as JSON: offered and achieved ingest rate, lag percentiles (p50, p95, p99,
max) in seconds, the persons never seen in the stream (within ``--wait``), the stop
lags, lines with ERROR or a traceback per platform log, and the load average.
``--workers N`` runs N - 1 more distribution worker processes next to the platform's
(as more hosts would).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).parent))

from matching_pipeline import progress

from mdm_infra import tokens
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_infra.workers import extra_workers

GIVEN = ["Anna", "Jürgen", "Leyla", "Thomas", "Sabine", "Mehmet", "Katrin", "Lukas", "Ewa"]
FAMILY = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]
CITIES = [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln")]

REGISTER = """mutation($input: RegisterPurposeInput!) { registerPurpose(input: $input) { code } }"""
PUBLISH = """mutation($input: PublishNoticeInput!) { publishNotice(input: $input) { version } }"""
SUBSCRIBE = """mutation($input: CreateSubscriberInput!) {
  createSubscriber(input: $input) { subscriber { id stream { key } } } }"""
INGEST = """mutation($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { personId } } }"""
CONSENT = """mutation($input: ConsentEventInput!) { recordConsentEvent(input: $input) { id } }"""


def records(count: int) -> list[dict[str, str]]:
    rng = random.Random(7)
    found = []
    for i in range(count):
        postal, city = rng.choice(CITIES)
        tag = uuid.UUID(int=rng.getrandbits(128)).hex[:10]
        found.append(
            {
                "sourceId": f"S{i:07d}",
                "givenName": rng.choice(GIVEN),
                "familyName": f"{rng.choice(FAMILY)}-{tag}",
                "email": f"p{i}.{tag}@example.org",
                "street": f"Lindenstraße {rng.randint(1, 200)}",
                "postalCode": postal,
                "city": city,
            }
        )
    return found


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 3)}


def entries(client: redis.Redis, key: str, wanted_type: str) -> dict[str, float]:
    """Person id -> time (s) of its first entry of this type in the stream."""
    seen: dict[str, float] = {}
    last = "-"
    while True:
        batch = client.xrange(key, last if last == "-" else f"({last}", "+", count=5000)
        if not batch:
            return seen
        for entry_id, fields in batch:
            event = json.loads(fields[b"event"])
            if event["type"] == wanted_type:
                seen.setdefault(event["subject"], int(entry_id.decode().split("-")[0]) / 1000)
        last = batch[-1][0].decode()


def ingest(
    config: PlatformConfig,
    token: Callable[[], str],
    rows: list[dict[str, str]],
    *,
    rate: float,
    batch: int,
    concurrency: int,
) -> tuple[dict[str, float], float]:
    """Person id -> when its batch was answered; and the seconds the ingest took."""
    answered: dict[str, float] = {}
    lock = threading.Lock()
    local = threading.local()

    def send(index: int, chunk: list[dict[str, str]], due: float) -> None:
        time.sleep(max(0.0, due - time.monotonic()))
        if not hasattr(local, "client"):
            local.client = GatewayClient(config.gateway_url, token, timeout_s=120)
        for attempt in range(6):  # as mdm import does: a batch refused for load, again
            try:
                done = local.client.execute(INGEST, {"source": "shop", "records": chunk})
                break
            except GraphQLError as exc:
                if exc.codes != ["UNAVAILABLE"] or attempt == 5:
                    raise
                time.sleep(1)
        at = time.time()
        with lock:
            for record in done["ingestSourceRecords"]["records"]:
                answered[record["personId"]] = at

    chunks = [rows[i : i + batch] for i in range(0, len(rows), batch)]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        sent = [
            pool.submit(send, index, chunk, start + index * batch / rate)
            for index, chunk in enumerate(chunks)
        ]
        for future in sent:
            future.result()  # a batch that failed fails the run
    return answered, time.monotonic() - start


def wait_for(
    client: redis.Redis, key: str, type_: str, ids: set[str], timeout_s: float
) -> dict[str, float]:
    deadline = time.monotonic() + timeout_s
    while True:
        seen = entries(client, key, type_)
        if ids <= set(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(1)


def withdrawals(
    admin: GatewayClient, app: GatewayClient, stream: redis.Redis, *, count: int, wait_s: float
) -> dict[str, Any]:
    """Grant ``count`` persons a consent, then withdraw each: the stop event's lag."""
    code = "calls"
    admin.execute(
        REGISTER,
        {
            "input": {
                "code": code,
                "name": "Calls",
                "description": "Offers by phone.",
                "legalBasis": "CONSENT",
                "channels": ["PHONE"],
                "dataCategories": ["identity"],
                "retentionDays": 365,
                "directMarketing": True,
            }
        },
    )
    admin.execute(PUBLISH, {"input": {"purpose": code, "language": "de", "text": "Ja, ruft an."}})
    created = admin.execute(
        SUBSCRIBE,
        {
            "input": {
                "name": "call-centre",
                "purpose": code,
                "channel": "PHONE",
                "categories": ["identity"],
            }
        },
    )["createSubscriber"]["subscriber"]
    key = created["stream"]["key"]
    rows = [
        {"sourceId": f"W{i}", "givenName": "Karl", "familyName": f"Ruf{i}-{uuid.uuid4().hex[:8]}"}
        for i in range(count)
    ]
    done = app.execute(INGEST, {"source": "support", "records": rows})
    ids = [r["personId"] for r in done["ingestSourceRecords"]["records"]]

    def consent(person: str, type_: str) -> None:
        app.execute(
            CONSENT,
            {
                "input": {
                    "personId": person,
                    "type": type_,
                    "purpose": code,
                    "channel": "PHONE",
                    "noticeVersion": 1,
                    "language": "de",
                    "collectionPoint": "hotline",
                    "method": "PHONE_CALL",
                    "actor": "DATA_SUBJECT",
                    "evidenceRef": f"call-{person}",
                }
            },
        )

    for person in ids:
        consent(person, "GRANTED")
    wait_for(stream, key, "mdm.person.created", set(ids), wait_s)
    withdrawn: dict[str, float] = {}
    for person in ids:
        consent(person, "WITHDRAWN")
        withdrawn[person] = time.time()
        time.sleep(0.05)
    stopped = wait_for(stream, key, "mdm.person.stopped", set(ids), wait_s)
    lags = [stopped[p] - withdrawn[p] for p in ids if p in stopped]
    return {"persons": count, "stopped": len(lags), "lag s": percentiles(lags)}


def log_errors(config: PlatformConfig) -> dict[str, int]:
    found = {}
    for path in sorted(config.log_dir.glob("*.log")):
        text = path.read_text(errors="replace")
        found[path.stem] = text.count(" ERROR ") + text.count("Traceback")
    return {name: n for name, n in found.items() if n}


def run(config: PlatformConfig, args: argparse.Namespace) -> dict[str, Any]:
    platform = Platform(config)
    platform.start()
    token = tokens.renewing(
        config.secrets.jwt, subject="bench", roles=["app", "admin", "compliance"]
    )
    admin = GatewayClient(config.gateway_url, token, timeout_s=120)
    stream = redis.Redis.from_url(config.broker.url)
    more = contextlib.ExitStack()
    try:
        more.enter_context(extra_workers(config, "distribution", args.workers - 1))
        admin.execute(
            REGISTER,
            {
                "input": {
                    "code": "service",
                    "name": "Customer service",
                    "description": "Answering customers' questions.",
                    "legalBasis": "LEGITIMATE_INTEREST",
                    "channels": ["POST", "EMAIL"],
                    "dataCategories": ["identity", "email", "postal_address"],
                    "retentionDays": 730,
                    "directMarketing": False,
                }
            },
        )
        created = admin.execute(
            SUBSCRIBE,
            {
                "input": {
                    "name": "service-desk",
                    "purpose": "service",
                    "channel": "POST",
                    "categories": ["identity", "email", "postal_address"],
                }
            },
        )["createSubscriber"]["subscriber"]
        key = created["stream"]["key"]
        rows = records(args.records)
        progress(f"ingesting {len(rows)} records at {args.rate}/s offered")
        answered, seconds = ingest(
            config, token, rows, rate=args.rate, batch=args.batch, concurrency=args.concurrency
        )
        load_ingest = os.getloadavg()
        progress(f"ingested in {seconds:.1f} s; waiting for the stream")
        seen = wait_for(stream, key, "mdm.person.created", set(answered), args.wait)
        lags = [seen[p] - t for p, t in answered.items() if p in seen]
        stops = withdrawals(admin, admin, stream, count=args.withdrawals, wait_s=args.wait)
        errors = log_errors(config)
    finally:
        more.close()
        admin.close()
        stream.close()
        platform.stop()
    return {
        "records": len(answered),
        "distribution workers": args.workers,
        "offered records/s": args.rate,
        "achieved records/s": round(len(answered) / seconds),
        "batch": args.batch,
        "batches in flight at most": args.concurrency,
        "lag s (batch answered -> created in the stream)": percentiles(lags),
        "lag s, median of each tenth of the run": [
            round(statistics.median(part), 3)
            for part in (lags[i * len(lags) // 10 : (i + 1) * len(lags) // 10] for i in range(10))
            if part
        ],
        "never seen within the wait": len(answered) - len(lags),
        "withdrawals": stops,
        "log lines with ERROR or a traceback": errors,
        "load average at the last batch": [round(x, 2) for x in load_ingest],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="records/s offered")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--concurrency", type=int, default=4, help="batches in flight at most (open loop)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="distribution worker processes (1: the platform's)"
    )
    parser.add_argument("--withdrawals", type=int, default=100)
    parser.add_argument("--wait", type=float, default=300.0, help="s to wait for the stream")
    parser.add_argument("--keep", action="store_true", help="keep the platform's directory")
    args = parser.parse_args()
    os.environ["MDM_RATE_LIMIT_MAX"] = "0"
    tmp = Path(tempfile.mkdtemp(prefix="stream_lag-"))
    config = PlatformConfig(
        state_dir=tmp / "platform", ports=Ports.free(), secrets=Secrets.generate(), graph_heap="4g"
    )
    try:
        report = run(config, args)
    finally:
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=1, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
