from __future__ import annotations

from pathlib import Path

import pytest

from mdm_profile.importing.files import (
    COMPANIES,
    ImportFileError,
    count_rows,
    detect_encoding,
    read_records,
    read_rows,
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_german_excel_csv_with_semicolons_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "kunden.csv",
                 "\ufeffKundennummer;Vorname;Nachname;E-Mail;PLZ;Ort;Straße\n"
                 "K1;Anna;Müller;anna@example.org;01067;Dresden;Hauptstr. 1\n"
                 "K2;;Weber;;;;\n")  # fmt: skip
    assert list(read_records(path)) == [
        {"sourceId": "K1", "givenName": "Anna", "familyName": "Müller", "email": "anna@example.org",
         "postalCode": "01067", "city": "Dresden", "street": "Hauptstr. 1"},
        {"sourceId": "K2", "familyName": "Weber"},
    ]  # fmt: skip


def test_csv_with_api_field_names(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "sourceId,fullName,phone\n7,Dr. Eva Roth,030 123456\n")
    assert list(read_records(path)) == [
        {"sourceId": "7", "fullName": "Dr. Eva Roth", "phone": "030 123456"}
    ]


def test_json_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.jsonl", '{"id": 1, "name": "Anna Müller"}\n\n{"sourceId": "2", "plz": ""}\n'
    )
    assert list(read_records(path)) == [
        {"sourceId": "1", "fullName": "Anna Müller"},
        {"sourceId": "2", "postalCode": None},
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [("a.csv", "id,shoe_size\n1,42\n", "Unknown columns: shoe_size"),
     ("a.csv", "id;Geburtstdatum\n1;2\n", "did you mean 'geburtsdatum'"),
     ("a.csv", "id;Kontonummer\n1;2\n", "German headers: .*Vorname"),
     ("a.csv", "vorname,nachname\nA,B\n", "needs a sourceId"),
     ("a.jsonl", '{"id": 1}\nnot json\n', "Line 2 is not JSON"),
     ("a.jsonl", "[1, 2]\n", "Line 1 is not a JSON object"),
     ("a.jsonl", '{"id": 1, "hobby": "x"}\n', "Unknown columns: hobby"),
     ("a.xlsx", "", "use .csv or .jsonl")],
)  # fmt: skip
def test_files_that_cannot_be_imported_say_why(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        list(read_records(write(tmp_path, name, text)))


class TestEncodings:
    HEADER = "Kundennummer;Vorname;Nachname;Straße;Ort\n"
    ROW = "K1;Jürgen;Müßig-Öztürk;Schloßstraße 1;Düsseldorf\n"
    EXPECTED = {"sourceId": "K1", "givenName": "Jürgen", "familyName": "Müßig-Öztürk",
                "street": "Schloßstraße 1", "city": "Düsseldorf"}  # fmt: skip

    @pytest.mark.parametrize(
        ("encoding", "detected"),
        [("cp1252", "cp1252"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
         ("utf-16", "utf-16")],
    )  # fmt: skip
    def test_german_exports_are_read_in_their_encoding(
        self, tmp_path: Path, encoding: str, detected: str
    ) -> None:
        path = write(tmp_path, "kunden.csv", self.HEADER + self.ROW * 3, encoding=encoding)
        assert detect_encoding(path) == detected
        assert list(read_records(path)) == [self.EXPECTED] * 3

    def test_a_few_umlauts_are_not_taken_for_a_dos_code_page(self, tmp_path: Path) -> None:
        # Statistical detection alone calls this cp850 ("M³ller").
        path = tmp_path / "kunden.csv"
        path.write_bytes("id;Name\n1;Müller\n2;Roth\n".encode("cp1252"))
        assert detect_encoding(path) == "cp1252"

    def test_windows_1252_euro_sign_and_quotes(self, tmp_path: Path) -> None:
        name = "\u201eM\u00fcller\u201c \u20ac"  # „Müller“ €: bytes 0x80-0x9f in Windows-1252
        path = tmp_path / "kunden.csv"
        path.write_bytes(f"id;Name\n1;{name}\n".encode("cp1252"))
        assert list(read_records(path)) == [{"sourceId": "1", "fullName": name}]


class TestRows:
    def test_rows_keep_their_line_number_and_raw_values(self, tmp_path: Path) -> None:
        path = write(tmp_path, "a.csv", 'id;Name\n1;"Anna\nMüller"\n2;Eva\n')
        rows = list(read_rows(path))
        assert [(r.line, r.raw) for r in rows] == [
            (2, {"id": "1", "Name": "Anna\nMüller"}),
            (4, {"id": "2", "Name": "Eva"}),
        ]
        assert count_rows(path) == 2

    def test_identifier_columns(self, tmp_path: Path) -> None:
        header = "id;Steuer-ID;identifier.CUSTOMER_NUMBER.erp;USt-IdNr\n"
        path = write(tmp_path, "a.csv", header + "1;36574261809;77;\n")
        assert list(read_records(path)) == [
            {
                "sourceId": "1",
                "identifiers": [
                    {"scheme": "TAX_ID_DE", "value": "36574261809", "issuer": None},
                    {"scheme": "CUSTOMER_NUMBER", "value": "77", "issuer": "erp"},
                ],
            }
        ]


def test_unknown_columns_may_be_left_out(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id;Umsatz;Nachname\n1;99;Weber\n")
    [row] = read_rows(path, ignore_unknown=True)
    assert row.record == {"sourceId": "1", "familyName": "Weber"}
    assert row.raw == {"id": "1", "Umsatz": "99", "Nachname": "Weber"}


def test_a_company_file_with_german_headers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "firmen.csv",
        "Kundennummer;Firma;Rechtsform;HR-Nummer;Amtsgericht;USt-IdNr.;Webseite;"
        "Branche;Muttergesellschaft\n"
        "F1;Müller Maschinenbau;GmbH;HRB 4711;München;DE136695976;mueller.de;"
        "28.41;F0\n",
    )
    rows = list(read_rows(path, columns=COMPANIES))
    assert [r.record for r in rows] == [
        {
            "sourceId": "F1",
            "name": "Müller Maschinenbau",
            "legalForm": "GmbH",
            "registryNumber": "HRB 4711",
            "registryCourt": "München",
            "vatId": "DE136695976",
            "website": "mueller.de",
            "industryCode": "28.41",
            "parentSourceId": "F0",
        },
    ]
    assert count_rows(path, columns=COMPANIES) == 1


def test_a_person_column_in_a_company_file_is_named_with_what_company_files_know(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "firmen.csv", "id;Firma;Vorname\nF1;Weber OHG;Anna\n")
    with pytest.raises(ImportFileError) as unknown:
        list(read_rows(path, columns=COMPANIES))
    message = str(unknown.value)
    assert "Unknown columns: Vorname." in message
    assert "Known for a company file: sourceId, name, legalForm" in message
    assert "identifier.SCHEME" not in message
