"""Retention duties without servers: what a duty must say, and how it is applied."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from mdm_common.errors import Conflict, InvalidInput
from mdm_consent.domain.legal_holds import (
    PHONE_PROOF_DUTY,
    DutyDraft,
    LegalReference,
    PeriodStart,
    RetentionDuty,
    as_hold,
    checked,
    phone_proof_hold,
    register,
)

from .facts import T0

INVOICES = DutyDraft(
    code="invoices",
    name="Invoices and contracts",
    legal_reference=LegalReference.HGB_257,
    period_years=10,
    source_systems=("erp", "erp"),
)


class Duties:
    def __init__(self) -> None:
        self.saved: dict[str, RetentionDuty] = {}

    async def create(self, duty: RetentionDuty) -> bool:
        if duty.code in self.saved:
            return False
        self.saved[duty.code] = duty
        return True


class Stores:
    def __init__(self) -> None:
        self.duties = Duties()


class TestChecked:
    def test_a_duty_names_what_it_covers_and_starts_at_the_end_of_the_year(self) -> None:
        duty = checked(INVOICES, by="officer-1", now=T0)
        assert (duty.source_systems, duty.starts, duty.registered_by) == (
            ("erp",),
            PeriodStart.END_OF_YEAR,
            "officer-1",
        )

    @pytest.mark.parametrize(
        ("changes", "field", "reason"),
        [
            ({"code": "Invoices!"}, "code", "BAD_CODE"),
            ({"source_systems": ("ERP system",)}, "sourceSystems", "BAD_SOURCE_SYSTEM"),
            ({"source_systems": (), "data_categories": ()}, "sourceSystems", "COVERS_NOTHING"),
            ({"data_categories": ("shoe_size",)}, "dataCategories", "UNKNOWN_CATEGORY"),
            ({"period_years": 0}, "periodYears", "BAD_PERIOD"),
            ({"period_years": 31}, "periodYears", "BAD_PERIOD"),
        ],
    )
    def test_an_incomplete_duty_is_refused(
        self, changes: dict[str, Any], field: str, reason: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            checked(replace(INVOICES, **changes), by="o", now=T0)
        assert (refused.value.field, refused.value.details["reason"]) == (field, reason)

    def test_a_name_is_required(self) -> None:
        with pytest.raises(InvalidInput) as refused:
            checked(replace(INVOICES, name="  "), by="o", now=T0)
        assert refused.value.field == "name"


class TestRegister:
    async def test_a_code_is_registered_once(self) -> None:
        stores: Any = Stores()
        await register(INVOICES, stores=stores, by="o", now=T0)
        with pytest.raises(Conflict) as refused:
            await register(INVOICES, stores=stores, by="o", now=T0)
        assert refused.value.details["reason"] == "DUPLICATE_DUTY"

    async def test_the_phone_proof_is_built_in(self) -> None:
        stores: Any = Stores()
        proof = replace(INVOICES, code="calls", legal_reference=LegalReference.UWG_7A)
        with pytest.raises(InvalidInput) as refused:
            await register(proof, stores=stores, by="o", now=T0)
        assert refused.value.details["reason"] == "BUILT_IN_DUTY"


class TestHolds:
    def test_a_duty_becomes_a_hold_with_its_period(self) -> None:
        hold = as_hold(checked(INVOICES, by="o", now=T0))
        assert (hold.duty, hold.source_systems, hold.period_years, hold.until) == (
            "invoices",
            ("erp",),
            10,
            None,
        )

    def test_the_phone_proof_keeps_the_phone_number_until_a_fixed_day(self) -> None:
        hold = phone_proof_hold(date(2031, 1, 5))
        assert (hold.duty, hold.legal_reference, hold.data_categories, hold.until) == (
            PHONE_PROOF_DUTY,
            LegalReference.UWG_7A,
            ("phone",),
            date(2031, 1, 5),
        )
        assert "UWG §7a" in LegalReference.UWG_7A.text
