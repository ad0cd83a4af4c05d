"""The change stream on Redis/Valkey: one stream per subscriber, read through consumer
groups, and the relay that fills them from the graph.

Each entry has one field, ``event``: a CloudEvent in JSON. A subscriber's own systems
read its stream with a consumer group of theirs (XREADGROUP) or from any position
(XRANGE, XREAD); the platform's webhook sender uses the group ``webhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, ResponseError

from mdm_common.errors import InvalidInput
from mdm_common.graph import GraphClient
from mdm_distribution.adapters.message_store import GraphMessageStore, StreamEntry

FIELD = b"event"
WEBHOOK_GROUP = "webhook"
LEADER_TTL_S = 10.0


@dataclass(frozen=True)
class ConsumerGroup:
    name: str
    pending: int  # delivered to a consumer, not acknowledged yet
    lag: int  # entries not delivered to the group yet
    last_delivered: str
    # How old the oldest entry is that the group has not acknowledged (0: none).
    behind_s: float


@dataclass(frozen=True)
class StreamState:
    key: str
    length: int
    first_position: str | None
    last_position: str | None
    groups: tuple[ConsumerGroup, ...]


# KEYS: the stream, the person's entries with values; ARGV: max entries, the event, its
# kind (message_store.kind_of). One step: an entry with values is never in the stream
# without its position noted, and a closing one leaves none of them behind.
_APPEND = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[2])
if ARGV[3] == 'closing' then
  for _, earlier in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    redis.call('XDEL', KEYS[1], earlier)
  end
  redis.call('DEL', KEYS[2])
elseif ARGV[3] == 'values' then
  redis.call('RPUSH', KEYS[2], id)
end
return id
"""


def position_ms(position: str) -> int:
    return int(position.split("-", 1)[0])


_POSITION = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")
MAX_PART = 2**64 - 1


def before(position: str) -> str:
    """The stream id just before ``position``: a group set there reads ``position`` next."""
    found = _POSITION.fullmatch(position)
    ms, seq = (int(found[1]), int(found[2] or 0)) if found else (-1, -1)
    if not 0 <= ms <= MAX_PART or not 0 <= seq <= MAX_PART:
        raise InvalidInput(
            "A stream position looks like 1733550000000-0 (or 0 for the start).",
            field="fromPosition",
        )
    if seq > 0:
        return f"{ms}-{seq - 1}"
    return f"{ms - 1}-{MAX_PART}" if ms > 0 else "0-0"


class ChangeStreams:
    def __init__(self, url: str, *, prefix: str, max_entries: int) -> None:
        self.redis = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.prefix = prefix
        self._max_entries = max_entries
        self._append = self.redis.register_script(_APPEND)

    async def close(self) -> None:
        await self.redis.aclose()

    def key(self, subscriber_id: str) -> str:
        return self.prefix + subscriber_id

    def positions_key(self, subscriber_id: str, person_id: str) -> str:
        return f"{self.prefix}{subscriber_id}:positions:{person_id}"

    async def append(self, entries: Sequence[StreamEntry]) -> None:
        """Each entry with a person's values is remembered per person; a closing entry
        (stopped, merged away, erased) deletes those from the stream in the same step: a
        replay from the start never hands on the values of a person the subscriber may no
        longer receive."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                keys = [
                    self.key(entry.subscriber_id),
                    self.positions_key(entry.subscriber_id, entry.person_id),
                ]
                args: list[bytes | int | str] = [self._max_entries, entry.body, entry.kind]
                await self._append(keys=keys, args=args, client=pipe)
            await pipe.execute()

    async def delete(self, subscriber_id: str) -> None:
        """A removed subscriber's stream, its groups and its positions, gone."""
        keys = [self.key(subscriber_id)]
        keys += [
            k async for k in self.redis.scan_iter(match=self.positions_key(subscriber_id, "*"))
        ]
        await self.redis.delete(*keys)

    async def ensure_group(self, subscriber_id: str, group: str) -> None:
        """A consumer group reading the stream from its start (made with the stream)."""
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
            await self.redis.xgroup_create(self.key(subscriber_id), group, id="0", mkstream=True)

    async def set_position(self, subscriber_id: str, group: str, position: str) -> None:
        """The group reads ``position`` and what follows next (a replay)."""
        await self.ensure_group(subscriber_id, group)
        await self.redis.xgroup_setid(self.key(subscriber_id), group, before(position))

    async def read_group(
        self, subscriber_id: str, group: str, consumer: str, *, unacknowledged: bool, block_ms: int
    ) -> list[tuple[str, bytes]]:
        """The consumer's next entry: one it took before and did not acknowledge, else
        the next new one (waiting up to ``block_ms``)."""
        answer: Any = await self.redis.xreadgroup(
            group,
            consumer,
            {self.key(subscriber_id): "0" if unacknowledged else ">"},
            count=1,
            block=None if unacknowledged else block_ms,
        )
        return [
            (_text(entry_id), fields[FIELD])
            for _, entries in answer or []
            for entry_id, fields in entries
            if fields  # an acknowledged entry trimmed meanwhile comes back without fields
        ]

    async def ack(self, subscriber_id: str, group: str, position: str) -> None:
        await self.redis.xack(self.key(subscriber_id), group, position)

    async def entry(self, subscriber_id: str, position: str) -> bytes | None:
        found: Any = await self.redis.xrange(self.key(subscriber_id), position, position, count=1)
        return bytes(found[0][1][FIELD]) if found else None

    async def read(self, subscriber_id: str, *, after: str, count: int) -> list[tuple[str, bytes]]:
        found: Any = await self.redis.xrange(self.key(subscriber_id), f"({after}", "+", count=count)
        return [(_text(entry_id), bytes(fields[FIELD])) for entry_id, fields in found]

    async def state(self, subscriber_id: str) -> StreamState:
        key = self.key(subscriber_id)
        if not await self.redis.exists(key):
            return StreamState(key, 0, None, None, ())
        info: Any = await self.redis.xinfo_stream(key)
        groups = []
        found: Any = await self.redis.xinfo_groups(key)
        for group in found:
            name = _text(group["name"])
            last = _text(group["last-delivered-id"])
            groups.append(
                ConsumerGroup(
                    name=name,
                    pending=int(group["pending"]),
                    lag=int(group.get("lag") or 0),
                    last_delivered=last,
                    behind_s=await self._behind(key, name, last),
                )
            )
        first, last = info.get("first-entry"), info.get("last-entry")
        return StreamState(
            key=key,
            length=int(info["length"]),
            first_position=_text(first[0]) if first else None,
            last_position=_text(last[0]) if last else None,
            groups=tuple(groups),
        )

    async def _behind(self, key: str, group: str, last_delivered: str) -> float:
        oldest: str | None = None
        pending: Any = await self.redis.xpending(key, group)
        if pending and pending.get("min"):
            oldest = _text(pending["min"])
        else:
            after: Any = await self.redis.xrange(key, f"({last_delivered}", "+", count=1)
            oldest = _text(after[0][0]) if after else None
        if oldest is None:
            return 0.0
        return max(0.0, datetime.now(UTC).timestamp() - position_ms(oldest) / 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Leadership:
    """One process of the platform sends the streams and the webhooks: the holder of a
    lock in Redis that it renews while it lives (another takes over within the lock's
    ten seconds after it died). Two senders would not lose anything, but could append one
    person's messages out of order."""

    def __init__(self, streams: ChangeStreams) -> None:
        self._lock = Lock(
            streams.redis,
            streams.key("leader"),
            timeout=LEADER_TTL_S,
            blocking=False,
            thread_local=False,
        )
        self._held = False

    async def holds(self) -> bool:
        try:
            if self._held:
                await self._lock.reacquire()
            else:
                self._held = await self._lock.acquire(token=uuid.uuid4().hex)
        except LockError:
            self._held = False
        return self._held

    async def release(self) -> None:
        if self._held:
            with contextlib.suppress(LockError):
                await self._lock.release()
            self._held = False


class StreamRelay:
    """Appends committed messages to the subscribers' streams, oldest first, then
    forgets them in the graph. A crash between the two appends them again (consumers
    tell a repeat by the event id); nothing is lost while Redis is down."""

    def __init__(
        self, graph: GraphClient, streams: ChangeStreams, *, poll_s: float, batch: int = 500
    ) -> None:
        self._graph = graph
        self._streams = streams
        self._poll_s = poll_s
        self._batch = batch

    async def flush(self) -> int:
        prefix = self._streams.prefix
        entries = await self._graph.read(
            lambda tx: GraphMessageStore(tx, stream_prefix=prefix).oldest(self._batch)
        )
        if not entries:
            return 0
        await self._streams.append(entries)
        ids = [e.id for e in entries]
        await self._graph.write(lambda tx: GraphMessageStore(tx, stream_prefix=prefix).remove(ids))
        return len(entries)

    async def drain(self) -> None:
        while await self.flush() == self._batch:
            pass

    async def pause(self) -> None:
        await asyncio.sleep(self._poll_s)
