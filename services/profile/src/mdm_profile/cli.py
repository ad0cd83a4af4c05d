"""``mdm``: command-line tools for the MDM platform.

    mdm import customers.csv --source crm [--kind person|company] [--url URL]
        [--token TOKEN] [--encoding auto] [--concurrency 2]
    mdm export customers.parquet [--purpose P --channel C] [--changed-since TIME]

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

from mdm_profile.importing.files import (
    COMPANIES,
    PERSONS,
    ImportFileError,
    count_rows,
    detect_encoding,
)
from mdm_profile.importing.sending import GatewayError, ImportSummary, import_file

DEFAULT_URL = "http://127.0.0.1:4000/graphql"
# Batches in flight: one being stored while the next is read, sent and cleaned. More
# only pays where the graph server has cores to spare: on two shared cores four made
# each transaction slower than the graph's deadline (docs/benchmarks.md, issue 18).
DEFAULT_CONCURRENCY = 2


def _import(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("MDM_TOKEN")
    if not token:
        print("A token is needed: --token or MDM_TOKEN.", file=sys.stderr)
        return 2
    path: Path = args.file
    columns = COMPANIES if args.kind == "company" else PERSONS
    if not path.is_file():
        print(f"No such file: {path}", file=sys.stderr)
        return 2
    try:
        encoding = detect_encoding(path) if args.encoding == "auto" else args.encoding
        total = count_rows(
            path, encoding=encoding, ignore_unknown=args.ignore_unknown_columns, columns=columns
        )
    except (ImportFileError, UnicodeDecodeError, LookupError) as exc:
        print(f"Import stopped: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        how = "detected" if args.encoding == "auto" else "as asked"
        print(f"{path.name}: {total} records, encoding {encoding} ({how})", file=sys.stderr)
    headers = {"authorization": f"Bearer {token}"}
    with (
        httpx.Client(headers=headers, timeout=120) as client,
        tqdm(
            total=total,
            desc=f"import {path.name}",
            unit=" records",
            file=sys.stderr,
            disable=args.quiet,
        ) as bar,
    ):
        try:
            summary = import_file(
                path,
                source=args.source,
                client=client,
                url=args.url,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                on_progress=bar.update,
                encoding=encoding,
                ignore_unknown=args.ignore_unknown_columns,
                columns=columns,
            )
        except (ImportFileError, GatewayError) as exc:
            print(f"\nImport stopped: {exc}", file=sys.stderr)
            return 1
        except httpx.HTTPError as exc:
            print(
                f"\nCannot reach the gateway at {args.url}: {type(exc).__name__}", file=sys.stderr
            )
            return 1
    _report(path, summary)
    return 0


def _report(path: Path, summary: ImportSummary) -> None:
    print(
        f"created {summary.created}, updated {summary.updated}, with warnings "
        f"{summary.with_warnings}, refused {summary.refused}, suppressed {summary.suppressed}"
    )
    for (field, code), count in summary.warnings.most_common(10):
        print(f"  warning {field} {code}: {count}")
    if summary.set_aside:
        # Refused rows and rows of erased persons, for the same follow-up at the source.
        rejected_path = path.with_name(path.name + ".rejected.jsonl")
        with rejected_path.open("w", encoding="utf-8") as out:
            for entry in summary.set_aside:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        print(f"rows not stored (line, source id, field, code, row): {rejected_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mdm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import source records from a .csv or .jsonl file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", required=True, help="source system, e.g. crm, shop")
    imp.add_argument(
        "--kind",
        choices=("person", "company"),
        default="person",
        help="what the file's records describe (default: person)",
    )
    imp.add_argument("--url", default=os.environ.get("MDM_GATEWAY_URL", DEFAULT_URL))
    imp.add_argument("--token", help="defaults to $MDM_TOKEN")
    imp.add_argument("--batch-size", type=int, default=500, choices=range(1, 501), metavar="1-500")
    imp.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        choices=range(1, 17),
        metavar="1-16",
        help=f"batches in flight at once (default {DEFAULT_CONCURRENCY}); answers are "
        "counted in the file's order",
    )
    imp.add_argument(
        "--encoding",
        default="auto",
        help="auto (default: BOM, UTF-8, else detected, e.g. Windows-1252 from Excel) or a "
        "Python codec name",
    )
    imp.add_argument(
        "--ignore-unknown-columns",
        action="store_true",
        help="leave out columns the platform does not know (default: stop and name them)",
    )
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    # The export is the distribution service's: one more client of the gateway.
    from mdm_distribution.exporting import cli as export_cli  # noqa: PLC0415

    export_cli.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "export":
        return export_cli.run(args)
    return _import(args)


if __name__ == "__main__":
    sys.exit(main())
