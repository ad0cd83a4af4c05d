"""Company matching through the whole platform: company records in, the matching
worker hears of them, merges a sure duplicate through the profile service, leaves a
branch apart, and puts an uncertain pair in the stewards' queue, where a steward's
decision merges it and an undo takes the merge back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .test_company_records import INGEST, RESOLVE, _vat
from .test_merging import wait_for

DECISIONS = """query($id: ID!) { companyMatchDecisions(companyId: $id) {
  id verdict kind actor leftCompany { id name } rightCompany { id name } left { id }
  explanation { comparison level }
} }"""
TASKS = """query($id: ID!) { reviewTasks(kind: COMPANY, companyId: $id, first: 10) {
  edges { node {
    id kind reason probability conflicts leftId rightId left { id }
    leftCompany { id name address { city } } rightCompany { id name address { city } }
    explanation { comparison level weight }
  } }
} }"""
DECIDE = """mutation($id: ID!, $decision: StewardDecision!) {
  decideReviewTask(id: $id, decision: $decision, note: "same company, says the register") {
    id verdict kind mergeId
  }
}"""
UNDO = """mutation($id: ID!) { undoMerge(decisionId: $id, note: "two companies after all") {
  verdict kind
} }"""


def _send(gateway: GatewayClient, source: str, *records: dict[str, str]) -> list[str]:
    answer = gateway.execute(INGEST, {"source": source, "records": list(records)})
    return [r["companyId"] for r in answer["ingestCompanyRecords"]["results"]]


def _resolved(gateway: GatewayClient, company_id: str) -> Callable[[], object]:
    return lambda: gateway.execute(RESOLVE, {"id": company_id})["company"]["id"]


def _tasks(gateway: GatewayClient, company_id: str) -> list[dict[str, Any]]:
    found = gateway.execute(TASKS, {"id": company_id})["reviewTasks"]["edges"]
    return [edge["node"] for edge in found]


def test_a_sure_duplicate_is_merged_and_a_branch_left_apart(gateway: GatewayClient) -> None:
    word, vat = f"Firma{uuid.uuid4().hex[:6]}", _vat()
    head, branch = _send(
        gateway,
        "erp",
        {
            "sourceId": f"{word}-h",
            "name": f"{word} Maschinenbau GmbH",
            "vatId": vat,
            "street": "Hauptstr. 1",
            "postalCode": "80331",
            "city": "München",
        },
        {
            "sourceId": f"{word}-b",
            "name": f"{word} Maschinenbau GmbH Niederlassung Köln",
            "vatId": vat,
            "street": "Domplatz 2",
            "postalCode": "50667",
            "city": "Köln",
        },
    )
    # The CRM's record of the head office: a typo in the name, the legal form spelt out.
    (duplicate,) = _send(
        gateway,
        "crm",
        {
            "sourceId": f"{word}-c",
            "name": f"{word} Maschienenbau Gesellschaft mit beschränkter Haftung",
            "vatId": vat,
            "postalCode": "80331",
            "city": "München",
        },
    )

    wait_for(_resolved(gateway, duplicate), head, timeout_s=30)

    def decisions() -> list[dict[str, Any]]:
        return list(gateway.execute(DECISIONS, {"id": head})["companyMatchDecisions"])

    # Audited once the profile service's merge is done.
    wait_for(
        lambda: [(d["verdict"], d["kind"], d["actor"]) for d in decisions()],
        [("AUTO_MERGE", "COMPANY", "service:matching-engine")],
    )
    (decision,) = decisions()
    assert {decision["leftCompany"]["id"], decision["rightCompany"]["id"]} == {head, duplicate}
    assert decision["left"] is None  # a pair of companies has no persons
    assert {"comparison": "vatId", "level": "same"} in decision["explanation"]

    # The branch shares the VAT id but is not the head office: neither merged nor asked.
    assert _resolved(gateway, branch)() == branch
    assert _tasks(gateway, branch) == []


def test_an_uncertain_pair_is_a_stewards_task_and_the_merge_can_be_undone(
    gateway: GatewayClient, client_for: Callable[..., GatewayClient]
) -> None:
    word = f"Firma{uuid.uuid4().hex[:6]}"
    # The same name and legal form, and nothing else to compare: likely, not sure.
    (erp,) = _send(gateway, "erp", {"sourceId": f"{word}-e", "name": f"{word} Anlagenbau GmbH"})
    (crm,) = _send(
        gateway,
        "crm",
        {
            "sourceId": f"{word}-c",
            "name": f"{word} Anlagenbau GmbH",
            "city": "Köln",
            "postalCode": "50667",
        },
    )

    deadline = time.monotonic() + 30
    while not (tasks := _tasks(gateway, crm)) and time.monotonic() < deadline:
        time.sleep(0.2)
    (task,) = tasks
    assert (task["kind"], task["reason"], task["left"]) == ("COMPANY", "UNCERTAIN", None)
    assert 0.5 <= task["probability"] < 0.99
    sides = {side["id"]: side for side in (task["leftCompany"], task["rightCompany"])}
    assert sides[crm] == {"id": crm, "name": f"{word} Anlagenbau GmbH", "address": {"city": "Köln"}}
    assert sides[erp]["address"] is None
    assert ("name", "exact") in [(c["comparison"], c["level"]) for c in task["explanation"]]
    assert _resolved(gateway, crm)() == crm  # not merged by itself

    with pytest.raises(GraphQLError) as forbidden:
        client_for("app").execute(DECIDE, {"id": task["id"], "decision": "MERGE"})
    assert forbidden.value.codes == ["FORBIDDEN"]
    decided = gateway.execute(DECIDE, {"id": task["id"], "decision": "MERGE"})["decideReviewTask"]
    assert (decided["verdict"], decided["kind"]) == ("MERGE", "COMPANY")
    # The company the profile knew first survives.
    assert _resolved(gateway, crm)() == erp
    assert _tasks(gateway, crm) == []

    undone = gateway.execute(UNDO, {"id": decided["id"]})["undoMerge"]
    assert undone == {"verdict": "UNMERGE", "kind": "COMPANY"}
    assert _resolved(gateway, crm)() == crm
