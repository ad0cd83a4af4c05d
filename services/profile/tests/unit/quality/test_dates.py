from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.quality.dates import BirthDate, parse_birth_date
from mdm_profile.domain.quality.report import QualityReport, Severity

TODAY = date(2026, 12, 6)


def parse(raw: str) -> tuple[BirthDate, list[str]]:
    report = QualityReport()
    found = parse_birth_date(raw, today=TODAY, report=report)
    assert all(i.severity is Severity.WARNING for i in report.issues)
    return found, [i.code for i in report.issues]


@pytest.mark.parametrize(
    ("raw", "full"),
    [("1987-05-12", date(1987, 5, 12)), ("12.05.1987", date(1987, 5, 12)),
     ("1987/5/12", date(1987, 5, 12)), (" 2026-12-06 ", date(2026, 12, 6))],
)  # fmt: skip
def test_full_dates(raw: str, full: date) -> None:
    assert parse(raw) == (BirthDate(full=full), [])


@pytest.mark.parametrize(
    ("raw", "partial", "code"),
    [("1987-13-45", "1987", "PARTIAL_YEAR_KEPT"), ("1987-05-92", "1987-05", "PARTIAL_MONTH_KEPT"),
     ("30.02.1980", "1980-02", "PARTIAL_MONTH_KEPT"), ("1987", "1987", "YEAR_ONLY"),
     ("05/1987", "1987-05", "MONTH_ONLY"), ("1987-05", "1987-05", "MONTH_ONLY")],
)  # fmt: skip
def test_impossible_dates_keep_what_is_plausible(raw: str, partial: str, code: str) -> None:
    assert parse(raw) == (BirthDate(partial=partial), [code])


@pytest.mark.parametrize(
    ("raw", "code"),
    [("2026-12-07", "IN_FUTURE"), ("2027", "IN_FUTURE"), ("2027-13-01", "IN_FUTURE"),
     ("1780-01-01", "IMPLAUSIBLE"), ("gestern", "INVALID"), ("12.5.87", "INVALID")],
)  # fmt: skip
def test_future_and_ancient_dates_keep_nothing(raw: str, code: str) -> None:
    found, codes = parse(raw)
    assert not found.known
    assert codes[-1] == code


@given(st.text(max_size=20))
def test_any_text_gives_a_past_date_a_partial_one_or_a_warning(raw: str) -> None:
    found, codes = parse(raw)
    if found.full is not None:
        assert found.full <= TODAY
    elif found.partial is not None:
        assert found.partial <= TODAY.isoformat()[: len(found.partial)]
        assert codes
    else:
        assert codes or not raw.strip()


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_every_real_date_survives_in_both_spellings(day: date) -> None:
    assert parse(day.isoformat())[0].full == day
    assert parse(day.strftime("%d.%m.%Y"))[0].full == day
