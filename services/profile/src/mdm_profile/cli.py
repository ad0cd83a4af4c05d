"""``mdm``: command-line tools for the MDM platform.

    mdm import customers.csv --source crm [--url URL] [--token TOKEN]

The gateway URL and token default to ``MDM_GATEWAY_URL`` and ``MDM_TOKEN``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import httpx
from tqdm import tqdm

from mdm_profile.importer import GatewayError, ImportFileError, import_file

DEFAULT_URL = "http://127.0.0.1:4000/graphql"


def _import(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("MDM_TOKEN")
    if not token:
        print("A token is needed: --token or MDM_TOKEN.", file=sys.stderr)
        return 2
    path: Path = args.file
    if not path.is_file():
        print(f"No such file: {path}", file=sys.stderr)
        return 2
    headers = {"authorization": f"Bearer {token}"}
    with (
        httpx.Client(headers=headers, timeout=120) as client,
        tqdm(
            desc=f"import {path.name}", unit=" records", file=sys.stderr, disable=args.quiet
        ) as bar,
    ):
        try:
            summary = import_file(
                path, source=args.source, client=client, url=args.url,
                batch_size=args.batch_size, on_progress=bar.update, encoding=args.encoding,
            )  # fmt: skip
        except (ImportFileError, GatewayError) as exc:
            print(f"\nImport stopped: {exc}", file=sys.stderr)
            return 1
        except httpx.HTTPError as exc:
            print(
                f"\nCannot reach the gateway at {args.url}: {type(exc).__name__}", file=sys.stderr
            )
            return 1
    print(f"created {summary.created}, updated {summary.updated}, rejected "
          f"{len(summary.rejected)}, suppressed {len(summary.suppressed)}")  # fmt: skip
    # Rows of erased persons are set aside with the refused ones, for the same follow-up.
    set_aside = summary.rejected + [
        {"sourceId": source_id, "field": "record", "code": "SUPPRESSED"}
        for source_id in summary.suppressed
    ]
    if set_aside:
        rejected_path = path.with_name(path.name + ".rejected.jsonl")
        with rejected_path.open("w", encoding="utf-8") as out:
            for entry in set_aside:
                out.write(json.dumps(entry) + "\n")
        print(f"rows not stored (source id, field, code): {rejected_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mdm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import source records from a .csv or .jsonl file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", required=True, help="source system, e.g. crm, shop")
    imp.add_argument("--url", default=os.environ.get("MDM_GATEWAY_URL", DEFAULT_URL))
    imp.add_argument("--token", help="defaults to $MDM_TOKEN")
    imp.add_argument("--batch-size", type=int, default=500, choices=range(1, 501), metavar="1-500")
    imp.add_argument("--encoding", default="utf-8-sig")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    return _import(args)


if __name__ == "__main__":
    sys.exit(main())
