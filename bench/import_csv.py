"""``mdm import`` of a German CSV end to end: the command as a user runs it.

    .venv/bin/python bench/import_csv.py [--records 50000] [--runs 3] [--stored 0]
        [--without-worker] [--import-arg=--concurrency=1 ...]

Starts its own platform (free ports, temporary directory), writes German customer
records of the project's generator (``bench/matching_data.py``: typos, households,
duplicates from a second source) as semicolon CSV files with German headers, and runs
``mdm import FILE --source crm`` as a separate process against the gateway, once per
file. With ``--stored N`` a first file of N records is imported before the measured
ones (not timed), to see whether ingest slows down as the graph grows. Each measured
run imports a file of new records, so the stored count grows by ``--records`` a run.

``--without-worker`` stops the matching worker first: a first load in bulk, matched
afterwards by the batch re-matching job. Otherwise the worker matches each created
person meanwhile, on the same two cores.

Reports records/s per run and their median, and the CPU seconds each process of the
platform used during the measured runs. Run another checkout's code by putting its
sources first on ``PYTHONPATH`` (bench/README.md); the import process inherits it.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matching_data
from ingest import cpu_seconds

from mdm_infra import tokens
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets

# The generator's fields, as a German Excel export heads them.
HEADERS = {
    "sourceId": "Kundennummer",
    "givenName": "Vorname",
    "familyName": "Nachname",
    "fullName": "Name",
    "birthDate": "Geburtsdatum",
    "email": "E-Mail",
    "phone": "Telefon",
    "street": "Straße",
    "houseNumber": "Hausnummer",
    "postalCode": "PLZ",
    "city": "Ort",
    "country": "Land",
}


def write_files(folder: Path, sizes: list[int]) -> list[Path]:
    """One CSV file per size, of distinct records (the crm rows, then the shop rows)."""
    data = matching_data.german(int(sum(sizes) * 1.01) + 10)
    rows = iter([row for rows in data.sources.values() for row in rows])
    paths = []
    for number, size in enumerate(sizes):
        path = folder / f"kunden-{number}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(HEADERS.values()), delimiter=";")
            writer.writeheader()
            for _ in range(size):
                row = next(rows)
                writer.writerow({HEADERS[k]: v for k, v in row.items() if k in HEADERS})
        paths.append(path)
    return paths


def run_import(path: Path, *, url: str, token: str, extra: list[str]) -> float:
    """Seconds ``mdm import`` takes for ``path``, including reading and counting it."""
    command = [
        sys.executable,
        "-m",
        "mdm_profile.cli",
        "import",
        str(path),
        "--source",
        "crm",
        "--url",
        url,
        "--quiet",
        *extra,
    ]
    env = os.environ | {"MDM_TOKEN": token}
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - the project's own command, arguments from code
        command, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"mdm import failed ({done.returncode}): {done.stderr[-2000:]}")
    print(f"    {done.stdout.strip().splitlines()[0]}", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stored", type=int, default=0)
    parser.add_argument("--without-worker", action="store_true")
    parser.add_argument(
        "--graph-timeout",
        type=float,
        default=30.0,
        help="the profile's graph deadline, seconds (the service's default 5 s "
        "is missed by a first batch on a crowded machine)",
    )
    parser.add_argument("--keep-logs", type=Path, help="copy the platform's logs here")
    parser.add_argument(
        "--import-arg",
        action="append",
        default=[],
        help="passed on to mdm import, e.g. --import-arg=--batch-size=250",
    )
    args = parser.parse_args()
    # The platform's processes inherit the environment.
    os.environ["PROFILE_GRAPH_TIMEOUT_S"] = str(args.graph_timeout)
    with tempfile.TemporaryDirectory(prefix="import-csv-") as tmp:
        sizes = ([args.stored] if args.stored else []) + [args.records] * args.runs
        started = time.perf_counter()
        paths = write_files(Path(tmp), sizes)
        print(f"wrote {len(paths)} files in {time.perf_counter() - started:.0f} s", flush=True)
        config = PlatformConfig(
            state_dir=Path(tmp) / "platform",
            ports=Ports.free(),
            secrets=Secrets.generate(),
            graph_heap="4g",
        )
        platform = Platform(config)
        platform.start()
        rates = []
        try:
            if args.without_worker:
                platform.stop_worker("matching")
            token = tokens.renewing(config.secrets.jwt, subject="bench", roles=["app"])
            url, extra = config.gateway_url, args.import_arg
            if args.stored:
                seconds = run_import(paths.pop(0), url=url, token=token(), extra=extra)
                print(f"stored first: {args.stored} records in {seconds:.0f} s", flush=True)
            cpu_before = {n: cpu_seconds(p.pid) for n, p in platform.processes.items()}
            for number, path in enumerate(paths, start=1):
                seconds = run_import(path, url=url, token=token(), extra=extra)
                rates.append(args.records / seconds)
                stored = args.stored + number * args.records
                print(
                    f"run {number}: {args.records} records in {seconds:.1f} s, "
                    f"{rates[-1]:.0f} records/s ({stored} stored after)",
                    flush=True,
                )
            cpu = {n: cpu_seconds(p.pid) - cpu_before[n] for n, p in platform.processes.items()}
        finally:
            platform.stop()
            if args.keep_logs:
                shutil.copytree(config.log_dir, args.keep_logs, dirs_exist_ok=True)
    print(
        f"median {statistics.median(rates):.0f} records/s over {len(rates)} runs "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    print(
        "CPU seconds during the measured runs: "
        + ", ".join(
            f"{name} {seconds:.1f}" for name, seconds in sorted(cpu.items(), key=lambda i: -i[1])
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
