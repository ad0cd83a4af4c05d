"""Import source records from CSV or JSON Lines files through the gateway.

The importer is a client like any application: it sends batches to
``ingestSourceRecords`` with a token, so roles, limits, data quality and events all
apply. A batch is all-or-nothing on the server; when one is refused, the importer
sets the refused rows aside (with their error codes, in a ``.rejected.jsonl`` file
next to the input) and sends the rest again, so one bad row never stops an import.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

INGEST = """
mutation Import($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { created updated suppressed }
}
"""

FIELDS = (
    "sourceId", "fullName", "givenName", "familyName", "salutation", "birthDate", "email",
    "phone", "street", "houseNumber", "postalCode", "city", "country", "language", "recordedAt",
)  # fmt: skip
# Column headers as German and international exports write them.
_ALIASES = {
    "id": "sourceId", "source_id": "sourceId", "kundennummer": "sourceId", "kundennr": "sourceId",
    "name": "fullName", "full_name": "fullName", "vorname": "givenName", "given_name": "givenName",
    "first_name": "givenName", "nachname": "familyName", "family_name": "familyName",
    "last_name": "familyName", "anrede": "salutation", "geburtsdatum": "birthDate",
    "birth_date": "birthDate", "e-mail": "email", "mail": "email", "telefon": "phone",
    "tel": "phone", "mobil": "phone", "strasse": "street", "straße": "street",
    "hausnummer": "houseNumber", "hausnr": "houseNumber", "house_number": "houseNumber",
    "plz": "postalCode", "postleitzahl": "postalCode", "postal_code": "postalCode",
    "zip": "postalCode", "ort": "city", "stadt": "city", "land": "country",
    "sprache": "language", "recorded_at": "recordedAt", "geaendert": "recordedAt",
}  # fmt: skip
_CANONICAL = {f.lower(): f for f in FIELDS}


class ImportFileError(ValueError):
    """The file cannot be imported as it is (format, columns)."""


def column_for(header: str) -> str | None:
    key = header.strip().lower()
    return _CANONICAL.get(key) or _ALIASES.get(key)


def _rows_from_csv(path: Path, encoding: str) -> Iterator[dict[str, Any]]:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(8192)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(handle, dialect=dialect)
        headers = reader.fieldnames or []
        mapping = {h: column_for(h) for h in headers}
        unknown = [h for h, c in mapping.items() if c is None]
        if unknown:
            raise ImportFileError(
                f"Unknown columns: {', '.join(unknown)}. Known: {', '.join(FIELDS)}."
            )
        columns = {h: c for h, c in mapping.items() if c is not None}
        if "sourceId" not in columns.values():
            raise ImportFileError("The file needs a sourceId (or id, Kundennummer) column.")
        for row in reader:
            yield {columns[h]: (v.strip() or None) for h, v in row.items() if h in columns and v}


def _rows_from_jsonl(path: Path, encoding: str) -> Iterator[dict[str, Any]]:
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFileError(f"Line {number} is not JSON ({exc.msg}).") from exc
            if not isinstance(data, dict):
                raise ImportFileError(f"Line {number} is not a JSON object.")
            row = {}
            for key, value in data.items():
                column = column_for(key)
                if column is None:
                    raise ImportFileError(f"Line {number}: unknown field {key!r}.")
                row[column] = None if value in ("", None) else str(value)
            yield row


def read_records(path: Path, *, encoding: str = "utf-8-sig") -> Iterator[dict[str, Any]]:
    """Rows of a ``.csv`` or ``.jsonl``/``.ndjson`` file as ``SourceRecordInput`` dicts."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _rows_from_csv(path, encoding)
    if suffix in {".jsonl", ".ndjson"}:
        return _rows_from_jsonl(path, encoding)
    raise ImportFileError(
        f"Cannot read {suffix or 'files without an extension'}: use .csv or .jsonl."
    )


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    # Source ids of rows not stored because their person was erased.
    suppressed: list[str] = field(default_factory=list)


class GatewayError(RuntimeError):
    pass


def batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def send_batch(client: httpx.Client, url: str, source: str, batch: list[dict[str, Any]],
               summary: ImportSummary) -> None:  # fmt: skip
    """Send one batch; set refused rows aside and send the rest again."""
    pending = batch
    while pending:
        body = client.post(
            url, json={"query": INGEST, "variables": {"source": source, "records": pending}}
        ).json()
        if not body.get("errors"):
            result = body["data"]["ingestSourceRecords"]
            summary.created += result["created"]
            summary.updated += result["updated"]
            summary.suppressed.extend(result["suppressed"])
            return
        error = body["errors"][0]
        rejected = error.get("extensions", {}).get("rejected")
        if not rejected:
            code = error.get("extensions", {}).get("code", "?")
            raise GatewayError(f"{code}: {error.get('message')}")
        refused = {r["index"]: r for r in rejected}
        for index, row in enumerate(pending):
            if index in refused:
                why = refused[index]
                summary.rejected.append(
                    {"sourceId": row.get("sourceId"), "field": why["field"], "code": why["code"]}
                )
        pending = [row for index, row in enumerate(pending) if index not in refused]


def import_file(
    path: Path,
    *,
    source: str,
    client: httpx.Client,
    url: str,
    batch_size: int = 500,
    on_progress: Callable[[int], None] = lambda _: None,
    encoding: str = "utf-8-sig",
) -> ImportSummary:
    summary = ImportSummary()
    for batch in batches(read_records(path, encoding=encoding), batch_size):
        send_batch(client, url, source, batch, summary)
        on_progress(len(batch))
    return summary
