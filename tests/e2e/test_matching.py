"""Online matching and steward review through the gateway, with the real worker.

Each test invents a family name of its own so that its persons only ever block
with each other, whatever other tests ingest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import Any

import pytest

from mdm_infra.client import GatewayClient, GraphQLError
from mdm_infra.testing import eventually

from .matching_support import birth_date, family_name, ingest, place, tax_id
from .queries import INGEST

PERSON = "query($id: ID!) { person(id: $id) { id mergedFrom } }"
SUBJECT = "query($id: ID!) { matchSubject(personId: $id) { state { registered mergedInto } } }"
TASKS = """query($person: ID, $statuses: [ReviewStatus!]) {
  reviewTasks(personId: $person, statuses: $statuses, first: 10) {
    edges { node {
      id probability reason status conflicts note leftId rightId
      left { id givenName } right { id givenName }
      explanation { comparison level weight }
      decisions { verdict actor note }
    } }
  }
}"""
DECIDE = """mutation($id: ID!, $decision: StewardDecision!, $note: String!) {
  decideReviewTask(id: $id, decision: $decision, note: $note) {
    id verdict actor note mergeId left { id } right { id }
  }
}"""
UNDO = """mutation($id: ID!) { undoMerge(decisionId: $id, note: "wrong person") {
  verdict mergeId } }"""
REMATCH = """mutation($id: ID!) { rematchPerson(personId: $id) {
  candidates mergedInto reviewTaskIds } }"""
DECISIONS = "query($id: ID!) { matchDecisions(personId: $id) { verdict actor mergeId } }"


def matched(gateway: GatewayClient, person_id: str) -> bool:
    """The worker has handled the person (registered it, merged or not)."""
    state = gateway.execute(SUBJECT, {"id": person_id})["matchSubject"]["state"]
    return bool(state["registered"])


def compared_at(gateway: GatewayClient, person_id: str) -> str | None:
    query = "query($id: ID!) { matchSubject(personId: $id) { state { comparedAt } } }"
    return gateway.execute(query, {"id": person_id})["matchSubject"]["state"]["comparedAt"]


def tasks_of(
    gateway: GatewayClient, person_id: str, *statuses: str, among: Collection[str]
) -> list[dict[str, Any]]:
    """The person's review tasks with one of the test's own persons (``among``).

    The e2e platform is shared: another test's person of the same given name and
    birth year (all test families begin with "Kessel") may rightly be proposed too.
    """
    variables = {"person": person_id, "statuses": list(statuses) or None}
    edges = gateway.execute(TASKS, variables)["reviewTasks"]["edges"]
    return [e["node"] for e in edges if {e["node"]["leftId"], e["node"]["rightId"]} <= set(among)]


def test_typo_duplicate_is_merged_household_member_is_not(gateway: GatewayClient) -> None:
    family, here, born = family_name(), place(), birth_date()
    original = ingest(
        gateway, "crm", givenName="Jürgen", familyName=family, birthDate=born,
        email=f"juergen@{family}.example", phone="030 1234567", street="Hauptstraße 5", **here,
    )  # fmt: skip
    assert eventually(lambda: matched(gateway, original))
    german_date = ".".join(reversed(born.split("-")))  # as the shop exports it
    duplicate = ingest(
        gateway, "shop", givenName="Juergen", familyName=family[:-1], birthDate=german_date,
        email=f"juergen@{family}.example", street="Hauptstr. 5", **here,
    )  # fmt: skip
    year, month, day = (int(part) for part in born.split("-"))
    spouse_born = f"{year - 11}-{month % 12 + 1:02d}-{day:02d}"  # clearly another date
    spouse = ingest(
        gateway, "shop", givenName="Sabine", familyName=family, birthDate=spouse_born,
        phone="030 1234567", street="Hauptstraße 5", **here,
    )  # fmt: skip

    merged = eventually(
        lambda: gateway.execute(PERSON, {"id": duplicate})["person"]["id"] == original
    )
    # If the merge does not come, what matching holds about the duplicate says why.
    assert merged, (
        gateway.execute(SUBJECT, {"id": duplicate}),
        gateway.execute(DECISIONS, {"id": duplicate}),
        tasks_of(gateway, duplicate, "OPEN", "DEFERRED", "RESOLVED", among={original, duplicate}),
    )
    assert gateway.execute(PERSON, {"id": original})["person"]["mergedFrom"] == [duplicate]
    assert eventually(lambda: matched(gateway, spouse))
    assert gateway.execute(PERSON, {"id": spouse})["person"]["id"] == spouse
    # Other given name and other birth date: clearly someone else, no steward needed.
    assert tasks_of(gateway, spouse, among={original, duplicate, spouse}) == []

    audit = gateway.execute(DECISIONS, {"id": original})["matchDecisions"]
    assert [(d["verdict"], d["actor"]) for d in audit] == [
        ("AUTO_MERGE", "service:matching-engine")]  # fmt: skip
    assert audit[0]["mergeId"]


def test_newcomers_of_one_batch_match_each_other_in_arrival_order(
    gateway: GatewayClient,
) -> None:
    """One ingest call queues its persons' events together, and the worker matches
    them in one pass: the later duplicates still join the earliest newcomer, and a
    newcomer merged away is no candidate of the ones after it."""
    family, here, born = family_name(), place(), birth_date()
    email = f"anna@{family}.example"
    same = {"familyName": family, "birthDate": born, "email": email, **here}
    records = [
        {"sourceId": uuid.uuid4().hex[:16], "givenName": "Anna", "street": "Ringstraße 1"},
        {"sourceId": uuid.uuid4().hex[:16], "givenName": "Anna", "street": "Ringstr. 1"},
        {"sourceId": uuid.uuid4().hex[:16], "givenName": "Anna", "street": "Ringstraße 1"},
    ]
    result = gateway.execute(
        INGEST, {"source": "shop", "records": [same | record for record in records]}
    )
    first, second, third = (r["personId"] for r in result["ingestSourceRecords"]["records"])

    def golden(person_id: str) -> str:
        return str(gateway.execute(PERSON, {"id": person_id})["person"]["id"])

    persons = {first, second, third}
    eventually(lambda: len({golden(p) for p in persons}) == 1)
    survivor = golden(first)
    # The one that arrived first (the events' order) survives; the others joined it.
    assert {golden(p) for p in persons} == {survivor}
    assert survivor in persons
    merged_away = sorted(persons - {survivor})
    assert sorted(gateway.execute(PERSON, {"id": survivor})["person"]["mergedFrom"]) == merged_away
    audit = gateway.execute(DECISIONS, {"id": survivor})["matchDecisions"]
    assert [d["verdict"] for d in audit] == ["AUTO_MERGE", "AUTO_MERGE"]
    # The last one met only the survivor: the other, merged away, was no candidate.
    assert all(tasks_of(gateway, p, among=persons) == [] for p in persons)


def uncertain_pair(gateway: GatewayClient) -> tuple[str, str, dict[str, Any]]:
    """Same name and postal code, nothing else known: between the thresholds."""
    family, here = family_name(), place()
    first = ingest(gateway, "crm", givenName="Jürgen", familyName=family,
                   street="Gartenweg 2", **here)  # fmt: skip
    assert eventually(lambda: matched(gateway, first))
    second = ingest(gateway, "shop", givenName="Jürgen", familyName=family,
                    street="Lindenstraße 9", sourceId=f"s-{family}", **here)  # fmt: skip
    found = eventually(lambda: tasks_of(gateway, second, among={first, second}))
    assert len(found) == 1
    return first, second, found[0]


def test_uncertain_pair_is_reviewed_with_explanation_and_not_a_match_is_remembered(
    gateway: GatewayClient,
) -> None:
    first, second, task = uncertain_pair(gateway)
    assert task["reason"] == "UNCERTAIN"
    assert task["status"] == "OPEN"
    assert 0.5 <= task["probability"] < 0.99
    assert {task["left"]["id"], task["right"]["id"]} == {first, second}
    assert task["left"]["givenName"] == "Jürgen"  # the profile side by side, via the gateway
    levels = {e["comparison"]: e["level"] for e in task["explanation"]}
    assert levels["givenName"] == "exact"
    assert levels["familyName"] == "exact"
    assert levels["address"] == "same postal code"
    assert levels["email"] is None
    assert gateway.execute(PERSON, {"id": second})["person"]["id"] == second  # not merged

    note = "different birth years per phone call"
    decided = gateway.execute(DECIDE, {"id": task["id"], "decision": "NOT_A_MATCH", "note": note})
    assert decided["decideReviewTask"]["verdict"] == "NOT_A_MATCH"
    assert decided["decideReviewTask"]["actor"] == "test-user"
    resolved = tasks_of(gateway, second, "RESOLVED", among={first, second})
    assert resolved[0]["decisions"] == [
        {"verdict": "NOT_A_MATCH", "actor": "test-user", "note": note}]  # fmt: skip

    # Matching again does not propose the rejected pair ...
    again = gateway.execute(REMATCH, {"id": second})["rematchPerson"]
    assert again["candidates"] == 1
    assert again["reviewTaskIds"] == []
    assert tasks_of(gateway, second, among={first, second}) == []
    # ... nor does a change that is not material for matching (the language) ...
    family = _family_of(gateway, second)
    record = {"sourceId": f"s-{family}", "givenName": "Jürgen", "familyName": family,
              "street": "Lindenstraße 9", **_place_of(gateway, second)}  # fmt: skip
    before = compared_at(gateway, second)
    ingest(gateway, "shop", **record, language="de")
    assert eventually(lambda: compared_at(gateway, second) != before)  # matched again
    assert tasks_of(gateway, second, among={first, second}) == []
    # ... but a material change (a birth date now known) brings the pair back.
    ingest(gateway, "shop", **record, birthDate=birth_date())
    assert eventually(lambda: tasks_of(gateway, second, among={first, second}))
    # And a decided task cannot be decided twice.
    with pytest.raises(GraphQLError) as twice:
        gateway.execute(DECIDE, {"id": task["id"], "decision": "MERGE", "note": ""})
    assert twice.value.codes == ["CONFLICT"]


def _family_of(gateway: GatewayClient, person_id: str) -> str:
    query = "query($id: ID!) { person(id: $id) { familyName } }"
    return str(gateway.execute(query, {"id": person_id})["person"]["familyName"])


def _place_of(gateway: GatewayClient, person_id: str) -> dict[str, str]:
    query = "query($id: ID!) { person(id: $id) { address { postalCode city country } } }"
    return dict(gateway.execute(query, {"id": person_id})["person"]["address"])


def test_steward_merge_is_audited_and_can_be_undone(gateway: GatewayClient) -> None:
    first, second, task = uncertain_pair(gateway)
    deferred = gateway.execute(DECIDE, {"id": task["id"], "decision": "DEFER", "note": "ask"})
    assert deferred["decideReviewTask"]["verdict"] == "DEFER"
    assert [t["status"] for t in tasks_of(gateway, second, among={first, second})] == [
        "DEFERRED"
    ]  # still queued

    merged = gateway.execute(DECIDE, {"id": task["id"], "decision": "MERGE", "note": "same"})
    decision = merged["decideReviewTask"]
    assert decision["verdict"] == "MERGE"
    assert decision["mergeId"]
    survivor = gateway.execute(PERSON, {"id": second})["person"]
    assert survivor["id"] == first  # the profile known longer survives
    assert survivor["mergedFrom"] == [second]

    undone = gateway.execute(UNDO, {"id": decision["id"]})["undoMerge"]
    assert undone == {"verdict": "UNMERGE", "mergeId": decision["mergeId"]}
    assert gateway.execute(PERSON, {"id": second})["person"]["id"] == second
    audit = [d["verdict"] for d in gateway.execute(DECISIONS, {"id": second})["matchDecisions"]]
    assert audit == ["DEFER", "MERGE", "UNMERGE"]
    with pytest.raises(GraphQLError) as twice:
        gateway.execute(UNDO, {"id": decision["id"]})
    assert twice.value.codes == ["CONFLICT"]


def test_review_errors_are_typed(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    with pytest.raises(GraphQLError) as unknown:
        gateway.execute(DECIDE, {"id": str(uuid.uuid4()), "decision": "MERGE", "note": ""})
    assert unknown.value.codes == ["NOT_FOUND"]
    with pytest.raises(GraphQLError) as long_note:
        gateway.execute(DECIDE, {"id": str(uuid.uuid4()), "decision": "DEFER", "note": "x" * 2001})
    assert long_note.value.codes == ["BAD_USER_INPUT"]
    with pytest.raises(GraphQLError) as bad_cursor:
        gateway.execute('{ reviewTasks(after: "nonsense") { edges { cursor } } }')
    assert bad_cursor.value.codes == ["BAD_USER_INPUT"]
    with pytest.raises(GraphQLError) as app_only:
        client_for("app").execute("{ reviewTasks { edges { cursor } } }")
    assert app_only.value.codes == ["FORBIDDEN"]


TRAIN = "mutation { startMatchTraining { id status requestedBy } }"
JOB = """query($id: ID!) { matchTrainingJob(id: $id) {
  status subjects candidatePairs modelVersion error finishedAt } }"""


def test_the_model_is_trained_on_the_data_and_then_used(gateway: GatewayClient) -> None:
    # Some persons of their own, so that training has pairs whatever ran before.
    family, here = family_name(), place()
    for given in ("Jürgen", "Juergen", "Sabine", "Jürgen"):
        ingest(gateway, "crm", givenName=given, familyName=family, street="Gartenweg 2", **here)

    started = gateway.execute(TRAIN)["startMatchTraining"]
    assert (started["status"], started["requestedBy"]) == ("QUEUED", "test-user")
    job = eventually(lambda: (found := gateway.execute(JOB, {"id": started["id"]})[
        "matchTrainingJob"])["status"] in {"DONE", "FAILED"} and found, timeout_s=60)  # fmt: skip
    assert job["status"] == "DONE", job
    assert job["subjects"] >= 2
    assert job["candidatePairs"] >= 1
    assert started["id"] in job["modelVersion"]
    assert job["finishedAt"]

    # Matching keeps working with the trained model.
    person = ingest(gateway, "shop", givenName="Jürgen", familyName=family, **here)
    assert eventually(lambda: matched(gateway, person))
    with pytest.raises(GraphQLError) as unknown:
        gateway.execute(JOB, {"id": str(uuid.uuid4())})
    assert unknown.value.codes == ["NOT_FOUND"]


# The engine's documented defaults: an earlier test here trains a model on little data.
@pytest.mark.usefixtures("default_model_sync")
class TestIdentifiersAsEvidence:
    def test_the_same_tax_id_outweighs_a_nickname(self, gateway: GatewayClient) -> None:
        family, here, born, same = family_name(), place(), birth_date(), tax_id()
        original = ingest(
            gateway,
            "crm",
            givenName="Johannes",
            familyName=family,
            birthDate=born,
            **here,
            identifiers=[{"scheme": "TAX_ID_DE", "value": same}],
        )
        assert eventually(lambda: matched(gateway, original))
        nickname = ingest(
            gateway,
            "shop",
            givenName="Hans",
            familyName=family,
            birthDate=born,
            **here,
            identifiers=[{"scheme": "TAX_ID_DE", "value": " ".join([same[:2], same[2:]])}],
        )
        assert eventually(
            lambda: gateway.execute(PERSON, {"id": nickname})["person"]["id"] == original
        )

    def test_different_tax_ids_keep_namesakes_apart(self, gateway: GatewayClient) -> None:
        family, here, born = family_name(), place(), birth_date()
        first = ingest(
            gateway,
            "crm",
            givenName="Maria",
            familyName=family,
            birthDate=born,
            **here,
            identifiers=[{"scheme": "TAX_ID_DE", "value": tax_id()}],
        )
        assert eventually(lambda: matched(gateway, first))
        second = ingest(
            gateway,
            "shop",
            givenName="Maria",
            familyName=family,
            birthDate=born,
            **here,
            identifiers=[{"scheme": "TAX_ID_DE", "value": tax_id()}],
        )
        assert eventually(lambda: matched(gateway, second))
        assert gateway.execute(PERSON, {"id": second})["person"]["id"] == second
        # One guard: a steward sees the pair (the task is written after the match).
        assert eventually(lambda: tasks_of(gateway, second, "OPEN", among={first, second}))
        [task] = tasks_of(gateway, second, "OPEN", among={first, second})
        assert "tax ids differ" in " ".join(task["conflicts"])
