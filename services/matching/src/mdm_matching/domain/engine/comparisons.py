"""Field comparisons, each a short list of levels from "agrees exactly" to "differs".

A pair of records becomes a comparison vector: one level index per comparison, or
``None`` where either side does not know the value (unknown is no evidence either
way). The Fellegi-Sunter model (``model.py``) learns how much each level says.

String similarity comes from jellyfish (Jaro-Winkler, Damerau-Levenshtein); the
values were folded beforehand (case, umlauts, accents), so ``"Müller"`` and
``"MUELLER"`` already agree exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

import jellyfish

from mdm_matching.domain.engine.edits import within_one_edit
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.identifiers import identifier_level

Vector = tuple[int | None, ...]

CLOSE = 0.92
SIMILAR = 0.80


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[str, ...]  # strongest first; the last level is "differs"
    # Attribute whose value frequency adjusts the exact level (common names say less).
    tf_attribute: str | None = None

    @property
    def differs(self) -> int:
        return len(self.levels) - 1


NAME_LEVELS = ("exact", "close (Jaro-Winkler >= 0.92)", "phonetic or shared name part",
               "similar (Jaro-Winkler >= 0.8, one edit or initial)", "different")  # fmt: skip

GIVEN = Comparison("givenName", NAME_LEVELS, tf_attribute="given")
FAMILY = Comparison("familyName", NAME_LEVELS, tf_attribute="family")
BIRTH = Comparison(
    "birthDate",
    ("exact", "one typo or day and month swapped", "same year, month or day differs",
     "different"),
)  # fmt: skip
EMAIL = Comparison("email", ("exact", "one typo or same distinctive local part", "different"))
PHONE = Comparison("phone", ("exact", "one typo or same last 6 digits", "different"))
ADDRESS = Comparison(
    "address",
    ("same street and house number", "same street", "same postal code", "same city",
     "different"),
)  # fmt: skip

# Values are never shown in an explanation: the level names say what agreed.
IDENTIFIERS = Comparison(
    "identifiers",
    ("same identifier", "identifier one typo apart", "different identifiers of one scheme"),
)

# Appended at the end: a model stored before identifiers were compared has one
# comparison fewer (``Parameters.from_json`` fills it in).
COMPARISONS: tuple[Comparison, ...] = (GIVEN, FAMILY, BIRTH, EMAIL, PHONE, ADDRESS, IDENTIFIERS)


# Distinct value pairs whose comparison is remembered: names, dates and places repeat
# across candidate pairs (one "Anna" meets thousands of "Anne"), so a pair of values is
# compared once. Bounded, so that a long-lived worker's memory stays flat (some 20 MiB
# per cache when full).
VALUE_PAIRS_CACHED = 1 << 17


def shares_part(x: str, y: str) -> bool:
    """``"anna maria"`` and ``"anna"``; ``"mueller luedenscheidt"`` and ``"mueller"``."""
    return " " in x + y and bool(set(x.split()) & set(y.split()))


def _is_initial_of(x: str, y: str) -> bool:
    return (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))


def name_level(x: str, y: str, x_code: str, y_code: str) -> int | None:
    if not x or not y:
        return None
    if x == y:
        return 0
    return _differing_name_level(x, y, x_code, y_code)


@functools.lru_cache(maxsize=VALUE_PAIRS_CACHED)
def _differing_name_level(x: str, y: str, x_code: str, y_code: str) -> int:
    jw = jellyfish.jaro_winkler_similarity(x, y)
    if jw >= CLOSE:
        return 1
    if (x_code and x_code == y_code) or shares_part(x, y):
        return 2
    if jw >= SIMILAR or _is_initial_of(x, y) or within_one_edit(x, y):
        return 3
    return 4


def name_levels(a: MatchRecord, b: MatchRecord) -> tuple[int | None, int | None]:
    """Given and family name levels; names entered the wrong way round still agree."""
    if a.given == b.given and a.family == b.family and a.given and a.family:
        return 0, 0
    return _name_levels(
        (
            a.given,
            a.family,
            b.given,
            b.family,
            a.given_code,
            a.family_code,
            b.given_code,
            b.family_code,
        )
    )


@functools.lru_cache(maxsize=VALUE_PAIRS_CACHED)
def _name_levels(
    names: tuple[str, str, str, str, str, str, str, str],
) -> tuple[int | None, int | None]:
    """``names``: both records' given and family names, then their phonetic codes."""
    (
        a_given,
        a_family,
        b_given,
        b_family,
        a_given_code,
        a_family_code,
        b_given_code,
        b_family_code,
    ) = names
    straight = (
        name_level(a_given, b_given, a_given_code, b_given_code),
        name_level(a_family, b_family, a_family_code, b_family_code),
    )
    if straight[0] == 0 and straight[1] == 0:
        return straight
    swapped = (
        name_level(a_given, b_family, a_given_code, b_family_code),
        name_level(a_family, b_given, a_family_code, b_given_code),
    )
    if None in swapped or None in straight:
        return straight
    if sum(swapped) + 1 < sum(straight):  # type: ignore[arg-type]
        # Which of the two crossed comparisons lands in which slot must not depend
        # on the order of the pair: the better one counts as the given name.
        low, high = sorted(swapped)  # type: ignore[type-var]
        return low, high
    return straight


# Dates that source systems enter when they do not know the real one: they are no
# birth date, neither agreeing nor differing (else two records with a placeholder
# would agree exactly, and a placeholder would make the birth-date guard veto a
# duplicate).
# (1 January 2000 or 1970 are real birth dates of many: not among them.)
PLACEHOLDER_BIRTHS = frozenset({"00010101", "11111111", "18000101", "19000101", "19010101",
                                "99991231"})  # fmt: skip


def birth_level(x: str | None, y: str | None) -> int | None:
    if not x or not y:
        return None
    if x == y:
        return None if x in PLACEHOLDER_BIRTHS else _equal_birth_level(x)
    return _differing_birth_level(x, y)


def _equal_birth_level(x: str) -> int | None:
    return _partial_birth_level(x, x) if "?" in x else 0


@functools.lru_cache(maxsize=VALUE_PAIRS_CACHED)
def _differing_birth_level(x: str, y: str) -> int | None:
    if x in PLACEHOLDER_BIRTHS or y in PLACEHOLDER_BIRTHS:
        return None
    if "?" in x or "?" in y:
        return _partial_birth_level(x, y)
    if within_one_edit(x, y) or (x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]):
        return 1
    if x[:4] == y[:4] and (x[4:6] == y[4:6] or x[6:8] == y[6:8]):
        return 2
    return 3


def _partial_birth_level(x: str, y: str) -> int | None:
    """A partial birth date ("1987????") agrees at most partly: the known parts of both
    agree (level 2), or the years are one slip apart (no evidence either way), or they
    contradict each other (a different year or month: the guard's "differ")."""
    # Unknown parts trail the known ones, so ``known`` is year, then month, then day.
    known = [(a, b) for a, b in zip(x, y, strict=True) if "?" not in (a, b)]
    if all(a == b for a, b in known):
        return 2
    months_agree = all(a == b for a, b in known[4:6])
    if x[:4] != y[:4] and within_one_edit(x[:4], y[:4]):
        return None if months_agree else 3
    return 3


# Local parts that name a role or a mailbox rather than a person.
_GENERIC_LOCAL = frozenset({
    "info", "kontakt", "contact", "mail", "post", "office", "service", "privat", "home",
    "familie", "family", "email", "hallo", "hello",
})  # fmt: skip


def _distinctive_local(record: MatchRecord, other: MatchRecord) -> bool:
    """A local part that is more than a bare name or a role: ``j.kessel`` says who it
    is, ``juergen`` at two providers are most likely two Jürgens."""
    local = "".join(c for c in record.email_local or "" if c.isalnum())
    names = {n.replace(" ", "") for n in (record.given, record.family, other.given,
                                          other.family) if n}  # fmt: skip
    return len(local) >= 5 and local not in names and local not in _GENERIC_LOCAL


def email_level(a: MatchRecord, b: MatchRecord) -> int | None:
    if not a.email or not b.email:
        return None
    if a.email == b.email:
        return 0
    # Not Jaro-Winkler over the whole address: it rewards a shared beginning, and
    # "juergen@kessel-a.example" and "juergen@kessel-b.example" begin alike.
    if within_one_edit(a.email, b.email) or (
        a.email_local == b.email_local and _distinctive_local(a, b)
    ):
        return 1
    return 2


def phone_level(x: str | None, y: str | None) -> int | None:
    if not x or not y:
        return None
    if x == y:
        return 0
    if x[-6:] == y[-6:] or within_one_edit(x, y):
        return 1
    return 2


def _same_city(x: str | None, y: str | None) -> bool:
    """The same city, or one spelt with a slip (``"willetton"``, ``"willrtton"``)."""
    if not x or not y:
        return False
    return x == y or jellyfish.jaro_winkler_similarity(x, y) >= CLOSE


class Located(Protocol):
    """What an address comparison reads: a person's or a company's features."""

    @property
    def street(self) -> str | None: ...
    @property
    def house_number(self) -> str | None: ...
    @property
    def postal_code(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...


def address_level(a: Located, b: Located) -> int | None:
    if not (a.street or a.postal_code or a.city) or not (b.street or b.postal_code or b.city):
        return None
    # One street name runs through many districts of a city (Berlin has a dozen
    # Hauptstraßen): where both postal codes are known they must agree, or be one
    # typo apart in the same city (the city confirms the typo); the city counts
    # alone only where a side lacks its postal code.
    if a.postal_code is not None and b.postal_code is not None:
        same_place = a.postal_code == b.postal_code or (
            _same_city(a.city, b.city) and within_one_edit(a.postal_code, b.postal_code)
        )
    else:
        same_place = a.city is not None and a.city == b.city
    if (a.street and b.street and same_place
            and (a.street == b.street
                 or jellyfish.jaro_winkler_similarity(a.street, b.street) >= CLOSE)):  # fmt: skip
        return 0 if a.house_number == b.house_number else 1
    if a.postal_code is not None and a.postal_code == b.postal_code:
        return 2
    if a.city is not None and a.city == b.city:
        return 3
    return 4


def compare(a: MatchRecord, b: MatchRecord) -> Vector:
    """The comparison vector of a pair, in the order of :data:`COMPARISONS`."""
    given, family = name_levels(a, b)
    return (
        given,
        family,
        birth_level(a.birth, b.birth),
        email_level(a, b),
        phone_level(a.phone, b.phone),
        address_level(a, b),
        identifier_level(a, b),
    )
