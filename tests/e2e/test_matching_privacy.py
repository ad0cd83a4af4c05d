"""Matching's part of data-subject requests through the gateway, with the real worker:
export (Art. 15), erasure (Art. 17) and restriction (Art. 18).

The consent service calls these operations for a request; here a compliance token
calls them directly. Every test invents names, e-mail addresses, phones, postal
codes and birth dates of its own: the shared worker matches across tests. The
tests expect the engine's documented default parameters: a model trained by an
earlier test on the few persons of the test data (test_matching) is set aside
while each test runs and put back afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection
from typing import Any

import pytest

from mdm_common.graph import GraphClient
from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.testing import eventually
from mdm_matching.adapters.graph_store import REVIEW_TASK

from .matching_support import birth_date, family_name, ingest, phone, place

EXPORT = """query($ids: [ID!]!) { matchingPersonalData(personIds: $ids) {
  personIds restricted items { personId origin category field value recordedAt } } }"""
ERASE = """mutation($ids: [ID!]!, $request: ID!) { eraseMatchingData(personIds: $ids,
  requestId: $request) { personIds removedSubjects removedTasks } }"""
RESTRICT = """mutation($ids: [ID!]!, $request: ID!, $restricted: Boolean!) {
  restrictMatchingProcessing(personIds: $ids, requestId: $request, restricted: $restricted) {
    personIds restricted } }"""
STATE = """query($id: ID!) { matchSubject(personId: $id) {
  state { registered comparedAt restricted mergedInto } } }"""
TASKS = """query($person: ID) { reviewTasks(personId: $person,
  statuses: [OPEN, DEFERRED, RESOLVED], first: 10) {
    edges { node { id status reason leftId rightId } } } }"""
DECIDE = """mutation($id: ID!, $note: String!) {
  decideReviewTask(id: $id, decision: NOT_A_MATCH, note: $note) { id } }"""
DECISIONS = "query($id: ID!) { matchDecisions(personId: $id) { id verdict actor note at } }"
REMATCH = """mutation($id: ID!) { rematchPerson(personId: $id) {
  candidates mergedInto reviewTaskIds } }"""
PERSON = "query($id: ID!) { person(id: $id) { id } }"


pytestmark = pytest.mark.usefixtures("default_model")


def state(gateway: GatewayClient, person_id: str) -> dict[str, Any]:
    return dict(gateway.execute(STATE, {"id": person_id})["matchSubject"]["state"])


def tasks_of(
    gateway: GatewayClient, person_id: str, among: Collection[str]
) -> list[dict[str, Any]]:
    """The person's review tasks with one of the test's own persons (``among``): the
    platform is shared, and another test's namesake may rightly be proposed too."""
    edges = gateway.execute(TASKS, {"person": person_id})["reviewTasks"]["edges"]
    return [e["node"] for e in edges if {e["node"]["leftId"], e["node"]["rightId"]} <= set(among)]


def export(compliance: GatewayClient, *ids: str) -> dict[str, Any]:
    return dict(compliance.execute(EXPORT, {"ids": list(ids)})["matchingPersonalData"])


def uncertain_pair(gateway: GatewayClient) -> tuple[str, str, dict[str, str]]:
    """Same name and postal code, nothing else in common: a review task. The first
    also has an e-mail address, a phone and a birth date, all of this test's own."""
    family, here, landline = family_name(), place(), phone()
    values = {"family": family, "email": f"j.{family.lower()}@post.example", "phone": landline,
              "birth": birth_date(), "postalCode": here["postalCode"]}  # fmt: skip
    first = ingest(gateway, "crm", sourceId=f"p-{family}", givenName="Jürgen",
                   familyName=family, street="Gartenweg 2", email=values["email"],
                   phone=landline, birthDate=values["birth"], **here)  # fmt: skip
    assert eventually(lambda: state(gateway, first)["registered"])
    second = ingest(gateway, "shop", givenName="Jürgen", familyName=family,
                    street="Lindenstraße 9", **here)  # fmt: skip
    found = eventually(lambda: tasks_of(gateway, second, among={first, second}))
    assert len(found) == 1
    return first, second, values


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


async def nodes_holding(graph: GraphClient, needles: dict[str, str]) -> list[tuple[str, str]]:
    """(label, needle name) of every node with a property holding a needle (a trained
    model included: it keeps only names at least 5 persons carry)."""
    rows = await graph.read(lambda tx: tx.run(
        "test.all_nodes", "MATCH (n) RETURN labels(n) AS labels, n {.*} AS props"))  # fmt: skip
    found = []
    for row in rows:
        for value in (s for v in row["props"].values() for s in _strings(v)):
            found += [(row["labels"][0], name) for name, needle in needles.items()
                      if needle in value]  # fmt: skip
    return found


async def review_tasks_of(graph: GraphClient, person_id: str) -> int:
    """How many review tasks name the person, on either side, in matching's graph."""
    rows = await graph.read(
        lambda tx: tx.run(
            "test.review_tasks_of",
            f"MATCH (t:{REVIEW_TASK}) WHERE t.leftId = $id OR t.rightId = $id RETURN count(t) AS n",
            id=person_id,
        )
    )
    return int(rows[0]["n"])


def _needles(values: dict[str, str]) -> dict[str, str]:
    digits = values["phone"].replace(" ", "")[1:]  # "030 2345678" -> "302345678" (E.164 +49...)
    return {"email": values["email"], "phone": digits,
            "birth": values["birth"].replace("-", "")}  # fmt: skip


def test_export_lists_features_and_review_tasks(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    first, second, values = uncertain_pair(gateway)
    compliance = client_for("compliance")
    held = export(compliance, first)
    assert held["personIds"] == [first]
    assert not held["restricted"]
    items = {(i["origin"], i["field"]): i for i in held["items"]}
    assert all(i["personId"] == first for i in held["items"])
    assert items[("subject", "familyName")]["value"] == values["family"].lower()  # folded
    assert items[("subject", "familyName")]["category"] == "identity"
    assert items[("subject", "email")] | {"recordedAt": None} == {
        "personId": first, "origin": "subject", "category": "email", "field": "email",
        "value": values["email"], "recordedAt": None}  # fmt: skip
    assert items[("subject", "phone")]["category"] == "phone"
    assert items[("subject", "birthDate")]["category"] == "birth_date"
    assert items[("subject", "birthDate")]["value"] == values["birth"].replace("-", "")
    assert items[("subject", "postalCode")]["category"] == "postal_address"
    assert items[("subject", "blockingKeys")]["category"] == "matching"
    task = json.loads(items[("reviewTask", "reviewTask")]["value"])
    assert (task["otherPersonId"], task["status"], task["reason"]) == (second, "OPEN", "UNCERTAIN")
    assert 0.5 <= task["score"] < 0.99
    # The whole merge group at once; ids unknown to matching hold nothing.
    unknown = str(uuid.uuid4())
    both = export(compliance, first, second, unknown)
    assert both["personIds"] == [first, second, unknown]
    assert {i["personId"] for i in both["items"]} == {first, second}
    assert export(compliance, unknown) == {"personIds": [unknown], "restricted": False,
                                          "items": []}  # fmt: skip


@pytest.mark.parametrize("roles", [("app",), ("steward",), ()])
def test_only_compliance_may(client_for: Callable[..., GatewayClient], roles: tuple[str]) -> None:
    client = client_for(*roles)
    ids, request = [str(uuid.uuid4())], "dsr-forbidden"
    expected = ["FORBIDDEN"] if roles else ["UNAUTHENTICATED"]
    for query, variables in (
        (EXPORT, {"ids": ids}), (ERASE, {"ids": ids, "request": request}),
        (RESTRICT, {"ids": ids, "request": request, "restricted": True}),
    ):  # fmt: skip
        with pytest.raises(GraphQLError) as refused:
            client.execute(query, variables)
        assert refused.value.codes == expected


@pytest.mark.parametrize(
    ("ids", "request_id", "field"),
    [([], "dsr-1", "personIds"), (["not-a-person"], "dsr-1", "personIds"),
     ([str(uuid.uuid4()) for _ in range(1001)], "dsr-1", "personIds"),
     ([str(uuid.UUID(int=7))], " ", "requestId")],
    ids=["no ids", "not an id", "too many", "blank request"],
)  # fmt: skip
def test_bad_input_is_refused_with_its_field(
    client_for: Callable[..., GatewayClient], ids: list[str], request_id: str, field: str
) -> None:
    compliance = client_for("compliance")
    calls = [(ERASE, {"ids": ids, "request": request_id}),
             (RESTRICT, {"ids": ids, "request": request_id, "restricted": True})]  # fmt: skip
    if field == "personIds":
        calls.append((EXPORT, {"ids": ids}))
    for query, variables in calls:
        with pytest.raises(GraphQLError) as refused:
            compliance.execute(query, variables)
        assert refused.value.codes == ["BAD_USER_INPUT"]
        assert refused.value.errors[0]["extensions"]["field"] == field


async def test_erasure_removes_the_copy_and_tasks_keeps_decisions_and_is_final(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient],
    graph_for: Callable[[str], GraphClient],
) -> None:  # fmt: skip
    first, second, values = uncertain_pair(gateway)
    (task,) = tasks_of(gateway, second, among={first, second})
    note = f"called {values['email']} back"  # a note may hold anything
    gateway.execute(DECIDE, {"id": task["id"], "note": note})
    graph = graph_for("matching")
    needles = _needles(values)
    assert {name for _, name in await nodes_holding(graph, needles)} == set(needles)
    compliance = client_for("compliance")
    # The test's own task, and any with another test's namesake (rightly proposed on the
    # shared platform): the erasure removes every task of the person.
    held = await review_tasks_of(graph, first)
    assert held >= 1

    erased = compliance.execute(ERASE, {"ids": [first], "request": "dsr-erase-1"})
    assert erased["eraseMatchingData"] == {"personIds": [first], "removedSubjects": 1,
                                           "removedTasks": held}  # fmt: skip
    assert await nodes_holding(graph, needles) == []
    assert not state(gateway, first)["registered"]
    assert tasks_of(gateway, second, among={first, second}) == []
    # The audit trail stays: who decided what on which ids, when; the note is gone.
    (decision,) = gateway.execute(DECISIONS, {"id": first})["matchDecisions"]
    assert (decision["verdict"], decision["actor"], decision["note"]) == (
        "NOT_A_MATCH", "test-user", "")  # fmt: skip
    held = export(compliance, first)
    assert sorted(i["origin"] for i in held["items"]) == ["decision", "erasure"]
    assert '"requestId":"dsr-erase-1"' in next(
        i["value"] for i in held["items"] if i["origin"] == "erasure")  # fmt: skip

    again = compliance.execute(ERASE, {"ids": [first], "request": "dsr-erase-2"})
    assert again["eraseMatchingData"] == {"personIds": [first], "removedSubjects": 0,
                                          "removedTasks": 0}  # fmt: skip

    # A late person_updated (the source system sends the record again) does not bring
    # the subject back; nor does matching the person on purpose.
    family, here = values["family"], {"postalCode": values["postalCode"], "city": "Berlin",
                                      "country": "DE"}  # fmt: skip
    ingest(gateway, "crm", sourceId=f"p-{family}", givenName="Jürgen", familyName=family,
           street="Gartenweg 2", email=values["email"], phone=values["phone"],
           birthDate=values["birth"], language="de", **here)  # fmt: skip
    sentinel = ingest(gateway, "crm", givenName="Sentinel", familyName=family_name(),
                      birthDate=birth_date(), **place())  # fmt: skip
    # The worker takes events in order: once the later one is handled, so is the update.
    assert eventually(lambda: state(gateway, sentinel)["registered"])
    assert not state(gateway, first)["registered"]
    again_matched = gateway.execute(REMATCH, {"id": first})["rematchPerson"]
    assert again_matched == {"candidates": 0, "mergedInto": None, "reviewTaskIds": []}
    assert not state(gateway, first)["registered"]
    assert await nodes_holding(graph, needles) == []


def test_a_restricted_person_is_neither_merged_nor_proposed_until_lifted(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    family, here, born, landline = family_name(), place(), birth_date(), phone()
    email = f"juergen@{family.lower()}.example"
    original = ingest(gateway, "crm", givenName="Jürgen", familyName=family, birthDate=born,
                      email=email, phone=landline, street="Hauptstraße 5", **here)  # fmt: skip
    assert eventually(lambda: state(gateway, original)["registered"])
    compliance = client_for("compliance")
    restricted = compliance.execute(
        RESTRICT, {"ids": [original], "request": "dsr-restrict-1", "restricted": True}
    )["restrictMatchingProcessing"]
    assert restricted == {"personIds": [original], "restricted": True}
    assert state(gateway, original)["restricted"]
    assert export(compliance, original)["restricted"]

    # A typo'd duplicate arrives: without the restriction it would be merged at once
    # (test_matching.test_typo_duplicate_is_merged_household_member_is_not).
    duplicate = ingest(
        gateway, "shop", givenName="Juergen", familyName=family[:-1],
        birthDate=".".join(reversed(born.split("-"))), email=email, phone=landline,
        street="Hauptstr. 5", **here,
    )  # fmt: skip
    assert eventually(lambda: state(gateway, duplicate)["comparedAt"])
    assert gateway.execute(PERSON, {"id": duplicate})["person"]["id"] == duplicate
    assert tasks_of(gateway, duplicate, among={original, duplicate}) == []
    # Nor as the newcomer: matching the restricted person itself finds nothing.
    assert gateway.execute(REMATCH, {"id": original})["rematchPerson"] == {
        "candidates": 0, "mergedInto": None, "reviewTaskIds": []}  # fmt: skip
    assert gateway.execute(PERSON, {"id": duplicate})["person"]["id"] == duplicate

    lifted = compliance.execute(
        RESTRICT, {"ids": [original], "request": "dsr-restrict-1", "restricted": False}
    )["restrictMatchingProcessing"]
    assert lifted == {"personIds": [original], "restricted": False}
    assert not state(gateway, original)["restricted"]
    merged = gateway.execute(REMATCH, {"id": duplicate})["rematchPerson"]
    assert merged["mergedInto"] == original, gateway.execute(TASKS, {"person": duplicate})
    assert gateway.execute(PERSON, {"id": duplicate})["person"]["id"] == original
