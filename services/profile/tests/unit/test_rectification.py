"""Rectification (Art. 16, 19) without servers: the corrected value, survivorship, recipients."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from mdm_common.errors import InvalidInput
from mdm_profile.domain.golden import Rule, build_golden
from mdm_profile.domain.models import Person
from mdm_profile.domain.records import CleanRecord
from mdm_profile.domain.rectification import corrected_record, recipients
from mdm_profile.domain.sources import RECTIFICATION, SourceRegistry
from mdm_profile.settings import ProfileSettings

from .test_golden import CRM_OLD, NEWS, SHOP_NEW, SOURCES, record

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def person() -> Person:
    golden = build_golden([CRM_OLD, SHOP_NEW, NEWS], priority_of=SOURCES.priority_of)
    return Person.from_golden("p1", golden, created_at=NOW, updated_at=NOW)


def corrected(
    field: str, value: str, request_id: str = "req-1", now: datetime = NOW
) -> CleanRecord:
    return corrected_record(field, value, current=person(), request_id=request_id, now=now)


class TestCorrectedValue:
    def test_the_value_is_cleaned_like_an_import_and_stands_alone(self) -> None:
        found = corrected_record(
            "email", "  Johanna.S@Example.COM ", current=person(), request_id="req-1", now=NOW
        )
        assert (found.source, found.source_id, found.recorded_at) == (RECTIFICATION, "req-1", NOW)
        assert found.email == "Johanna.S@example.com"
        assert (found.given_name, found.address, found.birth_date, found.language) == (
            "",
            None,
            None,
            None,
        )

    def test_a_name_part_is_recorded_with_the_rest_of_the_name(self) -> None:
        found = corrected_record(
            "givenName", "JOHANNA MARIA", current=person(), request_id="r", now=NOW
        )
        assert (found.given_name, found.family_name) == ("Johanna Maria", "Schmidt")

    def test_dates_phones_languages_and_addresses(self) -> None:
        current = person()
        birth = corrected_record(
            "birthDate", "17.06.1980", current=current, request_id="r", now=NOW
        )
        assert birth.birth_date == date(1980, 6, 17)
        phone = corrected_record("phone", "030 1234567", current=current, request_id="r", now=NOW)
        assert phone.phone is not None
        assert phone.phone.e164 == "+49301234567"
        language = corrected_record(
            "language", "Englisch", current=current, request_id="r", now=NOW
        )
        assert language.language == "en"
        text = json.dumps(
            {"street": "Gartenweg 3", "postalCode": "20095", "city": "Hamburg", "country": "DE"}
        )
        address = corrected_record("address", text, current=current, request_id="r", now=NOW)
        assert address.address is not None
        assert (address.address.street, address.address.house_number) == ("Gartenweg", "3")

    @pytest.mark.parametrize(
        ("field", "value", "reason"),
        [
            ("email", "a..b@web.de", "INVALID"),
            ("phone", "0171 12", "INVALID"),
            ("birthDate", "1987-13-45", "PARTIAL_YEAR_KEPT"),
            ("birthDate", "1987", "YEAR_ONLY"),
            ("birthDate", "2999-01-01", "IN_FUTURE"),
            ("language", "Klingonisch", "UNKNOWN"),
            ("salutation", "Eure Hoheit", "SALUTATION_UNKNOWN"),
            ("givenName", "   ", "MISSING"),
            ("address", '{"street": "Gartenweg 3", "city": "Hamburg"}', "MISSING"),
            (
                "address",
                '{"street": "Weg 1", "postalCode": "123", "city": "X"}',
                "INVALID_FOR_COUNTRY",
            ),
            ("address", "Gartenweg 3, Hamburg", "NOT_AN_ADDRESS"),
            ("address", '{"street": 3}', "NOT_AN_ADDRESS"),
            ("email", "x" * 301, "TOO_LONG"),
            ("nickname", "Jo", "UNKNOWN_FIELD"),
        ],
    )
    def test_a_value_an_import_would_keep_raw_is_refused_naming_the_field(
        self, field: str, value: str, reason: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            corrected(field, value)
        expected = "field" if reason == "UNKNOWN_FIELD" else field
        assert (caught.value.field, caught.value.details["reason"]) == (expected, reason)
        assert value.strip() == "" or value not in caught.value.message  # no personal data


class TestSurvivorship:
    @pytest.mark.parametrize("rule", [Rule.MOST_RECENT, Rule.SOURCE_PRIORITY, Rule.MOST_FREQUENT])
    def test_the_rectified_value_wins_over_every_source_under_every_rule(self, rule: Rule) -> None:
        fix = corrected_record(
            "email", "johanna@example.com", current=person(), request_id="req-1", now=NOW
        )
        later = record("shop", "s2", days=400, family_name="Schmitt", email="late@shop.example")
        chosen = build_golden(
            [CRM_OLD, SHOP_NEW, NEWS, fix, later],
            priority_of=SOURCES.priority_of,
            rules={"email": rule},
        )
        email = chosen["email"]
        assert (email.value, email.source, email.source_id, email.rule) == (
            "johanna@example.com",
            RECTIFICATION,
            "req-1",
            Rule.RECTIFIED,
        )
        assert chosen["name"].source == "crm"  # other attributes keep their rules

    def test_a_later_rectification_of_the_field_wins_over_an_earlier_one(self) -> None:
        first = corrected("familyName", "Schmid", "req-1")
        second = corrected("familyName", "Schmidt-Weber", "req-2", now=NOW + timedelta(days=3))
        chosen = build_golden([CRM_OLD, second, first], priority_of=SOURCES.priority_of)
        assert chosen["name"].value[1] == "Schmidt-Weber"
        assert (chosen["name"].source_id, chosen["name"].rule) == ("req-2", Rule.RECTIFIED)

    def test_the_reserved_source_and_rule_cannot_be_configured(self) -> None:
        with pytest.raises(ValueError, match="reserved"):
            SourceRegistry({"crm": 1, RECTIFICATION: 1})
        with pytest.raises(ValidationError, match="reserved"):
            ProfileSettings(sources={"crm": 1, RECTIFICATION: 1})
        with pytest.raises(ValidationError, match="RECTIFIED"):
            ProfileSettings(survivorship={"email": Rule.RECTIFIED})


class TestRecipients:
    def test_sources_holding_another_value_are_named_once_and_sorted(self) -> None:
        fix = corrected("email", "news@x.example")
        other_shop = record("shop", "s9", family_name="X", email="old@shop.example")
        same = record("crm", "c9", family_name="X", email="NEWS@x.example")
        assert recipients("email", fix, [CRM_OLD, SHOP_NEW, NEWS, other_shop, same]) == [
            "crm",
            "shop",
        ]

    def test_a_partial_date_the_correction_completes_is_no_contradiction(self) -> None:
        fix = corrected("birthDate", "1980-05-12")
        month = record("shop", "s3", family_name="X", birth_date="05/1980")
        year = record("newsletter", "n3", family_name="X", birth_date="1981")
        assert recipients("birthDate", fix, [CRM_OLD, month, year]) == ["crm", "newsletter"]

    def test_records_without_a_value_and_earlier_rectifications_are_not_recipients(self) -> None:
        fix = corrected("salutation", "Frau", "req-2")
        earlier = corrected("salutation", "Herr", "req-1")
        assert recipients("salutation", fix, [CRM_OLD, earlier]) == []
