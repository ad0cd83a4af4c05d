"""Reading import files: CSV and JSON Lines as German sources export them.

Excel writes CSV in Windows-1252 with semicolons; newer tools write UTF-8, with or
without a byte order mark. The encoding is detected, not assumed: a file that
decodes as UTF-8 is UTF-8 (a Windows-1252 file with umlauts practically never
does); anything else is left to charset-normalizer among the encodings European
exports use. Every row keeps its line number and the values as the file had them,
so that a refused row can be shown to a steward exactly as it came.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import charset_normalizer

from mdm_profile.importing import company_columns

FIELDS = (
    "sourceId", "fullName", "givenName", "familyName", "salutation", "birthDate", "email",
    "phone", "street", "houseNumber", "postalCode", "city", "country", "language", "recordedAt",
    "companyName",
)  # fmt: skip
# Column headers as German and international exports write them.
ALIASES = {
    "id": "sourceId", "source_id": "sourceId", "kundennummer": "sourceId", "kundennr": "sourceId",
    "kundennr.": "sourceId", "kunden-nr": "sourceId", "kunden-nr.": "sourceId",
    "name": "fullName", "full_name": "fullName", "vollständiger name": "fullName",
    "vorname": "givenName", "given_name": "givenName", "first_name": "givenName",
    "nachname": "familyName", "familienname": "familyName", "family_name": "familyName",
    "last_name": "familyName", "anrede": "salutation", "geburtsdatum": "birthDate",
    "geburtstag": "birthDate", "geb.": "birthDate", "birth_date": "birthDate",
    "e-mail": "email", "mail": "email", "e-mail-adresse": "email", "emailadresse": "email",
    "telefon": "phone", "tel": "phone", "tel.": "phone", "telefonnummer": "phone",
    "mobil": "phone", "handy": "phone", "mobilnummer": "phone",
    "strasse": "street", "straße": "street", "str.": "street", "house_number": "houseNumber",
    "hausnummer": "houseNumber", "hausnr": "houseNumber", "hausnr.": "houseNumber",
    "plz": "postalCode", "postleitzahl": "postalCode", "postal_code": "postalCode",
    "zip": "postalCode", "ort": "city", "stadt": "city", "wohnort": "city", "land": "country",
    "sprache": "language", "recorded_at": "recordedAt", "geaendert": "recordedAt",
    "geändert": "recordedAt", "letzte änderung": "recordedAt", "firma": "companyName",
    "arbeitgeber": "companyName", "unternehmen": "companyName", "company": "companyName",
    "company_name": "companyName", "employer": "companyName",
}  # fmt: skip
# Identifier columns: "identifier.SCHEME" or "identifier.SCHEME.ISSUER", or these names.
IDENTIFIER_ALIASES = {
    "steuer-id": "identifier.TAX_ID_DE", "steuerid": "identifier.TAX_ID_DE",
    "steuer-idnr": "identifier.TAX_ID_DE", "steuerliche identifikationsnummer":
    "identifier.TAX_ID_DE", "ust-idnr": "identifier.VAT_ID", "ust-id": "identifier.VAT_ID",
    "ustidnr": "identifier.VAT_ID", "kundenkarte": "identifier.LOYALTY_CARD",
}  # fmt: skip
_IDENTIFIER = "identifier."
# Single-byte encodings of European exports, for files that are not UTF-8.
_CANDIDATES = ["cp1252", "iso8859_15", "latin_1", "cp850", "mac_roman"]
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DELIMITERS = ",;\t|"
# Letters of Western European languages, and the marks word processors put in text.
_WESTERN = re.compile(
    "[\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u20ac\u201a\u201e\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u00a0\u00a7\u00b0\u00b2\u00b3\u00b4\u00b5\u00ba\u00aa]"
)


@dataclass(frozen=True)
class Columns:
    """The columns a file of one kind of record may have (persons, companies)."""

    kind: str
    fields: tuple[str, ...]
    aliases: dict[str, str]
    identifier_aliases: dict[str, str]  # empty: no identifier.SCHEME columns

    def column_for(self, header: str) -> str | None:
        key = " ".join(header.strip().lower().split())
        if self.identifier_aliases and key.startswith(_IDENTIFIER):
            return header.strip()
        canonical = {f.lower(): f for f in self.fields}
        return canonical.get(key) or self.aliases.get(key) or self.identifier_aliases.get(key)


PERSONS = Columns("person", FIELDS, ALIASES, IDENTIFIER_ALIASES)
COMPANIES = Columns("company", company_columns.FIELDS, company_columns.ALIASES, {})


class ImportFileError(ValueError):
    """The file cannot be imported as it is (format, columns)."""


@dataclass(frozen=True)
class Row:
    """One record of the file: where it starts, what the file said, what the API gets."""

    line: int
    raw: dict[str, str]
    record: dict[str, Any]


def column_for(header: str) -> str | None:
    """The person field a header names (``None``: none)."""
    return PERSONS.column_for(header)


def _unknown_columns(unknown: list[str], columns: Columns) -> ImportFileError:
    """Name what the file has and what it could have meant, German headers included."""
    known = {
        **{f.lower(): f for f in columns.fields},
        **columns.aliases,
        **columns.identifier_aliases,
    }
    hints = []
    for header in unknown:
        close = difflib.get_close_matches(header.strip().lower(), known, n=2, cutoff=0.75)
        if close:
            hints.append(f"{header!r}: did you mean {' or '.join(repr(c) for c in close)}?")
    german = ", ".join(
        sorted({k.title() for k in columns.aliases if not k.isascii() or k.isalpha()})
    )
    identifiers = ", identifier.SCHEME[.ISSUER]" if columns.identifier_aliases else ""
    return ImportFileError(
        f"Unknown columns: {', '.join(unknown)}. "
        + (" ".join(hints) + " " if hints else "")
        + f"Known for a {columns.kind} file: {', '.join(columns.fields)}{identifiers}; "
        f"German headers: {german}."
    )


def detect_encoding(path: Path) -> str:
    """The file's encoding: by its byte order mark, as valid UTF-8, or detected."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith(_UTF16_BOMS):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8"
    if _reads_as_western_text(path, "cp1252"):
        return "cp1252"
    best = charset_normalizer.from_path(path, cp_isolation=_CANDIDATES).best()
    return best.encoding if best is not None else "cp1252"


def _reads_as_western_text(path: Path, encoding: str) -> bool:
    """Every byte decodes, and every non-ASCII character is a Western European letter
    or a typographic mark. Short files with a few umlauts are ambiguous to statistical
    detection (0xFC is "ü" in Windows-1252 and "³" in DOS code page 850); Excel's
    encoding is the likely one when it reads as plain German."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                if not all(_WESTERN.fullmatch(c) for c in set(decoder.decode(chunk)) if c > "\x7f"):
                    return False
        except UnicodeDecodeError:
            return False
    return True


def _dialect(sample: str) -> Any:
    """The sniffed dialect; if the sample is too short or ragged, the header's separator."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        header = sample.split("\n", 1)[0]

        class Header(csv.excel):
            delimiter = max(_DELIMITERS, key=header.count)

        return Header


def _csv_columns(headers: list[str], columns: Columns, *, ignore_unknown: bool) -> dict[str, str]:
    """The file's headers that name a field, and the field each names."""
    mapping = {h: columns.column_for(h) for h in headers}
    unknown = [h for h, c in mapping.items() if c is None]
    if unknown and not ignore_unknown:
        raise _unknown_columns(unknown, columns)
    named = {h: c for h, c in mapping.items() if c is not None}
    if "sourceId" not in named.values():
        raise ImportFileError("The file needs a sourceId (or id, Kundennummer) column.")
    return named


def _csv_reader(handle: TextIO) -> Any:
    sample = handle.read(8192)
    handle.seek(0)
    return csv.reader(handle, dialect=_dialect(sample))


def _csv_rows(
    path: Path, encoding: str, columns_of: Columns, *, ignore_unknown: bool
) -> Iterator[Row]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = _csv_reader(handle)
        headers: list[str] = next(reader, [])
        columns = _csv_columns(headers, columns_of, ignore_unknown=ignore_unknown)
        line = reader.line_num + 1
        for values in reader:
            if values:  # a blank line is no record
                # Values beyond the headers are dropped, missing ones are empty.
                raw = {h: v for h, v in zip(headers, values, strict=False) if v}
                fields = {columns[h]: (v.strip() or None) for h, v in raw.items() if h in columns}
                yield Row(line, raw, to_record(fields))
            line = reader.line_num + 1


def _csv_count(path: Path, encoding: str, columns: Columns, *, ignore_unknown: bool) -> int:
    """Records of a CSV file, its headers checked: the whole file decoded and split
    into records (a bad byte stops the import before anything is sent), no more."""
    with path.open(encoding=encoding, newline="") as handle:
        reader = _csv_reader(handle)
        _csv_columns(next(reader, []), columns, ignore_unknown=ignore_unknown)
        return sum(1 for values in reader if values)


def _jsonl_rows(
    path: Path, encoding: str, columns: Columns, *, ignore_unknown: bool
) -> Iterator[Row]:
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
            values = {}
            for key, value in data.items():
                column = columns.column_for(key)
                if column is None and ignore_unknown:
                    continue
                if column is None:
                    raise _unknown_columns([key], columns)
                values[column] = None if value in ("", None) else str(value)
            yield Row(number, {k: str(v) for k, v in data.items()}, to_record(values))


def to_record(values: dict[str, str | None]) -> dict[str, Any]:
    """Column values as a ``SourceRecordInput``: identifier columns become ``identifiers``."""
    record: dict[str, Any] = {}
    identifiers = []
    for column, value in values.items():
        if not column.startswith(_IDENTIFIER):
            record[column] = value
        elif value:
            scheme, _, issuer = column[len(_IDENTIFIER) :].partition(".")
            identifiers.append({"scheme": scheme.upper(), "value": value, "issuer": issuer or None})
    if identifiers:
        record["identifiers"] = identifiers
    return record


def read_rows(
    path: Path,
    *,
    encoding: str = "auto",
    ignore_unknown: bool = False,
    columns: Columns = PERSONS,
) -> Iterator[Row]:
    """Rows of a ``.csv`` or ``.jsonl``/``.ndjson`` file of ``columns``' kind; ``encoding``
    "auto" detects it.

    Unknown columns stop the import unless ``ignore_unknown``; then they are left out
    (and stay in each row's ``raw`` values).
    """
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".jsonl", ".ndjson"}:
        raise ImportFileError(
            f"Cannot read {suffix or 'files without an extension'}: use .csv or .jsonl."
        )
    chosen = detect_encoding(path) if encoding == "auto" else encoding
    rows = _csv_rows if suffix == ".csv" else _jsonl_rows
    return rows(path, chosen, columns, ignore_unknown=ignore_unknown)


def read_records(path: Path, *, encoding: str = "auto") -> Iterator[dict[str, Any]]:
    """Only the ``SourceRecordInput`` dicts of :func:`read_rows`."""
    return (row.record for row in read_rows(path, encoding=encoding))


def count_rows(
    path: Path,
    *,
    encoding: str = "auto",
    ignore_unknown: bool = False,
    columns: Columns = PERSONS,
) -> int:
    """How many records the file holds (one quick pass; for the progress bar's total)."""
    if path.suffix.lower() == ".csv":
        chosen = detect_encoding(path) if encoding == "auto" else encoding
        return _csv_count(path, chosen, columns, ignore_unknown=ignore_unknown)
    rows = read_rows(path, encoding=encoding, ignore_unknown=ignore_unknown, columns=columns)
    return sum(1 for _ in rows)
