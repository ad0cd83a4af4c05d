from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.golden import Rule, build_golden
from mdm_profile.domain.quality.identifiers import RawIdentifier
from mdm_profile.domain.records import CleanRecord, RawRecord, clean
from mdm_profile.domain.sources import SourceRegistry, SourceSystem

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = SourceRegistry({"crm": 1, "shop": 2, "newsletter": 3})


def record(source: str, source_id: str, days: int = 0, **fields: Any) -> CleanRecord:
    raw = RawRecord(source_id, recorded_at=T0 + timedelta(days=days), **fields)
    return clean(raw, source=SourceSystem(source, SOURCES.priority_of(source)), received_at=T0)


CRM_OLD = record("crm", "c1", days=0, given_name="Johanna", family_name="Schmidt",
                 email="j.schmidt@crm.example", street="Lindenstr. 5", postal_code="10115",
                 city="Berlin", language="de", birth_date="1980-05-17")  # fmt: skip
SHOP_NEW = record("shop", "s1", days=30, given_name="Hanna", family_name="Schmitt",
                  email="hanna@shop.example", street="Gartenweg 1", postal_code="20095",
                  city="Hamburg", birth_date="1980-05-17")  # fmt: skip
NEWS = record("newsletter", "n1", days=10, family_name="Schmidt", email="news@x.example",
              language="en", birth_date="1980-07-15")  # fmt: skip


def golden(*records: CleanRecord, **rules: Rule) -> dict[str, object]:
    chosen = build_golden(records, priority_of=SOURCES.priority_of, rules=rules)
    return {attribute: (g.source, g.source_id) for attribute, g in chosen.items()}


def test_default_rules_and_lineage() -> None:
    chosen = build_golden([CRM_OLD, SHOP_NEW, NEWS], priority_of=SOURCES.priority_of)
    assert chosen["name"].value == ("Johanna", "Schmidt", (), None)  # most trusted source
    assert (chosen["name"].source, chosen["name"].rule) == ("crm", Rule.SOURCE_PRIORITY)
    assert chosen["email"].value == "hanna@shop.example"  # most recent
    assert chosen["address"].value.city == "Hamburg"  # an address survives as a whole
    assert chosen["address"].value.street == "Gartenweg"
    assert str(chosen["birthDate"].value) == "1980-05-17"  # most frequent
    # de (crm) and en (newsletter) once each: the tie goes to the more recent record.
    assert (chosen["birthDate"].rule, chosen["language"].value) == (Rule.MOST_FREQUENT, "en")


def test_rules_are_configurable_per_attribute() -> None:
    assert golden(CRM_OLD, SHOP_NEW, email=Rule.SOURCE_PRIORITY)["email"] == ("crm", "c1")
    assert golden(CRM_OLD, SHOP_NEW, name=Rule.MOST_RECENT)["name"] == ("shop", "s1")


def test_most_complete_prefers_the_fuller_value() -> None:
    partial = record("crm", "c2", days=50, family_name="X", street="Kurzweg", city="Köln")
    assert golden(CRM_OLD, partial, address=Rule.MOST_COMPLETE)["address"] == ("crm", "c1")


def test_attributes_no_source_has_stay_empty() -> None:
    assert "phone" not in golden(CRM_OLD, SHOP_NEW)


@given(st.permutations([CRM_OLD, SHOP_NEW, NEWS]))
def test_the_order_records_arrive_in_does_not_matter(records: list[CleanRecord]) -> None:
    assert golden(*records) == golden(CRM_OLD, SHOP_NEW, NEWS)


def test_ties_go_to_the_most_recent_record() -> None:
    newer = replace(CRM_OLD, source_id="c9", given_name="Jo", recorded_at=T0 + timedelta(days=99))
    assert golden(CRM_OLD, newer)["name"] == ("crm", "c9")


class TestPartialBirthDates:
    def test_a_full_date_from_any_source_wins_over_partial_ones(self) -> None:
        partial = record("crm", "p1", days=40, family_name="Schmidt", birth_date="1980-13-45")
        assert partial.birth_date_partial == "1980"
        chosen = build_golden([partial, NEWS], priority_of=SOURCES.priority_of)
        assert chosen["birthDate"].value == NEWS.birth_date
        assert chosen["birthDate"].source_id == "n1"

    def test_partial_dates_alone_make_a_partial_golden_date(self) -> None:
        year = record("crm", "p1", family_name="Schmidt", birth_date="1980")
        month = record("shop", "p2", days=1, family_name="Schmidt", birth_date="1980-05-77")
        chosen = build_golden([year, month], priority_of=SOURCES.priority_of)
        assert chosen["birthDate"].value == "1980-05"  # the most recent one on a tie


class TestIdentifiers:
    def test_every_distinct_identifier_survives_with_its_first_source(self) -> None:
        crm = record("crm", "c9", family_name="A", identifiers=(
            RawIdentifier("TAX_ID_DE", "36574261809"),
            RawIdentifier("CUSTOMER_NUMBER", "1001"),
        ))  # fmt: skip
        shop = record("shop", "s9", days=5, family_name="A", identifiers=(
            RawIdentifier("TAX_ID_DE", "36 574 261 809"),
            RawIdentifier("CUSTOMER_NUMBER", "7700"),
        ))  # fmt: skip
        chosen = build_golden([shop, crm], priority_of=SOURCES.priority_of)
        value = chosen["identifiers"]
        assert value.rule is Rule.ALL_VALUES
        assert [(i.identifier.issuer, i.identifier.value, i.source_id) for i in value.value] == [
            ("crm", "1001", "c9"), ("shop", "7700", "s9"), ("DE", "36574261809", "c9")
        ]  # fmt: skip

    def test_no_identifiers_no_attribute(self) -> None:
        assert "identifiers" not in build_golden([CRM_OLD], priority_of=SOURCES.priority_of)
