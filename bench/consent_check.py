"""Contact check speed on the real graph server: single check and campaign batch.

    .venv/bin/python bench/consent_check.py [--persons 20000] [--checks 1000] [--runs 5]

Starts its own platform (free ports, temporary directory), stores a consent
history for N persons directly through the consent store (the same append the
service does: event node plus current-state facts in one transaction; the profile
check of the write path is skipped), then times:

1. inside the service: the domain use case ``checks.contact_check`` with the graph
   store in its read transaction (what the resolver awaits), single checks p50/p99
   and batches of 10,000 persons (median of ``--runs``);
2. through the gateway for context: ``contactCheck`` p50/p99 (JWT, gateway, signed
   subgraph call, GraphQL) and ``contactCheckBatch`` with 5,000 ids per request
   (10,000 ids do not fit the gateway's 256 KiB body limit).

Histories are mixed: a grant, grant then withdrawal, pending double opt-in,
confirmed double opt-in, objection, evidence of age, nothing at all.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mdm_common.graph import GraphClient
from mdm_consent.adapters.transactions import SCHEMA, GraphTransactions
from mdm_consent.domain import checks, purposes
from mdm_consent.domain.consents import EventDraft
from mdm_consent.domain.models import (
    ActorType,
    Channel,
    ConsentEvent,
    EventType,
    LegalBasis,
    Method,
)
from mdm_consent.domain.purposes import PurposeCache
from mdm_consent.domain.stores import Stores
from mdm_infra import tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets

PURPOSE = "bench-offers"
BATCH = 10_000
GATEWAY_BATCH = 5_000
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CHECK = """query($p: ID!, $c: Channel!) {
  contactCheck(personId: $p, purpose: "bench-offers", channel: $c) { allowed reason }
}"""
CHECK_BATCH = """query($ids: [ID!]!) {
  contactCheckBatch(personIds: $ids, purpose: "bench-offers", channel: EMAIL) { allowed }
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def history(person_id: str, rng: random.Random) -> list[ConsentEvent]:
    def make(type_: EventType, minutes: int, **values: object) -> ConsentEvent:
        base: dict[str, object] = {
            "purpose": PURPOSE, "channel": Channel.EMAIL, "notice_version": 1,
            "language": "de", "evidence_ref": "bench",
        }  # fmt: skip
        if type_ in (EventType.WITHDRAWN, EventType.OBJECTED, EventType.AGE_EVIDENCE):
            base = {"purpose": None if type_ is not EventType.WITHDRAWN else PURPOSE,
                    "evidence_ref": "bench"}  # fmt: skip
        fields: dict[str, object] = {"method": Method.WEB_FORM, "actor": ActorType.DATA_SUBJECT}
        draft = EventDraft(
            person_id=person_id, type=type_, collection_point="bench-form",
            occurred_at=T0 + timedelta(minutes=minutes),
            **(fields | base | values),  # type: ignore[arg-type]
        )  # fmt: skip
        return draft.to_event(now=T0 + timedelta(days=1), recorded_by="bench")

    kind = rng.randrange(7)
    if kind == 0:
        return []
    events = [make(EventType.GRANTED, 0)]
    if kind == 2:
        events.append(make(EventType.WITHDRAWN, 5))
    elif kind == 3:
        events = [make(EventType.PENDING_DOUBLE_OPT_IN, 0)]
    elif kind == 4:
        pending = make(EventType.PENDING_DOUBLE_OPT_IN, 0)
        events = [
            pending,
            make(EventType.CONFIRMED, 3, confirms=pending.id, method=Method.EMAIL_LINK),
        ]
    elif kind == 5:
        events.append(make(EventType.OBJECTED, 9))
    elif kind == 6:
        events.append(make(EventType.AGE_EVIDENCE, 1, birth_date=date(1990, 5, 1)))
    return events


async def load(transactions: GraphTransactions, persons: int) -> list[str]:
    draft = purposes.PurposeDraft(
        code=PURPOSE, name="Offers", description="Bench purpose.", legal_basis=LegalBasis.CONSENT,
        channels=(Channel.EMAIL, Channel.PHONE), data_categories=("identity", "email"),
        retention_days=730, direct_marketing=True,
    )  # fmt: skip
    notice = purposes.NoticeDraft(purpose=PURPOSE, language="de", text="Angebote.", material=False)
    await transactions.write(lambda s: purposes.register_purpose(draft, s, now=T0, actor="bench"))
    await transactions.write(lambda s: purposes.publish_notice(notice, s, now=T0, actor="bench"))
    rng = random.Random(11)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(persons)]
    for start in range(0, persons, 500):
        events = [e for pid in ids[start : start + 500] for e in history(pid, rng)]

        async def append(stores: Stores, events: list[ConsentEvent] = events) -> None:
            for event in events:
                await stores.consents.append(event)

        await transactions.write(append)
        print(f"\rloaded {start + 500}/{persons} persons", end="", flush=True)
    print()
    return ids


async def inside(config: PlatformConfig, args: argparse.Namespace) -> list[str]:
    graph = GraphClient(uri=config.graph.bolt_uri, user="root",
                        password=config.secrets.graph_password, database="consent")  # fmt: skip
    await graph.apply_schema(SCHEMA)
    transactions = GraphTransactions(graph)
    try:
        ids = await load(transactions, args.persons)
        rng = random.Random(5)
        now = datetime.now(UTC)

        async def one(pid: str, cache: PurposeCache | None) -> float:
            started = time.perf_counter()
            await transactions.read(lambda s: checks.contact_check(
                [pid], s, purpose=PURPOSE, channel=Channel.EMAIL, at=now, cache=cache))  # fmt: skip
            return (time.perf_counter() - started) * 1000

        # As the service checks (purpose cache: one statement), and without the cache
        # (purpose and facts read apart, as before), in alternating blocks so that
        # both see the same load on a shared machine.
        cache = PurposeCache()
        for _ in range(200):  # warm-up
            await one(rng.choice(ids), cache)
        timed: dict[str, list[float]] = {"one statement (cache)": [], "two statements": []}
        for _ in range(4):
            for label, used in (("one statement (cache)", cache), ("two statements", None)):
                timed[label] += [await one(rng.choice(ids), used)
                                 for _ in range(args.checks // 4)]  # fmt: skip
        for label, singles in timed.items():
            print(
                f"inside, single check, {label} ({len(singles)}): p50 "
                f"{statistics.median(singles):.2f} ms, p99 {percentile(singles, 0.99):.2f} ms"
            )
        batches = []
        for run in range(args.runs + 1):
            chosen = rng.sample(ids, min(BATCH, len(ids)))
            started = time.perf_counter()
            found = await transactions.read(lambda s, c=chosen: checks.contact_check(
                c, s, purpose=PURPOSE, channel=Channel.EMAIL, at=now))  # fmt: skip
            elapsed = (time.perf_counter() - started) * 1000
            if run:  # the first is warm-up
                batches.append(elapsed)
        allowed = sum(d.verdict.allowed for d in found)
        print(f"inside, batch of {len(chosen)} ({args.runs} runs): median "
              f"{statistics.median(batches):.0f} ms, runs {[round(b) for b in batches]}; "
              f"{allowed} allowed in the last")  # fmt: skip
        return ids
    finally:
        await graph.close()


def through_gateway(config: PlatformConfig, ids: list[str], args: argparse.Namespace) -> None:
    token = tokens.mint(config.secrets.jwt, subject="bench", roles=["app"])
    client = GatewayClient(config.gateway_url, token, timeout_s=60)
    rng = random.Random(9)
    try:
        for _ in range(100):
            client.execute(CHECK, {"p": rng.choice(ids), "c": "EMAIL"})
        times = []
        for _ in range(args.checks):
            started = time.perf_counter()
            client.execute(CHECK, {"p": rng.choice(ids), "c": "EMAIL"})
            times.append((time.perf_counter() - started) * 1000)
        print(f"gateway, single check ({args.checks}): p50 {statistics.median(times):.1f} ms, "
              f"p99 {percentile(times, 0.99):.1f} ms")  # fmt: skip
        batches = []
        for run in range(args.runs + 1):
            chosen = rng.sample(ids, min(BATCH, len(ids)))
            started = time.perf_counter()
            for start in range(0, len(chosen), GATEWAY_BATCH):
                client.execute(CHECK_BATCH, {"ids": chosen[start : start + GATEWAY_BATCH]})
            if run:
                batches.append((time.perf_counter() - started) * 1000)
        runs = [round(b) for b in batches]
        print(f"gateway, {BATCH} persons in requests of {GATEWAY_BATCH} ({args.runs} runs): "
              f"median {statistics.median(batches):.0f} ms, runs {runs}")  # fmt: skip
    finally:
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(state_dir=Path(tmp) / "platform", ports=Ports.free(),
                                secrets=Secrets.generate())  # fmt: skip
        platform = Platform(config)
        platform.start_backing_servers()
        try:
            ids = asyncio.run(inside(config, args))
            platform.start_application()
            through_gateway(config, ids, args)
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
