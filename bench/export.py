"""Bulk export of golden records: time and peak memory of ``mdm export`` (CSV, Parquet,
through the gateway) and of the export job (in the distribution worker).

    .venv/bin/python bench/export.py [--records 100000]

Starts its own platform (free ports, temporary directory), ingests generated German
persons through the gateway (bench/ingest.py's records, batches of 500), waits until
matching has settled (unless ``--no-settle``), then exports every golden record:
``mdm export`` as a separate process (its peak resident memory, ``ru_maxrss``), once as
CSV and once as Parquet, and the export job as Parquet. Prints JSON: per run the rows written, the
seconds, persons/s, the file size and the peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from ingest import generate
from matching_pipeline import progress, wait_until_settled

from mdm_infra import tokens
from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.importing.files import read_rows
from mdm_profile.importing.sending import ImportSummary, batches, send_batch

START = """mutation($input: ExportInput!) { startExport(input: $input) { id } }"""
JOB = """query($id: ID!) { exportJob(id: $id) { status written scanned parts directory } }"""


# Runs ``mdm export`` and reports its own peak resident memory (kilobytes) at the end.
MEASURED = (
    "import resource, sys\n"
    "from mdm_profile.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def cli_export(config: PlatformConfig, token: str, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - the project's own command
        [
            sys.executable,
            "-c",
            MEASURED,
            "export",
            str(out),
            "--quiet",
            "--url",
            config.gateway_url,
            "--token",
            token,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    lines = done.stderr.strip().splitlines()
    peak_kb = int(lines[-1].split()[1])
    written = int(lines[-2].rsplit(": ", 1)[1].split(" of ")[0])
    return {
        "rows": written,
        "seconds": round(seconds, 1),
        "persons/s": round(written / seconds),
        "file MB": round(out.stat().st_size / 1e6, 1),
        "peak memory MB": round(peak_kb / 1024, 1),
    }


def job_export(client: GatewayClient) -> dict[str, Any]:
    started = time.perf_counter()
    job_id = client.execute(START, {"input": {"format": "PARQUET"}})["startExport"]["id"]
    while True:
        job = client.execute(JOB, {"id": job_id})["exportJob"]
        if job["status"] == "DONE":
            break
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in Path(job["directory"]).iterdir())
    return {
        "rows": job["written"],
        "parts": job["parts"],
        "seconds": round(seconds, 1),
        "persons/s": round(job["written"] / seconds),
        "files MB": round(size / 1e6, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help="export while the matching worker still works through the ingest",
    )
    args = parser.parse_args()
    settle = not args.no_settle
    os.environ["MDM_RATE_LIMIT_MAX"] = "0"
    tmp = tempfile.mkdtemp(prefix="export-")
    try:
        data = Path(tmp) / "persons.jsonl"
        generate(data, args.records)
        config = PlatformConfig(
            state_dir=Path(tmp) / "platform",
            ports=Ports.free(),
            secrets=Secrets.generate(),
            graph_heap="4g",
        )
        platform = Platform(config)
        platform.start()
        try:
            token = tokens.mint(config.secrets.jwt, subject="bench", roles=["app", "admin"])
            summary = ImportSummary()
            started = time.perf_counter()
            with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=300) as http:
                for batch in batches(read_rows(data), 500):
                    send_batch(http, config.gateway_url, "crm", batch, summary)
            ingest_s = time.perf_counter() - started
            if settle:
                progress(f"ingested {summary.created} in {ingest_s:.0f} s; waiting for matching")
                wait_until_settled(config.broker.url, timeout_s=3600)
            report: dict[str, Any] = {
                "records": args.records,
                "ingest s": round(ingest_s),
                "matching settled before the export": settle,
            }
            report["mdm export, CSV"] = cli_export(config, token, Path(tmp) / "all.csv")
            progress("csv done")
            report["mdm export, Parquet"] = cli_export(config, token, Path(tmp) / "all.parquet")
            progress("parquet done")
            client = GatewayClient(config.gateway_url, token, timeout_s=120)
            try:
                report["export job, Parquet"] = job_export(client)
            finally:
                client.close()
            report["load average"] = [round(x, 2) for x in os.getloadavg()]
        finally:
            platform.stop()
    except BaseException:
        progress(f"failed; the platform's directory (logs) kept: {tmp}")
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
