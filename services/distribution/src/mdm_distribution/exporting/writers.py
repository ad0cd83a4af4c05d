"""Writing rows as they come, never all at once: CSV (UTF-8, header first) or Parquet
(one row group per batch written, every column text)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, Protocol

import pyarrow as pa
import pyarrow.parquet as pq


class ExportFormat(StrEnum):
    CSV = "CSV"
    PARQUET = "PARQUET"

    @property
    def suffix(self) -> str:
        return ".csv" if self is ExportFormat.CSV else ".parquet"


class RowWriter(Protocol):
    def write(self, rows: Sequence[dict[str, str | None]]) -> None: ...

    def close(self) -> None: ...


class CsvRows:
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=list(columns))
        self._writer.writeheader()

    def write(self, rows: Sequence[dict[str, str | None]]) -> None:
        self._writer.writerows(rows)

    def close(self) -> None:
        self._file.close()


class ParquetRows:
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._columns = list(columns)
        self._schema = pa.schema([(name, pa.string()) for name in self._columns])
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")

    def write(self, rows: Sequence[dict[str, str | None]]) -> None:
        if rows:
            table = pa.Table.from_pylist(list(rows), schema=self._schema)
            self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def open_rows(path: Path, fmt: ExportFormat, columns: Sequence[str]) -> RowWriter:
    if fmt is ExportFormat.CSV:
        return CsvRows(path, columns)
    return ParquetRows(path, columns)
