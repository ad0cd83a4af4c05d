"""Suppression keys: spelling variants meet, the given name tells people apart."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import SecretStr

from mdm_profile.domain.quality.folding import fold
from mdm_profile.domain.records import RawRecord, clean
from mdm_profile.domain.sources import SourceSystem
from mdm_profile.domain.suppression import (
    DERIVATION_LABEL,
    SuppressionKind,
    Suppressor,
    derive_key,
    normalised_keys,
)
from mdm_profile.settings import ProfileSettings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CRM = SourceSystem("crm", 1)
SUPPRESSOR = Suppressor(b"unit-test key")

# Names as sources spell them: German letters, their transliterations, any case.
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
name_letters = st.sampled_from("abcdefghijklmnoprstuvwzäöüß")
names = st.text(name_letters, min_size=2, max_size=12).map(str.capitalize)


def record(**fields: str | None) -> RawRecord:
    defaults: dict[str, str | None] = {
        "given_name": "Jürgen", "family_name": "Müller", "birth_date": "1961-04-12",
        "email": "j.mueller@example.org", "phone": "+49 171 1234567",
    }  # fmt: skip
    return RawRecord("K-1", **(defaults | fields))


def hashes(raw: RawRecord, source: SourceSystem = CRM) -> dict[SuppressionKind, str]:
    cleaned = clean(raw, source=source, received_at=NOW)
    return {e.kind: e.hash for e in SUPPRESSOR.entries(cleaned)}


def transliterated(name: str) -> str:
    return "".join(_UMLAUTS.get(ch, ch) for ch in name)


class TestKeys:
    def test_each_kind_from_a_complete_record(self) -> None:
        cleaned = clean(record(), source=CRM, received_at=NOW)
        assert dict(normalised_keys(cleaned)) == {
            SuppressionKind.RECORD: "record:crm|K-1",
            SuppressionKind.NAME_BIRTH: "name-birth:juergen|mueller|1961-04-12",
            SuppressionKind.EMAIL_GIVEN: "email-given:j.mueller@example.org|juergen",
            SuppressionKind.MOBILE_GIVEN: "mobile-given:+491711234567|juergen",
        }

    def test_a_landline_is_no_key(self) -> None:
        assert SuppressionKind.MOBILE_GIVEN not in hashes(record(phone="030 1234567"))

    def test_without_a_given_name_only_the_record_itself(self) -> None:
        found = hashes(record(given_name=None))
        assert set(found) == {SuppressionKind.RECORD}

    def test_without_a_birth_date_no_name_birth_key(self) -> None:
        assert SuppressionKind.NAME_BIRTH not in hashes(record(birth_date=None))

    def test_hashes_are_keyed(self) -> None:
        cleaned = clean(record(), source=CRM, received_at=NOW)
        other = Suppressor(b"another key")
        assert {e.hash for e in SUPPRESSOR.entries(cleaned)}.isdisjoint(
            e.hash for e in other.entries(cleaned)
        )

    def test_entries_of_many_records_are_each_hash_once(self) -> None:
        one = clean(record(), source=CRM, received_at=NOW)
        two = clean(replace(record(), source_id="K-2"), source=CRM, received_at=NOW)
        entries = SUPPRESSOR.entries_of([one, two])
        assert len(entries) == 5  # two record keys, the other three shared
        assert len({e.hash for e in entries}) == 5


class TestVariantsMeet:
    @given(given_name=names, family=names, upper=st.booleans())
    def test_case_and_umlaut_variants_of_names(
        self, given_name: str, family: str, upper: bool
    ) -> None:
        assume(fold(given_name) and fold(family))
        variant = (str.upper if upper else str.lower)(transliterated(given_name))
        first = hashes(record(given_name=given_name, family_name=family))
        second = hashes(record(given_name=variant, family_name=transliterated(family).upper()))
        assert first == second

    @given(local=st.text("abcdefghijklmnopqrstuvwxyz.", min_size=1, max_size=12))
    def test_case_of_the_email_address(self, local: str) -> None:
        assume(not local.startswith(".") and not local.endswith(".") and ".." not in local)
        lower = hashes(record(email=f"{local}@example.org"))
        upper = hashes(record(email=f"{local.upper()}@EXAMPLE.ORG"))
        assert lower[SuppressionKind.EMAIL_GIVEN] == upper[SuppressionKind.EMAIL_GIVEN]

    @pytest.mark.parametrize("written", ["0171 1234567", "+49 (171) 123-4567", "0049171 1234567"])
    def test_ways_to_write_a_mobile_number(self, written: str) -> None:
        assert (hashes(record(phone=written))[SuppressionKind.MOBILE_GIVEN]
                == hashes(record())[SuppressionKind.MOBILE_GIVEN])  # fmt: skip


class TestPeopleAreToldApart:
    @given(one=names, other=names)
    def test_different_given_names_share_no_key_but_the_family_s(
        self, one: str, other: str
    ) -> None:
        assume(fold(one) and fold(other) and fold(one) != fold(other))
        first = hashes(record(given_name=one))
        # Same family, birth date, e-mail address and phone: twins sharing a mailbox.
        second = hashes(replace(record(given_name=other), source_id="K-9"))
        assert set(first.values()).isdisjoint(second.values())

    def test_the_source_is_part_of_the_record_key(self) -> None:
        shop = SourceSystem("shop", 2)
        assert (
            hashes(record())[SuppressionKind.RECORD]
            != hashes(record(), shop)[SuppressionKind.RECORD]
        )


class TestKey:
    def test_a_configured_key_is_used_as_it_is(self) -> None:
        assert derive_key("production key", gateway_secret="gw") == b"production key"

    def test_without_one_it_is_derived_from_the_gateway_secret(self) -> None:
        expected = hmac.new(b"gw", DERIVATION_LABEL, hashlib.sha256).digest()
        assert derive_key("", gateway_secret="gw") == expected

    def test_settings_derive_it_too(self) -> None:
        settings = ProfileSettings(gateway_secret=SecretStr("gw"))
        assert settings.suppression_key_bytes == derive_key("", gateway_secret="gw")
        own = ProfileSettings(gateway_secret=SecretStr("gw"), suppression_key=SecretStr("k"))
        assert own.suppression_key_bytes == b"k"

    def test_an_empty_key_is_refused(self) -> None:
        with pytest.raises(ValueError, match="suppression key"):
            Suppressor(b"")
