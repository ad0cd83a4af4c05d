"""Identifiers as evidence: tax and national ids, customer numbers, loyalty cards.

A record holds ``"SCHEME:ISSUER:VALUE"`` keys (``features.identifier_key``). Two
values are compared only within one scheme and issuer: a customer number of the
shop says nothing about one of the CRM.

Schemes differ in what an agreement and a disagreement mean:

- **one per person** (``UNIQUE_PER_PERSON``: German tax id, social security number,
  national id): a person has exactly one, for life. The same value is near proof of
  one person: it lifts a single identity guard (a nickname or a typo in the given
  name, a mistyped birth date); see ``guards.py``. Different values are evidence
  against, learnt like any level.
- **checked by a check digit** (``GUARDED``: the German tax id): two different
  values that both passed the check are not a typo of one another, so they make
  an identity guard ("tax ids differ"). Not so for social security and national
  ids in general: a source holds the wrong person's number as well as a mistyped
  one (FEBRL: 6 % of the duplicate pairs carry wholly different numbers), and a
  guard vetoes with certainty.
- **one per person at a time** (VAT id of a sole trader): a disagreement is
  evidence against (a trader may have closed one business and opened another).
- **per document or account** (passport, customer number, loyalty card): a person
  renews a passport and holds two accounts in one system (the very duplicate this
  engine looks for), so a disagreement says nothing; an agreement is strong evidence.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from mdm_matching.domain.engine.edits import within_one_edit
from mdm_matching.domain.engine.features import MatchRecord

TAX_ID_DE = "TAX_ID_DE"
SOCIAL_SECURITY = "SOCIAL_SECURITY"
NATIONAL_ID = "NATIONAL_ID"
PASSPORT = "PASSPORT"
VAT_ID = "VAT_ID"
CUSTOMER_NUMBER = "CUSTOMER_NUMBER"
LOYALTY_CARD = "LOYALTY_CARD"

UNIQUE_PER_PERSON = frozenset({TAX_ID_DE, SOCIAL_SECURITY, NATIONAL_ID})
# Validated against a check digit upstream: two different values are two persons.
GUARDED = frozenset({TAX_ID_DE})
# Schemes whose disagreement is evidence against a duplicate (a level of the comparison).
DISAGREEMENT_COUNTS = UNIQUE_PER_PERSON | {VAT_ID}

# Levels of the identifier comparison (``comparisons.IDENTIFIERS``).
SAME, ONE_TYPO, DIFFERENT = 0, 1, 2
# A single slip is told apart from another number only in values long enough that
# one edit leaves most of the value intact.
MIN_TYPO_LENGTH = 6


def _by_scheme(record: MatchRecord) -> dict[str, set[str]]:
    """``"SCHEME:ISSUER"`` -> values."""
    found: dict[str, set[str]] = defaultdict(set)
    for key in record.identifiers:
        scheme, issuer, value = key.split(":", 2)  # neither scheme nor issuer has a colon
        found[f"{scheme}:{issuer}"].add(value)
    return found


def scheme_of(scheme_issuer: str) -> str:
    return scheme_issuer.split(":", 1)[0]


def one_typo(x: str, y: str) -> bool:
    """One edit (Damerau-Levenshtein) between values of one length class: a digit
    typed wrong, dropped, doubled or two swapped."""
    return (
        min(len(x), len(y)) >= MIN_TYPO_LENGTH
        and abs(len(x) - len(y)) <= 1
        and x != y
        and within_one_edit(x, y)
    )


def _scheme_levels(a: MatchRecord, b: MatchRecord) -> dict[str, int]:
    """Per scheme and issuer both records have: the best level of its value pairs."""
    left, right = _by_scheme(a), _by_scheme(b)
    levels = {}
    for scheme_issuer in left.keys() & right.keys():
        xs, ys = left[scheme_issuer], right[scheme_issuer]
        if xs & ys:
            levels[scheme_issuer] = SAME
        elif any(one_typo(x, y) for x in xs for y in ys):
            levels[scheme_issuer] = ONE_TYPO
        else:
            levels[scheme_issuer] = DIFFERENT
    return levels


def identifier_level(a: MatchRecord, b: MatchRecord) -> int | None:
    """The same value in a common scheme, one typo apart, or different values where
    a disagreement counts; ``None`` (no evidence) where the records share no scheme,
    or differ only in customer numbers, loyalty cards or passports."""
    if not a.identifiers or not b.identifiers:
        return None
    levels = _scheme_levels(a, b)
    best = min(levels.values(), default=None)
    if best == DIFFERENT and not any(scheme_of(s) in DISAGREEMENT_COUNTS for s in levels):
        return None
    return best


def same_unique_identifier(a: MatchRecord, b: MatchRecord) -> bool:
    """Both hold the same value of an identifier a person has only one of."""
    if not a.identifiers or not b.identifiers:
        return False
    return any(
        level == SAME and scheme_of(s) in UNIQUE_PER_PERSON
        for s, level in _scheme_levels(a, b).items()
    )


def guarded_identifiers_differ(a: MatchRecord, b: MatchRecord) -> bool:
    """Two different values, not one typo apart, of an identifier a person has only
    one of and whose check digit was verified: two persons, whatever else agrees."""
    if not a.identifiers or not b.identifiers:
        return False
    return any(
        level == DIFFERENT and scheme_of(s) in GUARDED for s, level in _scheme_levels(a, b).items()
    )


def blocking_keys(record: MatchRecord) -> list[str]:
    """One key per identifier: records sharing a value become candidates.

    Hashed, so that the shared block key nodes do not repeat tax ids in clear text
    (the subject keeps the values; the key only has to be equal for equal values).
    """
    return [hashlib.sha256(key.encode()).hexdigest()[:32] for key in record.identifiers]
