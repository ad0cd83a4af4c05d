"""Events waiting in a worker's queue, taken by the task that runs now.

An ingest of 500 records queues 500 ``person_created`` messages, and a batch
re-matching job hundreds of ``person_merged`` a second; handling each in a task of its
own costs a broker round trip, a late acknowledgement and a graph transaction or more
per message. The task that runs takes the messages of the kinds it can handle
together waiting right behind it off the queue and handles them with its own in one
pass, in their order.

The messages taken stay unacknowledged until the pass is done, exactly like the
running task's own message (late acknowledgement): a worker that dies meanwhile
leaves them to the broker, which delivers them again after its visibility timeout;
a pass that fails gives them back at once. On Valkey/Redis a message leaves the queue
and enters the broker's record of unacknowledged messages in one server-side step
(:func:`mdm_common.broker_queue.take`): kombu's own ``get`` pops it first and records
it in a second command, so a broker that stops between the two (or after the pop,
before its answer reached the worker) lost the message for good. A pass takes its
messages in one script call and acknowledges them in one round trip (one each cost a
distribution pass of 200 events 0.24 s of 0.55 s). Taking stops at the first message
of another kind, which goes back to the head of the queue with those behind it, in
their order, so nothing overtakes it. Only ids travel in the messages (see
:mod:`mdm_common.events`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message
from kombu.serialization import prepare_accept_content
from kombu.transport import redis as redis_transport
from kombu.transport import virtual

from mdm_common.broker_queue import acknowledge, put_back, take

ACCEPT = ["json"]


@dataclass(frozen=True)
class WaitingEvent:
    message_id: str  # the Celery task id: the same on every delivery (the inbox's key)
    task: str
    ids: dict[str, str]
    message: Message


class WaitingEvents:
    """One worker process's own connection to its queue (made on first use).

    ``accepted``: the tasks whose messages a pass can take, with the ids each carries
    (keyword arguments, nothing else). ``apart``: tasks whose messages count against a
    limit of their own (see :meth:`take`)."""

    def __init__(
        self,
        celery: Celery,
        queue: str,
        accepted: Mapping[str, tuple[str, ...]],
        *,
        apart: frozenset[str] = frozenset(),
    ) -> None:
        self._celery = celery
        self._queue_name = queue
        self._accepted = dict(accepted)
        self._apart = apart
        self._connection: Connection | None = None
        self._queue: Any = None  # the kombu queue bound to the connection's channel

    def _bound(self) -> Any:
        if self._queue is None:
            self._connection = self._celery.connection_for_read()
            queue = self._celery.amqp.queues.get(self._queue_name) or Queue(self._queue_name)
            self._queue = queue(self._connection.default_channel)
        return self._queue

    def take(self, limit: int, *, apart_limit: int | None = None) -> list[WaitingEvent]:
        """Up to ``limit`` accepted events from the head of the queue, in their order.

        With ``apart_limit``, the events of the tasks counted apart count against it
        instead of ``limit`` (taking a merge into account costs a fraction of matching
        a person)."""
        shared = apart_limit is None
        left = {False: limit, True: limit if apart_limit is None else apart_limit}
        queue = self._bound() if max(left.values()) > 0 else None
        taken: list[WaitingEvent] = []
        while queue is not None and max(left.values()) > 0:
            # As many as could be accepted, in one round trip; those behind the first
            # one that is not go back to the head of the queue, in their order.
            wanted = max(left.values())
            messages = _take_some(queue, wanted)
            for position, message in enumerate(messages):
                event = self._event(message)
                is_apart = event is not None and event.task in self._apart
                if event is None or left[is_apart] <= 0:
                    _put_back_first(queue, messages[position:])
                    return taken
                taken.append(event)
                for kind in (False, True) if shared else (is_apart,):
                    left[kind] -= 1
            if len(messages) < wanted:  # the queue is empty
                break
        return taken

    def close(self) -> None:
        """Drop the connection; what it took and did not acknowledge goes back."""
        if self._connection is not None:
            self._connection.release()
        self._connection = self._queue = None

    def done(self, events: Sequence[WaitingEvent]) -> None:
        messages = [event.message for event in events]
        channel = messages[0].channel if messages else None
        if isinstance(channel, redis_transport.Channel):
            acknowledge(channel, messages)  # one round trip for all
            return
        for message in messages:
            message.ack()

    def give_back(self, events: Sequence[WaitingEvent]) -> None:
        """The pass failed: the broker delivers them again, each to a task of its own."""
        for event in events:
            event.message.reject(requeue=True)

    def _event(self, message: Message) -> WaitingEvent | None:
        headers = message.headers or {}
        task, message_id = headers.get("task"), headers.get("id")
        if task not in self._accepted or headers.get("eta") or not isinstance(message_id, str):
            return None
        body = message.decode()  # Celery's protocol 2: [args, kwargs, embed]
        kwargs = body[1] if isinstance(body, list) and len(body) > 1 else None
        if not isinstance(kwargs, dict):
            return None
        ids = {name: kwargs.get(name) for name in self._accepted[task]}
        if not all(isinstance(value, str) for value in ids.values()) or len(kwargs) != len(ids):
            return None
        return WaitingEvent(message_id, task, {k: str(v) for k, v in ids.items()}, message)


def _take_some(queue: Any, limit: int) -> list[Message]:
    """Up to ``limit`` messages from the head of ``queue``, in their order,
    unacknowledged (``get(no_ack=False)``)."""
    channel = queue.channel
    if not isinstance(channel, redis_transport.Channel) or channel.global_keyprefix:
        message: Message | None = queue.get(no_ack=False, accept=ACCEPT)
        return [] if message is None else [message]
    keys = [channel._q_for_pri(queue.name, p) for p in channel.priority_steps]
    messages: list[Message] = []
    for item in take(channel, keys, limit):
        message = channel.Message(json.loads(item), channel=channel)
        # Known to the channel as taken, to be acknowledged or restored through it
        # (what kombu's QoS.append does besides the broker's record, which the script
        # wrote).
        virtual.QoS.append(channel.qos, message, message.delivery_tag)
        if message.errors:
            message._reraise_error()
        message.accept = prepare_accept_content(ACCEPT)
        messages.append(message)
    return messages


def _put_back_first(queue: Any, messages: Sequence[Message]) -> None:
    """Back to the head of the queue, in their order: on Valkey/Redis in one step,
    elsewhere each requeued."""
    channel = queue.channel
    if isinstance(channel, redis_transport.Channel) and not channel.global_keyprefix:
        put_back(channel, queue.name, messages)
        return
    for message in messages:
        message.reject(requeue=True)
