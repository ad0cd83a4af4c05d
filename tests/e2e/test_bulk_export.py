"""Bulk export of golden records through the running platform: ``mdm export`` through the
gateway and the export job in the distribution worker, CSV and Parquet, by purpose."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from mdm_infra.client import GatewayClient
from mdm_infra.platform import Platform
from mdm_profile import cli

from .queries import unique_letters
from .test_change_stream import consent, ingest, new_purpose, soon

START = """mutation($input: ExportInput!) { startExport(input: $input) {
  id status columns directory } }"""
JOB = """query($id: ID!) { exportJob(id: $id) {
  id status scanned written parts directory finishedAt } }"""
IDENTITY_AND_CONTACT = {
    "givenName",
    "familyName",
    "titles",
    "suffix",
    "salutation",
    "birthDate",
    "birthDatePartial",
    "email",
    "phone",
    "street",
    "houseNumber",
    "postalCode",
    "city",
    "country",
    "language",
}


@pytest.fixture(scope="module")
def purpose_and_persons(
    platform: Platform, token_for: Callable[..., str]
) -> Iterator[tuple[str, dict[str, str]]]:
    """A purpose of its own, two persons who consented to it and one who did not."""
    url = platform.config.gateway_url
    app = GatewayClient(url, token_for("app"))
    compliance = GatewayClient(url, token_for("compliance"))
    purpose = new_purpose(compliance)
    tag = unique_letters()
    persons = {
        name: ingest(
            app,
            f"ex-{tag}-{name}",
            givenName=name.title(),
            familyName="Kessel" + unique_letters(),
            email=f"{name}.{tag}@example.org",
            city="Leipzig",
            postalCode="04109",
            street="Markt 1",
        )
        for name in ("ada", "bea", "cem")
    }
    for name in ("ada", "bea"):
        consent(app, persons[name], purpose)
    yield purpose, persons
    app.close()
    compliance.close()


def mdm_export(platform: Platform, token_for: Callable[..., str], *args: str) -> int:
    """``mdm export`` with these arguments, through the platform's gateway as ``app``."""
    return cli.main(
        [
            "export",
            *args,
            "--quiet",
            "--url",
            platform.config.gateway_url,
            "--token",
            token_for("app"),
        ]
    )


def by_id(rows: list[dict[str, Any]], ids: set[str]) -> dict[str, dict[str, Any]]:
    return {r["personId"]: r for r in rows if r["personId"] in ids}


class TestTheCommandLine:
    def test_writes_the_persons_a_purpose_allows_with_its_columns_only(
        self,
        token_for: Callable[..., str],
        platform: Platform,
        purpose_and_persons: tuple[str, dict[str, str]],
        tmp_path: Path,
    ) -> None:
        purpose, persons = purpose_and_persons
        out = tmp_path / "calls.csv"
        status = mdm_export(
            platform, token_for, str(out), "--purpose", purpose, "--channel", "PHONE"
        )
        assert status == 0
        with out.open(encoding="utf-8", newline="") as read:
            rows = list(csv.DictReader(read))
        assert {r["personId"] for r in rows} == {persons["ada"], persons["bea"]}
        ada = by_id(rows, {persons["ada"]})[persons["ada"]]
        assert ada["city"] == "Leipzig"
        assert set(ada) - {"personId", "updatedAt"} <= IDENTITY_AND_CONTACT
        assert "identifiers" not in ada  # not a category of the purpose

    def test_writes_parquet_of_every_person_changed_since_a_time(
        self,
        token_for: Callable[..., str],
        platform: Platform,
        purpose_and_persons: tuple[str, dict[str, str]],
        tmp_path: Path,
    ) -> None:
        _, persons = purpose_and_persons
        out = tmp_path / "all.parquet"
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        status = mdm_export(platform, token_for, str(out), "--changed-since", since)
        assert status == 0
        table = pq.read_table(out)
        assert "identifiers" in table.column_names  # no purpose: every column
        rows = by_id(table.to_pylist(), set(persons.values()))
        assert set(rows) == set(persons.values())  # consent or not
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert mdm_export(platform, token_for, str(out), "--changed-since", future) == 0
        assert pq.read_table(out).num_rows == 0

    def test_an_unknown_purpose_stops_with_a_message(
        self, token_for: Callable[..., str], platform: Platform, tmp_path: Path
    ) -> None:
        status = mdm_export(
            platform,
            token_for,
            str(tmp_path / "x.csv"),
            "--purpose",
            f"nope-{uuid.uuid4().hex[:6]}",
            "--channel",
            "EMAIL",
        )
        assert status == 1


class TestTheExportJob:
    def test_runs_in_the_worker_and_writes_its_parts(
        self,
        client_for: Callable[..., GatewayClient],
        purpose_and_persons: tuple[str, dict[str, str]],
    ) -> None:
        purpose, persons = purpose_and_persons
        admin = client_for("admin")
        started = admin.execute(
            START, {"input": {"format": "PARQUET", "purpose": purpose, "channel": "PHONE"}}
        )["startExport"]
        assert started["status"] == "RUNNING"
        assert "email" in started["columns"]
        assert "identifiers" not in started["columns"]

        def finished() -> dict[str, Any] | None:
            job = admin.execute(JOB, {"id": started["id"]})["exportJob"]
            return job if job["status"] == "DONE" else None

        job = soon(finished)
        assert job, "the export job did not finish"
        assert job["written"] == 2
        assert job["parts"] >= 1
        table = pq.read_table(job["directory"])  # the parts, as one dataset
        assert set(table.column("personId").to_pylist()) == {persons["ada"], persons["bea"]}


GOLDEN = "query($ids: [ID!]!) { goldenRecords(ids: $ids) }"
PERSONS = """query($ids: [ID!]!) { persons(ids: $ids) {
  id givenName familyName titles suffix salutation birthDate birthDatePartial email phone
  language address { street houseNumber postalCode city country }
  identifiers { scheme issuer value } updatedAt processingRestricted } }"""


def test_golden_records_answer_as_persons_does(client_for: Callable[..., GatewayClient]) -> None:
    """The JSON the change stream and the export read is what `persons` answers."""
    app = client_for("app")
    tag = unique_letters()
    rich = ingest(
        app,
        f"gr-{tag}",
        fullName=f"Frau Dr. Anna Kessel{unique_letters()}",
        email=f"gr.{tag}@example.org",
        phone="030 1234567",
        birthDate="12.04.1980",
        street="Hauptstr. 5",
        postalCode="10115",
        city="Berlin",
        language="Deutsch",
        identifiers=[{"scheme": "CUSTOMER_NUMBER", "value": f"K-{tag}"}],
    )
    sparse = ingest(app, f"gs-{tag}", familyName="Kessel" + unique_letters())
    ids = [rich, sparse, "no-such-person"]
    golden = app.execute(GOLDEN, {"ids": ids})["goldenRecords"]
    assert golden == app.execute(PERSONS, {"ids": ids})["persons"]
    assert golden[0]["identifiers"][0]["value"] == f"K{tag}".upper()  # as cleaned
    assert golden[2] is None
