"""Nothing lost when the broker or a worker fails in the middle of an ingest.

Every person ingested is registered by matching, and every duplicate merged exactly
once, whether the broker was down for 30 s or the worker was killed (SIGKILL, as
the OOM killer does) while it worked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import pytest

from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

from .support import (
    WorkerLog,
    broker_stopped,
    customers,
    ingest,
    merges_of,
    registered,
    running_a_task,
)

# The engine's default parameters: exact twins are merged on arrival.
pytestmark = pytest.mark.usefixtures("default_model")

OUTAGE_S = 30
# Killed workers' messages come back after the platform's visibility timeout (30 s in
# tests) plus the broker client's restore interval (10 s), then wait their turn.
SETTLE_S = 180


async def all_matched_once(
    graph_for: Callable[[str], GraphClient], persons: list[str], pairs: list[tuple[str, str]]
) -> tuple[int, list[int]]:
    """Wait until matching registered every person and merged every pair; then how many
    it registered, and how many merges each pair saw (either way round: a worker
    killed mid-task may register the original after its twin, which then survives)."""
    matching, profile = graph_for("matching"), graph_for("profile")
    ids = [person for pair in pairs for person in pair]

    async def merges_per_pair() -> list[int]:
        merged = await merges_of(profile, ids)
        return [merged.get(original, 0) + merged.get(twin, 0) for original, twin in pairs]

    deadline = time.monotonic() + SETTLE_S
    # A merge follows its registration: wait for the registrations, then the merges.
    while time.monotonic() < deadline:
        done = await registered(matching, persons) == len(persons)
        if done and all(await merges_per_pair()):
            break
        await asyncio.sleep(0.5)
    return await registered(matching, persons), await merges_per_pair()


async def test_an_ingest_during_a_broker_outage_is_matched_after_it(
    platform: Platform, gateway: GatewayClient, graph_for: Callable[[str], GraphClient]
) -> None:
    crm, shop = customers(180, twins=20)
    persons = ingest(gateway, "crm", crm[:60])
    with broker_stopped(platform):
        started = time.monotonic()
        # Ingesting goes on while the broker is away: the events wait in the outbox.
        persons += ingest(gateway, "crm", crm[60:])
        twins = ingest(gateway, "shop", shop)
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - started)))
    count, merges = await all_matched_once(
        graph_for, persons + twins, list(zip(persons, twins, strict=False))
    )
    assert count == 200
    assert merges == [1] * len(twins)


async def test_killed_worker_and_pool_process_lose_no_task_and_repeat_none(
    platform: Platform, gateway: GatewayClient, graph_for: Callable[[str], GraphClient]
) -> None:
    crm, shop = customers(180, twins=20)
    log = WorkerLog(platform, "matching")
    persons = ingest(gateway, "crm", crm[:90])
    worker = platform.processes["matching-worker"]
    pool = worker.children()
    assert pool, "the matching worker has no pool process"
    assert log.wait_for(running_a_task), "the matching worker never ran a task"
    for pid in pool:
        os.kill(pid, signal.SIGKILL)  # mid-task: its message goes back to the queue at once
    # The worker saw its pool process die (and starts another) before it dies itself.
    assert log.wait_for(lambda text: "exited with 'signal 9 (SIGKILL)'" in text)
    persons += ingest(gateway, "crm", crm[90:])
    await asyncio.sleep(0.5)
    os.killpg(os.getpgid(worker.pid), signal.SIGKILL)  # the whole worker, mid-task
    twins = ingest(gateway, "shop", shop)
    platform.stop_worker("matching")  # what is left of it
    platform.start_worker("matching")

    count, merges = await all_matched_once(
        graph_for, persons + twins, list(zip(persons, twins, strict=False))
    )
    assert count == 200
    assert merges == [1] * len(twins)
    # The pool process was killed while it worked on a task.
    assert "Worker exited prematurely: signal 9 (SIGKILL)" in log.text()
