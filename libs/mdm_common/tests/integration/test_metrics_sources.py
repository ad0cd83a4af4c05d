"""The shared gauge sources against the real graph server and broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from redis import Redis

from mdm_common.graph import GraphClient
from mdm_common.metrics_sources import broker_queue_depth, outbox_backlog
from mdm_infra.platform import Platform


class TestOutboxBacklog:
    async def test_no_outbox_yet_counts_none_then_pending_events_are_counted(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        graph = graph_for("matching")
        label = f"OutboxProbe{uuid.uuid4().hex[:8]}"
        backlog = outbox_backlog(graph, label=label)
        assert await backlog() == {(): 0.0}

        await graph.write(
            lambda tx: tx.run(
                "test.outbox",
                f"UNWIND $sent AS sent CREATE (e:{label} {{id: randomUUID()}}) "
                "SET e.pending = NOT sent",
                sent=[False, False, True],
            )
        )
        assert await backlog() == {(): 2.0}


class TestBrokerQueueDepth:
    async def test_counts_every_priority_of_each_queue(self, backing_servers: Platform) -> None:
        url = backing_servers.config.broker.url
        queues = [f"probe-{uuid.uuid4().hex[:8]}", f"probe-{uuid.uuid4().hex[:8]}"]
        with Redis.from_url(url) as redis:
            redis.rpush(queues[0], "a", "b")
            redis.rpush(f"{queues[0]}\x06\x163", "c")
            depth = broker_queue_depth(url, queues)
            assert depth is not None
            try:
                assert await depth() == {(("queue", queues[0]),): 3.0, (("queue", queues[1]),): 0.0}
            finally:
                redis.delete(queues[0], f"{queues[0]}\x06\x163")

    def test_other_brokers_report_through_their_own_exporter(self) -> None:
        assert broker_queue_depth("amqp://guest@127.0.0.1//", ["matching"]) is None
