"""Data-subject requests through the gateway, with the roles in force (issue 5, item 5)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdm_infra.client import GatewayClient, GraphQLError

from .test_consent import new_person

REQUEST_FIELDS = """
  id type personId status receivedAt originalDue due overdue submittedBy exports
  extensions { months reason by } personIds steps { service personIds detail }
  settledBy rejectionReason liftedAt liftReason note
"""
SUBMIT = f"""
mutation Submit($input: DataSubjectRequestInput!) {{
  submitDataSubjectRequest(input: $input) {{ {REQUEST_FIELDS} }}
}}
"""
GET = f"query Get($id: ID!) {{ dataSubjectRequest(id: $id) {{ {REQUEST_FIELDS} }} }}"
LIST = """
query List($status: DataSubjectRequestStatus, $type: DataSubjectRequestType, $personId: ID,
           $overdueOnly: Boolean! = false, $first: Int! = 50, $after: ID) {
  dataSubjectRequests(status: $status, type: $type, personId: $personId,
                      overdueOnly: $overdueOnly, first: $first, after: $after) {
    requests { id type status due overdue } hasNextPage endCursor
  }
}
"""
EXTEND = f"""
mutation Extend($id: ID!, $months: Int!, $reason: String!) {{
  extendDataSubjectRequest(id: $id, months: $months, reason: $reason) {{ {REQUEST_FIELDS} }}
}}
"""
REJECT = f"""
mutation Reject($id: ID!, $reason: String!) {{
  rejectDataSubjectRequest(id: $id, reason: $reason) {{ {REQUEST_FIELDS} }}
}}
"""
CARRY_OUT = f"""
mutation CarryOut($id: ID!) {{ carryOutDataSubjectRequest(id: $id) {{ {REQUEST_FIELDS} }} }}
"""
LIFT = f"""
mutation Lift($id: ID!, $reason: String!) {{
  liftRestriction(id: $id, reason: $reason) {{ {REQUEST_FIELDS} }}
}}
"""
EXPORT = """
query Export($id: ID!, $format: ExportFormat!) {
  dataSubjectExport(requestId: $id, format: $format) {
    requestId personIds generatedBy format mediaType content sha256 items
  }
}
"""
REASON = "Records in four source systems need to be collected."


@pytest.fixture
def compliance(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("compliance")


@pytest.fixture
def app(client_for: Callable[..., GatewayClient]) -> GatewayClient:
    return client_for("app")


def submit(client: GatewayClient, person_id: str, type_: str = "ACCESS",
           **overrides: object) -> dict[str, Any]:  # fmt: skip
    found: dict[str, Any] = client.execute(SUBMIT, {"input": {
        "personId": person_id, "type": type_, "receivedVia": "EMAIL",
        "identityCheck": "ACCOUNT_LOGIN",
    } | overrides})["submitDataSubjectRequest"]  # fmt: skip
    return found


def error_of(call: Callable[[], object]) -> dict[str, Any]:
    with pytest.raises(GraphQLError) as caught:
        call()
    extensions: dict[str, Any] = caught.value.errors[0]["extensions"]
    return extensions


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class TestLifeCycle:
    def test_a_request_is_due_one_calendar_month_after_receipt(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        person = new_person(app)
        request = submit(compliance, person, receivedAt="2026-01-31T10:00:00Z",
                         note="Asked by e-mail to the service desk.")  # fmt: skip
        assert (request["status"], request["originalDue"], request["due"]) == (
            "OPEN", "2026-02-28", "2026-02-28")  # fmt: skip
        assert request["personId"] == person
        assert request["submittedBy"].startswith("test-")  # the token's subject

    def test_an_extension_needs_a_reason_and_ends_at_two_months(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        request = submit(compliance, new_person(app))
        short = error_of(lambda: compliance.execute(
            EXTEND, {"id": request["id"], "months": 1, "reason": "busy"}))  # fmt: skip
        assert (short["code"], short["field"]) == ("BAD_USER_INPUT", "reason")
        once = compliance.execute(EXTEND, {"id": request["id"], "months": 1, "reason": REASON})
        extended = once["extendDataSubjectRequest"]
        assert extended["extensions"] == [{"months": 1, "reason": REASON,
                                           "by": extended["submittedBy"]}]  # fmt: skip
        assert extended["due"] > request["due"]
        too_far = error_of(lambda: compliance.execute(
            EXTEND, {"id": request["id"], "months": 2, "reason": REASON}))  # fmt: skip
        assert (too_far["code"], too_far["reason"]) == ("CONFLICT", "EXTENSION_LIMIT")
        twice = compliance.execute(EXTEND, {"id": request["id"], "months": 1, "reason": REASON})
        assert len(twice["extendDataSubjectRequest"]["extensions"]) == 2
        three = error_of(lambda: compliance.execute(
            EXTEND, {"id": request["id"], "months": 3, "reason": REASON}))  # fmt: skip
        assert (three["code"], three["field"]) == ("BAD_USER_INPUT", "months")

    def test_no_extension_after_the_first_month_and_the_request_shows_overdue(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        person = new_person(app)
        received = datetime.now(UTC) - timedelta(days=40)
        request = submit(compliance, person, receivedAt=iso(received))
        assert request["overdue"] is True
        late = error_of(lambda: compliance.execute(
            EXTEND, {"id": request["id"], "months": 2, "reason": REASON}))  # fmt: skip
        assert (late["code"], late["reason"]) == ("CONFLICT", "DEADLINE_PASSED")
        overdue = compliance.execute(LIST, {"overdueOnly": True, "personId": person, "first": 10})
        assert [r["id"] for r in overdue["dataSubjectRequests"]["requests"]] == [request["id"]]

    def test_a_rejection_settles_the_request_with_its_reason(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        request = submit(compliance, new_person(app))
        reason = "The fifth identical request this week (Art. 12(5))."
        rejected = compliance.execute(REJECT, {"id": request["id"], "reason": reason})
        assert rejected["rejectDataSubjectRequest"]["status"] == "REJECTED"
        assert rejected["rejectDataSubjectRequest"]["rejectionReason"] == reason
        again = error_of(lambda: compliance.execute(REJECT, {"id": request["id"],
                                                             "reason": reason}))  # fmt: skip
        assert (again["code"], again["reason"]) == ("CONFLICT", "REQUEST_NOT_OPEN")
        no_export = error_of(lambda: compliance.execute(EXPORT, {"id": request["id"],
                                                                 "format": "JSON"}))  # fmt: skip
        assert (no_export["code"], no_export["reason"]) == ("CONFLICT", "REQUEST_SETTLED")

    def test_the_queue_lists_by_due_date_with_filters_and_cursor(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        person = new_person(app)
        now = datetime.now(UTC)
        made = [submit(compliance, person, type_, receivedAt=iso(now - timedelta(days=days)))
                for type_, days in (("ACCESS", 1), ("PORTABILITY", 3), ("ACCESS", 2))]  # fmt: skip
        seen: list[str] = []
        after = None
        while True:
            page = compliance.execute(LIST, {"personId": person, "first": 2, "after": after})
            found = page["dataSubjectRequests"]
            seen += [r["id"] for r in found["requests"]]
            if not found["hasNextPage"]:
                break
            after = found["endCursor"]
        assert seen == [made[1]["id"], made[2]["id"], made[0]["id"]]  # earliest due first
        access = compliance.execute(LIST, {"personId": person, "type": "ACCESS"})
        assert len(access["dataSubjectRequests"]["requests"]) == 2


class TestErrors:
    def test_app_may_not_see_or_make_requests(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        person = new_person(app)
        request = submit(compliance, person)
        for call in (
            lambda: submit(app, person),
            lambda: app.execute(GET, {"id": request["id"]}),
            lambda: app.execute(LIST, {}),
            lambda: app.execute(EXPORT, {"id": request["id"], "format": "JSON"}),
            lambda: app.execute(CARRY_OUT, {"id": request["id"]}),
        ):
            assert error_of(call)["code"] == "FORBIDDEN"

    def test_bad_input_is_refused_with_the_field(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        person = new_person(app)
        unknown = error_of(lambda: submit(compliance, str(uuid.uuid4())))
        assert (unknown["code"], unknown["field"]) == ("NOT_FOUND", "personId")
        bad_id = error_of(lambda: submit(compliance, "not-a-person"))
        assert (bad_id["code"], bad_id["field"]) == ("BAD_USER_INPUT", "personId")
        future = iso(datetime.now(UTC) + timedelta(days=1))
        ahead = error_of(lambda: submit(compliance, person, receivedAt=future))
        assert (ahead["code"], ahead["field"]) == ("BAD_USER_INPUT", "receivedAt")
        missing = error_of(lambda: compliance.execute(GET, {"id": str(uuid.uuid4())}))
        assert (missing["code"], missing["field"]) == ("NOT_FOUND", "id")
        garbled = error_of(lambda: compliance.execute(GET, {"id": "x"}))
        assert (garbled["code"], garbled["field"]) == ("BAD_USER_INPUT", "id")
        paging = error_of(lambda: compliance.execute(LIST, {"first": 0}))
        assert (paging["code"], paging["field"]) == ("BAD_USER_INPUT", "first")

    def test_each_kind_is_answered_its_own_way(
        self, compliance: GatewayClient, app: GatewayClient
    ) -> None:
        person = new_person(app)
        access = submit(compliance, person, "ACCESS")
        erasure = submit(compliance, person, "ERASURE")
        wrong = error_of(lambda: compliance.execute(CARRY_OUT, {"id": access["id"]}))
        assert (wrong["code"], wrong["reason"]) == ("CONFLICT", "WRONG_REQUEST_TYPE")
        no_export = error_of(lambda: compliance.execute(EXPORT, {"id": erasure["id"],
                                                                 "format": "CSV"}))  # fmt: skip
        assert (no_export["code"], no_export["reason"]) == ("CONFLICT", "WRONG_REQUEST_TYPE")
        not_lifted = error_of(lambda: compliance.execute(LIFT, {"id": erasure["id"],
                                                                "reason": REASON}))  # fmt: skip
        expected = ("CONFLICT", "NOT_A_RESTRICTION_IN_FORCE")
        assert (not_lifted["code"], not_lifted["reason"]) == expected
