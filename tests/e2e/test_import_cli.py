"""`mdm import` as a data steward runs it, against the running platform."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform

from .queries import SOURCE_RECORD


def run_import(platform: Platform, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mdm_profile.cli", "import", *args,
         "--url", platform.config.gateway_url, "--token", token],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_imports_a_file_and_sets_bad_rows_aside(
    platform: Platform, token_for: Callable[..., str], gateway: GatewayClient, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = tmp_path / "kunden.csv"
    rows = [f"{run}-{i};Kunde{i};Müller;k{i}@example.org" for i in range(1, 8)]
    rows.insert(2, f"{run}-mail;Kaputt;Müller;a..b@web.de")  # stored, the address kept raw
    rows.insert(4, f"{run}-nobody;;;kaputt@")  # identifies nobody: refused
    # As Excel writes it: Windows-1252 and semicolons.
    path.write_bytes(
        ("Kundennummer;Vorname;Nachname;E-Mail\n" + "\n".join(rows) + "\n").encode("cp1252")
    )

    result = run_import(
        platform, token_for("app"), str(path), "--source", "shop", "--batch-size", "3"
    )

    assert result.returncode == 0, result.stderr
    assert "9 records, encoding cp1252 (detected)" in result.stderr
    assert "created 8, updated 0, with warnings 8, refused 1, suppressed 0" in result.stdout
    assert "warning email INVALID: 1" in result.stdout
    rejected = [
        json.loads(line)
        for line in (tmp_path / "kunden.csv.rejected.jsonl").read_text().splitlines()
    ]
    assert rejected == [
        {
            "line": 6,
            "sourceId": f"{run}-nobody",
            "field": "record",
            "code": "NOT_IDENTIFIABLE",
            "row": {"Kundennummer": f"{run}-nobody", "E-Mail": "kaputt@"},
        }
    ]
    found = gateway.execute(SOURCE_RECORD, {"source": "shop", "sourceId": f"{run}-7"})
    assert found["sourceRecord"]["familyName"] == "Müller"
    kept = gateway.execute(SOURCE_RECORD, {"source": "shop", "sourceId": f"{run}-mail"})
    assert ("email", "INVALID", "WARNING") in {
        (i["field"], i["code"], i["severity"]) for i in kept["sourceRecord"]["quality"]["issues"]
    }

    again = run_import(platform, token_for("app"), str(path), "--source", "shop", "--quiet")
    assert "created 0, updated 8, with warnings 8, refused 1" in again.stdout


def test_batches_in_flight_at_once_are_counted_in_the_files_order(
    platform: Platform, token_for: Callable[..., str], gateway: GatewayClient, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = tmp_path / "kunden.csv"
    lines = ["Kundennummer;Vorname;Nachname;E-Mail"]
    for i in range(1, 41):
        # Every seventh row identifies nobody: refused, set aside with its line.
        lines.append(f"{run}-{i};;;kaputt@" if i % 7 == 0 else f"{run}-{i};Kunde{i};Bauer;")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_import(
        platform,
        token_for("app"),
        str(path),
        "--source",
        "shop",
        "--batch-size",
        "3",
        "--concurrency",
        "4",
        "--quiet",
    )

    assert result.returncode == 0, result.stderr
    # A batch whose answer was lost (the graph's deadline passed as it committed) is
    # sent again and answers "updated": the sum is what every run must show.
    counts = re.search(r"created (\d+), updated (\d+), with warnings 35, refused 5", result.stdout)
    assert counts is not None, result.stdout
    assert int(counts[1]) + int(counts[2]) == 35
    rejected = [
        json.loads(line)
        for line in (tmp_path / "kunden.csv.rejected.jsonl").read_text().splitlines()
    ]
    assert [(r["line"], r["sourceId"]) for r in rejected] == [
        (i + 1, f"{run}-{i}") for i in (7, 14, 21, 28, 35)
    ]
    found = gateway.execute(SOURCE_RECORD, {"source": "shop", "sourceId": f"{run}-40"})
    assert found["sourceRecord"]["familyName"] == "Bauer"


def test_refusals_are_clear(
    platform: Platform, token_for: Callable[..., str], tmp_path: Path
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "x1", "nachname": "A"}\n')
    unknown_source = run_import(platform, token_for("app"), str(path), "--source", "fax")
    assert unknown_source.returncode == 1
    assert "BAD_USER_INPUT: Unknown source system 'fax'" in unknown_source.stderr

    forbidden = run_import(platform, token_for("compliance"), str(path), "--source", "crm")
    assert forbidden.returncode == 1
    assert "FORBIDDEN" in forbidden.stderr

    missing = run_import(platform, token_for("app"), str(tmp_path / "nope.csv"), "--source", "crm")
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        f"No such file: {tmp_path / 'nope.csv'}",
    )


COMPANY_BY_NAME = """query($name: String!) { searchCompanies(name: $name, first: 10) {
  edges { node { name legalForm registrationNumber vatId domains parent { name } } }
} }"""


def test_a_company_file_as_excel_writes_it(
    platform: Platform, token_for: Callable[..., str], gateway: GatewayClient, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    path = tmp_path / "firmen.csv"
    lines = [
        "Kundennummer;Firma;Rechtsform;Handelsregister;Registergericht;USt-IdNr;PLZ;Ort;"
        "Webseite;Muttergesellschaft",
        f"{run}-1;{run} Maschinenbau;GmbH;HRB 4711;Amtsgericht München;DE136695976;80331;"
        f"München;www.{run}-maschinenbau.de;{run}-0",
        f"{run}-2;{run} Vertrieb G.m.b.H.;;;;DE 136 695 977;80331;München;n/a;{run}-0",
        f"{run}-3;;;;;;80331;München;;",  # names no company: refused
        f"{run}-0;{run} Holding;Aktiengesellschaft;HRB 1;München;;80333;München;;",
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))

    result = run_import(
        platform, token_for("app"), str(path), "--source", "erp", "--kind", "company"
    )

    assert result.returncode == 0, result.stderr
    assert "4 records, encoding cp1252 (detected)" in result.stderr
    assert "created 3, updated 0, with warnings 1, refused 1" in result.stdout
    assert "warning vatId INVALID: 1" in result.stdout
    assert "warning website INVALID: 1" in result.stdout
    rejected = (tmp_path / "firmen.csv.rejected.jsonl").read_text().splitlines()
    assert [(r["line"], r["code"]) for r in map(json.loads, rejected)] == [(4, "NOT_IDENTIFIABLE")]
    found = gateway.execute(COMPANY_BY_NAME, {"name": run})["searchCompanies"]["edges"]
    by_name = {e["node"]["name"]: e["node"] for e in found}
    assert sorted(by_name) == [
        f"{run} Holding AG",
        f"{run} Maschinenbau GmbH",
        f"{run} Vertrieb GmbH",
    ]
    maker = by_name[f"{run} Maschinenbau GmbH"]
    assert maker["registrationNumber"] == "HRB 4711, München"
    assert maker["vatId"] == "DE136695976"
    assert maker["domains"] == [f"{run}-maschinenbau.de"]
    # The parent came last in the file; both subsidiaries are linked to it.
    assert maker["parent"] == {"name": f"{run} Holding AG"}
    assert by_name[f"{run} Vertrieb GmbH"]["parent"] == {"name": f"{run} Holding AG"}
    assert by_name[f"{run} Vertrieb GmbH"]["vatId"] is None
