"""What taking a message in one step costs a worker (decision 0018).

    .venv/bin/python bench/broker_consume.py [--messages 5000] [--rounds 5]

Starts a Valkey server (the embedded broker) on a free port in a temporary
directory, queues ``--messages`` task messages (as the outbox relay sends them) and
consumes them one at a time as a worker does (prefetch 1, each acknowledged before
the next is taken), once with kombu's Redis transport and once with the platform's
(``mdm_common.broker_queue``), alternating, ``--rounds`` times each. Reports the
median messages per second of each and the broker commands per message.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

import redis
from kombu import Connection, Consumer, Queue
from kombu.transport import redis as kombu_redis

from mdm_common import broker_queue
from mdm_common.events import make_celery
from mdm_infra import broker

TRANSPORTS: dict[str, Any] = {"kombu": kombu_redis.Transport, "one step": broker_queue.Transport}


def queue_messages(url: str, queue: str, count: int) -> None:
    app = make_celery("benchconsume", url)
    app.amqp.queues.select_add(queue)
    with app.producer_or_acquire() as producer:
        for n in range(count):
            app.send_task(
                "bench.probe", kwargs={"person_id": f"p{n}"}, queue=queue, producer=producer
            )
    app.close()


def consume(url: str, transport: Any, queue: str, count: int) -> float:
    """Seconds to take and acknowledge ``count`` messages, one at a time."""
    options = dict(make_celery("benchconsume", url).conf.broker_transport_options)
    done = 0

    def handle(_body: Any, message: Any) -> None:
        nonlocal done
        message.ack()
        done += 1

    with Connection(url, transport=transport, transport_options=options) as connection:
        consumer = Consumer(connection, queues=[Queue(queue)], accept=["json"])
        consumer.qos(prefetch_count=1)
        consumer.register_callback(handle)
        consumer.consume()
        started = time.perf_counter()
        while done < count:
            connection.drain_events(timeout=5)
        elapsed = time.perf_counter() - started
        consumer.cancel()
    return elapsed


def commands(client: redis.Redis) -> int:
    return sum(int(stats["calls"]) for stats in client.info("commandstats").values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {name: [] for name in TRANSPORTS}
    per_message: dict[str, float] = {}
    with broker.standalone() as config:
        client = redis.Redis.from_url(config.url)
        for _ in range(args.rounds):
            for name, transport in TRANSPORTS.items():
                queue = f"bench-{uuid.uuid4().hex[:8]}"
                queue_messages(config.url, queue, args.messages)
                before = commands(client)
                elapsed = consume(config.url, transport, queue, args.messages)
                per_message[name] = (commands(client) - before) / args.messages
                rates[name].append(args.messages / elapsed)
        client.close()
    for name, values in rates.items():
        print(
            f"{name}: median {statistics.median(values):,.0f} messages/s "
            f"(rounds: {', '.join(f'{v:,.0f}' for v in values)}), "
            f"{per_message[name]:.1f} broker commands per message"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
