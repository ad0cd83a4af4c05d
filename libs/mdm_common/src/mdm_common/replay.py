"""Single-use gateway signatures: each nonce is accepted once while its window is open.

A subgraph usually runs several worker processes (uvicorn ``--workers``, several
hosts behind a balancer), and a captured request may be replayed to any of them, so
the memory of seen nonces is shared: ``SET <key> 1 NX PX <window>`` on a Redis-protocol
store (the broker's Valkey/Redis by default). Each process also remembers the nonces
it accepted, which answers a replay to the same process without a round trip and
keeps single use within a process while the shared store is unreachable: then a
warning is logged and, for ``retry_after_s``, only the process memory is asked
(a stalled store does not add its timeout to every request).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "mdm:gateway-nonce:"
# Schemes a Redis-protocol client can reach; an AMQP broker URL gives no shared store.
_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


def shared_store_url(configured: str, broker_url: str) -> str | None:
    """The nonce store: the configured URL, else the broker's when it speaks Redis."""
    url = configured or broker_url
    if configured.lower() == "none" or urlsplit(url).scheme not in _REDIS_SCHEMES:
        return None
    return url


class NonceMemory:
    """Nonces this process accepted, each forgotten when its window has closed."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._seen: set[str] = set()
        # Every entry lives equally long, so insertion order is expiry order.
        self._expiries: deque[tuple[float, str]] = deque()

    def __len__(self) -> int:
        return len(self._seen)

    def first_use(self, nonce: str, *, now: float) -> bool:
        while self._expiries and self._expiries[0][0] <= now:
            self._seen.discard(self._expiries.popleft()[1])
        if nonce in self._seen:
            return False
        self._seen.add(nonce)
        self._expiries.append((now + self._ttl_s, nonce))
        return True


async def claim(store: Redis, key: str, *, ttl_ms: int, token: bytes | None = None) -> bool:
    """Take ``key`` for ``ttl_ms``; ``True`` if this call (with its ``token``) holds it.

    The client sends a command again when an answer is late (its retry). A plain
    ``SET NX`` sent twice answers the repeat with "taken": by the first sending, so a
    legitimate request would be refused as a replay. ``SET NX GET`` returns the
    holder's token instead, and our own token means the key is ours.
    """
    mine = token or secrets.token_bytes(16)
    holder = await store.set(key, mine, nx=True, get=True, px=ttl_ms)
    return holder is None or holder == mine


class NonceRegistry:
    """The nonces every process of every subgraph has accepted within the window."""

    def __init__(
        self,
        store_url: str | None,
        *,
        ttl_s: float,
        timeout_s: float = 0.25,
        retry_after_s: float = 1.0,
    ) -> None:
        self._url = store_url
        self._ttl_ms = max(1, round(ttl_s * 1000))
        self._timeout_s = timeout_s
        self._retry_after_s = retry_after_s
        self._local = NonceMemory(ttl_s)
        self._store: Redis | None = None
        self._skip_store_until = 0.0

    async def first_use(self, nonce: str) -> bool:
        """``True`` exactly once per nonce within its window."""
        now = time.monotonic()
        if not self._local.first_use(nonce, now=now):
            return False
        if self._url is None or now < self._skip_store_until:
            return True
        try:
            first = await claim(self._client(), KEY_PREFIX + nonce, ttl_ms=self._ttl_ms)
        except (TimeoutError, RedisError, OSError) as exc:
            self._skip_store_until = now + self._retry_after_s
            log.warning(
                "nonce store unreachable (%s): single use checked per process for %.0f s",
                type(exc).__name__,
                self._retry_after_s,
            )
            return True
        return first

    def _client(self) -> Redis:
        # Made on first use: inside the server's event loop, which the client binds to.
        if self._store is None:
            assert self._url is not None
            self._store = Redis.from_url(
                self._url,
                socket_timeout=self._timeout_s,
                socket_connect_timeout=self._timeout_s,
                # One retry, at once: a pooled connection the store dropped (it was
                # restarted) is replaced instead of counted as an outage. More would
                # multiply the timeout while the store is really away.
                retry=Retry(NoBackoff(), 1),
            )
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.aclose()
            self._store = None
