"""Gauge sources every service shares: the outbox backlog, the broker queue's depth,
the read audit's buffer.

Each is a coroutine for :class:`mdm_common.metrics.Gauges`, cheap enough to run at
every scrape: a count in the graph, a few list lengths on the broker.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from neo4j.exceptions import ClientError
from redis.asyncio import Redis

from mdm_common.graph import GraphClient, Transaction
from mdm_common.metrics import Gauges, Source, Values, single
from mdm_common.outbox import OUTBOX_EVENT
from mdm_common.read_audit.service import ReadAudits
from mdm_common.settings import ServiceSettings

# Kombu's Redis transport keeps a queue's messages of priority p > 0 under
# "<queue>\x06\x16<p>", for its default priority steps.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
_REDIS_SCHEMES = {"redis", "rediss", "valkey", "valkeys"}


def outbox_backlog(graph: GraphClient, *, label: str = OUTBOX_EVENT) -> Source:
    """Events written to the outbox and not sent yet (``pending``, indexed; see
    :mod:`mdm_common.outbox`). ``label`` is a constant of code (tests count their
    own), never input."""

    async def count(tx: Transaction) -> float:
        rows = await tx.run(
            "metrics.outbox_backlog",
            f"MATCH (e:{label}) WHERE e.pending = true RETURN count(e) AS n",
        )
        return float(rows[0]["n"])

    async def read() -> Values:
        try:
            return single(await graph.read(count))
        except ClientError as exc:
            # ArcadeDB refuses a label that was never written ("type not found"):
            # no outbox event yet, so none is pending.
            if "not found" in (exc.message or "").lower():
                return single(0.0)
            raise

    return read


def broker_queue_depth(broker_url: str, queues: Sequence[str]) -> Source | None:
    """Messages waiting in the service's broker queues, per queue; ``None`` for a broker
    that is not Redis-protocol (RabbitMQ reports its queues through its own exporter)."""
    if urlsplit(broker_url).scheme not in _REDIS_SCHEMES:
        return None
    url = broker_url.replace("valkey", "redis", 1)

    async def read() -> Values:
        # A connection per scrape (every 15-60 s): nothing to keep open or close later.
        async with Redis.from_url(url) as client, client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.llen(queue)
                for step in _PRIORITY_STEPS:
                    pipe.llen(f"{queue}{_PRIORITY_SEPARATOR}{step}")
            lengths = await pipe.execute()
        per_queue = 1 + len(_PRIORITY_STEPS)
        return {
            (("queue", queue),): float(sum(lengths[i * per_queue : (i + 1) * per_queue]))
            for i, queue in enumerate(queues)
        }

    return read


def common_gauges(
    settings: ServiceSettings, graph: GraphClient, gauges: Gauges, read_audits: ReadAudits | None
) -> Gauges:
    """What every service reports besides its own gauges: its outbox backlog, its broker
    queue and, where it audits reads, the records not written yet."""
    gauges.add(
        "mdm.outbox.pending",
        outbox_backlog(graph),
        description="Events in the outbox not sent to the broker yet.",
    )
    depth = broker_queue_depth(settings.broker_url, [settings.service_name])
    if depth is not None:
        gauges.add("mdm.broker.queue.depth", depth, description="Messages waiting in a queue.")
    if read_audits is not None:
        log = read_audits.log

        async def pending() -> dict[tuple[tuple[str, str], ...], float]:
            return {(): float(log.pending)}

        gauges.add(
            "mdm.read_audit.pending", pending, description="Read-audit records not written yet."
        )
    return gauges
