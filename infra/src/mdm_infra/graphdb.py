"""The embedded graph server: ArcadeDB (PyPI ``arcadedb-embedded``) with its Bolt plugin.

Run as its own process (``python -m mdm_infra.graphdb``): the JVM lives there, and
the services reach it only over Bolt, exactly as they would reach Neo4j.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase

log = logging.getLogger(__name__)

BOLT_PLUGIN = "Bolt:com.arcadedb.bolt.BoltProtocolPlugin"
PASSWORD_ENV = "MDM_GRAPH_PASSWORD"  # noqa: S105 - the variable name, not a password


@dataclass(frozen=True)
class GraphServerConfig:
    data_dir: Path
    bolt_port: int
    http_port: int
    databases: tuple[str, ...]
    heap: str = "1g"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def argv(self, python: str) -> list[str]:
        return [
            python, "-m", "mdm_infra.graphdb",
            "--data-dir", str(self.data_dir),
            "--bolt-port", str(self.bolt_port),
            "--http-port", str(self.http_port),
            "--databases", ",".join(self.databases),
            "--heap", self.heap,
        ]  # fmt: skip


def is_ready(config: GraphServerConfig, password: str) -> bool:
    """True once every database answers a query over Bolt (one try, no driver retries)."""
    with GraphDatabase.driver(
        config.bolt_uri, auth=("root", password), connection_timeout=2
    ) as driver:
        for database in config.databases:
            with driver.session(database=database) as session:
                session.run("RETURN 1 AS ok").consume()
    return True


def serve(config: GraphServerConfig, password: str, *, allow_local_restore: bool = False) -> None:
    # Imported here: starting the JVM is this process's job alone.
    from arcadedb_embedded.server import ArcadeDBServer  # noqa: PLC0415

    config.data_dir.mkdir(parents=True, exist_ok=True)
    server = ArcadeDBServer(
        root_path=str(config.data_dir),
        root_password=password,
        config={
            "host": "127.0.0.1",
            "http_port": config.http_port,
            "server_plugins": BOLT_PLUGIN,
            "bolt_port": config.bolt_port,
            # `restore database <name> file://...` (mdm_infra.backup) only for the
            # server a restore starts, never for the running platform's.
            "server_restoreImportAllowLocalUrls": str(allow_local_restore).lower(),
        },
        jvm_kwargs={"heap_size": config.heap},
    )
    server.start()
    for database in config.databases:
        server.create_database(database)  # creates it if missing, opens it otherwise
    log.info("graph server ready: bolt port %d, databases %s", config.bolt_port, config.databases)
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    log.info("graph server stopping")
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--bolt-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--databases", required=True)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--allow-local-restore", action="store_true")
    args = parser.parse_args()
    password = os.environ.get(PASSWORD_ENV, "")
    if len(password) < 8:
        parser.error(f"{PASSWORD_ENV} must hold a password of at least 8 characters")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    serve(
        GraphServerConfig(
            data_dir=args.data_dir,
            bolt_port=args.bolt_port,
            http_port=args.http_port,
            databases=tuple(d for d in args.databases.split(",") if d),
            heap=args.heap,
        ),
        password,
        allow_local_restore=args.allow_local_restore,
    )


if __name__ == "__main__":
    main()
