from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.quality.folding import fold


@pytest.mark.parametrize(
    "variants",
    [("Müller", "Mueller", "MÜLLER", "MUELLER"), ("Groß", "Gross", "GROSS"),
     ("Jürgen-Özdemir", "Juergen Oezdemir", "juergen oezdemir"), ("José", "Jose")],
)  # fmt: skip
def test_spelling_variants_meet(variants: tuple[str, ...]) -> None:
    assert len({fold(v) for v in variants}) == 1


@given(st.text())
def test_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text())
def test_output_is_lower_ascii_words(text: str) -> None:
    folded = fold(text)
    assert all(ch.islower() or ch.isdigit() or ch == " " for ch in folded)
    assert folded == folded.strip()
    assert "  " not in folded
