"""Features and comparison levels of the match engine."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.domain.engine.comparisons import (
    ADDRESS,
    COMPARISONS,
    birth_level,
    compare,
    email_level,
    name_levels,
)
from mdm_matching.domain.engine.features import (
    MatchRecord,
    birth_key,
    fingerprint,
    make_record,
    phonetic,
    suffix_key,
)
from mdm_matching.domain.engine.model import (
    Parameters,
    Scorer,
    default_parameters,
    rare_term_frequencies,
    term_frequencies,
)

ADDRESS_AT = COMPARISONS.index(ADDRESS)


@pytest.mark.parametrize(
    ("name", "code"),
    # Reference examples of Kölner Phonetik (Postel 1969, as published with the method).
    [("Müller-Lüdenscheidt", "65752682"), ("Wikipedia", "3412"), ("Breschnew", "17863"),
     ("Müller", "657"), ("Mueller", "657"), ("Meier", "67"), ("Mayr", "67"),
     ("Schmidt", "862"), ("Schmitt", "862")],
)  # fmt: skip
def test_koelner_phonetik_reference_examples(name: str, code: str) -> None:
    assert phonetic(make_record("x", family=name).family).replace(" ", "") == code


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [("Müller", "MUELLER", 0), ("Schmidt", "Schmitt", 1), ("Meier", "Mayr", 2),
     ("Anna Maria", "Anna", 2), ("J", "Jürgen", 3), ("Lea", "Lia", 2), ("Paula", "Pauline", 3),
     ("Sabine", "Jürgen", 4)],
)  # fmt: skip
def test_name_levels(a: str, b: str, level: int) -> None:
    left, right = make_record("l", given=a), make_record("r", given=b)
    assert name_levels(left, right)[0] == level


def test_swapped_names_still_agree() -> None:
    left = make_record("l", given="Thomas", family="Weber")
    right = make_record("r", given="Weber", family="Thomas")
    assert name_levels(left, right) == (0, 0)


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [("1975-03-14", "1975-03-14", 0), ("1975-03-14", "1975-03-15", 1),
     ("1975-03-04", "1975-04-03", 1), ("1975-03-14", "1975-03-28", 2),
     ("1975-03-14", "2001-05-02", 3)],
)  # fmt: skip
def test_birth_levels(a: str, b: str, level: int) -> None:
    assert birth_level(birth_key(a), birth_key(b)) == level


def test_unknown_values_are_no_evidence() -> None:
    vector = compare(make_record("a", given="Anna"), make_record("b", family="Weber"))
    assert vector == (None,) * len(COMPARISONS)


def test_street_spellings_and_house_numbers_meet() -> None:
    a = make_record("a", street="Hauptstraße", house_number="12 a", postal_code="10115")
    b = make_record("b", street="Hauptstr.", house_number="12A", postal_code="10115")
    assert compare(a, b)[ADDRESS_AT] == 0


@pytest.mark.parametrize(
    ("b_postal", "b_city", "level"),
    [("10827", "Berlin", 3),  # one street name in two districts: only the city agrees
     (None, "Berlin", 1),  # a side without postal code: the city places the street
     ("10115", "Berlin", 1),
     ("10151", "Berlin", 1),  # a postal code typo, confirmed by the city
     ("10151", "Berlln", 1),  # ... spelt with a slip
     ("10151", "Potsdam", 4)],  # a postal code one typo away in another city
)  # fmt: skip
def test_a_street_counts_only_in_the_same_place(
    b_postal: str | None, b_city: str, level: int
) -> None:
    a = make_record("a", street="Hauptstraße", house_number="3", postal_code="10115",
                    city="Berlin")  # fmt: skip
    b = make_record("b", street="Hauptstraße", house_number="9", postal_code=b_postal,
                    city=b_city)  # fmt: skip
    assert compare(a, b)[ADDRESS_AT] == level
    assert compare(b, a)[ADDRESS_AT] == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [("j.kessel@web.example", "j.kessel@web.example", 0),
     ("j.kessel@web.example", "j.kesel@web.example", 1),  # one typo
     ("j.kessel@web.example", "j.kessel@mail.example", 1),  # distinctive local part
     ("juergen@kessel.example", "juergen@weber.example", 2),  # a bare given name
     ("kessel@web.example", "kessel@mail.example", 2),  # a bare family name
     ("info@kessel.example", "info@weber.example", 2),  # a mailbox, not a person
     ("juergen@kesselab.example", "juergen@kesselcd.example", 2)],  # alike only at the start
)  # fmt: skip
def test_email_levels(a: str, b: str, level: int) -> None:
    left = make_record("l", given="Jürgen", family="Kessel", email=a)
    right = make_record("r", given="Jürgen", family="Kessel", email=b)
    assert email_level(left, right) == level
    assert email_level(right, left) == level


def test_suffixes_and_birth_keys() -> None:
    assert suffix_key("jun.") == suffix_key("Jr") == "jun"
    assert suffix_key("sen.") == "sen"
    assert birth_key(date(1975, 3, 4)) == birth_key("1975-03-04") == "19750304"
    assert birth_key("1975") == "1975????"  # a partial birth date of the profile
    assert birth_key("1975-03") == "197503??"
    assert birth_key("75") is None


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [("1975", "1975-03-14", 2), ("1975-03", "1975-03-14", 2), ("1975", "1975-07", 2),
     ("1975-03", "1975-04-14", 3), ("1975", "1981-03-14", 3), ("1975-03", "1976-04", 3),
     ("1975", "1957-03-14", None), ("1975-03", "1976-03-01", None)],
)  # fmt: skip
def test_partial_birth_dates_compare_only_their_known_parts(
    a: str, b: str, level: int | None
) -> None:
    assert birth_level(birth_key(a), birth_key(b)) == level
    assert birth_level(birth_key(b), birth_key(a)) == level


def test_fingerprint_changes_with_any_compared_value_only() -> None:
    base = make_record("a", given="Anna", family="Weber", email="a@example.org")
    assert fingerprint(base) == fingerprint(make_record("other-id", given="ANNA", family="Weber",
                                                        email="A@example.org"))  # fmt: skip
    assert fingerprint(base) != fingerprint(make_record("a", given="Anna", family="Weber"))


names = st.text(alphabet="abcdeäöüßlmnrstz -", max_size=12)


@given(names, names, names, names)
def test_comparison_is_symmetric(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = make_record("a", given=g1, family=f1), make_record("b", given=g2, family=f2)
    assert compare(a, b) == compare(b, a)


@given(names, names)
def test_a_record_agrees_with_itself_exactly(given_name: str, family: str) -> None:
    a = make_record("a", given=given_name, family=family)
    vector = compare(a, a)
    expected_given = 0 if a.given else None
    expected_family = 0 if a.family else None
    assert vector[:2] == (expected_given, expected_family)


def test_the_model_keeps_frequencies_only_of_names_five_persons_carry() -> None:
    records = [make_record(str(i), given="Anna", family="Müller") for i in range(5)]
    records += [make_record(f"y{i}", given="Ottilie", family="Kesselbrink") for i in range(4)]
    tf = term_frequencies(records)
    assert set(tf["given"]) == {"anna"}  # Ottilie: four persons only
    assert set(tf["family"]) == {"mueller"}


class TestRareNames:
    """Names fewer than five persons carry share one frequency, the mean of the rare ones."""

    @staticmethod
    def _records() -> list[MatchRecord]:
        records = [make_record(f"m{i}", given="Anna", family="Müller") for i in range(90)]
        records += [make_record(f"k{i}", given="Anna", family="Kesselbrink") for i in range(4)]
        records += [make_record(f"p{i}", given="Anna", family=f"Przybylski{chr(97 + i)}")
                    for i in range(6)]  # fmt: skip
        return records

    def test_the_rare_frequency_is_an_aggregate_naming_nobody(self) -> None:
        records = self._records()
        rare = rare_term_frequencies(records)
        # Kesselbrink: 4 records of 4/100; six names once each: 1/100 (mean over 10 records)
        assert rare["family"] == pytest.approx((4 * 4 + 6 * 1) / (100 * 10))
        assert "given" not in rare  # every given name is common here
        assert set(term_frequencies(records)["family"]) == {"mueller"}

    def test_a_rare_name_agreeing_weighs_more_than_a_common_one(self) -> None:
        records = self._records()
        parameters = default_parameters()
        parameters.tf = term_frequencies(records)
        parameters.rare_tf = rare_term_frequencies(records)
        scorer = Scorer(parameters)

        def family_weight(name: str) -> float:
            pair = make_record("a", family=name), make_record("b", family=name)
            return next(c.weight for c in scorer.score(*pair).contributions
                        if c.comparison == "familyName")  # fmt: skip

        assert family_weight("Kesselbrink") > family_weight("Müller") + 5
        assert family_weight("Unbekannt") == family_weight("Kesselbrink")  # unseen is rare too

    def test_the_rare_frequency_survives_storage(self) -> None:
        parameters = default_parameters()
        parameters.rare_tf = {"family": 0.0002}
        assert Parameters.from_json(parameters.to_json()).rare_tf == {"family": 0.0002}
        del_key = parameters.to_json()
        del del_key["rareTf"]  # a model stored before: no adjustment for rare names
        assert Parameters.from_json(del_key).rare_tf == {}

    def test_swapped_names_get_no_frequency_of_the_other_attribute(self) -> None:
        parameters = default_parameters()
        parameters.rare_tf = {"given": 0.0001, "family": 0.0001}
        scorer = Scorer(parameters)
        straight = scorer.score(make_record("a", given="Thomas", family="Weber"),
                                make_record("b", given="Thomas", family="Weber"))  # fmt: skip
        swapped = scorer.score(make_record("a", given="Thomas", family="Weber"),
                               make_record("b", given="Weber", family="Thomas"))  # fmt: skip
        assert swapped.weight < straight.weight
