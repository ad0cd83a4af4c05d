"""Workers on every broker the README allows: a Redis-protocol one (Valkey, the
embedded default) and AMQP (Debian's RabbitMQ). An event reaches its task, and a
task that fails for good leaves a dead letter on the same broker."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial

import pytest
from celery import Celery

from mdm_common.dead_letters import list_dead_letters
from mdm_common.events import make_celery
from mdm_common.graph import GraphClient
from mdm_infra import amqp_broker
from mdm_infra.platform import Platform
from mdm_infra.ports import free_port
from mdm_infra.process import ManagedProcess

WORKER = "brokertest"


@pytest.fixture(scope="module")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not amqp_broker.installed():
        message = "no AMQP broker: Debian's rabbitmq-server is not installed (make amqp-broker)"
        # On CI the Makefile installs it: its absence there is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("rabbitmq")
    config = amqp_broker.AmqpBrokerConfig(
        data_dir=directory, port=free_port(), dist_port=free_port(), epmd_port=free_port()
    )
    epmd = ManagedProcess("epmd", config.epmd_argv(), directory / "epmd.log")
    server = ManagedProcess("rabbitmq", config.argv(), directory / "rabbitmq.log", config.env())
    epmd.start()
    server.start()
    try:
        server.wait_ready(partial(amqp_broker.is_ready, config), timeout_s=90)
        yield config.url
    finally:
        server.stop()
        epmd.stop()


@pytest.fixture(scope="module", params=["redis", "amqp"])
def broker_url(request: pytest.FixtureRequest, backing_servers: Platform) -> str:
    if request.param == "amqp":
        url: str = request.getfixturevalue("rabbitmq")
        return url
    # Database 6 of the test platform's Valkey: none of its workers listens there.
    return backing_servers.config.broker.url.rsplit("/", 1)[0] + "/6"


@pytest.fixture(scope="module")
def consent_worker(
    broker_url: str, backing_servers: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Celery]:
    """A consent worker on ``broker_url`` (the test platform's graph server), and a
    Celery app that sends to it."""
    config = backing_servers.config
    worker = ManagedProcess(
        "consent-worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mdm_consent.tasks",
            "worker",
            "-Q",
            "consent",
            "-n",
            f"{WORKER}@%h",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
        ],
        tmp_path_factory.mktemp("worker") / "consent-worker.log",
        env=config.service_env("consent") | {"CONSENT_BROKER_URL": broker_url},
    )
    app = make_celery("test", broker_url)

    def answers() -> bool:
        replies = app.control.ping(timeout=0.5)
        return any(name.startswith(f"{WORKER}@") for reply in replies for name in reply)

    worker.start()
    try:
        worker.wait_ready(answers, timeout_s=60)
        yield app
    finally:
        worker.stop()
        app.close()


async def _merge_link(graph: GraphClient, merge_id: str) -> str | None:
    rows = await graph.read(
        lambda tx: tx.run(
            "test.merge_link",
            "MATCH (m:ConsentMerge {mergeId: $id}) RETURN m.survivorId AS survivor",
            id=merge_id,
        )
    )
    return str(rows[0]["survivor"]) if rows else None


async def test_an_event_reaches_its_task(
    consent_worker: Celery, graph_for: Callable[[str], GraphClient]
) -> None:
    survivor, merged, merge = (str(uuid.uuid4()) for _ in range(3))
    consent_worker.send_task(
        "consent.on_person_merged",
        kwargs={"survivor_id": survivor, "merged_id": merged, "merge_id": merge},
        queue="consent",
    )
    graph = graph_for("consent")
    for _ in range(150):  # up to 30 s
        found = await _merge_link(graph, merge)
        if found is not None:
            break
        await asyncio.sleep(0.2)
    assert found == survivor


def test_a_failed_task_leaves_a_dead_letter_on_the_broker(consent_worker: Celery) -> None:
    # Arguments missing: the task fails with a TypeError, which is not retried.
    secret = "do-not-copy-" + uuid.uuid4().hex
    result = consent_worker.send_task(
        "consent.on_person_merged", kwargs={"survivor_id": secret}, queue="consent"
    )

    def dead_letter() -> dict[str, object] | None:
        letters = list_dead_letters(consent_worker, limit=10_000)
        return next((entry for entry in letters if entry["id"] == result.id), None)

    deadline = time.monotonic() + 30
    while (entry := dead_letter()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert entry is not None
    assert entry["task"] == "consent.on_person_merged"
    assert entry["error"] == "TypeError"
    assert secret not in str(entry)
    # Listing leaves them where they are.
    assert dead_letter() == entry
