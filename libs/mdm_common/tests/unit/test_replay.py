from __future__ import annotations

import logging

import pytest

from mdm_common.auth import new_nonce
from mdm_common.replay import NonceMemory, NonceRegistry, shared_store_url
from mdm_infra.ports import free_port


class TestNonceMemory:
    def test_a_nonce_is_accepted_once_within_its_window(self) -> None:
        memory = NonceMemory(ttl_s=6)
        assert memory.first_use("a", now=100)
        assert not memory.first_use("a", now=105.9)
        assert memory.first_use("b", now=105.9)

    def test_a_nonce_is_forgotten_when_its_window_has_closed(self) -> None:
        memory = NonceMemory(ttl_s=6)
        for second in range(10):
            memory.first_use(f"n{second}", now=second)
        assert len(memory) == 6  # n4..n9: the windows of n0..n3 closed by second 9
        assert memory.first_use("late", now=12)
        assert len(memory) == 4  # n7..n9 and late
        assert memory.first_use("n0", now=12)


class TestSharedStoreUrl:
    @pytest.mark.parametrize(
        ("configured", "broker", "expected"),
        [
            ("", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("rediss://cache:6380/2", "amqp://rabbit//", "rediss://cache:6380/2"),
            ("", "amqp://rabbit//", None),
            ("none", "redis://127.0.0.1:6379/0", None),
        ],
    )
    def test_the_broker_unless_configured_or_not_redis(
        self, configured: str, broker: str, expected: str | None
    ) -> None:
        assert shared_store_url(configured, broker) == expected


class TestWithoutSharedStore:
    async def test_process_memory_only(self) -> None:
        nonces = NonceRegistry(None, ttl_s=6)
        nonce = new_nonce()
        assert await nonces.first_use(nonce)
        assert not await nonces.first_use(nonce)

    async def test_an_unreachable_store_leaves_single_use_per_process(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Nothing listens on that port.
        nonces = NonceRegistry(f"redis://127.0.0.1:{free_port()}/0", ttl_s=6, retry_after_s=60)
        try:
            nonce = new_nonce()
            with caplog.at_level(logging.WARNING, logger="mdm_common.replay"):
                assert await nonces.first_use(nonce)
                assert await nonces.first_use(new_nonce())  # store skipped for a while
            assert not await nonces.first_use(nonce)
            assert len(caplog.records) == 1
            assert "nonce store unreachable" in caplog.records[0].getMessage()
        finally:
            await nonces.close()
