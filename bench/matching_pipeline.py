"""Matching through the real pipeline: ingest -> online match -> merge -> golden profiles.

Used by ``bench/matching_quality.py --pipeline``. Starts its own platform (free ports,
temporary directory), lets the profile service accept one source system per source of
the data set, ingests every record through the gateway (``ingestSourceRecords``,
batches of 500, as an application would), waits until the matching worker has
settled, and reads back which golden profile each source record ended up in. The
records never carry ``truth`` to the platform.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import matching_data
import redis

from mdm_infra import tokens
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.platform import Platform, PlatformConfig
from mdm_profile.importing.files import FIELDS
from mdm_profile.importing.sending import batches
from mdm_profile.settings import DEFAULT_SOURCES

INGEST = """mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    records { sourceId personId } results { status refusal { code } } }
}"""
START_TRAINING = "mutation { startMatchTraining { id } }"
TRAINING_JOB = """query Job($id: ID!) { matchTrainingJob(id: $id) {
  status subjects candidatePairs modelVersion error } }"""
REVIEW_TASKS = """query Tasks($after: String) {
  reviewTasks(statuses: [OPEN], first: 100, after: $after) {
    edges { node { reason } } pageInfo { hasNextPage endCursor } } }"""
SUBJECT_COUNT = "query { matchSubjectCount }"
START_REMATCH = "mutation($n: Int!) { startRematch(partitions: $n) { id } }"
REMATCH_JOB = """query Job($id: ID!) { rematchJob(id: $id) {
  status phase syncedPersons subjects scoredPairs proposals plannedMerges mergesDone
  mergesSkipped reviewTasks error } }"""
OPEN_TASKS = """query Tasks($after: String) {
  reviewTasks(statuses: [OPEN], first: 100, after: $after) {
    edges { node { id leftId rightId } } pageInfo { hasNextPage endCursor } } }"""
DECIDE = """mutation Decide($id: ID!, $decision: StewardDecision!) {
  decideReviewTask(id: $id, decision: $decision, note: "simulated steward") { verdict } }"""
MAX_INGEST_RETRIES = 10  # a batch; a million records are 2,000 batches
PERSONS = "query Resolve($ids: [ID!]!) { persons(ids: $ids) { id } }"
READ_ONE = """query PersonHousehold($id: ID!) { person(id: $id) {
  id givenName familyName email
  household { id members { personId role } }
  consents { purpose type channel occurredAt }
} }"""
PERSONS_PER_READ = 500  # the most a `persons` query takes
MAX_READ_ATTEMPTS = 10
MATCHING_QUEUE = "matching"  # the worker's Celery queue (mdm_infra.platform.WORKER_QUEUES)


@dataclass
class PipelineRun:
    person_of: dict[str, str]  # record id -> golden person id it ended up in
    refused: dict[str, int]  # data-quality code -> records the profile service refused
    review_tasks: dict[str, int]  # reason -> open review tasks
    subjects: int
    seconds: dict[str, float]
    memory: dict[str, float]  # MiB
    training: list[dict[str, Any]] = field(default_factory=list)
    worker_errors: int = 0
    ingest_retries: int = 0
    rematch: dict[str, Any] | None = None  # the batch job's final counts
    # Before the simulated steward decided anything: record id -> person id.
    automatic: dict[str, str] = field(default_factory=dict)
    steward: dict[str, Any] = field(default_factory=dict)  # what the steward did
    # Online matching lag: the person's creation in the profile service -> the start
    # of its matching decision (the subject's registration), in seconds.
    lag_s: dict[str, float] = field(default_factory=dict)
    # One client reading single golden profiles (person, household, consents) once
    # everything is stored: p50 / p99 in ms at this size.
    read_ms: dict[str, float] = field(default_factory=dict)

    # Batch job phase -> platform part -> CPU seconds spent in it.
    cpu_s: dict[str, dict[str, float]] = field(default_factory=dict)

    def clusters(self, *, automatic: bool = False) -> list[frozenset[str]]:
        """The records' groups now, or (``automatic``) before any steward decision."""
        members: dict[str, set[str]] = defaultdict(set)
        for rid, person in (self.automatic if automatic else self.person_of).items():
            members[person].add(rid)
        return [frozenset(m) for m in members.values() if len(m) > 1]


class MemorySampler(threading.Thread):
    """Resident memory of every process of the platform, from /proc, once a second.

    Each platform part runs in its own session (process group), so the group covers
    child processes too (the JVM of the graph server, Celery's pool process). Reports
    the sampled peak of their summed RSS, the sum of each process's own peak (VmHWM,
    exact but not simultaneous), and that sum per platform part (``follow`` names the
    groups; call it again after a part was restarted: it gets a new group).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.groups: dict[int, str] = {}  # process group -> platform part
        self.peak_sum_kib = 0
        self.hwm_kib: dict[int, tuple[str, int]] = {}  # pid -> (part, VmHWM)
        self._done = threading.Event()

    def follow(self, platform: Platform) -> None:
        """Sample the processes of ``platform``'s parts as they run now."""
        self.groups |= {p.pid: name for name, p in platform.processes.items()}

    def run(self) -> None:
        while not self._done.wait(1.0):
            self.sample()

    def sample(self) -> None:
        total = 0
        for pid, part, status in self._statuses():
            total += status.get("VmRSS", 0)
            peak = max(self.hwm_kib.get(pid, (part, 0))[1], status.get("VmHWM", 0))
            self.hwm_kib[pid] = (part, peak)
        self.peak_sum_kib = max(self.peak_sum_kib, total)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user and system, with waited-for children) per platform part,
        of its processes running now: the difference over a phase is the part's work
        in it, which the wall time on a shared machine does not tell."""
        groups, tick = dict(self.groups), os.sysconf("SC_CLK_TCK")
        found: Counter[str] = Counter()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            part = groups.get(int(fields[2]))
            if part is not None:
                found[part] += sum(int(f) for f in fields[11:15]) / tick
        return dict(found)

    def _statuses(self) -> Iterator[tuple[int, str, dict[str, int]]]:
        groups = dict(self.groups)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                pgid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
                if pgid not in groups:
                    continue
                lines = (entry / "status").read_text().splitlines()
            except (OSError, IndexError, ValueError):
                continue  # the process ended meanwhile
            wanted = (line.partition(":") for line in lines)
            status = {k: int(v.split()[0]) for k, _, v in wanted if k in ("VmRSS", "VmHWM")}
            yield int(entry.name), groups[pgid], status

    def stop(self) -> dict[str, Any]:
        self._done.set()
        self.join()
        self.sample()
        parts: Counter[str] = Counter()
        for part, peak in self.hwm_kib.values():
            parts[part] += peak
        return {
            "peak_of_sum": self.peak_sum_kib / 1024,
            "sum_of_peaks": sum(parts.values()) / 1024,
            "per_part": {part: round(kib / 1024) for part, kib in parts.most_common()},
        }


def progress(message: str) -> None:
    """Counts and phases only, never record contents."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _ingest_rows(rows: list[matching_data.Record]) -> list[dict[str, Any]]:
    """What a source sends: the importer's fields, never ``truth``."""
    sent = {*FIELDS, "identifiers"}
    return [{k: v for k, v in row.items() if k in sent and v is not None} for row in rows]


def ingest(
    client: GatewayClient, source: str, rows: list[matching_data.Record], run: PipelineRun
) -> None:
    """Batches of 500; the server answers per record (refused ones are counted)."""
    for number, batch in enumerate(batches(_ingest_rows(rows), 500), start=1):
        if number % 20 == 0:
            progress(f"ingested {len(run.person_of)} records")
        attempts = 0
        while True:
            body = client.post(INGEST, {"source": source, "records": batch}).json()
            if not body.get("errors"):
                result = body["data"]["ingestSourceRecords"]
                for item in result["records"]:
                    run.person_of[matching_data.record_id(source, item)] = item["personId"]
                run.refused.update(
                    r["refusal"]["code"] for r in result["results"] if r["refusal"] is not None
                )
                break
            # A batch's stored records are one transaction: send it again, as an
            # application would, after a transient failure (seen: the graph's
            # DeadlockDetected while merges run).
            run.ingest_retries += 1
            attempts += 1
            if attempts > MAX_INGEST_RETRIES:
                raise RuntimeError(f"ingest failed: {body['errors'][0].get('message')}")
            code = body["errors"][0].get("extensions", {}).get("code")
            progress(f"batch failed ({code}), sending it again")
            time.sleep(2 * attempts)


def wait_until_settled(
    broker_url: str, *, quiet_s: float = 3.0, timeout_s: float = 6 * 3600
) -> None:
    """The worker's queue is empty and nothing is being processed, for ``quiet_s``.

    Events are published before the ingest mutation answers, and a merge's own
    events before the merging task is acknowledged (late acks), so an empty queue
    with no unacknowledged message after the last batch means every person was matched.
    """
    broker = redis.Redis.from_url(broker_url)
    deadline, quiet_since = time.monotonic() + timeout_s, None
    try:
        while time.monotonic() < deadline:
            busy = broker.llen(MATCHING_QUEUE) + broker.hlen("unacked")
            if busy and int(time.monotonic()) % 30 == 0:
                progress(f"matching queue: {busy} events")
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return
            time.sleep(0.5)
    finally:
        broker.close()
    raise TimeoutError("the matching worker did not settle")


def train(client: GatewayClient, run: PipelineRun) -> None:
    job_id = client.execute(START_TRAINING)["startMatchTraining"]["id"]
    while True:
        job = client.execute(TRAINING_JOB, {"id": job_id})["matchTrainingJob"]
        if job["status"] in ("DONE", "FAILED"):
            run.training.append(job)
            return
        time.sleep(1)


def lose_events(config: PlatformConfig, *, timeout_s: float = 1800) -> None:
    """Drop the queued events (the worker is stopped): online matching never runs.

    First waits until the profile service has sent every event of its outbox (its
    ``mdm_outbox_pending`` gauge is 0): a publish that failed under load is sent again
    by the relay later, and would otherwise reach the worker after the drop."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{config.service_url('profile')}/metrics", timeout=30).text
        pending = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("mdm_outbox_pending")
        ]  # absent when the gauge's source failed this time: ask again
        if pending and not sum(pending):
            break
        progress(f"profile outbox: {sum(pending) if pending else 'unknown'} events not sent yet")
        time.sleep(2)
    broker = redis.Redis.from_url(config.broker.url)
    try:
        broker.delete(MATCHING_QUEUE)
    finally:
        broker.close()


def rematch(
    client: GatewayClient,
    run: PipelineRun,
    *,
    partitions: int,
    cpu: Callable[[], dict[str, float]] = dict,
) -> None:
    """Run a batch re-matching job to its end. Its phases' durations go to ``run``:
    syncing, training, scoring, plan (the merge phase until the first merge is
    settled), merging, and the job's wall time; polled every half second. ``cpu``: CPU
    seconds per platform part so far; each phase's go to ``run.cpu_s``."""
    started = time.perf_counter()
    cpu_since = cpu()
    job_id = client.execute(START_REMATCH, {"n": partitions})["startRematch"]["id"]
    step, since = "syncing", started
    failures = 0
    while True:
        try:
            job = client.execute(REMATCH_JOB, {"id": job_id})["rematchJob"]
        except (GraphQLError, httpx.HTTPError):
            # Asking again is harmless; seen under load: "Unexpected error." once.
            failures += 1
            if failures > MAX_READ_ATTEMPTS:
                raise
            time.sleep(2)
            continue
        failures = 0
        now_step = job["phase"].lower()
        if now_step == "merging" and not job["mergesDone"] + job["mergesSkipped"]:
            now_step = "plan"
        if now_step != step:
            run.seconds[f"batch {step}"] = time.perf_counter() - since
            cpu_now = cpu()
            run.cpu_s[step] = {k: round(v - cpu_since.get(k, 0.0), 1) for k, v in cpu_now.items()}
            cpu_since = cpu_now
            took = run.seconds[f"batch {step}"]
            progress(f"re-matching: {step} took {took:.1f} s, now {now_step}")
            step, since = now_step, time.perf_counter()
        if job["status"] in ("DONE", "FAILED"):
            if step != "done":  # FAILED: the step it failed in
                run.seconds[f"batch {step}"] = time.perf_counter() - since
            run.seconds["batch job"] = time.perf_counter() - started
            run.rematch = job
            return
        time.sleep(0.5)


def phases(run: PipelineRun, records: int) -> str:
    """The run's phases with their rates, one line: what the cost-growth table needs."""
    seconds, job = run.seconds, run.rematch or {}

    def rate(count: float, key: str) -> str:
        took = seconds.get(key, 0.0)
        return f"{took:.1f} s ({count / took:,.0f}/s)" if took else "-"

    parts = {
        "ingest": rate(records, "ingest"),
        "sync": rate(job.get("syncedPersons", 0), "batch syncing"),
        "training": f"{seconds.get('batch training', 0.0):.1f} s",
        "scoring": f"{seconds.get('batch scoring', 0.0):.1f} s",
        "plan": f"{seconds.get('batch plan', 0.0):.1f} s",
        "merging": rate(job.get("mergesDone", 0), "batch merging"),
        "job wall": f"{seconds.get('batch job', 0.0):.1f} s",
        "settle": f"{seconds.get('settle', 0.0):.1f} s",
        "read back": f"{seconds.get('read back', 0.0):.1f} s",
        "ingest to read back": f"{seconds.get('total', 0.0):.1f} s",
        "read p50/p99": "/".join(f"{run.read_ms[k]:.1f}" for k in ("p50", "p99")) + " ms"
        if run.read_ms
        else "-",
    }
    merging_cpu = run.cpu_s.get("merging", {})
    if merging_cpu:
        busiest = sorted(merging_cpu.items(), key=lambda kv: -kv[1])
        parts["merging CPU s"] = ", ".join(f"{part} {s:.1f}" for part, s in busiest if s >= 0.1)
    return "; ".join(f"{k} {v}" for k, v in parts.items())


def open_review_tasks(client: GatewayClient) -> dict[str, int]:
    reasons: Counter[str] = Counter()
    after = None
    while True:
        page = client.execute(REVIEW_TASKS, {"after": after})["reviewTasks"]
        reasons.update(edge["node"]["reason"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return dict(reasons)
        after = page["pageInfo"]["endCursor"]


def survivors(url: str, token: Callable[[], str], person_ids: list[str]) -> dict[str, str]:
    """Each ingested person id -> the golden profile it resolves to now (merged ids
    resolve to their survivor): ``persons(ids:)``, 500 ids a request, 4 clients."""
    ids = sorted(set(person_ids))
    chunks = [ids[i : i + PERSONS_PER_READ] for i in range(0, len(ids), PERSONS_PER_READ)]

    def resolve(chunk: list[str]) -> dict[str, str]:
        client = GatewayClient(url, token, timeout_s=60)
        try:
            attempt = 0
            while True:  # a read is repeated after a transient failure
                attempt += 1
                try:
                    found = client.execute(PERSONS, {"ids": chunk})["persons"]
                    return {pid: p["id"] for pid, p in zip(chunk, found, strict=True) if p}
                except GraphQLError as error:
                    if "UNAVAILABLE" not in error.codes or attempt == MAX_READ_ATTEMPTS:
                        raise
                    time.sleep(attempt)
        finally:
            client.close()

    found: dict[str, str] = {}
    with ThreadPoolExecutor(4) as pool:
        for part in pool.map(resolve, chunks):
            found.update(part)
    return found


def read_back(url: str, token: Callable[[], str], client: GatewayClient, run: PipelineRun) -> None:
    """Which golden profile each record is in now, and the open review tasks."""
    resolved = survivors(url, token, list(run.person_of.values()))
    run.person_of = {rid: resolved[pid] for rid, pid in run.person_of.items()}
    run.review_tasks = open_review_tasks(client)


def read_latency(
    client: GatewayClient, person_ids: list[str], reads: int = 300
) -> dict[str, float]:
    """Single reads of golden profiles (gateway_read's query), one client, in random
    order over the whole base: the read figure of the cost-growth table."""
    chosen = random.Random(18).sample(person_ids, min(reads, len(person_ids)))
    times = []
    for person_id in chosen:
        started = time.perf_counter()
        client.execute(READ_ONE, {"id": person_id})
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
    }


def _open_tasks(client: GatewayClient) -> list[dict[str, str]]:
    tasks, after = [], None
    while True:
        page = client.execute(OPEN_TASKS, {"after": after})["reviewTasks"]
        tasks.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return tasks
        after = page["pageInfo"]["endCursor"]


def simulate_steward(
    client: GatewayClient, run: PipelineRun, truth: dict[str, str], *, budget: int, broker_url: str
) -> None:
    """Decide up to ``budget`` review tasks as a steward who knows the truth would:
    MERGE when both profiles are mostly records of one real person, NOT_A_MATCH
    otherwise; in the queue's own order, again after merges open new tasks."""
    members: dict[str, Counter[str]] = defaultdict(Counter)
    for rid, person in run.person_of.items():
        members[person][truth[rid]] += 1
    first = _open_tasks(client)

    def same_person(task: dict[str, str]) -> bool:
        left, right = members[task["leftId"]], members[task["rightId"]]
        return bool(left and right) and left.most_common(1)[0][0] == right.most_common(1)[0][0]

    done = Counter[str]()
    done["open_before"] = len(first)
    done["true_pairs_before"] = sum(map(same_person, first))
    seen: set[str] = set()
    tasks = first
    while tasks and done["decided"] < budget:
        for task in tasks[: budget - done["decided"]]:
            seen.add(task["id"])
            decision = "MERGE" if same_person(task) else "NOT_A_MATCH"
            body = client.post(DECIDE, {"id": task["id"], "decision": decision}).json()
            if body.get("errors"):
                codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
                if codes - {"CONFLICT", "NOT_FOUND"}:
                    raise RuntimeError(f"deciding a task failed: {body['errors'][0]}")
                done["stale"] += 1  # closed meanwhile: one side merged away by an earlier one
                continue
            done["decided"] += 1
            done[decision.lower()] += 1
            if decision == "MERGE":
                joined = members[task["leftId"]] + members[task["rightId"]]
                members[task["leftId"]] = members[task["rightId"]] = joined
        wait_until_settled(broker_url)
        tasks = [t for t in _open_tasks(client) if t["id"] not in seen]
    done["open_after"] = len(_open_tasks(client))
    run.steward = dict(done)


def matching_lag(config: PlatformConfig) -> dict[str, float]:
    """Percentiles of the time from a person's creation (``profileCreatedAt``) to the
    start of its online decision (``registeredAt``, the decision's clock), read from
    the matching graph over Bolt: what a caller waits until a newcomer is matched."""
    from neo4j import GraphDatabase  # noqa: PLC0415 - the services' driver

    from mdm_common.graph import as_utc  # noqa: PLC0415 - the platform's own decoding

    query = (
        "MATCH (s:MatchSubject) WHERE s.profileCreatedAt IS NOT NULL "
        "RETURN s.registeredAt AS registered, s.profileCreatedAt AS created"
    )
    auth = ("root", config.secrets.graph_password)
    with GraphDatabase.driver(config.graph.bolt_uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(query, database_="matching")
    lags = sorted((as_utc(r["registered"]) - as_utc(r["created"])).total_seconds() for r in records)
    if not lags:
        return {}

    def at(share: float) -> float:
        return round(lags[min(len(lags) - 1, int(share * len(lags)))], 3)

    return {"persons": len(lags), "p50": at(0.5), "p99": at(0.99), "max": lags[-1]}


def _worker_errors(config: PlatformConfig) -> int:
    log = config.log_dir / "matching-worker.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if "ERROR" in line or "Traceback" in line)


def run_pipeline(
    data: matching_data.DataSet,
    config: PlatformConfig,
    *,
    train_after: float | None = None,
    batch: int = 0,
    steward: int = 0,
    queued: bool = False,
) -> PipelineRun:
    """Ingest all sources in order; with ``train_after`` (a share of the records),
    stop there, let matching settle, train the model on what is stored, go on.

    With ``batch`` (a number of partitions), a bulk load: the worker is stopped while
    everything is ingested, the events are dropped, and one batch re-matching job
    does all matching and merging instead of online matching.

    With ``queued``, the worker is stopped while everything is ingested and started
    afterwards: "settle" is then the online path's own matching throughput.

    With ``steward`` (a number of decisions), a simulated steward then decides review
    tasks from the truth labels; ``run.automatic`` keeps the result before it."""
    # Source systems are deployment configuration: the profile service reads them
    # from its environment, which the platform's processes inherit.
    os.environ["PROFILE_SOURCES"] = json.dumps(DEFAULT_SOURCES | dict.fromkeys(data.sources, 2))
    # One client reads every person back: the gateway's per-client rate limit is not
    # what is measured here.
    os.environ["MDM_RATE_LIMIT_MAX"] = "0"
    run = PipelineRun({}, Counter(), {}, 0, {}, {})
    platform = Platform(config)
    started = time.perf_counter()
    platform.start()
    run.seconds["start"] = time.perf_counter() - started
    sampler = MemorySampler()
    sampler.follow(platform)
    sampler.start()
    # Runs outlive a token: a fresh one before the current expires.
    token = tokens.renewing(
        config.secrets.jwt, subject="bench", roles=["app", "steward", "compliance"]
    )
    client = GatewayClient(config.gateway_url, token, timeout_s=300)
    try:
        sources = list(data.sources.items())
        parts = [sources] if train_after is None else split_sources(sources, train_after)
        if batch or queued:
            platform.stop_worker("matching")
        started = time.perf_counter()
        for index, part in enumerate(parts):
            for source, rows in part:
                ingest(client, source, rows, run)
                progress(f"ingested {len(run.person_of)} records")
            if train_after is not None and index == 0:
                wait_until_settled(config.broker.url)
                train(client, run)
        ingested = time.perf_counter()
        _match_after_ingest(platform, client, run, batch=batch, queued=queued, sampler=sampler)
        wait_until_settled(config.broker.url)
        settled = time.perf_counter()
        progress(f"settled {settled - ingested:.0f} s after the last batch")
        read_back(config.gateway_url, token, client, run)
        run.automatic = dict(run.person_of)
        run.seconds["read back"] = time.perf_counter() - settled
        progress(f"read back {run.seconds['read back']:.1f} s")
        if steward:
            truth = {
                matching_data.record_id(source, row): str(row["truth"])
                for source, rows in data.sources.items()
                for row in rows
            }
            simulate_steward(client, run, truth, budget=steward, broker_url=config.broker.url)
            read_back(config.gateway_url, token, client, run)
        run.subjects = client.execute(SUBJECT_COUNT)["matchSubjectCount"]
        run.read_ms = read_latency(client, sorted(set(run.person_of.values())))
        run.lag_s = {} if batch else matching_lag(config)
        read = time.perf_counter()
        run.seconds |= {
            "ingest": ingested - started,
            "settle": settled - ingested,
            "total": read - started,
        }
        run.memory = sampler.stop()
        run.worker_errors = _worker_errors(config)
    finally:
        client.close()
        platform.stop()
    return run


def _match_after_ingest(
    platform: Platform,
    client: GatewayClient,
    run: PipelineRun,
    *,
    batch: int,
    queued: bool,
    sampler: MemorySampler,
) -> None:
    """With the worker stopped during ingest: drop the events and run a batch job, or
    start the worker on the events queued meanwhile."""
    if batch:
        lose_events(platform.config)
        platform.start_worker("matching")
        sampler.follow(platform)  # the worker's new process group
        rematch(client, run, partitions=batch, cpu=sampler.cpu_seconds)
    elif queued:
        platform.start_worker("matching")
        sampler.follow(platform)


def split_sources(
    parts: list[tuple[str, list[matching_data.Record]]], share: float
) -> list[list[tuple[str, list[matching_data.Record]]]]:
    """The sources in order, cut after ``share`` of all records."""
    cut = round(share * sum(len(rows) for _, rows in parts))
    first, rest = [], []
    for source, rows in parts:
        take = max(0, min(len(rows), cut))
        cut -= take
        if take:
            first.append((source, rows[:take]))
        if take < len(rows):
            rest.append((source, rows[take:]))
    return [first, rest]
