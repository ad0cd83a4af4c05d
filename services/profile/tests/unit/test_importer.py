from __future__ import annotations

from pathlib import Path

import pytest

from mdm_profile.importer import ImportFileError, read_records


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
     ("a.csv", "vorname,nachname\nA,B\n", "needs a sourceId"),
     ("a.jsonl", '{"id": 1}\nnot json\n', "Line 2 is not JSON"),
     ("a.jsonl", "[1, 2]\n", "Line 1 is not a JSON object"),
     ("a.jsonl", '{"id": 1, "hobby": "x"}\n', "unknown field 'hobby'"),
     ("a.xlsx", "", "use .csv or .jsonl")],
)  # fmt: skip
def test_files_that_cannot_be_imported_say_why(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        list(read_records(write(tmp_path, name, text)))
