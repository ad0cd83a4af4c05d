"""Legal holds at erasure: which records and values a duty keeps, until when."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mdm_common.contracts import DataCategory
from mdm_common.errors import InvalidInput
from mdm_profile.domain.holds import (
    HoldInstruction,
    PeriodStart,
    checked,
    erased_categories,
    expired,
    for_purge,
    held_parts,
    only,
)
from mdm_profile.domain.records import CleanRecord, RawRecord, clean
from mdm_profile.domain.sources import SourceSystem

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
HGB = HoldInstruction(
    "invoices", "Invoices and contracts", "HGB_257", source_systems=("erp",), period_years=10
)
PHONE_PROOF = HoldInstruction(
    "uwg-7a",
    "Proof of phone consent",
    "UWG_7A",
    data_categories=(DataCategory.PHONE,),
    until=date(2031, 6, 1),
)


def record(source: str, source_id: str = "K-1", *, made: datetime = NOW) -> CleanRecord:
    raw = RawRecord(
        source_id,
        given_name="Jürgen",
        family_name="Müller",
        email="j@example.org",
        phone="+49 171 1234567",
        birth_date="1961-04-12",
        street="Hauptstr.",
        house_number="1",
        postal_code="10115",
        city="Berlin",
        recorded_at=made,
    )
    return clean(raw, source=SourceSystem(source, 1), received_at=made)


def parts(*records: CleanRecord, holds: tuple[HoldInstruction, ...] = (HGB, PHONE_PROOF)):
    return held_parts([("p1", r) for r in records], holds, request_id="dsr-1", today=TODAY, now=NOW)


class TestPeriods:
    def test_commercial_records_are_kept_until_the_end_of_the_tenth_calendar_year(self) -> None:
        # HGB §257(5): the period starts at the end of the year the record was made.
        made = datetime(2024, 3, 5, tzinfo=UTC)
        assert HGB.end_for(record("erp", made=made)) == date(2034, 12, 31)

    def test_a_period_from_the_record_date(self) -> None:
        duty = HoldInstruction(
            "x",
            "X",
            "BGB_195",
            source_systems=("erp",),
            period_years=3,
            starts=PeriodStart.RECORD_DATE,
        )
        assert duty.end_for(record("erp", made=datetime(2024, 2, 29, tzinfo=UTC))) == date(
            2027, 3, 1
        )

    def test_a_fixed_end_wins_over_the_record_date(self) -> None:
        assert PHONE_PROOF.end_for(record("shop")) == date(2031, 6, 1)


class TestWhatIsKept:
    def test_a_record_of_a_covered_system_is_kept_whole(self) -> None:
        (held,) = parts(record("erp"))
        assert held.record == record("erp")
        assert set(held.categories) == {
            "identity",
            "birth_date",
            "email",
            "phone",
            "postal_address",
        }
        assert [r.legal_reference for r in held.reasons] == ["HGB_257", "UWG_7A"]
        assert held.until == date(2036, 12, 31)

    def test_of_other_records_only_the_held_category_stays(self) -> None:
        (held,) = parts(record("shop"))
        assert held.categories == ("phone",)
        kept = held.record
        assert kept.phone is not None
        assert kept.phone.e164 == "+491711234567"
        assert (kept.given_name, kept.email, kept.birth_date, kept.address) == (
            "",
            None,
            None,
            None,
        )
        assert held.until == date(2031, 6, 1)

    def test_records_no_duty_reaches_are_not_held(self) -> None:
        assert parts(record("shop"), holds=(HGB,)) == []

    def test_a_duty_that_has_ended_holds_nothing(self) -> None:
        old = record("erp", made=datetime(2010, 5, 1, tzinfo=UTC))  # ended 31 Dec 2020
        assert parts(old, holds=(HGB,)) == []

    def test_the_erased_categories_leave_out_what_stays(self) -> None:
        records = [record("erp"), record("shop", "S-1")]
        held = parts(*records, holds=(HGB,))
        assert erased_categories(records, held, linked=False) == (
            "identity",
            "birth_date",
            "email",
            "phone",
            "postal_address",
            "source_record",
        )
        only_erp = [record("erp")]
        assert erased_categories(only_erp, parts(*only_erp), linked=True) == ("relationships",)

    def test_only_drops_raw_values_and_identifiers(self) -> None:
        kept = only(record("shop"), {DataCategory.EMAIL})
        assert (kept.email, kept.phone, kept.kept_raw, kept.identifiers) == (
            "j@example.org",
            None,
            (),
            (),
        )


class TestEnd:
    def test_a_held_record_expires_the_day_after_its_last_duty(self) -> None:
        (held,) = parts(record("shop"))
        assert expired([held], date(2031, 6, 1)) == []
        assert expired([held], date(2031, 6, 2)) == [held]


class TestChecked:
    @pytest.mark.parametrize(
        ("duty", "reason"),
        [
            (HoldInstruction("x", "X", "HGB_257", period_years=10), "HOLDS_NOTHING"),
            (HoldInstruction("x", "X", "HGB_257", source_systems=("erp",)), "NO_PERIOD"),
            (
                HoldInstruction(
                    "x", "X", "HGB_257", data_categories=("shoe_size",), period_years=1
                ),
                "UNKNOWN_CATEGORY",
            ),
        ],
    )
    def test_a_duty_that_cannot_hold_is_refused(self, duty: HoldInstruction, reason: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            checked([duty])
        assert refused.value.details["reason"] == reason


class TestForPurge:
    def test_only_the_purged_categories_a_duty_covers_are_held(self) -> None:
        both = HoldInstruction(
            "x",
            "X",
            "UWG_7A",
            source_systems=("erp",),
            data_categories=("phone", "email"),
            until=date(2031, 1, 1),
        )
        (applied,) = for_purge([both, HGB], ["phone", "identity"])
        assert (applied.source_systems, applied.data_categories) == ((), ("phone",))
        (held,) = parts(record("erp"), holds=(applied,))
        assert held.categories == ("phone",)  # a purge never keeps a whole record
