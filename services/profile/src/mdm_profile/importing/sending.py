"""Send import rows through the gateway, a batch at a time, and keep every answer.

The importer is a client like any application: it sends batches to
``ingestSourceRecords`` (or ``ingestCompanyRecords``) with a token, so roles, limits,
data quality and events all apply. The server answers per record: stored, stored with
warnings (a bad value kept raw), or refused; refused rows and rows of erased persons
are set aside with their line number and the row as the file had it. Busy answers
(429, 502-504) and typed UNAVAILABLE errors (the graph did not answer in time, or
writers collided) are waited out and the batch sent again: ingesting is idempotent by
source id, and a batch's stored records are one transaction, written wholly or not at
all.

Several batches are in flight at once (``concurrency``), so that the client's reading,
the gateway, the subgraph's Python and the graph server work at the same time; their
answers are counted in the file's order, whatever order they arrive in.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from mdm_profile.importing.files import PERSONS, Columns, Row, read_rows

INGEST = """
mutation Import($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) {
    created updated
    results { index status refusal { field code } warnings { field code } }
  }
}
"""
INGEST_COMPANIES = """
mutation Import($source: String!, $records: [CompanyRecordInput!]!) {
  ingestCompanyRecords(source: $source, records: $records) {
    created updated
    results { index status refusal { field code } warnings { field code } }
  }
}
"""
# Per kind of record: the mutation and the field of its answer.
MUTATIONS = {
    "person": (INGEST, "ingestSourceRecords"),
    "company": (INGEST_COMPANIES, "ingestCompanyRecords"),
}
_BUSY = {429, 502, 503, 504}
# Error codes after which nothing of the batch was written, or all of it: sent again.
_TRANSIENT = {"UNAVAILABLE"}


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    with_warnings: int = 0
    # Rows not stored: line, sourceId, field, code and the row as the file had it.
    set_aside: list[dict[str, Any]] = field(default_factory=list)
    # (field, code) of every warning, counted: what the source should fix.
    warnings: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def refused(self) -> int:
        return sum(1 for r in self.set_aside if r["code"] != "SUPPRESSED")

    @property
    def suppressed(self) -> int:
        return sum(1 for r in self.set_aside if r["code"] == "SUPPRESSED")


class GatewayError(RuntimeError):
    pass


class _Busy(Exception):
    """The gateway or a subgraph is busy, or the graph was; the batch is sent again."""


def batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@retry(
    retry=retry_if_exception_type(_Busy),
    wait=wait_exponential_jitter(initial=1, max=30),
    stop=stop_after_attempt(8),
    reraise=True,
)
def _post(client: httpx.Client, url: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url, json=payload)
    if response.status_code in _BUSY:
        raise _Busy(f"HTTP {response.status_code}")
    body: dict[str, Any] = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or ()}
    if codes & _TRANSIENT:
        raise _Busy(", ".join(sorted(codes & _TRANSIENT)))
    return body


def send_batch(
    client: httpx.Client, url: str, source: str, batch: list[Row], summary: ImportSummary
) -> None:
    """Send one batch of persons; count what was stored and set aside what was not."""
    count_answer(batch, post_batch(client, url, source, batch), summary)


def post_batch(
    client: httpx.Client, url: str, source: str, batch: list[Row], kind: str = "person"
) -> dict[str, Any]:
    """Send one batch until it gets an answer that is not busy (thread-safe)."""
    payload = {
        "query": MUTATIONS[kind][0],
        "variables": {"source": source, "records": [r.record for r in batch]},
    }
    try:
        return _post(client, url, payload)
    except _Busy as exc:
        raise GatewayError(f"The gateway stayed busy ({exc.args[0]}).") from exc


def count_answer(
    batch: list[Row], body: dict[str, Any], summary: ImportSummary, kind: str = "person"
) -> None:
    """Count what a batch's answer stored and set aside what it did not."""
    if body.get("errors"):
        error = body["errors"][0]
        code = error.get("extensions", {}).get("code", "?")
        raise GatewayError(f"{code}: {error.get('message')}")
    result = body["data"][MUTATIONS[kind][1]]
    summary.created += result["created"]
    summary.updated += result["updated"]
    for answer in result["results"]:
        row = batch[answer["index"]]
        summary.warnings.update((w["field"], w["code"]) for w in answer["warnings"])
        if answer["status"] == "STORED_WITH_WARNINGS":
            summary.with_warnings += 1
        elif answer["status"] in {"REFUSED", "SUPPRESSED"}:
            why = answer["refusal"] or {"field": "record", "code": "SUPPRESSED"}
            summary.set_aside.append(
                {
                    "line": row.line,
                    "sourceId": row.record.get("sourceId"),
                    "field": why["field"],
                    "code": why["code"],
                    "row": row.raw,
                }
            )


def import_file(
    path: Path,
    *,
    source: str,
    client: httpx.Client,
    url: str,
    batch_size: int = 500,
    on_progress: Callable[[int], None] = lambda _: None,
    encoding: str = "auto",
    ignore_unknown: bool = False,
    concurrency: int = 1,
    columns: Columns = PERSONS,
) -> ImportSummary:
    """Send the file's rows in batches, ``concurrency`` of them in flight at once.

    Answers are counted in the file's order. The first batch that fails for good
    stops the import: batches already in flight are waited for (their records may be
    stored; sending the file again is safe), no further batch is sent.
    """
    summary = ImportSummary()
    rows = read_rows(path, encoding=encoding, ignore_unknown=ignore_unknown, columns=columns)
    kind = columns.kind
    in_flight: deque[tuple[list[Row], Future[dict[str, Any]]]] = deque()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="import") as pool:
        try:
            for batch in batches(rows, batch_size):
                if len(in_flight) == concurrency:
                    _count_oldest(in_flight, summary, on_progress, kind)
                sent = pool.submit(post_batch, client, url, source, batch, kind)
                in_flight.append((batch, sent))
            while in_flight:
                _count_oldest(in_flight, summary, on_progress, kind)
        finally:
            for _, future in in_flight:
                future.cancel()
    return summary


def _count_oldest(
    in_flight: deque[tuple[list[Row], Future[dict[str, Any]]]],
    summary: ImportSummary,
    on_progress: Callable[[int], None],
    kind: str,
) -> None:
    batch, future = in_flight.popleft()
    count_answer(batch, future.result(), summary, kind)
    on_progress(len(batch))
