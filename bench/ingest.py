"""Ingest throughput through the real path: gateway -> profile -> graph, batches of 500.

    .venv/bin/python bench/ingest.py [--records 100000]

Starts its own platform (free ports, temporary directory), writes generated German
person records to a JSON Lines file and imports it with the same code as
``mdm import``. Reports records/s overall and per batch (median), and the CPU seconds
each process of the platform used during the run (Linux), to show who competes for
the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from mdm_infra import tokens
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.importing.files import read_rows
from mdm_profile.importing.sending import ImportSummary, batches, send_batch

GIVEN = ["Anna", "Jürgen", "Leyla", "Thomas", "Sabine", "Mehmet", "Katrin", "Lukas", "Ewa", "Jonas"]
FAMILY = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
          "Schulz", "Hoffmann", "Özdemir", "Nowak"]  # fmt: skip
CITIES = [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
          ("01067", "Dresden"), ("60311", "Frankfurt am Main")]  # fmt: skip


def generate(path: Path, count: int) -> None:
    rng = random.Random(42)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            postal, city = rng.choice(CITIES)
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            record = {
                "sourceId": f"B{i:07d}",
                "fullName": f"{given} {family}" if i % 3 else f"{family.upper()}, {given}",
                "email": f"{given.lower()}.{i}@example.org",
                "phone": f"0171 {rng.randint(1000000, 9999999)}",
                "street": f"Hauptstr. {rng.randint(1, 200)}",
                "postalCode": postal, "city": city, "language": "de",
            }  # fmt: skip
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children that exited, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "persons.jsonl"
        generate(data, args.records)
        config = PlatformConfig(state_dir=Path(tmp) / "platform", ports=Ports.free(),
                                secrets=Secrets.generate(), graph_heap="4g")  # fmt: skip
        platform = Platform(config)
        platform.start()
        try:
            token = tokens.mint(config.secrets.jwt, subject="bench", roles=["app"])
            summary, per_batch = ImportSummary(), []
            cpu_before = {n: cpu_seconds(p.pid) for n, p in platform.processes.items()}
            started = time.perf_counter()
            with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=300) as client:
                for batch in batches(read_rows(data), 500):
                    t = time.perf_counter()
                    send_batch(client, config.gateway_url, "crm", batch, summary)
                    per_batch.append(len(batch) / (time.perf_counter() - t))
            wall = time.perf_counter() - started
            cpu = {n: cpu_seconds(p.pid) - cpu_before[n] for n, p in platform.processes.items()}
        finally:
            platform.stop()
    print(f"{args.records} records in {wall:.1f} s: {args.records / wall:.0f} records/s overall, "
          f"median batch {statistics.median(per_batch):.0f} records/s; "
          f"created {summary.created}, refused {summary.refused}")  # fmt: skip
    print("CPU seconds during the run: " + ", ".join(
        f"{name} {seconds:.1f}" for name, seconds in sorted(cpu.items(), key=lambda i: -i[1])
    ))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
