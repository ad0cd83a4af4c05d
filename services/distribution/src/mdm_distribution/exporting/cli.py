"""``mdm export``: golden records to a CSV or Parquet file, through the gateway, with
progress.

    mdm export out.parquet [--purpose newsletter --channel EMAIL] [--changed-since 2026-12-01]
        [--format csv|parquet] [--url URL] [--token TOKEN] [--quiet]

The file is written page by page (never held in memory); the token's roles decide what
the gateway answers (``app``: golden records and the contact check).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from mdm_common.errors import DomainError
from mdm_distribution.exporting.export import ExportProgress, ExportRequest, export
from mdm_distribution.exporting.sources import GatewayCaller, through
from mdm_distribution.exporting.writers import ExportFormat, open_rows

DEFAULT_URL = "http://127.0.0.1:4000/graphql"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exp = commands.add_parser("export", help="export golden records to a .csv or .parquet file")
    exp.add_argument("file", type=Path)
    exp.add_argument(
        "--format",
        choices=("csv", "parquet"),
        help="default: from the file's suffix",
    )
    exp.add_argument("--purpose", help="only persons this purpose allows, its columns only")
    exp.add_argument("--channel", help="the channel of the purpose's contact check, e.g. EMAIL")
    exp.add_argument(
        "--changed-since",
        type=datetime.fromisoformat,
        help="only records changed at or after this time (ISO 8601; UTC if no offset)",
    )
    exp.add_argument("--url", default=os.environ.get("MDM_GATEWAY_URL", DEFAULT_URL))
    exp.add_argument("--token", help="defaults to $MDM_TOKEN")
    exp.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("MDM_TOKEN")
    if not token:
        print("A token is needed: --token or MDM_TOKEN.", file=sys.stderr)
        return 2
    path: Path = args.file
    chosen = args.format or path.suffix.lstrip(".").lower()
    if chosen not in ("csv", "parquet"):
        print("Name the format: --format csv|parquet (or a .csv/.parquet file).", file=sys.stderr)
        return 2
    since: datetime | None = args.changed_since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    request = ExportRequest(
        format=ExportFormat(chosen.upper()),
        purpose=args.purpose,
        channel=args.channel,
        changed_since=since,
    )
    try:
        done = asyncio.run(_export(request, path, args.url, token, quiet=args.quiet))
    except DomainError as exc:
        print(f"Export stopped: {exc.message}", file=sys.stderr)
        return 1
    print(f"{path}: {done.written} of {done.scanned} persons written", file=sys.stderr)
    return 0


async def _export(
    request: ExportRequest, path: Path, url: str, token: str, *, quiet: bool
) -> ExportProgress:
    caller = GatewayCaller(url, token)
    bar = tqdm(unit=" persons", disable=quiet, file=sys.stderr)

    def progress(state: ExportProgress) -> None:
        bar.update(state.scanned - bar.n)
        bar.set_postfix(written=state.written)

    try:
        return await export(
            request,
            through(caller),
            lambda columns: open_rows(path, request.format, columns),
            at=datetime.now(UTC),
            progress=progress,
        )
    finally:
        bar.close()
        await caller.close()
