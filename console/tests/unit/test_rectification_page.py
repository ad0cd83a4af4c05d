"""The rectification pages' decisions: the queue's filter, the value asked for as
shown, when a decision may be taken, and a refusal placed next to its field."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from mdm_console import i18n
from mdm_console.client import GatewayError
from mdm_console.pages.rectification import QueueView, asked, error_in_words, may_decide


def view(query: str) -> QueueView:
    return QueueView.of(Request({"type": "http", "query_string": query.encode(), "headers": []}))


def request(status: str, **rectification: Any) -> dict[str, Any]:
    return {"status": status, "rectification": {"field": "email", "value": None} | rectification}


class TestQueueView:
    def test_the_default_is_the_requests_waiting_for_a_decision(self) -> None:
        default = view("")
        assert default.variables == {"status": "OPEN", "after": None}
        assert default.query() == "/rectifications"

    def test_all_statuses_and_paging(self) -> None:
        everything = view("status=all&after=abc")
        assert everything.variables == {"status": None, "after": "abc"}
        assert everything.query() == "/rectifications?status=all"
        assert everything.query(after="xyz") == "/rectifications?status=all&after=xyz"

    def test_an_unknown_status_falls_back_to_open(self) -> None:
        assert view("status=EVIL") == view("")


class TestAsked:
    def test_an_address_is_shown_by_its_parts(self) -> None:
        found = {"rectification": {"field": "address", "value": '{"city": "Leipzig"}'}}
        assert asked(found)["address"] == {"city": "Leipzig"}

    def test_a_value_that_is_no_address_stays_text(self) -> None:
        found = {"rectification": {"field": "address", "value": "not json"}}
        assert asked(found) == {"field": "address", "value": "not json", "address": None}
        assert asked({"rectification": None})["field"] is None


class TestMayDecide:
    def test_open_or_an_approval_being_applied(self) -> None:
        assert may_decide(request("OPEN", value="x@example.org"))
        assert may_decide(request("IN_PROGRESS", value="x@example.org"))  # approve resumes

    def test_not_once_decided(self) -> None:
        assert not may_decide(request("COMPLETED", decision="APPROVED"))
        assert not may_decide(request("REJECTED"))
        assert not may_decide(request("IN_PROGRESS"))


class TestErrorsNextToTheirField:
    @pytest.fixture(autouse=True)
    def english(self) -> None:
        i18n.use("en")

    def test_a_reason_out_of_bounds(self) -> None:
        refused = GatewayError("BAD_USER_INPUT", "reason needs 10-2000 characters.", field="reason")
        assert error_in_words(refused) == ("reason", "The reason needs 10 to 2,000 characters.")

    def test_a_value_the_profile_refuses_names_its_quality_code(self) -> None:
        refused = GatewayError("BAD_USER_INPUT", "bad", field="email", reason="INVALID")
        field, message = error_in_words(refused)
        assert field == "value"
        assert "(invalid)" in message

    def test_conflicts_belong_to_the_decision(self) -> None:
        erased = GatewayError("CONFLICT", "erased", field="id", reason="ERASED")
        assert error_in_words(erased)[0] == "decision"
        assert "Reject the request" in error_in_words(erased)[1]
        other = GatewayError("CONFLICT", "Something else.", field="id", reason="NEW_CODE")
        assert error_in_words(other) == ("decision", "Something else.")
