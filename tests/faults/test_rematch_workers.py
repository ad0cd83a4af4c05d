"""A batch re-matching job shared by two worker processes, one SIGKILLed mid-job.

The workers are separate processes that share nothing but the broker and the graph,
as on two hosts. The killed worker's partition task was taken but never
acknowledged: after the visibility timeout the surviving worker puts it back and
scores it again. The job ends DONE with exactly the merges the data holds (every
twin merged once, nothing else): none lost, none doubled.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from mdm_common.events import make_celery
from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform, PlatformConfig
from mdm_infra.process import ManagedProcess
from mdm_infra.testing import eventually
from mdm_infra.workers import extra_workers
from mdm_matching.adapters.rematch_store import PARTITION, PENDING
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain import rematch
from mdm_matching.domain.engine.model import default_parameters

from .support import INGEST, customers, merges_of

# The engine's default parameters: exact twins are merged, nothing else is.
pytestmark = pytest.mark.usefixtures("default_model")

CUSTOMERS, TWINS, PARTITIONS = 300, 30, 16
# The killed worker's task comes back within visibility timeout + restore interval.
# The timeout must exceed the longest task: a task still running after it is handed
# to the other worker as well (harmless, every step is idempotent, but slow: seen
# with 10 s under a load of 28 on two cores).
WORKER_ENV = {
    "MATCHING_BROKER_VISIBILITY_TIMEOUT_S": "20",
    "MATCHING_BROKER_RESTORE_INTERVAL_S": "1",
    # The model stored below is kept: no training in the job (it took 40 s under load).
    "MATCHING_REMATCH_MODEL_MAX_CHANGE": "1000",
    # Shared machines run at loads of 30-60 on 2 cores: the sync's statements must not
    # give up after the default 5 s (what is tested here is the kill, not the speed).
    "MATCHING_GRAPH_TIMEOUT_S": "30",
}
JOB = """query($id: ID!) { rematchJob(id: $id) { id status phase partitionsDone
  plannedMerges mergesDone mergesSkipped error } }"""
START = "mutation($n: Int!) { startRematch(partitions: $n) { id } }"


@pytest.fixture
def online_matching_stopped(platform: Platform) -> Iterator[Callable[[int], None]]:
    """The platform's own matching worker stopped; the test calls the result to drop
    the person events once the queue holds that many (online matching never sees the
    persons: only the batch job can merge them). The worker runs again afterwards."""
    platform.stop_worker("matching")

    def lose_events(messages: int) -> None:
        queue = redis.Redis.from_url(platform.config.broker.url)
        try:
            assert eventually(lambda: queue.llen("matching") >= messages), queue.llen("matching")
            queue.delete("matching")
        finally:
            queue.close()

    yield lose_events
    platform.start_worker("matching")


@pytest.fixture
async def job_ids(graph_for: Callable[[str], GraphClient]) -> Iterator[list[str]]:
    """Jobs this test starts; one left active would refuse every later job."""
    ids: list[str] = []
    yield ids
    transactions = GraphTransactions(graph_for("matching"))
    for job_id in ids:
        job = await transactions.read(lambda s, job_id=job_id: s.rematch.get(job_id))
        if job is not None and job.active:
            await rematch.fail(job_id, "test over", transactions=transactions)


def ingest(gateway: GatewayClient, source: str, records: list[dict[str, str]]) -> list[str]:
    """Person ids, in batches of 50; a batch the graph had no time for (UNAVAILABLE on
    a loaded machine: nothing of it was stored) is sent again, as an application would."""
    ids: list[str] = []
    for start in range(0, len(records), 50):
        batch = {"source": source, "records": records[start : start + 50]}
        for attempt in range(5):
            try:
                result = gateway.execute(INGEST, batch)
                break
            except GraphQLError as error:
                if error.codes != ["UNAVAILABLE"] or attempt == 4:
                    raise
                time.sleep(1)
        ids += [r["personId"] for r in result["ingestSourceRecords"]["records"]]
    return ids


async def store_trained_defaults(matching: GraphClient) -> None:
    """The engine's default parameters as a trained model: the job keeps them (no
    training), and exact twins are merged, nothing else. The ``default_model``
    fixture puts the session's model back afterwards."""
    now = datetime.now(UTC)
    model = dataclasses.replace(
        default_parameters(),
        version=f"test-{now.isoformat()}",
        trained_at=now.isoformat(),
        trained_on_subjects=1,
    )
    await GraphTransactions(matching).write(lambda s: s.subjects.save_model(model, at=now))


def partition_runner(
    config: PlatformConfig, workers: list[ManagedProcess]
) -> tuple[ManagedProcess, int] | None:
    """A worker at a partition task now, and the partition (Celery's remote control)."""
    app = make_celery("probe", config.broker.url)
    try:
        active = app.control.inspect(timeout=1.0, limit=len(workers)).active() or {}
    finally:
        app.close()
    for node, tasks in active.items():
        for task in tasks:
            if task["name"] == "matching.rematch_partition":
                worker = next(w for w in workers if node.startswith(f"{w.name}@"))
                return worker, int(task["kwargs"]["partition"])
    return None


async def kill_mid_partition(
    config: PlatformConfig, workers: list[ManagedProcess], matching: GraphClient, job_id: str
) -> tuple[ManagedProcess, int]:
    """SIGKILL a worker (its whole process group: main and pool process, as the OOM
    killer or a lost host would) while it scores a partition: it is frozen first
    (SIGSTOP), and killed only if its partition is still unscored; else it goes on
    and another try is made."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = partition_runner(config, workers)
        if found is None:
            continue
        worker, number = found
        os.killpg(worker.pid, signal.SIGSTOP)
        # Begun (its attempt counted) and not scored: the worker is inside it. A task
        # received but not begun yet would leave nothing half done to take over.
        status, attempts = await partition_state(matching, job_id, number)
        if status == PENDING and attempts >= 1:
            os.killpg(worker.pid, signal.SIGKILL)
            return worker, number
        os.killpg(worker.pid, signal.SIGCONT)
    raise AssertionError("no worker was seen scoring a partition")


async def partition_state(matching: GraphClient, job_id: str, number: int) -> tuple[str, int]:
    rows = await matching.read(
        lambda tx: tx.run(
            "test.partition_state",
            f"MATCH (p:{PARTITION} {{key: $key}}) RETURN p.status AS status, p.attempts AS n",
            key=f"{job_id}/{number}",
        )
    )
    return str(rows[0]["status"]), int(rows[0]["n"] or 0)


def job_of(gateway: GatewayClient, job_id: str) -> dict[str, Any]:
    return dict(gateway.execute(JOB, {"id": job_id})["rematchJob"])


async def partition_attempts(matching: GraphClient, job_id: str) -> list[int]:
    rows = await matching.read(
        lambda tx: tx.run(
            "test.partition_attempts",
            f"MATCH (p:{PARTITION}) WHERE p.jobId = $jobId "
            "RETURN p.attempts AS n ORDER BY p.number",
            jobId=job_id,
        )
    )
    return [int(row["n"]) for row in rows]


async def test_a_worker_killed_mid_partition_loses_no_partition_and_doubles_no_merge(
    platform: Platform,
    gateway: GatewayClient,
    graph_for: Callable[[str], GraphClient],
    online_matching_stopped: Callable[[int], None],
    job_ids: list[str],
) -> None:
    crm, shop = customers(CUSTOMERS, twins=TWINS)
    originals = ingest(gateway, "crm", crm)
    twins = ingest(gateway, "shop", shop)
    online_matching_stopped(CUSTOMERS + TWINS)
    await store_trained_defaults(graph_for("matching"))

    with extra_workers(platform.config, "matching", 2, env=WORKER_ENV) as workers:
        job_id = gateway.execute(START, {"n": PARTITIONS})["startRematch"]["id"]
        job_ids.append(job_id)
        killed, number = await kill_mid_partition(
            platform.config, workers, graph_for("matching"), job_id
        )
        killed_at = time.monotonic()

        done = eventually(lambda: (j := job_of(gateway, job_id))["status"] == "DONE" and j, 120)
        assert done, job_of(gateway, job_id)
        assert killed.popen is not None
        assert killed.popen.poll() == -signal.SIGKILL

    assert done["partitionsDone"] == PARTITIONS
    # The partition the killed worker held was taken again by the other one, after
    # the visibility timeout (not at once: nobody told the broker of the kill).
    attempts = await partition_attempts(graph_for("matching"), job_id)
    assert len(attempts) == PARTITIONS
    assert attempts[number] >= 2, attempts
    assert time.monotonic() - killed_at >= int(WORKER_ENV["MATCHING_BROKER_VISIBILITY_TIMEOUT_S"])
    # The merges a run without the kill makes: each twin once, no original merged away.
    assert done["mergesDone"] + done["mergesSkipped"] == done["plannedMerges"]
    merged = await merges_of(graph_for("profile"), originals + twins)
    assert sorted(merged.items()) == sorted(dict.fromkeys(twins, 1).items())
    survivors = {
        o: gateway.execute("query($id: ID!) { person(id: $id) { id } }", {"id": t})["person"]["id"]
        for o, t in zip(originals[:5], twins, strict=False)
    }
    assert all(survivor == original for original, survivor in survivors.items())
