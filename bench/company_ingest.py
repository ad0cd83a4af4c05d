"""Company records through the real path (gateway -> profile -> graph), matched online
by the matching worker, and the parent links they make.

    .venv-bench/bin/python bench/company_ingest.py --records 10000

Starts its own platform (free ports, temporary directory; ``--keep`` keeps it, logs
included). The German B2B generator (``company_data.py``) makes an ERP, which holds
every company once with its parent's record id, and a CRM, which holds most of them
again, dirtier, with the parent's VAT id. Both are sent as ``mdm import --kind
company`` sends them (batches of 500, the ERP first, in an order where parents often
come after their subsidiaries; a batch that fails is sent again). Meanwhile the
matching worker matches each company created or changed against the companies sharing
a blocking key (``mdm_matching.domain.company_matching``, the default model): it merges
a sure duplicate through ``mergeCompanies`` (the older company survives) and opens
review tasks of kind COMPANY for uncertain pairs. After the last batch the script waits
until matching has settled (the profile's outbox has sent every event and the matching
queue has been empty, with nothing unacknowledged, for a few seconds; at most
``--settle-timeout``), then reads back which company each record is part of now
(``companyFeatures``, 500 ids a call: a merged-away id gives its survivor).

Printed, as JSON: per source, records/s (overall and the median batch), what was
stored, flagged and refused; matching: how long after the last batch's answer the
worker was last busy, the companies before and after, pairwise precision, recall and
F1 of the records' companies against the generator's truth (``pairwise.py``, as
``company_matching.py`` measures the engine in process; refused records left out), the
open COMPANY review tasks per 100 records and the share of them that are true pairs
(both companies' records are, by majority, of one real company); the parent links after
matching; lines with ERROR or a traceback per platform log; the time of company
searches through the gateway at that size (median of 20, one client); the load average.

A parent link is right when the parent company's records are (by majority) of the
record's true parent; recall counts the records that name a parent their source can
find.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).parent))

import company_data
from matching_pipeline import MATCHING_QUEUE, progress, wait_until_settled
from pairwise import pairwise

from mdm_common.graph import GraphClient
from mdm_infra import tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.importing.sending import batches

INGEST = """mutation($source: String!, $records: [CompanyRecordInput!]!) {
  ingestCompanyRecords(source: $source, records: $records) {
    created withWarnings refused results { index companyId status }
  }
}"""
SEARCH = """query($name: String, $domain: String) {
  searchCompanies(name: $name, domain: $domain, first: 20) { edges { node { id name } } }
}"""
FEATURES = "query($ids: [ID!]!) { companyFeatures(ids: $ids) }"
REVIEW_TASKS = """query($after: String) {
  reviewTasks(kind: COMPANY, statuses: [OPEN], first: 100, after: $after) {
    edges { node { leftId rightId reason probability modelVersion } }
    pageInfo { hasNextPage endCursor } } }"""
COMPANIES_PER_READ = 500  # the most a `companyFeatures` query takes
MAX_INGEST_RETRIES = 10
QUIET_S = 3.0  # the matching queue empty this long: settled


def _record_id(source: str, row: dict[str, Any]) -> str:
    return f"{source}|{row['sourceId']}"


def _send(client: GatewayClient, source: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Send a source's records; the company of each record, the rates, the counts."""
    company_of: dict[str, str] = {}  # record id -> the company ingest put it in
    rates, counts = [], {"created": 0, "withWarnings": 0, "refused": 0, "sent again": 0}
    started = time.perf_counter()
    for batch in batches(rows, 500):
        records = [{k: v for k, v in r.items() if k not in ("truth", "parentTruth")} for r in batch]
        t = time.perf_counter()
        for attempt in range(1, MAX_INGEST_RETRIES + 1):
            body = client.post(INGEST, {"source": source, "records": records}).json()
            if not body.get("errors"):
                break
            # A batch is one transaction: send it again after a transient failure (a
            # deadlock with the merges matching makes meanwhile), as an application would.
            if attempt == MAX_INGEST_RETRIES:
                raise RuntimeError(f"ingest failed: {body['errors'][0].get('message')}")
            counts["sent again"] += 1
            code = body["errors"][0].get("extensions", {}).get("code")
            progress(f"{source}: a batch failed ({code}), sending it again")
            time.sleep(2 * attempt)
        rates.append(len(batch) / (time.perf_counter() - t))
        result = body["data"]["ingestCompanyRecords"]
        for key in ("created", "withWarnings", "refused"):
            counts[key] += result[key]
        for r in result["results"]:
            if r["companyId"]:
                company_of[_record_id(source, batch[r["index"]])] = r["companyId"]
    wall = time.perf_counter() - started
    return {"company_of": company_of, "wall": wall, "median": statistics.median(rates), **counts}


def _outbox_pending(config: PlatformConfig) -> float | None:
    """Events the profile service stored and has not sent yet; None when not known now."""
    try:
        text = httpx.get(f"{config.service_url('profile')}/metrics", timeout=30).text
    except httpx.HTTPError:
        return None
    pending = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mdm_outbox_pending")
    ]  # absent when the gauge's source failed this time
    return sum(pending) if pending else None


def _queue_busy(config: PlatformConfig) -> int:
    broker = redis.Redis.from_url(config.broker.url)
    try:
        return int(broker.llen(MATCHING_QUEUE)) + int(broker.hlen("unacked"))
    finally:
        broker.close()


def settle(config: PlatformConfig, *, timeout_s: float) -> float:
    """Wait until no company event is left to handle: the matching queue has been
    quiet for ``QUIET_S`` (``matching_pipeline.wait_until_settled``), then the profile's
    outbox holds nothing unsent (an event whose publishing failed goes out later, from
    the relay) and the queue is still empty. ``TimeoutError`` after ``timeout_s``.
    Returns when (``time.monotonic``) the queue was last seen busy."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("matching did not settle")
        wait_until_settled(config.broker.url, quiet_s=QUIET_S, timeout_s=left)
        last_busy = time.monotonic() - QUIET_S
        pending = _outbox_pending(config)
        if pending == 0 and not _queue_busy(config):
            return last_busy
        progress(f"profile outbox: {pending if pending is not None else 'unknown'} unsent")
        time.sleep(1)


def open_tasks(client: GatewayClient) -> list[dict[str, str]]:
    """The open review tasks of kind COMPANY, 100 a page."""
    tasks, after = [], None
    while True:
        page = client.execute(REVIEW_TASKS, {"after": after})["reviewTasks"]
        tasks.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return tasks
        after = page["pageInfo"]["endCursor"]


def resolve(client: GatewayClient, company_ids: set[str]) -> dict[str, str]:
    """Each known company id -> the company it is part of now (its survivor if merged)."""
    ids, found = sorted(company_ids), {}
    for start in range(0, len(ids), COMPANIES_PER_READ):
        chunk = ids[start : start + COMPANIES_PER_READ]
        rows = client.execute(FEATURES, {"ids": chunk})["companyFeatures"]
        for asked, row in zip(chunk, rows, strict=True):
            if row is not None:
                found[asked] = (json.loads(row) if isinstance(row, str) else row)["id"]
    return found


async def _parents(config: PlatformConfig) -> dict[str, str]:
    graph = GraphClient(
        uri=config.graph.bolt_uri,
        user="root",
        password=config.secrets.graph_password,
        database="profile",
    )
    try:
        rows = await graph.read(
            lambda tx: tx.run(
                "bench.parents",
                "MATCH (c:Company)-[:SUBSIDIARY_OF]->(p:Company) RETURN c.id AS c, p.id AS p",
            )
        )
    finally:
        await graph.close()
    return {row["c"]: row["p"] for row in rows}


def _real(company_of: dict[str, str], truth: dict[str, str]) -> dict[str, str]:
    """Each company -> the real company most of its records are of."""
    members: dict[str, Counter[str]] = defaultdict(Counter)
    for record, company in company_of.items():
        members[company][truth[record]] += 1
    return {company: counts.most_common(1)[0][0] for company, counts in members.items()}


def _links(
    sources: dict[str, list[dict[str, Any]]],
    company_of: dict[str, str],
    real: dict[str, str],
    parents: dict[str, str],
) -> dict[str, Any]:
    """Per source: the records that name a parent, those whose company has one now,
    and whether it is (by majority of its records) the true parent."""
    report = {}
    for source, rows in sources.items():
        right = wrong = named = found = 0
        for row in rows:
            company = company_of.get(_record_id(source, row))
            names = row.get("parentSourceId") or row.get("parentVatId")
            if company is None or not row["parentTruth"] or not names:
                continue
            named += 1
            parent = parents.get(company)
            if parent is None:
                continue
            found += 1
            if real.get(parent) == row["parentTruth"]:
                right += 1
            else:
                wrong += 1
        report[source] = {
            "name a parent": named,
            "got one": found,
            "right": right,
            "wrong": wrong,
            "P": round(right / (right + wrong), 4) if right + wrong else 1.0,
            "R": round(right / max(named, 1), 4),
        }
    return report


def _review(
    tasks: list[dict[str, str]], now: dict[str, str], real: dict[str, str], records: int
) -> dict[str, Any]:
    """The open tasks per 100 records, by reason, and how many are true pairs."""
    true_pairs = stale = 0
    for task in tasks:
        left, right = (now.get(task[side], task[side]) for side in ("leftId", "rightId"))
        stale += (left, right) != (task["leftId"], task["rightId"])
        true_pairs += left in real and right in real and real[left] == real[right]
    return {
        "open": len(tasks),
        "per 100 records": round(100 * len(tasks) / records, 2),
        "true pairs": true_pairs,
        "share true": round(true_pairs / len(tasks), 3) if tasks else None,
        "by reason": dict(Counter(task["reason"] for task in tasks).most_common()),
        "by model": dict(Counter(task["modelVersion"] for task in tasks).most_common()),
        "probabilities": sorted(round(task["probability"], 4) for task in tasks)[:20],
        "a side merged away since": stale,
    }


def _log_errors(config: PlatformConfig) -> dict[str, int]:
    """Lines with ERROR or a traceback, per platform log that has any."""
    found = {}
    for log in sorted(config.log_dir.rglob("*.log")):
        text = log.read_text(errors="replace")
        count = sum("ERROR" in line or "Traceback" in line for line in text.splitlines())
        if count:
            found[str(log.relative_to(config.log_dir))] = count
    return found


def _searches(client: GatewayClient, erp: list[dict[str, Any]]) -> dict[str, float]:
    """Median ms of 20 searches by name prefix and 20 by domain, one client."""
    timings: dict[str, list[float]] = {"name": [], "domain": []}
    for row in erp[:20]:
        domain = row["website"].removeprefix("https://www.")
        for kind, variables in (
            ("name", {"name": row["name"][:8]}),
            ("domain", {"domain": domain}),
        ):
            t = time.perf_counter()
            client.execute(SEARCH, variables)
            timings[kind].append((time.perf_counter() - t) * 1000)
    return {
        "by name prefix": round(statistics.median(timings["name"]), 1),
        "by domain": round(statistics.median(timings["domain"]), 1),
    }


START_TRAINING = "mutation { startMatchTraining { id } }"
TRAINING_JOB = """query($id: ID!) { matchTrainingJob(id: $id) {
  status companies companyModelVersion error } }"""


def _train(client: GatewayClient) -> dict[str, Any]:
    """The training job, started and waited for; its figures and seconds."""
    started = time.monotonic()
    job_id = client.execute(START_TRAINING)["startMatchTraining"]["id"]
    while True:
        job = client.execute(TRAINING_JOB, {"id": job_id})["matchTrainingJob"]
        if job["status"] in ("DONE", "FAILED"):
            return job | {"seconds": round(time.monotonic() - started, 1)}
        time.sleep(1)


def _quality(
    client: GatewayClient, ingest_company: dict[str, str], truth: dict[str, str]
) -> dict[str, Any]:
    """Pairwise figures and open tasks as they stand now."""
    now = resolve(client, set(ingest_company.values()))
    company_of = {r: now.get(c, c) for r, c in ingest_company.items()}
    return {
        **pairwise({r: truth[r] for r in company_of}, company_of),
        "open COMPANY tasks": len(open_tasks(client)),
    }


def run(
    config: PlatformConfig,
    sources: dict[str, list[dict[str, Any]]],
    settle_timeout_s: float,
    *,
    dump: Path | None = None,
    train: bool = False,
) -> dict[str, Any]:
    """Ingest, let matching settle, read back; the report (log errors included).
    ``dump``: a file for each record's company and the open tasks, to look into.
    ``train``: after the first settling, run the training job (which trains the company
    model and matches every company again with it) and measure after it too."""
    truth = {_record_id(s, row): row["truth"] for s, rows in sources.items() for row in rows}
    records = sum(len(rows) for rows in sources.values())
    platform = Platform(config)
    platform.start()
    token = tokens.renewing(config.secrets.jwt, subject="bench", roles=["app", "steward"])
    client = GatewayClient(config.gateway_url, token, timeout_s=300)
    try:
        sent = {}
        for source, rows in sources.items():
            sent[source] = _send(client, source, rows)
            progress(f"{source}: {len(rows)} records sent")
        ingested = time.monotonic()
        load_ingest = os.getloadavg()
        last_busy = settle(config, timeout_s=settle_timeout_s)
        progress(f"matching settled {time.monotonic() - ingested:.1f} s after the last batch")
        load_settled = os.getloadavg()
        ingest_company = {r: c for result in sent.values() for r, c in result["company_of"].items()}
        trained = None
        if train:
            before = _quality(client, ingest_company, truth)
            trained = _train(client) | {"before": before}
            settle(config, timeout_s=settle_timeout_s)
        tasks = open_tasks(client)
        sides = {task[side] for task in tasks for side in ("leftId", "rightId")}
        now = resolve(client, set(ingest_company.values()) | sides)
        company_of = {r: now.get(c, c) for r, c in ingest_company.items()}
        parents = {c: now.get(p, p) for c, p in asyncio.run(_parents(config)).items()}
        search = _searches(client, sources["erp"])
        errors = _log_errors(config)
    finally:
        client.close()
        platform.stop()
    if dump is not None:
        dump.write_text(json.dumps({"company_of": company_of, "tasks": tasks}))
    real = _real(company_of, truth)
    matched = {r: truth[r] for r in company_of}  # refused records left out
    report: dict[str, Any] = {"records": records, "companies (truth)": len(set(truth.values()))}
    for source, result in sent.items():
        count = len(sources[source])
        report[source] = {
            "records": count,
            "seconds": round(result["wall"], 1),
            "records/s": round(count / result["wall"]),
            "median batch/s": round(result["median"]),
        } | {key: result[key] for key in ("created", "withWarnings", "refused", "sent again")}
    report["matching"] = {
        "settled s after the last batch": round(max(0.0, last_busy - ingested), 1),
        "companies at ingest": len(set(ingest_company.values())),
        "companies after matching": len(set(company_of.values())),
        **pairwise(matched, company_of),
        "review tasks": _review(tasks, now, real, len(matched)),
    }
    if trained is not None:
        report["matching"]["training job"] = trained
    report["parent links after matching"] = _links(sources, company_of, real, parents)
    report["search ms, median of 20"] = search
    report["log lines with ERROR or a traceback"] = errors
    report["load average"] = {
        "at the last batch": [round(x, 2) for x in load_ingest],
        "settled": [round(x, 2) for x in load_settled],
    }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--settle-timeout", type=float, default=3600, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the platform's directory")
    parser.add_argument(
        "--dump", type=Path, help="write each record's company and the open tasks here (JSON)"
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="then run the training job (company model, every company matched again)",
    )
    args = parser.parse_args()
    sources = company_data.german_companies(args.records)
    # One client reads every company back: the gateway's per-client rate limit is not
    # what is measured here.
    os.environ["MDM_RATE_LIMIT_MAX"] = "0"
    tmp = Path(tempfile.mkdtemp(prefix="company_ingest-"))
    config = PlatformConfig(
        state_dir=tmp / "platform",
        ports=Ports.free(),
        secrets=Secrets.generate(),
        graph_heap="4g",
    )
    try:
        report = run(config, sources, args.settle_timeout, dump=args.dump, train=args.train)
    finally:
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=1, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
