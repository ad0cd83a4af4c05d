"""Backup and restore (make backup / make restore): a platform with data is backed
up while it runs, its graph data is wiped, the backup restored, and every node and
relationship of the three databases (persons, source records, outbox events, review
tasks, consent events, ... whatever their labels) is back as it was; the platform
serves it.

The test runs a platform of its own: it stops, wipes and restores it."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from neo4j import GraphDatabase

from mdm_infra import backup, demo, tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import SERVICES, Platform, PlatformConfig, Ports, Secrets

Snapshot = dict[str, dict[str, Counter[str]]]

MERGE = """mutation($survivorId: ID!, $mergedId: ID!) {
  mergePersons(survivorId: $survivorId, mergedId: $mergedId, reason: "backup test") {
    merge { id } } }"""
PERSON = "query($id: ID!) { person(id: $id) { id familyName } }"


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    config = PlatformConfig(
        state_dir=tmp_path_factory.mktemp("backup-platform"),
        ports=Ports.free(),
        secrets=Secrets.generate(),
        graph_heap="512m",
    )
    platform = Platform(config)
    platform.start()
    yield platform
    platform.stop()


def _gateway(config: PlatformConfig) -> GatewayClient:
    token = tokens.mint(
        config.secrets.jwt, subject="backup-test", roles=("app", "steward", "compliance")
    )
    return GatewayClient(config.gateway_url, token)


def _load(client: GatewayClient, config: PlatformConfig) -> list[str]:
    """Persons with source records and consent events (the demo data), a merge, and
    an uncertain pair that becomes a steward's review task."""
    ids = demo.load(client)
    client.execute(MERGE, {"survivorId": ids[0], "mergedId": ids[1]})
    family = "Backhaus" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop"))
    place = {"postalCode": "39104", "city": "Magdeburg", "country": "DE"}
    first = {
        "sourceId": "B-1",
        "givenName": "Jürgen",
        "familyName": family,
        "street": "Gartenweg 2",
    } | place
    second = {
        "sourceId": "B-2",
        "givenName": "Jürgen",
        "familyName": family,
        "street": "Lindenstraße 9",
    } | place
    client.execute(demo.INGEST, {"source": "crm", "records": [first]})
    assert _eventually(lambda: _count(config, "matching", "MatchSubject") >= 4)
    client.execute(demo.INGEST, {"source": "shop", "records": [second]})
    assert _eventually(lambda: _count(config, "matching", "ReviewTask") >= 1)
    return ids


def _eventually(probe: Any, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := probe()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return found


def _driver(config: PlatformConfig) -> Any:
    return GraphDatabase.driver(config.graph.bolt_uri, auth=("root", config.secrets.graph_password))


def _count(config: PlatformConfig, database: str, label: str) -> int:
    with _driver(config) as driver, driver.session(database=database) as session:
        return int(session.run(f"MATCH (n:{label}) RETURN count(n) AS n").single()["n"])


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def snapshot(config: PlatformConfig) -> Snapshot:
    """Every node (labels and properties) and relationship (type, properties and both
    ends) of each database, whatever its labels: also what later code adds."""
    taken: Snapshot = {}
    with _driver(config) as driver:
        for database in SERVICES:
            with driver.session(database=database) as session:
                nodes = {
                    row["id"]: _canonical([sorted(row["labels"]), row["props"]])
                    for row in session.run(
                        "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, n {.*} AS props"
                    )
                }
                relationships = [
                    _canonical([row["type"], row["props"], nodes[row["a"]], nodes[row["b"]]])
                    for row in session.run(
                        "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, elementId(b) AS b, "
                        "type(r) AS type, r {.*} AS props"
                    )
                ]
            taken[database] = {
                "nodes": Counter(nodes.values()),
                "relationships": Counter(relationships),
            }
    return taken


def _labels(taken: Snapshot, database: str) -> set[str]:
    return {label for node in taken[database]["nodes"] for label in json.loads(node)[0]}


def _quiet_snapshot(platform: Platform) -> Snapshot:
    """A snapshot once the workers are idle: queues empty, nothing changing."""
    broker = redis.Redis.from_url(platform.config.broker.url)
    previous: Snapshot | None = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = sum(broker.llen(queue) for queue in ("matching", "consent", "distribution"))
        busy += broker.hlen("unacked")
        current = snapshot(platform.config)
        if not busy and current == previous:
            return current
        previous = current
        time.sleep(1)
    raise AssertionError("the platform did not come to rest within 60 s")


def test_backup_wipe_restore_gives_back_every_node_and_relationship(
    own_platform: Platform, tmp_path: Path
) -> None:
    config = own_platform.config
    client = _gateway(config)
    try:
        ids = _load(client, config)
    finally:
        client.close()
    before = _quiet_snapshot(own_platform)
    assert {"Person", "SourceRecord", "OutboxEvent"} <= _labels(before, "profile")
    assert {"ReviewTask", "MatchSubject"} <= _labels(before, "matching")
    assert {"ConsentEvent", "ConsentMerge"} <= _labels(before, "consent")
    assert all(before[database]["relationships"] for database in ("profile", "matching"))

    archives = backup.backup(config, tmp_path / "backup")
    assert [a.name for a in archives] == list(SERVICES)
    assert snapshot(config) == before  # nothing moved while the backup ran

    own_platform.stop()
    shutil.rmtree(config.graph.data_dir)  # the disaster
    backup.restore(config, tmp_path / "backup")
    own_platform.start()

    after = snapshot(config)
    for database in SERVICES:
        for kind in ("nodes", "relationships"):
            lost = before[database][kind] - after[database][kind]
            added = after[database][kind] - before[database][kind]
            assert (lost, added) == (Counter(), Counter()), f"{database} {kind}"
    client = _gateway(config)
    try:  # and the platform serves the restored data
        assert client.execute(PERSON, {"id": ids[2]})["person"]["id"] == ids[2]
    finally:
        client.close()


def test_restore_refuses_a_damaged_backup_and_a_running_platform(
    own_platform: Platform, tmp_path: Path
) -> None:
    config = own_platform.config
    target = tmp_path / "backup"
    backup.backup(config, target)
    with pytest.raises(backup.BackupError, match="running"):
        backup.restore(config, target)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.backup(config, target)
    archive = target / "consent.zip"
    data = archive.read_bytes()
    archive.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    with pytest.raises(backup.BackupError, match="checksum"):
        backup.restore(config, target)
