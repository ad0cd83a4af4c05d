"""Households and company hierarchies, each answered in one request through the gateway."""

from __future__ import annotations

import uuid

from mdm_infra.client import GatewayClient

from .queries import INGEST

HOUSEHOLD_OF = """query($id: ID!) { person(id: $id) { householdId } }"""
PERSON_WITH_HOUSEHOLD = """query($id: ID!) { person(id: $id) {
  id household { id members { personId } }
} }"""
HOUSEHOLD = """query($id: ID!) { household(id: $id) {
  id address { street houseNumber postalCode city }
  members { personId role detected person { givenName familyName } }
} }"""
SET_ROLE = """mutation($p: ID!, $h: ID!, $role: String!) {
  setHouseholdRole(personId: $p, householdId: $h, role: $role) { members { personId role } }
}"""
CREATE_COMPANY = (
    """mutation($name: String!) { createCompany(name: $name, country: "de") { id country } }"""
)
SET_PARENT = """mutation($c: ID!, $p: ID) {
  setParentCompany(companyId: $c, parentId: $p) { id parentId }
}"""
HIERARCHY = """query($id: ID!) { company(id: $id) {
  name parent { name } ultimateParent { name }
  subsidiaries(depth: 3) { depth company { name parentId } }
  employees { role person { familyName } }
} }"""


def ingest(gateway: GatewayClient, *records: dict[str, str]) -> list[str]:
    rows = [{"sourceId": uuid.uuid4().hex[:16], **r} for r in records]
    result = gateway.execute(INGEST, {"source": "crm", "records": rows})
    return [r["personId"] for r in result["ingestSourceRecords"]["records"]]


def test_a_household_is_detected_by_address_and_family_name(gateway: GatewayClient) -> None:
    street = f"Lindenallee {uuid.uuid4().int % 9000 + 10}"
    address = {"postalCode": "60311", "city": "Frankfurt am Main", "country": "DE"}
    anna, paul, lodger = ingest(
        gateway,
        {"fullName": "Anna Fischer", "street": street, **address},
        {"fullName": "PAUL FISCHER", "street": street.replace("allee", "-Allee"), **address},
        {"fullName": "Mira Nowak", "street": street, **address},
    )
    household_id = gateway.execute(HOUSEHOLD_OF, {"id": anna})["person"]["householdId"]
    assert household_id is not None
    assert gateway.execute(HOUSEHOLD_OF, {"id": lodger})["person"]["householdId"] is None

    household = gateway.execute(HOUSEHOLD, {"id": household_id})["household"]
    members = {m["personId"]: m for m in household["members"]}
    assert set(members) == {anna, paul}
    assert all(m["role"] == "MEMBER" and m["detected"] for m in members.values())
    assert household["address"]["city"] == "Frankfurt am Main"

    updated = gateway.execute(SET_ROLE, {"p": paul, "h": household_id, "role": "HEAD"})
    roles = {m["personId"]: m["role"] for m in updated["setHouseholdRole"]["members"]}
    assert roles == {anna: "MEMBER", paul: "HEAD"}
    body = gateway.post(SET_ROLE, {"p": lodger, "h": household_id, "role": "CHILD"}).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = gateway.post(SET_ROLE, {"p": paul, "h": household_id, "role": "KING"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_hierarchy_parent_subsidiaries_ultimate_parent_and_cycles(gateway: GatewayClient) -> None:
    def company(name: str) -> str:
        return str(gateway.execute(CREATE_COMPANY, {"name": name})["createCompany"]["id"])

    group, sub, subsub, sister = company("Gruppe AG"), company("Tochter GmbH"), company(
        "Enkel GmbH"), company("Schwester GmbH")  # fmt: skip
    for child, parent in ((sub, group), (subsub, sub), (sister, group)):
        gateway.execute(SET_PARENT, {"c": child, "p": parent})
    [employee] = ingest(gateway, {"fullName": "Lena Berg"})
    gateway.execute(
        "mutation($p: ID!, $c: ID!) { linkEmployee(personId: $p, companyId: $c, role: "
        '"Einkauf") { id } }',
        {"p": employee, "c": subsub},
    )

    top = gateway.execute(HIERARCHY, {"id": group})["company"]
    assert (top["parent"], top["ultimateParent"]["name"]) == (None, "Gruppe AG")
    assert [(s["depth"], s["company"]["name"]) for s in top["subsidiaries"]] == [
        (1, "Schwester GmbH"), (1, "Tochter GmbH"), (2, "Enkel GmbH")]  # fmt: skip
    leaf = gateway.execute(HIERARCHY, {"id": subsub})["company"]
    assert (leaf["parent"]["name"], leaf["ultimateParent"]["name"]) == ("Tochter GmbH", "Gruppe AG")
    assert leaf["employees"] == [{"role": "Einkauf", "person": {"familyName": "Berg"}}]

    body = gateway.post(SET_PARENT, {"c": group, "p": subsub}).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reason"] == "HIERARCHY_CYCLE"
    assert error["extensions"]["cycle"] == [subsub, sub, group, subsub]
    assert gateway.execute(HIERARCHY, {"id": group})["company"]["parent"] is None  # nothing written

    gateway.execute(SET_PARENT, {"c": sister, "p": None})
    assert gateway.execute(HIERARCHY, {"id": sister})["company"]["ultimateParent"]["name"] == (
        "Schwester GmbH")  # fmt: skip


def test_a_person_is_read_with_its_household_in_one_request(gateway: GatewayClient) -> None:
    street = f"Birkenweg {uuid.uuid4().int % 9000 + 10}"
    address = {"postalCode": "01067", "city": "Dresden", "country": "DE"}
    ida, max_, alone = ingest(
        gateway,
        {"fullName": "Ida Krause", "street": street, **address},
        {"fullName": "Max Krause", "street": street, **address},
        {"fullName": "Ole Brandt", "street": street, **address},
    )
    person = gateway.execute(PERSON_WITH_HOUSEHOLD, {"id": ida})["person"]
    household_id = gateway.execute(HOUSEHOLD_OF, {"id": max_})["person"]["householdId"]
    assert person["household"]["id"] == household_id
    assert {m["personId"] for m in person["household"]["members"]} == {ida, max_}
    assert gateway.execute(PERSON_WITH_HOUSEHOLD, {"id": alone})["person"]["household"] is None
