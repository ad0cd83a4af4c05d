"""Households and company hierarchies, each answered in one request through the gateway."""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable

from mdm_infra.client import GatewayClient
from mdm_infra.otlp import OtlpReceiver

from .queries import INGEST, MERGE

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
LINK_EMPLOYEE = """mutation($p: ID!, $c: ID!, $role: String!) {
  linkEmployee(personId: $p, companyId: $c, role: $role) { id }
}"""
EMPLOYERS = """query($id: ID!) { person(id: $id) {
  id employers { companyId role company { name ultimateParent { name } } }
} }"""
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


STEWARD_HOUSEHOLD = """query($id: ID!) { household(id: $id) {
  id decision decidedBy decidedAt
  members { personId role detected confirmed evidence confidence }
} }"""
CONFIRM = """mutation($h: ID!) { confirmHousehold(householdId: $h) {
  id decision decidedBy members { personId confirmed }
} }"""
SPLIT = """mutation($h: ID!, $p: [ID!]!, $into: ID) {
  splitHousehold(householdId: $h, personIds: $p, intoHouseholdId: $into) {
    household { id decision members { personId role confirmed } }
    into { id decision members { personId role detected confirmed } }
  }
}"""


def test_a_steward_confirms_and_splits_a_household_and_roles_stay(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    street = f"Ahornweg {uuid.uuid4().int % 9000 + 10}"
    address = {"postalCode": "04109", "city": "Leipzig", "country": "DE"}
    kai_record = {"sourceId": uuid.uuid4().hex[:16], "fullName": "Kai Roth", "street": street}
    kai_record.update(address)
    eva, tom, kai = ingest(
        gateway,
        {"fullName": "Eva Roth", "street": street, "phone": "0341 7788990", **address},
        {"fullName": "Tom Berg", "street": street, "phone": "0341 7788990", **address},
        kai_record,
    )
    household_id = gateway.execute(HOUSEHOLD_OF, {"id": eva})["person"]["householdId"]
    found = gateway.execute(STEWARD_HOUSEHOLD, {"id": household_id})["household"]
    members = {m["personId"]: m for m in found["members"]}
    assert set(members) == {eva, tom, kai}
    assert members[tom]["evidence"] == ["SHARED_LANDLINE"]
    assert members[kai]["evidence"] == ["SAME_FAMILY_NAME"]
    assert members[eva]["evidence"] == ["SAME_FAMILY_NAME", "SHARED_LANDLINE"]
    assert found["decision"] is None
    assert not any(m["confirmed"] for m in members.values())

    # Only a steward decides.
    body = client_for("app").post(CONFIRM, {"h": household_id}).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    confirmed = gateway.execute(CONFIRM, {"h": household_id})["confirmHousehold"]
    assert confirmed["decision"] == "CONFIRMED"
    assert confirmed["decidedBy"] == "test-user"
    assert all(m["confirmed"] for m in confirmed["members"])
    # Applications read the household, but not who among the stewards decided.
    body = client_for("app").post(STEWARD_HOUSEHOLD, {"id": household_id}).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"][-1] == "decidedBy"

    gateway.execute(SET_ROLE, {"p": kai, "h": household_id, "role": "CHILD"})
    split = gateway.execute(SPLIT, {"h": household_id, "p": [kai]})["splitHousehold"]
    assert {m["personId"] for m in split["household"]["members"]} == {eva, tom}
    assert split["into"]["members"] == [
        {"personId": kai, "role": "CHILD", "detected": False, "confirmed": True}
    ]
    assert split["household"]["decision"] == split["into"]["decision"] == "SPLIT"
    new_id = split["into"]["id"]

    # The next detection (Kai's record sent again) leaves the split as the steward made it.
    assert ingest(gateway, kai_record) == [kai]
    assert gateway.execute(HOUSEHOLD_OF, {"id": kai})["person"]["householdId"] == new_id
    assert gateway.execute(HOUSEHOLD_OF, {"id": eva})["person"]["householdId"] == household_id

    for variables, code in (
        ({"h": household_id, "p": []}, "BAD_USER_INPUT"),
        ({"h": household_id, "p": [kai]}, "NOT_FOUND"),
        ({"h": household_id, "p": [eva, tom]}, "BAD_USER_INPUT"),
        ({"h": household_id, "p": [eva], "into": household_id}, "BAD_USER_INPUT"),
        ({"h": str(uuid.uuid4()), "p": [eva]}, "NOT_FOUND"),
    ):
        body = gateway.post(SPLIT, variables).json()
        assert body["errors"][0]["extensions"]["code"] == code, variables

    # Tom moves in with Kai: into an existing household, keeping his role.
    gateway.execute(SET_ROLE, {"p": tom, "h": household_id, "role": "PARTNER"})
    moved = gateway.execute(SPLIT, {"h": household_id, "p": [tom], "into": new_id})
    into = {m["personId"]: m["role"] for m in moved["splitHousehold"]["into"]["members"]}
    assert into == {kai: "CHILD", tom: "PARTNER"}


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


COMPANY_TREE = """query CompanyTree($id: ID!) { company(id: $id) {
  subsidiaries(depth: 2) { depth company {
    name parent { name } ultimateParent { name }
    subsidiaries { company { name } }
    employees { role person { familyName } }
  } }
} }"""


def cypher_of_one_request(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver, document: str, company_id: str
) -> tuple[dict[str, object], Counter[str]]:
    """The answer, and the profile service's graph statements that produced it."""
    trace_id = secrets.token_hex(16)
    response = gateway.post(
        document, {"id": company_id},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )  # fmt: skip
    body = response.json()
    assert "errors" not in body, body
    # The operation's span ends after all of its statements, so once it is exported
    # every statement span of the request has been exported too.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = [s for s in otlp_receiver.snapshot()
                 if s.trace_id == trace_id and s.service == "profile"]  # fmt: skip
        if any(s.name.startswith("graphql ") for s in spans):
            return body["data"], Counter(s.name for s in spans if s.name.startswith("cypher "))
        time.sleep(0.1)
    raise AssertionError(f"no profile operation span in trace {trace_id}")


def test_company_fields_are_batched_whatever_the_number_of_companies(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver
) -> None:
    def group_of(width: int) -> str:
        """A group with ``width`` subsidiaries, each with one subsidiary and one employee."""

        def company(name: str) -> str:
            return str(gateway.execute(CREATE_COMPANY, {"name": name})["createCompany"]["id"])

        group = company(f"Gruppe {width}")
        staff = ingest(gateway, *({"fullName": f"Anna Stab{i}"} for i in range(width)))
        for i, person in enumerate(staff):
            sub, subsub = company(f"Tochter {i}"), company(f"Enkel {i}")
            gateway.execute(SET_PARENT, {"c": sub, "p": group})
            gateway.execute(SET_PARENT, {"c": subsub, "p": sub})
            gateway.execute(
                "mutation($p: ID!, $c: ID!) { linkEmployee(personId: $p, companyId: $c) { id } }",
                {"p": person, "c": sub},
            )
        return group

    small, small_cypher = cypher_of_one_request(gateway, otlp_receiver, COMPANY_TREE, group_of(2))
    large, large_cypher = cypher_of_one_request(gateway, otlp_receiver, COMPANY_TREE, group_of(6))

    listed = large["company"]["subsidiaries"]  # type: ignore[index]
    assert len(listed) == 12
    assert {s["company"]["ultimateParent"]["name"] for s in listed} == {"Gruppe 6"}
    assert sorted(s["company"]["parent"]["name"] for s in listed if s["depth"] == 2) == [
        f"Tochter {i}" for i in range(6)]  # fmt: skip
    assert sum(len(s["company"]["employees"]) for s in listed) == 6
    assert len(small["company"]["subsidiaries"]) == 4  # type: ignore[index]
    # Three times the companies, the same statements: one per field and nesting level.
    assert large_cypher == small_cypher
    assert max(large_cypher.values()) <= 2, large_cypher


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


def test_a_person_is_read_with_its_employers_and_their_groups(gateway: GatewayClient) -> None:
    def company(name: str) -> str:
        return str(gateway.execute(CREATE_COMPANY, {"name": name})["createCompany"]["id"])

    group, sub = company("Mutter AG"), company("Tochter KG")
    gateway.execute(SET_PARENT, {"c": sub, "p": group})
    tag = uuid.uuid4().hex[:8]
    names = (f"Jana Arbeit {tag}", f"Otto Beirat {tag}", f"Rita Ruhe {tag}")
    worker, board_member, jobless = ingest(gateway, *({"fullName": n} for n in names))
    gateway.execute(LINK_EMPLOYEE, {"p": worker, "c": sub, "role": "Einkauf"})
    gateway.execute(LINK_EMPLOYEE, {"p": board_member, "c": group, "role": "Aufsichtsrat"})

    person = gateway.execute(EMPLOYERS, {"id": worker})["person"]
    tochter = {"name": "Tochter KG", "ultimateParent": {"name": "Mutter AG"}}
    assert person["employers"] == [{"companyId": sub, "role": "Einkauf", "company": tochter}]
    assert gateway.execute(EMPLOYERS, {"id": jobless})["person"]["employers"] == []

    # Read by the merged-away id, the survivor answers: with both persons' employers.
    gateway.execute(MERGE, {"survivorId": worker, "mergedId": board_member, "reason": "e2e"})
    merged = gateway.execute(EMPLOYERS, {"id": board_member})["person"]
    assert merged["id"] == worker
    jobs = [(e["company"]["name"], e["role"]) for e in merged["employers"]]
    assert jobs == [("Mutter AG", "Aufsichtsrat"), ("Tochter KG", "Einkauf")]


STAFF_EMPLOYERS = """query StaffEmployers($id: ID!) { company(id: $id) {
  employees { person { employers { role company { name ultimateParent { name } } } } }
} }"""


def test_employers_of_a_list_of_persons_cost_one_statement(
    gateway: GatewayClient, otlp_receiver: OtlpReceiver
) -> None:
    def staffed(width: int) -> str:
        """A company with ``width`` employees, each also working for a company of a group."""

        def company(name: str) -> str:
            return str(gateway.execute(CREATE_COMPANY, {"name": name})["createCompany"]["id"])

        shop = company(f"Laden {width}")
        staff = ingest(gateway, *({"fullName": f"Uwe Zweitjob{i}"} for i in range(width)))
        for i, person in enumerate(staff):
            group, side_job = company(f"Konzern {i}"), company(f"Nebenjob {i}")
            gateway.execute(SET_PARENT, {"c": side_job, "p": group})
            gateway.execute(LINK_EMPLOYEE, {"p": person, "c": shop, "role": "Kasse"})
            gateway.execute(LINK_EMPLOYEE, {"p": person, "c": side_job, "role": "Lager"})
        return shop

    small, small_cypher = cypher_of_one_request(gateway, otlp_receiver, STAFF_EMPLOYERS, staffed(2))
    large, large_cypher = cypher_of_one_request(gateway, otlp_receiver, STAFF_EMPLOYERS, staffed(6))

    staff = large["company"]["employees"]  # type: ignore[index]
    assert len(staff) == 6
    assert sorted(
        e["company"]["ultimateParent"]["name"]
        for s in staff
        for e in s["person"]["employers"]
        if e["role"] == "Lager"
    ) == [f"Konzern {i}" for i in range(6)]
    assert len(small["company"]["employees"]) == 2  # type: ignore[index]
    # Three times the persons, the same statements; their employers in one.
    assert large_cypher == small_cypher
    assert large_cypher["cypher company.employers"] == 1, large_cypher
