"""The preferred language as an ISO 639-1 code, from codes and names in any case."""

from __future__ import annotations

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.quality.language import normalise_language
from mdm_profile.domain.quality.report import QualityReport

TWO_LETTER = sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def language(raw: str | None) -> tuple[str | None, QualityReport]:
    report = QualityReport()
    return normalise_language(raw, report=report), report


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("en", "en"),  # once read as the language "En" (ISO 639-3 enc) and dropped
        ("EN", "en"),
        ("en-GB", "en"),
        ("fr_FR", "fr"),
        ("deu", "de"),
        ("ger", "de"),  # the bibliographic code
        ("English", "en"),
        ("Englisch", "en"),
        ("Deutsch", "de"),
    ],
)
def test_codes_and_names_become_the_two_letter_code(raw: str, code: str) -> None:
    assert language(raw)[0] == code


def test_what_is_no_language_is_flagged_and_not_used() -> None:
    found, report = language("xx")
    assert found is None
    assert [(i.field, i.code) for i in report.issues] == [("language", "UNKNOWN")]
    found, report = language("  ")
    assert found is None
    assert [i.code for i in report.issues] == ["MISSING"]


@given(st.sampled_from(TWO_LETTER), st.sampled_from([str.lower, str.upper]))
def test_every_iso_639_1_code_is_kept_whatever_its_case(code: str, case: object) -> None:
    assert language(case(code))[0] == code  # type: ignore[operator]


@given(st.text(max_size=12))
def test_any_text_gives_a_two_letter_code_or_nothing(raw: str) -> None:
    found, _ = language(raw)
    assert found is None or (len(found) == 2 and found in TWO_LETTER)
