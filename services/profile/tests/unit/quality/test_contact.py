from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.quality.contact import normalise_email, normalise_phone
from mdm_profile.domain.quality.report import QualityReport, Severity


class TestPhone:
    @pytest.mark.parametrize(
        ("raw", "region", "e164", "kind"),
        [("030 1234567", "DE", "+49301234567", "FIXED_LINE"),
         ("+49 (0)30 1234567", None, "+49301234567", "FIXED_LINE"),
         ("0049 171 1234567", None, "+491711234567", "MOBILE"),
         ("0171/1234567", "DE", "+491711234567", "MOBILE"),
         ("01 234 56 78", "AT", "+4312345678", "FIXED_LINE"),
         ("044 668 18 00", "CH", "+41446681800", "FIXED_LINE")],
    )  # fmt: skip
    def test_e164(self, raw: str, region: str | None, e164: str, kind: str) -> None:
        phone = normalise_phone(raw, region=region, report=QualityReport())
        assert phone is not None
        assert (phone.e164, phone.kind) == (e164, kind)

    @pytest.mark.parametrize(("raw", "code"), [("call me", "UNPARSEABLE"), ("+49 12", "INVALID")])
    def test_unusable_numbers_are_warnings(self, raw: str, code: str) -> None:
        report = QualityReport()
        assert normalise_phone(raw, region="DE", report=report) is None
        assert [(i.field, i.code, i.severity) for i in report.issues] == [
            ("phone", code, Severity.WARNING)
        ]
        assert not report.errors

    @given(st.text(max_size=30))
    def test_any_input_gives_e164_or_a_warning(self, raw: str) -> None:
        report = QualityReport()
        phone = normalise_phone(raw, region="DE", report=report)
        if phone is None:
            assert [i.field for i in report.issues] == ["phone"]
        else:
            assert phone.e164.startswith("+")
            assert phone.e164[1:].isdigit()
            assert normalise_phone(phone.e164, region=None, report=QualityReport()) == phone


class TestEmail:
    def test_normalises_domain_keeps_local_part(self) -> None:
        report = QualityReport()
        assert normalise_email(" Anna.M@Example.DE ", report=report) == "Anna.M@example.de"
        assert [f.code for f in report.fixes] == ["EMAIL_NORMALISED"]

    @pytest.mark.parametrize("raw", ["anna", "anna@", "anna@@x.de", "a b@x.de", ""])
    def test_invalid_addresses_are_warnings_without_the_address(self, raw: str) -> None:
        report = QualityReport()
        assert normalise_email(raw, report=report) is None
        assert [(i.field, i.code, i.severity) for i in report.issues] == [
            ("email", "INVALID", Severity.WARNING)
        ]
        assert all(raw not in i.detail for i in report.issues if raw)
