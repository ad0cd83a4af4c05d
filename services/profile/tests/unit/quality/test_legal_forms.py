"""Legal forms told apart from company names, and the names' comparison keys."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mdm_profile.domain.quality.legal_forms import (
    LEGAL_FORMS,
    CompanyName,
    display_name,
    legal_form_of,
    name_key,
    split_legal_form,
)


@pytest.mark.parametrize(
    ("raw", "name", "form"),
    [
        ("Müller Maschinenbau GmbH", "Müller Maschinenbau", "GmbH"),
        ("Mueller Maschinenbau G.m.b.H.", "Mueller Maschinenbau", "GmbH"),
        ("MÜLLER MASCHINENBAU GMBH", "MÜLLER MASCHINENBAU", "GmbH"),
        (
            "Müller Maschinenbau Gesellschaft mit beschränkter Haftung",
            "Müller Maschinenbau",
            "GmbH",
        ),
        ("Schmidt Verwaltungsgesellschaft mbH", "Schmidt Verwaltungsgesellschaft", "GmbH"),
        ("Schmidt Logistik GmbH & Co. KG", "Schmidt Logistik", "GmbH & Co. KG"),
        ("Schmidt Logistik GmbH u. Co KG", "Schmidt Logistik", "GmbH & Co. KG"),
        ("Schmidt Logistik GmbH und Co. KG", "Schmidt Logistik", "GmbH & Co. KG"),
        ("Schmidt Logistik GmbH+Co.KG", "Schmidt Logistik", "GmbH & Co. KG"),
        ("Henkel AG & Co. KGaA", "Henkel", "AG & Co. KGaA"),
        ("Merck KGaA", "Merck", "KGaA"),
        ("Start Up UG (haftungsbeschränkt)", "Start Up", "UG (haftungsbeschränkt)"),
        ("Start Up UG (haftungsbeschraenkt)", "Start Up", "UG (haftungsbeschränkt)"),
        ("Start Up UG", "Start Up", "UG (haftungsbeschränkt)"),
        (
            "Start Up UG (haftungsbeschränkt) & Co. KG",
            "Start Up",
            "UG (haftungsbeschränkt) & Co. KG",
        ),
        ("Blumen Meier e.K.", "Blumen Meier", "e.K."),
        ("Blumen Meier e. Kfm.", "Blumen Meier", "e.K."),
        ("Blumen Meier eingetragener Kaufmann", "Blumen Meier", "e.K."),
        ("Volksbank Mittelhessen eG", "Volksbank Mittelhessen", "eG"),
        ("Turnverein 1860 e.V.", "Turnverein 1860", "e.V."),
        ("Lebenshilfe gGmbH", "Lebenshilfe", "gGmbH"),
        ("Siemens Aktiengesellschaft", "Siemens", "AG"),
        ("Allianz SE", "Allianz", "SE"),
        ("Weber & Söhne OHG", "Weber & Söhne", "OHG"),
        ("Weber, KG", "Weber", "KG"),
        ("Kanzlei Roth PartG mbB", "Kanzlei Roth", "PartG mbB"),
        ("Acme Ltd.", "Acme", "Ltd"),
        ("Acme Holdings Limited", "Acme Holdings", "Ltd"),
        ("Acme Inc", "Acme", "Inc."),
        ("Philips N.V.", "Philips", "N.V."),
        ("ArcelorMittal S.A.", "ArcelorMittal", "S.A."),
        ("Luxe S.à r.l.", "Luxe", "S.à r.l."),
        ("Polska Sp. z o.o.", "Polska", "Sp. z o.o."),
        # No form: nothing is cut, and a form alone is not taken from itself.
        ("Bäckerei Schulz", "Bäckerei Schulz", None),
        ("GmbH", "GmbH", None),
        ("Haus am See", "Haus am See", None),
        ("  Müller   Maschinenbau   GmbH ", "Müller Maschinenbau", "GmbH"),
    ],
)
def test_the_form_at_the_end_is_told_apart(raw: str, name: str, form: str | None) -> None:
    assert split_legal_form(raw) == CompanyName(name, form)


@pytest.mark.parametrize(
    ("raw", "form"),
    [
        ("G.m.b.H.", "GmbH"),
        ("gmbh & co kg", "GmbH & Co. KG"),
        ("Aktiengesellschaft", "AG"),
        ("e.V.", "e.V."),
        ("UG (haftungsbeschränkt)", "UG (haftungsbeschränkt)"),
        ("Genossenschaft", None),
        ("", None),
    ],
)
def test_a_form_written_alone(raw: str, form: str | None) -> None:
    assert legal_form_of(raw) == form


@pytest.mark.parametrize(
    "variant",
    [
        "Müller Maschinenbau GmbH",
        "Mueller Maschinenbau G.m.b.H.",
        "MUELLER MASCHINENBAU GMBH",
        "Müller-Maschinenbau GmbH",
        "Müller Maschinenbau",
    ],
)
def test_spellings_of_one_name_share_its_key(variant: str) -> None:
    assert name_key(variant) == "mueller maschinenbau"


def test_and_written_either_way_is_one_key() -> None:
    assert name_key("Weber und Söhne OHG") == name_key("Weber & Söhne OHG") == "weber soehne"


_WORDS = st.lists(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ",
        min_size=3,
        max_size=10,
    ),
    min_size=1,
    max_size=4,
)


@given(_WORDS, st.sampled_from(LEGAL_FORMS))
def test_a_name_written_with_its_form_is_read_back(words: list[str], form: str) -> None:
    name = " ".join(words)
    written = display_name(CompanyName(name, form))
    found = split_legal_form(written)
    assert display_name(found) == written
    # The form found may be a longer one that ends like the name's last word
    # ("Kanzlei Ab" + "AB"), but it is always one of the register's spellings.
    assert found.legal_form in LEGAL_FORMS


@given(_WORDS)
def test_keys_are_blind_to_case_and_to_how_the_form_is_written(words: list[str]) -> None:
    # A name ending in "Ges" is read with "mbH" after it as the legal form "Ges. mbH"
    # (= GmbH): rightly another key than with "GmbH" after it (found by hypothesis).
    assume(words[-1].lower() != "ges")
    name = " ".join(words)
    assert name_key(name.upper()) == name_key(name.lower())
    assert name_key(f"{name} G.m.b.H.") == name_key(f"{name} GmbH") == name_key(f"{name} mbH")
