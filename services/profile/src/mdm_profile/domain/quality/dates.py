"""Birth dates: full where the source sent one, partial where only part of it is plausible.

A CRM export holds "1987-13-45", "31.02.1980" or a bare "1987" next to good dates.
Dropping such a value throws away the year, which still tells two namesakes apart;
keeping it as a date would invent a day. So the plausible part survives as a
*partial* birth date (``"1987"`` or ``"1987-05"``), which matching compares as such,
and the value as received stays in the source record.

A date in the future or more than 130 years back is a data error (a junior is not
born next year): nothing of it is kept but the raw value and a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mdm_profile.domain.quality.report import QualityReport, Severity

OLDEST_AGE = 130
MONTHS = 12
# Year first ("1987-05-12", "1987/5/12", "1987.05.12") or German day first ("12.05.1987").
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?")
_DAY_FIRST = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_MONTH_YEAR = re.compile(r"(\d{1,2})[./-](\d{4})")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class BirthDate:
    """What survives of a birth date: a full date, or a partial one, or neither."""

    full: date | None = None
    partial: str | None = None  # "YYYY" or "YYYY-MM"

    @property
    def known(self) -> bool:
        return self.full is not None or self.partial is not None


def _parts(value: str) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) as written, unchecked; None if the text is no date at all."""
    if match := _YEAR_FIRST.fullmatch(value):
        year, month, day = match.groups()
        return int(year), int(month), int(day) if day else None
    if match := _DAY_FIRST.fullmatch(value):
        day, month, year = match.groups()
        return int(year), int(month), int(day)
    if match := _MONTH_YEAR.fullmatch(value):
        month, year = match.groups()
        return int(year), int(month), None
    if _YEAR.fullmatch(value):
        return int(value), None, None
    return None


def parse_birth_date(raw: str, *, today: date, report: QualityReport) -> BirthDate:
    """The plausible part of ``raw``; every loss is a WARNING on ``birthDate``."""
    value = raw.strip()
    parts = _parts(value)
    if parts is None:
        report.issue("birthDate", "INVALID", Severity.WARNING)
        return BirthDate()
    year, month, day = parts
    if year < today.year - OLDEST_AGE:
        report.issue("birthDate", "IMPLAUSIBLE", Severity.WARNING, "year out of range")
        return BirthDate()
    found = _plausible(year, month, day, report=report)
    if found.full is not None and found.full.isoformat() != value:
        report.fix("birthDate", "DATE_FORMAT_NORMALISED")
    latest = found.full.isoformat() if found.full else found.partial
    if latest is not None and latest > today.isoformat()[: len(latest)]:
        report.issue("birthDate", "IN_FUTURE", Severity.WARNING, "a data error, not a junior")
        return BirthDate()
    return found


def _plausible(
    year: int, month: int | None, day: int | None, *, report: QualityReport
) -> BirthDate:
    """As much of year, month and day as forms a real date."""
    if month is None or not 1 <= month <= MONTHS:
        code = "YEAR_ONLY" if month is None else "PARTIAL_YEAR_KEPT"
        report.issue("birthDate", code, Severity.WARNING)
        return BirthDate(partial=f"{year:04d}")
    if day is None:
        report.issue("birthDate", "MONTH_ONLY", Severity.WARNING)
    else:
        try:
            return BirthDate(full=date(year, month, day))
        except ValueError:
            report.issue("birthDate", "PARTIAL_MONTH_KEPT", Severity.WARNING)
    return BirthDate(partial=f"{year:04d}-{month:02d}")
