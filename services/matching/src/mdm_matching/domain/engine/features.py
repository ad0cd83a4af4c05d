"""What the match engine knows about one profile: folded, comparable values.

Built from a golden profile (the profile service already cleaned it). Everything
is folded for comparison (``"Müller"`` and ``"Mueller"`` meet); phonetic codes use
Kölner Phonetik, which is made for German names and spells out umlauts itself.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import cologne_phonetics

from mdm_common.text import fold

_DIGITS = re.compile(r"\d+")
# Generational suffixes as the profile stores them ("jun.", "Jr.", "sen.", "III").
_SUFFIXES = {"jun": "jun", "jr": "jun", "junior": "jun", "sen": "sen", "sr": "sen",
             "senior": "sen", "ii": "ii", "iii": "iii", "iv": "iv"}  # fmt: skip


# Names repeat: a customer base of a million holds some tens of thousands of them.
@functools.lru_cache(maxsize=1 << 16)
def phonetic(folded: str) -> str:
    """Kölner Phonetik of every word, joined: ``"mueller luedenscheidt"`` -> ``"657 52682"``."""
    if not folded:
        return ""
    return " ".join(code for _, code in cologne_phonetics.encode(folded) if code)


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One profile as the engine compares it. ``None`` (or ``""``) means unknown."""

    id: str
    given: str = ""
    family: str = ""
    given_code: str = ""
    family_code: str = ""
    birth: str | None = None  # "YYYYMMDD"; parts may be unknown ("1956????")
    suffix: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_code: str | None = None
    city: str | None = None
    street: str | None = None
    house_number: str | None = None
    # "SCHEME:ISSUER:VALUE" (``identifier_key``), sorted, each once; see identifiers.py.
    identifiers: tuple[str, ...] = ()

    @property
    def email_local(self) -> str | None:
        return self.email.split("@", 1)[0] if self.email else None


def birth_key(value: date | str | None) -> str | None:
    """A birth date as ``YYYYMMDD`` (digits compare well with edit distances); a partial
    one ("1987", "1987-05", as the profile keeps what is plausible) with ``?`` for the
    unknown parts: ``"1987????"``, ``"198705??"``."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    digits = "".join(_DIGITS.findall(value))
    if len(digits) in {4, 6}:  # year, or year and month
        return digits.ljust(8, "?")
    return digits if len(digits) == 8 else None


def suffix_key(value: str | None) -> str | None:
    if not value:
        return None
    return _SUFFIXES.get(fold(value).replace(" ", ""), fold(value) or None)


def house_number_key(value: str | None) -> str | None:
    """``"12 a"``, ``"12a"`` and ``"12A"`` are one house number."""
    folded = fold(value or "").replace(" ", "")
    return folded or None


def make_record(
    id: str,  # noqa: A002 - the profile id
    *,
    given: str | None = None,
    family: str | None = None,
    birth: date | str | None = None,
    suffix: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    postal_code: str | None = None,
    city: str | None = None,
    street: str | None = None,
    house_number: str | None = None,
    identifiers: Iterable[tuple[str, str | None, str]] = (),
) -> MatchRecord:
    """``identifiers``: ``(scheme, issuer, value)`` as the profile holds them, values
    already validated and normalised (compact, upper case)."""
    given_f, family_f = fold(given or ""), fold(family or "")
    return MatchRecord(
        id=id,
        given=given_f,
        family=family_f,
        given_code=phonetic(given_f),
        family_code=phonetic(family_f),
        birth=birth_key(birth),
        suffix=suffix_key(suffix),
        email=email.strip().lower() if email and email.strip() else None,
        phone=phone.strip() if phone and phone.strip() else None,
        postal_code=fold(postal_code or "").replace(" ", "") or None,
        city=fold(city or "") or None,
        street=street_key(street),
        house_number=house_number_key(house_number),
        identifiers=identifier_keys(identifiers),
    )


def identifier_key(scheme: str, issuer: str | None, value: str) -> str | None:
    """``("SOCIAL_SECURITY", "AU", "1234567")`` -> ``"SOCIAL_SECURITY:AU:1234567"``.

    The issuer is empty where a scheme has none; a colon inside it would shift the
    value, so it becomes a hyphen. Spaces are dropped and case folded up, in case a
    value came less normalised than promised.
    """
    scheme = scheme.strip().upper()
    compact = "".join(value.split()).upper()
    if not scheme or not compact:
        return None
    return f"{scheme}:{(issuer or '').strip().upper().replace(':', '-')}:{compact}"


def identifier_keys(identifiers: Iterable[tuple[str, str | None, str]]) -> tuple[str, ...]:
    keys = {identifier_key(scheme, issuer, value) for scheme, issuer, value in identifiers}
    return tuple(sorted(k for k in keys if k))


_STREET_WORDS = re.compile(r"\b(strasse|str)\b")


def street_key(value: str | None) -> str | None:
    """Street for comparison: folded, ``"Hauptstr."`` and ``"Haupt-Straße"`` meet."""
    folded = fold(value or "")
    if not folded:
        return None
    folded = _STREET_WORDS.sub("str", folded.replace("strasse", "str"))
    return folded.replace(" ", "")


_FINGERPRINTED = tuple(name for name in MatchRecord.__slots__ if name not in {"id", "identifiers"})


def fingerprint(record: MatchRecord) -> str:
    """Changes exactly when a compared value changes ("materially changed").

    A steward's NOT_A_MATCH holds while both fingerprints stay the same.
    """
    values = [getattr(record, name) or "" for name in _FINGERPRINTED]
    # Appended only where there are any: the fingerprints of records without
    # identifiers stay what they were before identifiers were compared, so the
    # stewards' NOT_A_MATCH decisions on them still hold.
    if record.identifiers:
        values.append("\x1e".join(record.identifiers))
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:24]
