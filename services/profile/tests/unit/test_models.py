from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_common.errors import InvalidInput
from mdm_profile.domain.models import MAX_NAME_LENGTH, PersonDraft

names = st.text(alphabet=st.characters(categories=["L", "Zs"]), min_size=1, max_size=80)


class TestNames:
    @given(names)
    def test_cleaning_is_idempotent(self, raw: str) -> None:
        try:
            once = PersonDraft(raw, "Muster").validated()
        except InvalidInput:
            return
        assert once.validated() == once

    @given(names)
    def test_clean_names_have_no_outer_or_double_spaces(self, raw: str) -> None:
        try:
            clean = PersonDraft(raw, "Muster").validated().given_name
        except InvalidInput:
            assert not raw.split()
            return
        assert clean == clean.strip()
        assert "  " not in clean

    def test_keeps_the_original_spelling(self) -> None:
        clean = PersonDraft("  Jürgen  Karl ", "Groß-Özdemir").validated()
        assert (clean.given_name, clean.family_name) == ("Jürgen Karl", "Groß-Özdemir")

    @pytest.mark.parametrize(
        ("given_name", "family_name", "field"),
        [("", "Muster", "givenName"), ("Anna", " \t ", "familyName"),
         ("A" * (MAX_NAME_LENGTH + 1), "Muster", "givenName"), ("An\x00na", "Muster", "givenName")],
    )  # fmt: skip
    def test_rejects(self, given_name: str, family_name: str, field: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            PersonDraft(given_name, family_name).validated()
        assert raised.value.field == field


class TestEmail:
    def test_normalises_the_domain(self) -> None:
        assert PersonDraft("A", "B", " Anna@Example.ORG ").validated().email == "Anna@example.org"

    @pytest.mark.parametrize(
        "email", ["anna", "anna@", "@example.org", "anna@@example.org", "a b@c.de"]
    )
    def test_rejects_without_echoing_the_address(self, email: str) -> None:
        with pytest.raises(InvalidInput) as raised:
            PersonDraft("A", "B", email).validated()
        assert raised.value.field == "email"
        assert email.strip() not in raised.value.message

    def test_email_is_optional(self) -> None:
        assert PersonDraft("A", "B").validated().email is None
