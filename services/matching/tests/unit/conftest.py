"""Records drawn from values chosen to meet the comparisons' edge cases.

The engine decides pair by pair (``comparisons.py``, ``model.Scorer``) and column-wise
(``batch_*.py``); the tests of the column-wise modules draw records from here and
hold them to the pair-by-pair decisions. A fixture hands the strategy over
(``data.draw(records)``), as test modules do not import each other.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from mdm_matching.domain.engine.features import MatchRecord, phonetic

NAMES = [
    "",
    "anna",
    "anne",
    "ana",
    "anna maria",
    "maria",
    "mario",
    "paul",
    "paula",
    "a",
    "nicole",
    "michael",
    "mueller",
    "muller",
    "mueller luedenscheidt",
    "schmidt",
    "schmitt",
    "lea",
    "lia",
    "ina",
    "ab",
    "ba",
    "kessel",
]
# As ``features.birth_key`` makes them: eight digits, unknown parts as "?".
# As ``features.birth_key`` makes them: eight digits, unknown parts as "?".
BIRTHS = [
    None,
    "",
    "19870512",
    "19870521",
    "19871205",
    "19780512",
    "19870513",
    "19870502",
    "19870152",
    "1987????",
    "198705??",
    "1988????",
    "19880512",
    "19000101",
    "11111111",
]
EMAILS = [
    None,
    "",
    "j.kessel@web.de",
    "j.kessel@gmx.de",
    "j.kesel@web.de",
    "info@kessel.example",
    "info@kessel-b.example",
    "anna@web.de",
    "anna@gmx.de",
    "annamaria@x.de",
    "paul.m@x.de",
    "pual.m@x.de",
    "kessel@a.de",
    "kessel@web.de",
    "paula@web.de",
    "paula@gmx.de",
    "k.essel@a.de",
    "jürgen@x.de",
    "jurgen@x.de",
]
PHONES = [
    None,
    "",
    "+4930123456",
    "+4930123465",
    "+4989123456",
    "+493012345",
    "123",
    "12",
    "+4930999999",
    "+4931123456",
]
POSTAL_CODES = [None, "", "10115", "10116", "10151", "80331", "1011"]
CITIES = [None, "", "berlin", "berlni", "muenchen", "bern"]
STREETS = [None, "", "hauptstr", "hauptsrt", "bahnhofstr", "hauptstrasse"]
HOUSES = [None, "", "1", "12a", "12"]
IDENTIFIERS = [
    (),
    (),
    ("TAX_ID_DE::12345678901",),
    ("TAX_ID_DE::12345678902",),
    ("TAX_ID_DE::98765432101",),
    ("SOCIAL_SECURITY:AU:1234567",),
    ("SOCIAL_SECURITY:AU:1234576",),
    ("CUSTOMER_NUMBER:SHOP:123456", "TAX_ID_DE::12345678901"),
    ("CUSTOMER_NUMBER:SHOP:654321",),
    ("SOCIAL_SECURITY:AU:1234567", "TAX_ID_DE::12345678901"),
    ("SOCIAL_SECURITY:AU:1234567", "TAX_ID_DE::98765432101"),
]


@st.composite
def _record(draw: st.DrawFn, number: int) -> MatchRecord:
    given, family = draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))
    # Mostly the names' own codes; sometimes a code of another name (a record made
    # with an older coding), which the comparisons must take as given.
    codes = st.sampled_from([phonetic(n) for n in NAMES])
    return MatchRecord(
        id=f"r{number:03}",
        given=given,
        family=family,
        given_code=draw(st.one_of(st.just(phonetic(given)), codes)),
        family_code=draw(st.one_of(st.just(phonetic(family)), codes)),
        birth=draw(st.sampled_from(BIRTHS)),
        suffix=draw(st.sampled_from([None, "", "jun", "sen"])),
        email=draw(st.sampled_from(EMAILS)),
        phone=draw(st.sampled_from(PHONES)),
        postal_code=draw(st.sampled_from(POSTAL_CODES)),
        city=draw(st.sampled_from(CITIES)),
        street=draw(st.sampled_from(STREETS)),
        house_number=draw(st.sampled_from(HOUSES)),
        identifiers=draw(st.sampled_from(IDENTIFIERS)),
    )


@st.composite
def _records(draw: st.DrawFn) -> list[MatchRecord]:
    count = draw(st.integers(min_value=2, max_value=24))
    records = [draw(_record(number)) for number in range(count)]
    return draw(st.permutations(records))


@pytest.fixture(scope="session")
def tricky_records() -> Any:
    """A strategy: lists of records (unique ids, in no order) full of edge cases."""
    return _records()
