"""An AMQP broker: Debian's RabbitMQ server run as a plain process on free ports.

Valkey stays the embedded default of ``make run``; the worker tests start this one
too, so what the README allows (``amqp://`` brokers) runs here as well.
``make amqp-broker`` installs Debian's ``rabbitmq-server`` (as root, with apt).
The node keeps everything in its own directory: data, logs, the Erlang cookie, and
its own port mapper (epmd) on a port of its own, so it never meets a system RabbitMQ.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from kombu.connection import Connection

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


def installed() -> bool:
    return RABBITMQ_SERVER.exists() and shutil.which("epmd") is not None


@dataclass(frozen=True)
class AmqpBrokerConfig:
    data_dir: Path
    port: int
    dist_port: int
    epmd_port: int

    @property
    def url(self) -> str:
        # RabbitMQ's default user, accepted from the loopback interface only.
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def epmd_argv(self) -> list[str]:
        epmd = shutil.which("epmd")
        assert epmd is not None
        return [epmd, "-port", str(self.epmd_port), "-address", "127.0.0.1"]

    def argv(self) -> list[str]:
        return [str(RABBITMQ_SERVER)]

    def env(self) -> dict[str, str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "rabbitmq.conf"
        config.write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n")
        (self.data_dir / "enabled_plugins").write_text("[].\n")
        return {
            "HOME": str(self.data_dir),  # the Erlang cookie
            "RABBITMQ_NODENAME": f"mdm{self.port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CONFIG_FILE": str(config.with_suffix("")),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.data_dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.data_dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.data_dir / "log"),
            "RABBITMQ_PID_FILE": str(self.data_dir / "rabbitmq.pid"),
            "RABBITMQ_LOGS": "-",  # to the process's output, i.e. its log file
        }


def is_ready(config: AmqpBrokerConfig) -> bool:
    with Connection(config.url, connect_timeout=1) as connection:
        connection.connect()
        return bool(connection.connected)
