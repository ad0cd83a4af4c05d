"""Backup and restore of the four databases on the embedded graph server (ArcadeDB).

A backup asks the server itself for each database's snapshot (SQL ``BACKUP
DATABASE``: a transactionally consistent copy taken without blocking writers) and
moves the archives into one directory with a manifest of their checksums. A restore
runs with the platform stopped: it starts the graph server alone, replaces each
database with the server's ``restore database`` command and stops the server again,
so every service starts afresh on the restored data. Production on Neo4j uses
``neo4j-admin`` instead (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from mdm_infra import graphdb
from mdm_infra.platform import SERVICES, PlatformConfig
from mdm_infra.process import ManagedProcess
from mdm_infra.supervision import leftover_pids

MANIFEST = "manifest.json"
FORMAT = 1
# Producers before consumers: an event a service committed before its snapshot was
# heard, if at all, by the later snapshots of the services that react to it.
BACKUP_ORDER = SERVICES  # profile, matching, consent, distribution


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class DatabaseArchive:
    name: str
    file: str
    sha256: str
    size: int


class GraphServerApi:
    """The graph server's HTTP API (commands, server commands) as its root user."""

    def __init__(self, config: PlatformConfig, *, timeout_s: float = 600) -> None:
        self._base = f"http://127.0.0.1:{config.ports.graph_http}/api/v1"
        self._client = httpx.Client(auth=("root", config.secrets.graph_password), timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def version(self) -> str:
        response = self._client.get(f"{self._base}/server", params={"mode": "basic"})
        return str(self._checked(response).get("version", "?"))

    def databases(self) -> list[str]:
        return list(self.server_command("list databases")["result"])

    def backup(self, database: str) -> str:
        """Snapshot ``database``; the archive's file name in the server's backup folder."""
        body = {"language": "sql", "command": "BACKUP DATABASE"}
        result = self._checked(self._client.post(f"{self._base}/command/{database}", json=body))
        return str(result["result"][0]["backupFile"])

    def server_command(self, command: str) -> dict[str, Any]:
        response = self._client.post(f"{self._base}/server", json={"command": command})
        return self._checked(response)

    @staticmethod
    def _checked(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.json().get("error")
            except ValueError:
                detail = response.text[:200]
            raise BackupError(f"graph server answered {response.status_code}: {detail}")
        answer: dict[str, Any] = response.json()
        return answer


def backup(config: PlatformConfig, target: Path) -> list[DatabaseArchive]:
    """Back up every database of the running platform into ``target`` (a new or
    empty directory); return what was written."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; a backup goes into a directory of its own")
    api = GraphServerApi(config)
    archives = []
    try:
        try:
            version = api.version()
        except httpx.TransportError as exc:
            raise BackupError(
                f"no graph server answers on port {config.ports.graph_http}; "
                "is the platform running (make run)?"
            ) from exc
        target.mkdir(parents=True, exist_ok=True)
        for database in BACKUP_ORDER:
            name = api.backup(database)
            made = config.graph.data_dir / "backups" / database / name
            kept = target / f"{database}.zip"
            shutil.move(made, kept)
            archives.append(
                DatabaseArchive(database, kept.name, _sha256(kept), kept.stat().st_size)
            )
    finally:
        api.close()
    manifest = {
        "format": FORMAT,
        "server": f"ArcadeDB {version}",
        "createdAt": datetime.now(UTC).isoformat(),
        "databases": [archive.__dict__ for archive in archives],
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return archives


def read_manifest(source: Path) -> list[DatabaseArchive]:
    """The archives of a backup directory, each checked against its checksum."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: unknown backup format {manifest.get('format')!r}")
    archives = [DatabaseArchive(**entry) for entry in manifest["databases"]]
    if sorted(a.name for a in archives) != sorted(SERVICES):
        raise BackupError(f"{source}: the backup does not hold exactly {', '.join(SERVICES)}")
    for archive in archives:
        path = source / archive.file
        if not path.is_file() or _sha256(path) != archive.sha256:
            raise BackupError(f"{path} is missing or does not match its checksum")
    return archives


def restore(config: PlatformConfig, source: Path, *, timeout_s: float = 90) -> None:
    """Replace every database with the backup in ``source``; the platform must be
    stopped (``make stop``): the graph server is started for the restore alone."""
    archives = read_manifest(source)
    if _platform_running(config):
        raise BackupError("the platform is running; stop it first (make stop)")
    graph = ManagedProcess(
        name="graph-restore",
        argv=[
            *config.graph.argv(config.python),
            # The server reads the archives from local files only when allowed to.
            "--allow-local-restore",
        ],
        log_path=config.log_dir / "graph-restore.log",
        env={graphdb.PASSWORD_ENV: config.secrets.graph_password},
        cwd=config.state_dir,
    )
    config.state_dir.mkdir(parents=True, exist_ok=True)
    graph.start()
    try:
        graph.wait_ready(
            lambda: graphdb.is_ready(config.graph, config.secrets.graph_password),
            timeout_s=timeout_s,
        )
        api = GraphServerApi(config)
        try:
            for archive in archives:
                if archive.name in api.databases():
                    api.server_command(f"drop database {archive.name}")
                url = (source / archive.file).resolve().as_uri()
                api.server_command(f"restore database {archive.name} {url}")
        finally:
            api.close()
    finally:
        graph.stop()


def _platform_running(config: PlatformConfig) -> bool:
    """Any process of the platform alive: its supervisor or a program."""
    return bool(leftover_pids(config.state_dir))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
