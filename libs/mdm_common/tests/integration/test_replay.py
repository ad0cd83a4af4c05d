"""The nonce memory shared by several processes through the real broker (Valkey)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from mdm_common.auth import new_nonce
from mdm_common.replay import NonceRegistry, claim
from mdm_infra.platform import Platform


async def test_a_nonce_accepted_by_one_process_is_refused_by_another(
    backing_servers: Platform,
) -> None:
    url = backing_servers.config.broker.url
    # Two registries, as two worker processes of one subgraph would hold.
    first, second = NonceRegistry(url, ttl_s=6), NonceRegistry(url, ttl_s=6)
    try:
        nonce = new_nonce()
        assert await first.first_use(nonce)
        assert not await second.first_use(nonce)
        assert not await first.first_use(nonce)
        assert await second.first_use(new_nonce())
    finally:
        await first.close()
        await second.close()


async def test_the_store_forgets_a_nonce_after_its_window(backing_servers: Platform) -> None:
    url = backing_servers.config.broker.url
    first, second = NonceRegistry(url, ttl_s=0.3), NonceRegistry(url, ttl_s=0.3)
    try:
        nonce = new_nonce()
        assert await first.first_use(nonce)
        await asyncio.sleep(0.5)
        # A timestamp this old is refused before the nonce is asked; the store only
        # needs to remember a nonce as long as its signature could verify.
        assert await second.first_use(nonce)
    finally:
        await first.close()
        await second.close()


async def test_concurrent_uses_of_one_nonce_succeed_once(backing_servers: Platform) -> None:
    url = backing_servers.config.broker.url
    registries = [NonceRegistry(url, ttl_s=6) for _ in range(8)]
    try:
        nonce = new_nonce()
        results = await asyncio.gather(*(r.first_use(nonce) for r in registries))
        assert sorted(results) == [False] * 7 + [True]
    finally:
        for registry in registries:
            await registry.close()


async def test_a_claim_sent_again_by_the_client_stays_ours(backing_servers: Platform) -> None:
    """The client repeats a command whose answer was late; the repeat must not read as
    a replay (it did with a plain SET NX: a worker's call was refused, its task lost)."""
    store = Redis.from_url(backing_servers.config.broker.url)
    try:
        key = f"test:claim:{new_nonce()}"
        assert await claim(store, key, ttl_ms=5000, token=b"ours")
        assert await claim(store, key, ttl_ms=5000, token=b"ours")  # the client's repeat
        assert not await claim(store, key, ttl_ms=5000, token=b"theirs")
        assert not await claim(store, key, ttl_ms=5000)
    finally:
        await store.aclose()
