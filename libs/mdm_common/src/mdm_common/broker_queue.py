"""Kombu's Redis transport with no moment in which a message can be lost.

Kombu's Valkey/Redis transport emulates acknowledgements: a consumer pops a message
off its queue (``BRPOP``) and, in a second command, records it among the
unacknowledged messages, which are delivered again when their consumer vanished
(the visibility timeout). Between the two the message is nowhere but in flight: a
broker that stops after the pop, or whose answer is lost with the connection, or
that refuses the second command, loses it for good (decision 0018: a fault test
that stops the broker during an ingest once lost one event).

Here the consumer's blocking wait takes nothing: ``BLMOVE q q RIGHT RIGHT`` returns
the message at the head of the queue and leaves it where it is. The consumer then
takes it with :data:`TAKE`, a script that pops the message and records it as
unacknowledged in one server-side step. Whatever fails now, the broker holds the
message either in the queue or in its record. Two consumers woken by one message
both run the script; the loser finds the queue empty and waits again.

This holds for a consumer of one list: one queue (each service's worker consumes
its own) and one priority step (the platform sets no priorities). A channel
consuming several lists, or with a global key prefix, consumes as kombu does, and so
does a consumer that acknowledges nothing (Celery's replies to remote control): its
messages are never recorded as unacknowledged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from time import monotonic
from typing import Any

from kombu.transport import redis as redis_transport
from kombu.transport import virtual
from kombu.transport.virtual import Empty
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

# The transport for Celery's ``broker_transport`` setting (brokers reached by these
# URL schemes only); one priority step, so that a worker consumes one list.
TRANSPORT = "mdm_common.broker_queue:Transport"
REDIS_SCHEMES = frozenset({"redis", "rediss"})
TRANSPORT_OPTIONS = {"priority_steps": [0]}

# KEYS: the queue's lists, highest priority first, then the broker's index and record
# of unacknowledged messages; ARGV[1]: now, ARGV[2]: how many at most. Messages are
# popped from the consuming end, in their order, and each recorded as kombu's Redis
# QoS records it (score: when taken; value: the message, its exchange and its routing
# key as one JSON array), all in one step. A message that is no JSON of kombu's
# (nothing the platform sends) is popped unrecorded, as kombu pops it, rather than
# blocking the queue.
TAKE = """
local index, record = KEYS[#KEYS - 1], KEYS[#KEYS]
local limit = tonumber(ARGV[2])
local taken = {}
for i = 1, #KEYS - 2 do
  while #taken < limit do
    local item = redis.call('RPOP', KEYS[i])
    if not item then
      break
    end
    local ok, message = pcall(cjson.decode, item)
    local properties = ok and type(message) == 'table' and message['properties']
    if type(properties) == 'table' and properties['delivery_tag'] then
      local info = properties['delivery_info']
      local tag = properties['delivery_tag']
      redis.call('ZADD', index, ARGV[1], tag)
      redis.call('HSET', record, tag, '[' .. item .. ',' .. cjson.encode(info['exchange'])
        .. ',' .. cjson.encode(info['routing_key']) .. ']')
    end
    taken[#taken + 1] = item
  end
end
return taken
"""


def take(channel: redis_transport.Channel, keys: Sequence[str], limit: int = 1) -> list[bytes]:
    """Up to ``limit`` messages from the consuming end of ``keys`` (tried in order),
    in their order, popped and recorded as unacknowledged in one step."""
    qos = channel.qos
    with channel.conn_or_acquire() as client:
        items: list[bytes] = client.eval(
            TAKE, len(keys) + 2, *keys, qos.unacked_index_key, qos.unacked_key, time.time(), limit
        )
    return items


def put_back(channel: redis_transport.Channel, queue: str, messages: Sequence[Any]) -> None:
    """Messages :func:`take` took from ``queue`` and nobody handles now: back to its
    consuming end as they were, in their order, and out of the record, in one
    transaction (kombu's restore is one per message, and looks up the queue's bindings
    for each)."""
    if not messages:
        return
    qos = channel.qos
    with channel.conn_or_acquire() as client:
        pipe = client.pipeline()  # MULTI ... EXEC
        for message in reversed(messages):
            qos._remove_from_indices(message.delivery_tag, pipe)
            priority = channel._get_message_priority(message._raw, reverse=False)
            pipe.rpush(channel._q_for_pri(queue, priority), dumps(message._raw))
        pipe.execute()
    for message in messages:
        virtual.QoS.ack(qos, message.delivery_tag)  # no longer the channel's to restore


def acknowledge(channel: redis_transport.Channel, messages: Sequence[Any]) -> None:
    """Acknowledge messages the channel took, in one round trip (kombu's ``ack`` is
    one per message): their records go in one pipeline."""
    if not messages:
        return
    qos = channel.qos
    with qos.pipe_or_acquire() as pipe:
        for message in messages:
            qos._remove_from_indices(message.delivery_tag, pipe)
        pipe.execute()
    for message in messages:
        virtual.QoS.ack(qos, message.delivery_tag)  # the channel's memory
        message._state = "ACK"


class QoS(redis_transport.QoS):
    """kombu's record of the messages a channel took, without writing again to the
    broker what :func:`take` wrote there already."""

    def append(self, message: Any, delivery_tag: str) -> None:
        if delivery_tag in self.channel.recorded_by_take:
            virtual.QoS.append(self, message, delivery_tag)  # the channel's memory only
        else:
            super().append(message, delivery_tag)


class Channel(redis_transport.Channel):
    """Waits without taking, then takes in one step (see the module's text)."""

    QoS = QoS
    _waited_on: tuple[str, str] | None = None  # (list, queue) of the wait in flight
    _in_poll: Any  # kombu's: the connection of the wait in flight

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Queues consumed without acknowledgements (Celery's replies to remote
        # control): their messages are taken as kombu takes them, never recorded.
        self._unacknowledged_queues: set[str] = set()
        # The message being delivered, recorded as unacknowledged by the script.
        self.recorded_by_take: set[str] = set()
        super().__init__(*args, **kwargs)

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:
            self._unacknowledged_queues.add(queue)
        else:
            self._unacknowledged_queues.discard(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def _brpop_start(self, timeout: float | None = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        keys = [self._q_for_pri(queue, pri) for pri in self.priority_steps for queue in queues]
        if len(keys) != 1 or self.global_keyprefix or queues[0] in self._unacknowledged_queues:
            self._waited_on = None
            super()._brpop_start(timeout)
            return
        if timeout is None:
            timeout = self.brpop_timeout
        self._waited_on = (keys[0], queues[0])
        self._in_poll = self.client.connection
        # kombu's health check of the wait (declared None there, set to a time).
        self._brpop_sent_at = monotonic()  # type: ignore[assignment]
        self.client.connection.send_command(
            "BLMOVE", keys[0], keys[0], "RIGHT", "RIGHT", timeout or 0
        )

    def _brpop_read(self, **options: Any) -> bool:
        if self._waited_on is None:
            return bool(super()._brpop_read(**options))
        key, queue = self._waited_on
        try:
            try:
                head = self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                # As kombu: the next poll reconnects.
                self.client.connection.disconnect()
                raise
            if head is None:  # the wait timed out
                raise Empty()
            items = take(self, [key])
            if not items:  # another consumer took it first
                raise Empty()
            item = items[0]
            self._queue_cycle.rotate(queue)
            message = loads(bytes_to_str(item))
            tag = message.get("properties", {}).get("delivery_tag")
            self.recorded_by_take.add(tag)
            try:
                self.connection._deliver(message, queue)
            finally:
                self.recorded_by_take.discard(tag)
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()


class Transport(redis_transport.Transport):
    Channel = Channel
