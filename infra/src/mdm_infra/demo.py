"""A little demo data, loaded through the gateway like any application would."""

from __future__ import annotations

import json
from pathlib import Path

from mdm_infra.client import GatewayClient, GraphQLError

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

# Invented people; any resemblance is coincidence.
PEOPLE = [
    ("Anna", "Müller", "anna.mueller@example.org"),
    ("Jürgen", "Schmidt", "j.schmidt@example.com"),
    ("Leyla", "Özdemir", None),
]


def load(client: GatewayClient) -> list[str]:
    """Create the demo persons with a newsletter consent each; return their ids."""
    ids = []
    for given, family, email in PEOPLE:
        person = client.execute(
            CREATE_PERSON,
            {"input": {"givenName": given, "familyName": family, "email": email}},
        )["createPerson"]
        ids.append(person["id"])
        client.execute(
            RECORD_CONSENT,
            {"input": {"personId": person["id"], "purpose": "newsletter", "status": "GRANTED",
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
        "    id givenName familyName email\n"
        "    consents { purpose status channel recordedAt }\n"
        "    matching { registered registeredAt }\n"
        "    matchCandidates { personId score }\n"
        "  }\n"
        "}"
    )
