"""Person search with cursor pagination through the gateway."""

from __future__ import annotations

import uuid

from mdm_infra.client import GatewayClient

from .queries import INGEST

SEARCH = """query($name: String, $email: String, $phone: String, $postalCode: String,
                 $first: Int!, $after: String) {
  searchPersons(name: $name, email: $email, phone: $phone, postalCode: $postalCode,
                first: $first, after: $after) {
    edges { cursor node { id familyName } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def test_pages_through_all_matches_once(gateway: GatewayClient) -> None:
    family = f"Suchmann{uuid.uuid4().hex[:6]}"
    records = [{"sourceId": uuid.uuid4().hex[:16], "fullName": f"Person{i} {family}"}
               for i in range(7)]  # fmt: skip
    result = gateway.execute(INGEST, {"source": "crm", "records": records})
    expected = {r["personId"] for r in result["ingestSourceRecords"]["records"]}

    seen, after, pages = [], None, 0
    while True:
        page = gateway.execute(SEARCH, {"name": family.upper(), "first": 3, "after": after})
        connection = page["searchPersons"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == expected


def test_search_by_normalised_contact_values(gateway: GatewayClient) -> None:
    tag = uuid.uuid4().hex[:6]
    email = f"kontakt.{tag}@example.org"
    gateway.execute(INGEST, {"source": "crm", "records": [{
        "sourceId": tag, "fullName": "Karla Kontakt", "email": email, "phone": "0151 2345 6789",
        "postalCode": "04109", "city": "Leipzig", "street": "Markt 1",
    }]})  # fmt: skip
    by_email = gateway.execute(SEARCH, {"email": email.upper().replace("EXAMPLE", "Example"),
                                        "first": 5})  # fmt: skip
    assert [e["node"]["familyName"] for e in by_email["searchPersons"]["edges"]] == ["Kontakt"]
    both = gateway.execute(SEARCH, {"phone": "+49 151 23456789", "postalCode": "04109", "first": 5})
    assert "Kontakt" in [e["node"]["familyName"] for e in both["searchPersons"]["edges"]]


def test_bad_search_input_is_typed(gateway: GatewayClient) -> None:
    for variables, field in (({"first": 5}, "name"), ({"name": "x", "first": 500}, "first"),
                             ({"name": "x", "first": 5, "after": "nonsense!"}, "after"),
                             ({"email": "kaputt@", "first": 5}, "email")):  # fmt: skip
        body = gateway.post(SEARCH, variables).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables
        assert body["errors"][0]["extensions"]["field"] == field
