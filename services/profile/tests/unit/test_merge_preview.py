"""The merge preview: the merge's survivorship on two persons' records, nothing written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mdm_common.errors import Conflict, InvalidInput, NotFound
from mdm_profile.domain.golden import DEFAULT_RULES
from mdm_profile.domain.merge_preview import GOLDEN_FIELDS, PreviewField, one_line, preview_merge
from mdm_profile.domain.merging import PersonState, rebuild
from mdm_profile.domain.models import Person
from mdm_profile.domain.privacy import REASON_RESTRICTED
from mdm_profile.domain.quality.addresses import PostalAddress
from mdm_profile.domain.records import CleanRecord, RawRecord, clean
from mdm_profile.domain.sources import SourceRegistry, SourceSystem

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=100)
SOURCES = SourceRegistry({"crm": 1, "shop": 2})


def record(source: str, source_id: str, days: int, **fields: str) -> CleanRecord:
    raw = RawRecord(source_id, recorded_at=T0 + timedelta(days=days), **fields)
    return clean(raw, source=SourceSystem(source, SOURCES.priority_of(source)), received_at=T0)


def state(person_id: str, *records: CleanRecord, **changes: object) -> PersonState:
    empty = Person(person_id, "", "", created_at=T0, updated_at=T0)
    person = rebuild(empty, records, sources=SOURCES, rules=DEFAULT_RULES, now=T0)
    return PersonState(replace(person, **changes), None, tuple(records))  # type: ignore[arg-type]


CRM = record(
    "crm",
    "c1",
    0,
    given_name="Johanna",
    family_name="Schmidt",
    email="j.schmidt@crm.example",
    language="de",
)
SHOP = record(
    "shop",
    "s1",
    30,
    full_name="Dr. Hanna Schmitt",
    email="hanna@shop.example",
    phone="0151 23456789",
    street="Gartenweg 1",
    postal_code="20095",
    city="Hamburg",
    country="DE",
    birth_date="1980-05-17",
)


class Reader:
    """Persons by id, as the merge store reads them; counts the reads."""

    def __init__(self, *states: PersonState) -> None:
        self.found = {s.person.id: s for s in states}
        self.reads = 0

    async def states(self, person_ids: list[str]) -> dict[str, PersonState]:
        self.reads += 1
        return {pid: self.found[pid] for pid in person_ids if pid in self.found}


async def preview(reader: Reader, survivor: str = "a", merged: str = "b") -> list[PreviewField]:
    found = await preview_merge(
        survivor, merged, store=reader, sources=SOURCES, rules=DEFAULT_RULES, now=NOW
    )
    assert (found.survivor_id, found.merged_id) == (survivor, merged)
    return list(found.fields)


class TestResult:
    async def test_the_rows_are_the_golden_fields_with_the_merges_survivorship(self) -> None:
        rows = {f.field: f for f in await preview(Reader(state("a", CRM), state("b", SHOP)))}
        assert list(rows) == list(GOLDEN_FIELDS)
        # Name by source priority (crm), e-mail by recency (shop), the rest only shop has.
        assert rows["givenName"] == PreviewField("givenName", "Johanna", "Hanna", "Johanna", "crm")
        assert rows["titles"] == PreviewField("titles", None, "Dr.", None, None)
        assert rows["email"] == PreviewField(
            "email", "j.schmidt@crm.example", "hanna@shop.example", "hanna@shop.example", "shop"
        )
        assert rows["phone"].result_value == "+4915123456789"
        assert rows["address"].result_value == "Gartenweg 1, 20095 Hamburg, DE"
        assert (rows["birthDate"].result_value, rows["birthDate"].result_source) == (
            "1980-05-17",
            "shop",
        )
        assert (rows["language"].survivor_value, rows["language"].merged_value) == ("de", None)

    async def test_the_result_is_what_the_merge_would_save(self) -> None:
        survivor, merged = state("a", CRM), state("b", SHOP)
        rows = await preview(Reader(survivor, merged))
        saved = rebuild(survivor.person, [CRM, SHOP], sources=SOURCES, rules=DEFAULT_RULES, now=NOW)
        assert [f.result_value for f in rows] == [text(saved) for _, text in GOLDEN_FIELDS.values()]

    def test_an_address_reads_as_one_line_without_missing_parts(self) -> None:
        assert one_line(PostalAddress(None, None, "10115", "Berlin", "DE")) == "10115 Berlin, DE"
        assert one_line(PostalAddress(None, None, None, None, None)) is None


class TestRefusals:
    @pytest.mark.parametrize(
        ("survivor", "merged", "error", "field"),
        [
            ("a", "a", InvalidInput, "mergedId"),
            ("a", "nobody", NotFound, "mergedId"),
            ("nobody", "b", NotFound, "survivorId"),
        ],
    )
    async def test_as_the_merge_refuses(
        self, survivor: str, merged: str, error: type[Exception], field: str
    ) -> None:
        with pytest.raises(error) as raised:
            await preview(Reader(state("a", CRM), state("b", SHOP)), survivor, merged)
        assert raised.value.field == field  # type: ignore[attr-defined]

    async def test_a_restricted_person_is_a_conflict(self) -> None:
        reader = Reader(state("a", CRM), state("b", SHOP, processing_restricted=True))
        with pytest.raises(Conflict) as raised:
            await preview(reader)
        assert raised.value.details == {"reason": REASON_RESTRICTED}

    async def test_a_person_merged_away_is_bad_input_naming_its_survivor(self) -> None:
        away = replace(state("b", SHOP), merged_into="c")
        with pytest.raises(InvalidInput, match="merged into c") as raised:
            await preview(Reader(state("a", CRM), away))
        assert (raised.value.field, raised.value.details) == ("mergedId", {"mergedInto": "c"})

    async def test_the_persons_are_read_once(self) -> None:
        reader = Reader(state("a", CRM), state("b", SHOP))
        await preview(reader)
        assert reader.reads == 1
