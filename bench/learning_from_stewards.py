"""Stewards teach the model, measured: the review load before and after an admin
applies what the stewards' decisions support (``matchCalibration``'s proposal).

German generated records (``matching_data.german``), the sources in order, cut in
two halves. A platform of its own, online matching with the default model:

1. the first half is ingested and matched; a simulated steward decides every review
   task from the truth (``matching_pipeline.simulate_steward``);
2. ``matchCalibration`` (default targets: merge precision 0.95, review floor 0.1,
   20 labels) proposes thresholds and guards no longer worth a review; with
   ``--apply`` an admin applies the proposal (``recalibrateMatchModel``);
3. the second half is ingested and matched: its review tasks per 100 records, and
   the share of them that were true pairs, are the figure; then pairwise precision,
   recall and F1 of the automatic decisions over all records, and after a steward
   decided the second half's tasks too.

    .venv-bench/bin/python bench/learning_from_stewards.py --records 10000 --apply
    .venv-bench/bin/python bench/learning_from_stewards.py --records 10000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import matching_data
import matching_pipeline
from matching_pipeline import PipelineRun, progress
from pairwise import pairwise

from mdm_infra import tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.settings import DEFAULT_SOURCES

CALIBRATION = """query { matchCalibration {
  modelVersion reviewAt autoMergeAt unreviewedGuards labels
  guards { guard precision { labels positives low high } }
  proposal { reviewAt autoMergeAt unreviewedGuards changes reasons } } }"""
RECALIBRATE = """mutation($review: Float!, $auto: Float!, $guards: [String!], $version: String) {
  recalibrateMatchModel(reviewAt: $review, autoMergeAt: $auto, unreviewedGuards: $guards,
                        expectedModelVersion: $version,
                        note: "applied the proposal of the stewards' decisions") {
    version reviewAt autoMergeAt unreviewedGuards } }"""
UNLIMITED = 10**9


def load(run: PipelineRun, steward: dict[str, int], records: int) -> dict[str, object]:
    tasks = steward["open_before"]
    return {
        "tasks": tasks,
        "per 100 records": round(100 * tasks / records, 2),
        "true pairs": round(steward["true_pairs_before"] / tasks, 3) if tasks else None,
        "reasons": dict(run.review_tasks),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--apply", action="store_true", help="apply the calibration's proposal")
    parser.add_argument("--graph-heap", default="4g")
    args = parser.parse_args()

    data = matching_data.german(args.records)
    first, second = matching_pipeline.split_sources(list(data.sources.items()), 0.5)
    truth = {
        matching_data.record_id(source, row): str(row["truth"])
        for source, rows in data.sources.items()
        for row in rows
    }
    os.environ["PROFILE_SOURCES"] = json.dumps(DEFAULT_SOURCES | dict.fromkeys(data.sources, 2))
    os.environ["MDM_RATE_LIMIT_MAX"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(
            state_dir=Path(tmp) / "platform",
            ports=Ports.free(),
            secrets=Secrets.generate(),
            graph_heap=args.graph_heap,
        )
        platform = Platform(config)
        platform.start()
        token = tokens.renewing(
            config.secrets.jwt, subject="bench", roles=["app", "steward", "admin"]
        )
        client = GatewayClient(config.gateway_url, token, timeout_s=300)
        run = PipelineRun({}, Counter(), {}, 0, {}, {})
        report: dict[str, object] = {"records": args.records, "apply": args.apply}
        try:
            started = time.perf_counter()
            for source, rows in first:
                matching_pipeline.ingest(client, source, rows, run)
            matching_pipeline.wait_until_settled(config.broker.url)
            matching_pipeline.read_back(config.gateway_url, token, client, run)
            half = len(run.person_of)
            matching_pipeline.simulate_steward(
                client, run, truth, budget=UNLIMITED, broker_url=config.broker.url
            )
            report["first half"] = load(run, run.steward, half) | {"steward": run.steward}
            progress(f"first half: {report['first half']}")

            calibration = client.execute(CALIBRATION)["matchCalibration"]
            report["calibration"] = calibration
            proposal = calibration["proposal"]
            if args.apply and proposal["changes"]:
                variables = {
                    "review": proposal["reviewAt"],
                    "auto": proposal["autoMergeAt"],
                    "guards": proposal["unreviewedGuards"],
                    "version": calibration["modelVersion"],
                }
                report["applied"] = client.execute(RECALIBRATE, variables)["recalibrateMatchModel"]
            progress(f"calibration: {json.dumps(proposal)}")

            for source, rows in second:
                matching_pipeline.ingest(client, source, rows, run)
            matching_pipeline.wait_until_settled(config.broker.url)
            matching_pipeline.read_back(config.gateway_url, token, client, run)
            report["automatic, all records"] = pairwise(truth, run.person_of)
            matching_pipeline.simulate_steward(
                client, run, truth, budget=UNLIMITED, broker_url=config.broker.url
            )
            report["second half"] = load(run, run.steward, len(run.person_of) - half) | {
                "steward": run.steward
            }
            matching_pipeline.read_back(config.gateway_url, token, client, run)
            report["after the steward, all records"] = pairwise(truth, run.person_of)
            report["seconds"] = round(time.perf_counter() - started, 1)
        finally:
            client.close()
            platform.stop()
    print(json.dumps(report, indent=1, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
