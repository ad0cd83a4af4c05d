"""A little demo data, loaded through the gateway like any application would."""

from __future__ import annotations

import json
from pathlib import Path

from mdm_infra.client import GatewayClient, GraphQLError

INGEST = """
mutation Ingest($source: String!, $records: [SourceRecordInput!]!) {
  ingestSourceRecords(source: $source, records: $records) { records { sourceId personId } }
}
"""
CREATE_PERSON = """
mutation CreatePerson($input: CreatePersonInput!) {
  createPerson(input: $input) { id givenName familyName }
}
"""
RECORD_CONSENT = """
mutation RecordConsent($input: RecordConsentInput!) {
  recordConsent(input: $input) { id purpose status }
}
"""

# Invented people, written as messy as real exports are; any resemblance is coincidence.
DEMO_RECORDS = {
    "crm": [
        {"sourceId": "CRM-1001", "fullName": "Frau Dr. ANNA MÜLLER",
         "email": "Anna.Mueller@Example.org", "phone": "030 1234567", "street": "Hauptstr. 5",
         "postalCode": "10115", "city": "Berlin", "language": "Deutsch",
         "birthDate": "12.04.1980"},
        {"sourceId": "CRM-1002", "fullName": "Schmidt jun., Jürgen", "phone": "0171/9876543",
         "street": "Königsallee 12 a", "postalCode": "40212", "city": "Düsseldorf",
         "language": "de"},
    ],
    "shop": [
        {"sourceId": "S-77", "givenName": "leyla", "familyName": "özdemir",
         "email": "leyla@example.com", "street": "Schloßstrasse 3", "postalCode": "1067",
         "city": "Dresden", "country": "Deutschland"},
    ],
}  # fmt: skip


def load(client: GatewayClient) -> list[str]:
    """Ingest the demo records, give each person a newsletter consent; return person ids."""
    ids = []
    for source, records in DEMO_RECORDS.items():
        result = client.execute(INGEST, {"source": source, "records": records})
        ids += [r["personId"] for r in result["ingestSourceRecords"]["records"]]
    for person_id in ids:
        client.execute(
            RECORD_CONSENT,
            {"input": {"personId": person_id, "purpose": "newsletter", "status": "GRANTED",
                       "channel": "EMAIL", "source": "demo-signup-form"}},
        )  # fmt: skip
    return ids


def ensure_loaded(client: GatewayClient, marker: Path) -> list[str]:
    """Load the demo data once per data directory; a restart reuses it."""
    if marker.exists():
        ids: list[str] = json.loads(marker.read_text())
        try:
            client.execute("query($id: ID!) { person(id: $id) { id } }", {"id": ids[0]})
        except GraphQLError:
            pass  # the data directory was reset: load again
        else:
            return ids
    ids = load(client)
    marker.write_text(json.dumps(ids))
    return ids


def sample_query(person_id: str) -> str:
    return (
        "query {\n"
        f'  person(id: "{person_id}") {{\n'
        "    id salutation titles givenName familyName email phone language\n"
        "    address { street houseNumber postalCode city country }\n"
        "    lineage { attribute source sourceId rule }\n"
        "    sourceRecords {\n"
        "      source sourceId quality { fixes { field code } issues { field code } }\n"
        "    }\n"
        "    consents { purpose status channel recordedAt }\n"
        "    matching { registered }\n"
        "    matchCandidates { personId score }\n"
        "  }\n"
        "}"
    )
