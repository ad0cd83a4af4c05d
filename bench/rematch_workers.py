"""A batch re-matching job's wall time with 1, 2, 4 ... worker processes.

    .venv/bin/python bench/rematch_workers.py --records 5000 --workers 1,2,4 --repeat 3

Each run starts a platform of its own (free ports, temporary directory), ingests the
German generator's records through the gateway with the platform's matching worker
stopped (their events are dropped: online matching never sees them), then starts N
extra matching workers (``mdm_infra.workers``: separate processes, concurrency 1,
sharing nothing but the broker and the graph, as on N hosts) and one re-matching job
of ``--partitions`` partitions, and times it from ``startRematch`` to DONE, phase by
phase. The worker counts are alternated within each repetition; medians are printed.

What it shows on one machine: that any number of workers share a job's partitions
(each partition is a task taken by whichever worker is free) and how the scoring
phase's wall time follows the number of processes up to the number of cores. The
sync and merge phases are one task each and do not spread over workers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import matching_data
import redis
from matching_pipeline import (
    MATCHING_QUEUE,
    START_REMATCH,
    PipelineRun,
    ingest,
    lose_events,
    progress,
)

from mdm_infra import tokens
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_infra.workers import extra_workers
from mdm_profile.settings import DEFAULT_SOURCES

JOB = """query Job($id: ID!) { rematchJob(id: $id) { status phase partitionsDone
  subjects scoredPairs proposals plannedMerges mergesDone mergesSkipped error } }"""
PHASES = ("SYNCING", "TRAINING", "SCORING", "MERGING")


def run_job(client: GatewayClient, partitions: int) -> dict[str, Any]:
    """Start a job and wait for its end; its phases' seconds and final counts."""
    started = time.perf_counter()
    job_id = client.execute(START_REMATCH, {"n": partitions})["startRematch"]["id"]
    seconds: Counter[str] = Counter()
    phase, since = "SYNCING", started
    while True:
        try:
            job = client.execute(JOB, {"id": job_id})["rematchJob"]
        except (httpx.TransportError, GraphQLError) as error:
            # A poll lost on a loaded machine (seen: the gateway reset the connection)
            # is not the job's failure: ask again.
            progress(f"poll failed ({type(error).__name__}), asking again")
            time.sleep(1)
            continue
        now = time.perf_counter()
        if job["phase"] != phase:
            seconds[phase.lower()] += now - since
            phase, since = job["phase"], now
        if job["status"] in ("DONE", "FAILED"):
            return job | {"seconds": dict(seconds), "wall": now - started}
        time.sleep(0.2)


def wait_until_queued(broker_url: str, events: int, *, timeout_s: float = 60) -> None:
    """The relay sends in the background: wait for every person's event before they
    are dropped, so that none reaches the workers as online matching."""
    broker = redis.Redis.from_url(broker_url)
    deadline = time.monotonic() + timeout_s
    try:
        while broker.llen(MATCHING_QUEUE) < events and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        broker.close()


def one_run(data: matching_data.DataSet, workers: int, partitions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rematch-workers-") as tmp:
        config = PlatformConfig(state_dir=Path(tmp), ports=Ports.free(), secrets=Secrets.generate())
        platform = Platform(config)
        platform.start()
        token = tokens.renewing(config.secrets.jwt, subject="bench", roles=["app", "steward"])
        client = GatewayClient(config.gateway_url, token, timeout_s=300)
        try:
            platform.stop_worker("matching")
            run = PipelineRun({}, Counter(), {}, 0, {}, {})
            for source, rows in data.sources.items():
                ingest(client, source, rows, run)
            wait_until_queued(config.broker.url, len(set(run.person_of.values())))
            lose_events(config.broker.url)
            with extra_workers(config, "matching", workers):
                load = os.getloadavg()[0]
                progress(f"{workers} workers: job of {partitions} partitions")
                job = run_job(client, partitions)
            return job | {"workers": workers, "load": load}
        finally:
            client.close()
            platform.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000, help="German generator records")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write every run here")
    args = parser.parse_args()
    data = matching_data.german(args.records)
    # As bench/matching_pipeline.py: the generator's sources are accepted, and one
    # client may read as fast as it likes.
    os.environ["PROFILE_SOURCES"] = json.dumps(DEFAULT_SOURCES | dict.fromkeys(data.sources, 2))
    os.environ["MDM_RATE_LIMIT_MAX"] = "0"
    counts = [int(n) for n in args.workers.split(",")]
    runs: list[dict[str, Any]] = []
    for repetition in range(args.repeat):
        # Alternated: 1, 2, 4, then 4, 2, 1, ...: a drift in the machine's load
        # falls on every count alike.
        for workers in counts if repetition % 2 == 0 else reversed(counts):
            runs.append(one_run(data, workers, args.partitions))
            last = runs[-1]
            progress(
                f"{workers} workers: {last['status']} in {last['wall']:.1f} s "
                f"{ {k: round(v, 1) for k, v in last['seconds'].items()} }, "
                f"load {last['load']:.1f}"
            )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))
    print(
        f"\n{args.records} German records, {args.partitions} partitions, "
        f"{os.cpu_count()} cores, medians of {args.repeat}"
    )
    print("| workers | job wall s | syncing+training s | scoring s | merging s | merges | load |")
    print("|---|---|---|---|---|---|---|")
    for workers in counts:
        mine = [r for r in runs if r["workers"] == workers and r["status"] == "DONE"]
        if not mine:
            print(f"| {workers} | failed | | | | | |")
            continue

        def median(key: str, runs: list[dict[str, Any]] = mine) -> float:
            return statistics.median(r["seconds"].get(key, 0.0) for r in runs)

        print(
            f"| {workers} | {statistics.median(r['wall'] for r in mine):.1f} "
            f"| {median('syncing') + median('training'):.1f} | {median('scoring'):.1f} "
            f"| {median('merging'):.1f} | {mine[0]['mergesDone']} "
            f"| {statistics.median(r['load'] for r in mine):.1f} |"
        )


if __name__ == "__main__":
    main()
