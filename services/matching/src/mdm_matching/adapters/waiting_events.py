"""Person events waiting in the matching queue, taken by the task that runs now.

An ingest of 500 records queues 500 ``person_created`` messages; handling each in a
task of its own costs a broker round trip, a late acknowledgement and three graph
transactions a person. The task that runs takes the person events waiting right
behind it off the queue (creations, updates and the merges among them) and handles
them with its own in one pass, in their order.

The messages taken stay unacknowledged until the pass is done, exactly like the
running task's own message (late acknowledgement): a worker that dies meanwhile
leaves them to the broker, which delivers them again after its visibility timeout;
a pass that fails gives them back at once. Taking stops at the first message of
another kind (a merge, a re-matching step), which goes back to the head of the
queue, so nothing overtakes it. Only ids travel in the messages (see
:mod:`mdm_common.events`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message

# Tasks whose messages can join a pass, with the ids each message carries: a person
# to match, or a merge to take into account (in its place among the others).
MATCH_EVENTS = frozenset({"matching.on_person_created", "matching.on_person_updated"})
MERGE_EVENT = "matching.on_person_merged"
PERSON_EVENTS = {
    **dict.fromkeys(MATCH_EVENTS, ("person_id",)),
    MERGE_EVENT: ("survivor_id", "merged_id", "merge_id"),
}


@dataclass(frozen=True)
class WaitingEvent:
    message_id: str  # the Celery task id: the same on every delivery (the inbox's key)
    task: str
    ids: dict[str, str]
    message: Message


class WaitingEvents:
    """One worker process's own connection to its queue (made on first use)."""

    def __init__(self, celery: Celery, queue: str) -> None:
        self._celery = celery
        self._queue_name = queue
        self._connection: Connection | None = None
        self._queue: Any = None  # the kombu queue bound to the connection's channel

    def _bound(self) -> Any:
        if self._queue is None:
            self._connection = self._celery.connection_for_read()
            queue = self._celery.amqp.queues.get(self._queue_name) or Queue(self._queue_name)
            self._queue = queue(self._connection.default_channel)
        return self._queue

    def take(self, limit: int, *, merge_limit: int | None = None) -> list[WaitingEvent]:
        """Up to ``limit`` person events from the head of the queue, in their order.

        With ``merge_limit``, merge events count against it instead of ``limit``:
        taking a merge into account costs a fraction of matching a person, and a batch
        re-matching job queues hundreds of them a second."""
        shared = merge_limit is None
        left = {False: limit, True: limit if merge_limit is None else merge_limit}
        queue = self._bound() if max(left.values()) > 0 else None
        taken: list[WaitingEvent] = []
        while queue is not None and max(left.values()) > 0:
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            event = _person_event(message)
            is_merge = event is not None and event.task == MERGE_EVENT
            if event is None or left[is_merge] <= 0:
                _put_back_first(message)
                break
            taken.append(event)
            for kind in (False, True) if shared else (is_merge,):
                left[kind] -= 1
        return taken

    def close(self) -> None:
        """Drop the connection; what it took and did not acknowledge goes back."""
        if self._connection is not None:
            self._connection.release()
        self._connection = self._queue = None

    def done(self, events: Sequence[WaitingEvent]) -> None:
        for event in events:
            event.message.ack()

    def give_back(self, events: Sequence[WaitingEvent]) -> None:
        """The pass failed: the broker delivers them again, each to a task of its own."""
        for event in events:
            event.message.reject(requeue=True)


def _person_event(message: Message) -> WaitingEvent | None:
    headers = message.headers or {}
    task, message_id = headers.get("task"), headers.get("id")
    if task not in PERSON_EVENTS or headers.get("eta") or not isinstance(message_id, str):
        return None
    body = message.decode()  # Celery's protocol 2: [args, kwargs, embed]
    kwargs = body[1] if isinstance(body, list) and len(body) > 1 else None
    if not isinstance(kwargs, dict):
        return None
    ids = {name: kwargs.get(name) for name in PERSON_EVENTS[task]}
    if not all(isinstance(value, str) for value in ids.values()) or len(kwargs) != len(ids):
        return None
    return WaitingEvent(message_id, task, {k: str(v) for k, v in ids.items()}, message)


def _put_back_first(message: Message) -> None:
    """Back to the head of the queue where the broker allows it (Valkey/Redis: the
    transport's restore to the consuming end); otherwise a plain requeue."""
    qos = getattr(message.channel, "qos", None)
    restore = getattr(qos, "restore_by_tag", None)
    if restore is None:
        message.reject(requeue=True)
        return
    restore(message.delivery_tag, leftmost=False)
