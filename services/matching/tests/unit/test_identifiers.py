"""Identifiers as evidence: keys, levels, blocking, the model and its stored form."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.comparisons import COMPARISONS, IDENTIFIERS, compare
from mdm_matching.domain.engine.features import (
    MatchRecord,
    fingerprint,
    identifier_key,
    make_record,
)
from mdm_matching.domain.engine.identifiers import (
    DIFFERENT,
    ONE_TYPO,
    SAME,
    guarded_identifiers_differ,
    identifier_level,
    same_unique_identifier,
)
from mdm_matching.domain.engine.model import (
    Parameters,
    Scorer,
    default_parameters,
    default_sessions,
    train,
)

AT = COMPARISONS.index(IDENTIFIERS)
SSN = ("SOCIAL_SECURITY", "AU", "1234567")
TAX_ID = ("TAX_ID_DE", None, "65929970489")


def _with(*identifiers: tuple[str, str | None, str], given: str = "Anna") -> MatchRecord:
    return make_record("x", given=given, family="Kessel", identifiers=identifiers)


class TestKeys:
    def test_sorted_once_each_and_normalised(self) -> None:
        record = _with(("CUSTOMER_NUMBER", "crm", "c 100234"), SSN, SSN,
                       ("tax_id_de", None, "65929970489"))  # fmt: skip
        assert record.identifiers == ("CUSTOMER_NUMBER:CRM:C100234", "SOCIAL_SECURITY:AU:1234567",
                                      "TAX_ID_DE::65929970489")  # fmt: skip

    def test_a_colon_in_the_issuer_cannot_shift_the_value(self) -> None:
        assert identifier_key("CUSTOMER_NUMBER", "shop:de", "A:1") == "CUSTOMER_NUMBER:SHOP-DE:A:1"

    def test_empty_values_are_left_out(self) -> None:
        assert _with(("PASSPORT", "DE", "  ")).identifiers == ()


class TestLevels:
    @pytest.mark.parametrize(
        ("left", "right", "level"),
        [(SSN, SSN, SAME),
         (SSN, ("SOCIAL_SECURITY", "AU", "1234576"), ONE_TYPO),  # two digits swapped
         (("CUSTOMER_NUMBER", "crm", "C100234"), ("CUSTOMER_NUMBER", "crm", "C10234"), ONE_TYPO),
         (SSN, ("SOCIAL_SECURITY", "AU", "7654321"), DIFFERENT),
         (("VAT_ID", None, "DE136695976"), ("VAT_ID", None, "DE129273398"), DIFFERENT),
         # Short values: one edit makes another number, not a typo.
         (("LOYALTY_CARD", "payback", "12345"), ("LOYALTY_CARD", "payback", "12346"), None),
         # Customer numbers, cards and passports that differ say nothing.
         (("CUSTOMER_NUMBER", "crm", "C100234"), ("CUSTOMER_NUMBER", "crm", "C200871"), None),
         (("PASSPORT", "DE", "C01X00T47"), ("PASSPORT", "DE", "C4J5X8Z21"), None),
         # Another issuer or another scheme: nothing to compare.
         (SSN, ("SOCIAL_SECURITY", "NZ", "1234567"), None),
         (SSN, ("NATIONAL_ID", "AU", "1234567"), None)],
    )  # fmt: skip
    def test_levels(self, left: tuple[str, str, str], right: tuple[str, str, str],
                    level: int | None) -> None:  # fmt: skip
        a, b = _with(left), _with(right)
        assert identifier_level(a, b) == level
        assert identifier_level(b, a) == level
        assert compare(a, b)[AT] == level

    def test_one_agreement_among_several_schemes_counts(self) -> None:
        number = ("CUSTOMER_NUMBER", "crm", "C100234")
        a = _with(number, SSN)
        b = _with(number, ("SOCIAL_SECURITY", "AU", "7654321"))
        assert identifier_level(a, b) == SAME
        assert not same_unique_identifier(a, b)
        tax_ids = _with(number, TAX_ID), _with(number, ("TAX_ID_DE", None, "26954371827"))
        assert identifier_level(*tax_ids) == SAME
        assert guarded_identifiers_differ(*tax_ids)  # ... and the guard still sees the other

    def test_a_side_without_identifiers_is_unknown(self) -> None:
        assert identifier_level(_with(SSN), _with()) is None

    def test_only_unique_schemes_make_proof_and_only_the_tax_id_a_guard(self) -> None:
        number = ("CUSTOMER_NUMBER", "crm", "C100234")
        assert same_unique_identifier(_with(SSN), _with(SSN))
        assert not same_unique_identifier(_with(number), _with(number))
        assert guarded_identifiers_differ(_with(TAX_ID), _with(("TAX_ID_DE", None, "26954371827")))
        for scheme, value in (("PASSPORT", "C4J5X8Z21"), ("SOCIAL_SECURITY", "7654321"),
                              ("NATIONAL_ID", "T22000129")):  # fmt: skip
            differing = _with((scheme, "AU", "1234567")), _with((scheme, "AU", value))
            assert not guarded_identifiers_differ(*differing)


values = st.text(alphabet="0123456789AB", min_size=1, max_size=9)


@given(st.lists(values, max_size=3), st.lists(values, max_size=3))
def test_the_level_is_symmetric(xs: list[str], ys: list[str]) -> None:
    a = _with(*[("SOCIAL_SECURITY", "AU", x) for x in xs])
    b = _with(*[("SOCIAL_SECURITY", "AU", y) for y in ys])
    assert identifier_level(a, b) == identifier_level(b, a)
    assert guarded_identifiers_differ(a, b) == guarded_identifiers_differ(b, a)


class TestFingerprint:
    def test_unchanged_for_records_without_identifiers(self) -> None:
        # The digest before identifiers existed: stewards' decisions on it still hold.
        record = make_record("a", given="Anna", family="Weber", birth="1975-03-04",
                             email="a@example.org", phone="+4930123456", postal_code="10115",
                             city="Berlin", street="Hauptstr. 3", house_number="3",
                             suffix="jun.")  # fmt: skip
        assert fingerprint(record) == "692cc4bbf79e85a6bc072ed9"

    def test_changes_with_an_identifier(self) -> None:
        assert fingerprint(_with(SSN)) != fingerprint(_with())
        assert fingerprint(_with(SSN)) != fingerprint(_with(("SOCIAL_SECURITY", "AU", "1234568")))
        assert fingerprint(_with(SSN, ("PASSPORT", "DE", "X1"))) == fingerprint(
            _with(("PASSPORT", "DE", "X1"), SSN)
        )


class TestBlocking:
    def test_records_sharing_an_identifier_are_candidates(self) -> None:
        a = make_record("a", given="Anna", family="Kessel", identifiers=[SSN])
        b = make_record("b", given="Hanne", family="Schulte", identifiers=[SSN])
        c = make_record("c", given="Petra", family="Weber",
                        identifiers=[("SOCIAL_SECURITY", "AU", "7654321")])  # fmt: skip
        assert list(blocking.candidate_pairs([a, b, c])) == [("a", "b")]

    def test_the_key_does_not_show_the_value(self) -> None:
        keys = blocking.keys_of(_with(SSN))
        assert keys
        assert not any("1234567" in key for key in keys)

    def test_the_keys_of_the_other_rules_keep_their_positions(self) -> None:
        record = make_record("a", email="a@example.org", identifiers=[SSN])
        rules = [rule.name for rule in blocking.RULES]
        assert rules.index("e-mail") == 8
        assert "8:a@example.org" in blocking.keys_of(record)
        assert rules[-1] == "identifier"


class TestModel:
    def test_an_untrained_model_takes_the_same_identifier_as_strong_evidence(self) -> None:
        scorer = Scorer(default_parameters())
        a = make_record("a", given="Anna", family="Kessel", identifiers=[SSN])
        b = make_record("b", given="Anna", family="Kessel", identifiers=[SSN])
        without = Scorer(default_parameters()).score(
            make_record("a", given="Anna", family="Kessel"),
            make_record("b", given="Anna", family="Kessel"),
        )
        score = scorer.score(a, b)
        assert score.weight > without.weight + 15
        assert score.probability > 0.99

    def test_the_explanation_names_the_comparison_without_values(self) -> None:
        a = make_record("a", given="Anna", identifiers=[TAX_ID])
        b = make_record("b", given="Anna", identifiers=[("TAX_ID_DE", None, "26954371827")])
        score = Scorer(default_parameters()).score(a, b)
        contribution = next(c for c in score.contributions if c.comparison == "identifiers")
        assert contribution.level == "different identifiers of one scheme"
        assert contribution.weight < 0
        assert score.conflicts == ("tax ids differ",)
        shown = repr(score.contributions) + repr(score.conflicts)
        assert "65929970489" not in shown
        assert "26954371827" not in shown

    def test_parameters_round_trip(self) -> None:
        parameters = default_parameters()
        parameters.m[AT] = [0.7, 0.2, 0.1]
        stored = Parameters.from_json(parameters.to_json())
        assert stored.m == parameters.m
        assert stored.u == parameters.u

    def test_a_model_stored_before_identifiers_gets_the_default_rows(self) -> None:
        old = default_parameters().to_json()
        del old["comparisons"]
        old["m"] = [[0.5, 0.2, 0.1, 0.1, 0.1], *default_parameters().m[1:AT]]
        old["u"] = default_parameters().u[:AT]
        parameters = Parameters.from_json(old)
        assert len(parameters.m) == len(parameters.u) == len(COMPARISONS)
        assert parameters.m[0] == [0.5, 0.2, 0.1, 0.1, 0.1]  # the trained rows stay
        assert parameters.m[AT] == default_parameters().m[AT]
        assert parameters.u[AT] == default_parameters().u[AT]
        a, b = _with(SSN), _with(SSN)
        assert Scorer(parameters).score(a, b).probability > 0.99

    def test_stored_rows_are_found_by_name(self) -> None:
        data = default_parameters().to_json()
        data["comparisons"] = list(reversed(data["comparisons"]))  # type: ignore[call-overload]
        data["m"] = list(reversed(data["m"]))  # type: ignore[call-overload]
        data["u"] = list(reversed(data["u"]))  # type: ignore[call-overload]
        assert Parameters.from_json(data).m == default_parameters().m


def test_training_learns_how_often_duplicates_share_an_identifier() -> None:
    rng = random.Random(5)  # noqa: S311 - test data, not cryptography
    names = ["Anna", "Peter", "Ursula", "Thomas", "Monika", "Klaus", "Sabine", "Jürgen"]
    records = []
    for i in range(2000):
        ssn = ("SOCIAL_SECURITY", "AU", str(rng.randint(1_000_000, 9_999_999)))
        born = f"{rng.randint(1940, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        fields = {"given": rng.choice(names), "family": f"Kessel{i % 300}", "birth": born}
        records.append(make_record(f"p{i}", identifiers=[ssn], **fields))  # type: ignore[arg-type]
        if i % 10 == 0:  # a duplicate with the same number
            records.append(make_record(f"d{i}", identifiers=[ssn], **fields))  # type: ignore[arg-type]
    by_id = {r.id: r for r in records}
    pairs = ((by_id[a], by_id[b]) for a, b in blocking.candidate_pairs(records))
    trained = train(records, pairs, sessions=default_sessions(), u_samples=50_000)
    assert trained.m[AT][SAME] > 0.9
    assert trained.u[AT][SAME] < 0.001
    a, b = by_id["p10"], by_id["d10"]
    assert Scorer(trained).score(a, b).probability > 0.99
