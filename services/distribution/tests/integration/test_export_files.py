"""Export files written page by page and read back with the usual readers."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mdm_distribution.exporting.writers import ExportFormat, open_rows

COLUMNS = ["personId", "familyName", "email"]
PAGES = [
    [{"personId": "p1", "familyName": "Müller", "email": None}],
    [],
    [{"personId": "p2", "familyName": "Öztürk", "email": "o@example.org"}] * 3,
]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_pages_written_one_after_the_other_read_back_as_one_table(
    fmt: ExportFormat, tmp_path: Path
) -> None:
    path = tmp_path / f"out{fmt.suffix}"
    writer = open_rows(path, fmt, COLUMNS)
    for page in PAGES:
        writer.write(page)
    writer.close()
    if fmt is ExportFormat.CSV:
        with path.open(encoding="utf-8", newline="") as read:
            found = [{k: v or None for k, v in r.items()} for r in csv.DictReader(read)]
    else:
        table = pq.read_table(path)
        assert table.column_names == COLUMNS
        found = table.to_pylist()
    assert found == [row for page in PAGES for row in page]


def test_an_empty_export_is_a_file_with_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    open_rows(path, ExportFormat.PARQUET, COLUMNS).close()
    assert pq.read_table(path).column_names == COLUMNS
