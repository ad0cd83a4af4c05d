"""Persons of a test's own for matching tests: names, dates and places no other
test uses (they are blocking keys), and waiting for the worker."""

from __future__ import annotations

import random
import string
import uuid

from stdnum.de import idnr
from stdnum.iso7064 import mod_11_10

from mdm_infra.client import GatewayClient

from .queries import INGEST


def family_name() -> str:
    """A made-up family name, unique per test run (letters only, as a name must be)."""
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - a throwaway name, not a secret
    return "Kessel" + "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


def birth_date() -> str:
    """A birth date of the test's own: birth date is a blocking key as well."""
    n = uuid.uuid4().int
    return f"{1940 + n % 60}-{1 + n // 60 % 12:02d}-{1 + n // 720 % 28:02d}"


def ingest(gateway: GatewayClient, source: str, **fields: object) -> str:
    record = {"sourceId": uuid.uuid4().hex[:16]} | fields
    result = gateway.execute(INGEST, {"source": source, "records": [record]})
    return str(result["ingestSourceRecords"]["records"][0]["personId"])


def place() -> dict[str, str]:
    """A postal code of the test's own, so that no other test's persons share its blocks."""
    code = 10000 + uuid.uuid4().int % 90000  # not `random`: hypothesis may seed it
    return {"postalCode": str(code), "city": "Berlin", "country": "DE"}


def phone() -> str:
    """A Berlin landline of the test's own (phone is a blocking key too)."""
    return f"030 {2_000_000 + uuid.uuid4().int % 7_000_000}"


def tax_id() -> str:
    """A valid German tax id (Steuer-IdNr) of the test's own: identifiers block too."""
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - a made-up number, not a secret
    while True:
        stem = str(rng.randint(1_000_000_000, 9_999_999_999))
        number = stem + mod_11_10.calc_check_digit(stem)
        if idnr.is_valid(number):
            return number
