"""Data-subject requests without servers: due dates, holds in the contact check, exports."""

from __future__ import annotations

import calendar
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_common.contracts import DataCategory, PersonalDataItem
from mdm_consent.domain.access_export import CSV_COLUMNS, ExportFormat, render
from mdm_consent.domain.fulfilment import Held
from mdm_consent.domain.models import Channel, EventType, Hold, HoldKind
from mdm_consent.domain.requests import (
    DataSubjectRequest,
    Extension,
    IdentityCheck,
    ReceivedVia,
    RequestStatus,
    RequestType,
    due_on,
)
from mdm_consent.domain.rules import Reason, decide

from .facts import NEWSLETTER, T0, at, fact


def _utc(y: int, m: int, d: int, hour: int = 12) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (_utc(2026, 3, 15), date(2026, 4, 15)),
        (_utc(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day
        (_utc(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (_utc(2026, 12, 20), date(2027, 1, 20)),
        # 00:30 in Berlin on 1 March is still 28 February in UTC
        (datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), date(2026, 3, 28)),
    ],
)
def test_due_one_calendar_month_after_receipt(received: datetime, due: date) -> None:
    assert due_on(received) == due


def test_an_extension_adds_whole_months() -> None:
    assert due_on(_utc(2026, 1, 31), extra_months=2) == date(2026, 4, 30)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)))  # fmt: skip
def test_due_date_is_the_same_day_next_month_or_its_last_day(received: datetime) -> None:
    due = due_on(received)
    day = received.date()
    next_month = (day.month % 12) + 1
    assert due.month == next_month
    last = calendar.monthrange(due.year, due.month)[1]
    assert due.day == min(day.day, last)
    assert 28 <= (due - day).days <= 31


def _request(**changes: object) -> DataSubjectRequest:
    base = DataSubjectRequest(
        id="r1", type=RequestType.ACCESS, person_id="p1", received_at=_utc(2026, 3, 15),
        received_via=ReceivedVia.EMAIL, identity_check=IdentityCheck.ACCOUNT_LOGIN,
        submitted_at=_utc(2026, 3, 15), submitted_by="officer",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


class TestOverdue:
    def test_open_after_the_due_date_is_overdue(self) -> None:
        request = _request()
        assert not request.overdue(_utc(2026, 4, 15, 23))
        assert request.overdue(_utc(2026, 4, 16, 0))

    def test_an_extension_moves_the_deadline(self) -> None:
        extended = _request(extensions=(Extension(2, "many systems", _utc(2026, 4, 1), "o"),))
        assert extended.due == date(2026, 6, 15)
        assert not extended.overdue(_utc(2026, 5, 1))

    def test_settled_requests_are_never_overdue(self) -> None:
        assert not _request(status=RequestStatus.COMPLETED).overdue(_utc(2027, 1, 1))


class TestHolds:
    GRANT = fact(EventType.CONFIRMED)  # a confirmed e-mail opt-in

    def test_a_restriction_refuses_even_a_valid_consent(self) -> None:
        hold = Hold(HoldKind.RESTRICTED, at(10), "r1")
        assert decide(NEWSLETTER, Channel.EMAIL, [self.GRANT], at(5), holds=[hold]).allowed
        verdict = decide(NEWSLETTER, Channel.EMAIL, [self.GRANT], at(10), holds=[hold])
        assert (verdict.allowed, verdict.reason) == (False, Reason.PROCESSING_RESTRICTED)

    def test_a_lifted_restriction_no_longer_counts(self) -> None:
        hold = Hold(HoldKind.RESTRICTED, at(10), "r1", until=at(20))
        assert not decide(NEWSLETTER, Channel.EMAIL, [self.GRANT], at(19), holds=[hold]).allowed
        assert decide(NEWSLETTER, Channel.EMAIL, [self.GRANT], at(20), holds=[hold]).allowed

    def test_erasure_is_reported_over_a_restriction(self) -> None:
        holds = [Hold(HoldKind.RESTRICTED, at(1), "r1"), Hold(HoldKind.ERASED, at(2), "r2")]
        verdict = decide(NEWSLETTER, Channel.EMAIL, [self.GRANT], at(3), holds=holds)
        assert verdict.reason is Reason.ERASED


def test_export_binds_items_to_the_purposes_using_their_category() -> None:
    purpose = replace(NEWSLETTER, data_categories=(DataCategory.EMAIL,), retention_days=730)
    items = [
        Held("profile", PersonalDataItem("p1", "golden", DataCategory.EMAIL, "email",
                                         "a@example.org", source="shop", source_id="s1",
                                         recorded_at=T0)),
        Held("profile", PersonalDataItem("p1", "golden", DataCategory.BIRTH_DATE, "birthDate",
                                         "1980-02-03")),
        Held("consent", PersonalDataItem("p1", "consentEvent", DataCategory.CONSENT, "GRANTED",
                                         json.dumps({"purpose": "newsletter"}))),
    ]  # fmt: skip
    as_json = render(_request(), items, [purpose], person_ids=("p1",), fmt=ExportFormat.JSON,
                     by="officer", now=T0)  # fmt: skip
    document = json.loads(as_json.content)
    bound = {(i["field"], tuple(i["purposes"]), i["retentionDays"]) for i in document["items"]}
    assert bound == {("email", ("newsletter",), 730), ("birthDate", (), None),
                     ("GRANTED", ("newsletter",), 730)}  # fmt: skip
    assert [p["code"] for p in document["purposes"]] == ["newsletter"]
    as_csv = render(_request(), items, [purpose], person_ids=("p1",), fmt=ExportFormat.CSV,
                    by="officer", now=T0)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(as_csv.content)))
    assert tuple(rows[0]) == CSV_COLUMNS
    held = [r for r in rows if r["service"] != "export"]  # merges, recipients, retention
    assert [r["value"] for r in held] == [
        h.item.value for h in items
    ]  # quoting survives JSON values
    assert rows[0]["purposes"] == "newsletter"
    assert (as_json.items, as_csv.items) == (3, len(rows))
    assert as_csv.sha256 != as_json.sha256
