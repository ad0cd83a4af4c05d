"""Identity guards: contradictions that veto a pair whatever its score.

Fellegi-Sunter sums independent evidence, and a household breaks independence:
spouses, twins and father and son ("jun."/"sen.") share family name, address,
landline and e-mail domain. A guard names what says "two persons" anyway. A guard
vetoes with certainty, so it must rest on knowledge, never on string shape alone:

- **given names differ**: the comparison found no likeness at all (no shared part,
  no initial, no phonetic code, at least two edits and Jaro-Winkler below 0.8).
- **alike only in Kölner Phonetik** (Nicole / Michael, Anna / Ina): the code is
  coarse; two *known* given names that share only it are two names. A string no
  lexicon and no data know as a name is a misspelling that kept the sound.
- **male and female form** (Paul / Paula, Christian / Christiane): both are known
  given names (``given_names.py``) of opposite gender, one formed from the other.
  ``"Marisaa"`` is no name, ``"Dorothe"`` is female like ``"Dorothea"``: slips.
  Where the trained model knows the data's given names (``is_name``), both must
  also be carried by several persons in the data.
- **birth dates differ**: different years, or month and day both differ (no typo,
  no swap); placeholder dates (1900-01-01) are no birth date and never differ.
- **generational suffixes differ** ("jun." / "sen.").
- **tax ids differ**: two different values of the German tax id, both valid by its
  check digit, not one typo apart (``identifiers.GUARDED``). Social security and
  national ids that differ are strong evidence against, not a guard: a source
  holds the wrong person's number too (FEBRL: 6 % of the duplicate pairs).

The same value of an identifier a person has only one of (tax id, social security
number, national id: ``identifiers.UNIQUE_PER_PERSON``) outweighs a single guard: a
nickname, a given name typed badly, a mistyped birth date. Two guards at once (another given name
*and* another birth date) stand: that is a child carrying a parent's id by mistake,
and the pair is left out as any pair with two guards is.
"""

from __future__ import annotations

from collections.abc import Callable

import jellyfish

from mdm_matching.domain.engine.comparisons import BIRTH, GIVEN, SIMILAR, Vector, shares_part
from mdm_matching.domain.engine.edits import within_one_edit
from mdm_matching.domain.engine.features import MatchRecord
from mdm_matching.domain.engine.given_names import Gender, gender_of, is_given_name
from mdm_matching.domain.engine.identifiers import (
    guarded_identifiers_differ,
    same_unique_identifier,
)

IsName = Callable[[str], bool]

GIVEN_NAMES_DIFFER = "given names differ"
ALIKE_ONLY_BY_CODE = "given names differ, alike only in Kölner Phonetik (Nicole / Michael)"
PAIRED_FORMS = "given names are a male and a female form (Paul / Paula)"
BIRTH_DATES_DIFFER = "birth dates differ"
SUFFIXES_DIFFER = "generational suffixes differ (jun./sen.)"
TAX_IDS_DIFFER = "tax ids differ"
# Every guard, as a pair's conflicts and the stewards' calibration name them.
GUARDS = (
    GIVEN_NAMES_DIFFER,
    ALIKE_ONLY_BY_CODE,
    PAIRED_FORMS,
    BIRTH_DATES_DIFFER,
    SUFFIXES_DIFFER,
    TAX_IDS_DIFFER,
)

# How a female given name is formed from a male one (Paul / Paula, Stefan / Stefanie,
# Christian / Christiane, Peter / Petra, Christian / Christina, Andreas / Andrea,
# Mario / Maria, Julius / Julia, Sven / Svenja). Only between two known given names
# of opposite gender: the lexicon, not these endings, decides.
_FEMALE_ENDINGS = ("a", "e", "ie", "ine", "ina", "ja")
_FEMALE_REPLACED = (("er", "ra"), ("ian", "ina"), ("as", "a"), ("o", "a"), ("us", "a"))


def _female_form_of(male: str, female: str) -> bool:
    if any(female == male + ending for ending in _FEMALE_ENDINGS):
        return True
    return any(
        male.endswith(ending) and female == male[: -len(ending)] + replaced
        for ending, replaced in _FEMALE_REPLACED
    )


def paired_given_names(x: str, y: str, *, is_name: IsName | None = None) -> bool:
    """A male and a female form of one name: twins and siblings are named so, and
    Jaro-Winkler calls them close (``"paul"`` / ``"paula"``: 0.96).

    Only the first given name counts (``"paula marie"`` is a Paula).
    """
    x, y = x.split(" ", 1)[0], y.split(" ", 1)[0]
    if not x or not y or x == y:
        return False
    genders = gender_of(x), gender_of(y)
    if None in genders or genders[0] == genders[1]:
        return False
    male, female = (x, y) if genders[0] is Gender.MALE else (y, x)
    if not _female_form_of(male, female):
        return False
    return is_name is None or (is_name(x) and is_name(y))


def _known_name(name: str, is_name: IsName | None) -> bool:
    """A given name the lexicon or the data know (any of its parts)."""
    return any(
        is_given_name(part) or (is_name is not None and is_name(part)) for part in name.split()
    )


def alike_only_by_code(
    x: str, y: str, x_code: str, y_code: str, *, is_name: IsName | None = None
) -> bool:
    """Two known given names that agree only in their Kölner Phonetik and otherwise
    differ: the code is coarse (``"nicole"`` and ``"michael"`` are both 645, ``"anna"``
    and ``"ina"`` 06), so it makes no given names of twins the same. A slip of one
    letter (``"sam"`` / ``"sma"``), a shared name part, or a spelling nobody is
    called (``"nikol"``) is not meant."""
    if not x or not y or x == y or not x_code or x_code != y_code or shares_part(x, y):
        return False
    return (
        jellyfish.jaro_winkler_similarity(x, y) < SIMILAR
        and not within_one_edit(x, y)
        and _known_name(x, is_name)
        and _known_name(y, is_name)
    )


# Pairs of given names whose verdict a ``Guards`` remembers (bounded, as the
# comparisons' caches are).
GIVEN_NAME_PAIRS_CACHED = 1 << 16


class Guards:
    """The identity guards of one model; the verdict on a pair of given names, which
    repeat across pairs, is found once."""

    def __init__(self, *, is_name: IsName | None = None) -> None:
        self._is_name = is_name
        self._given: dict[tuple[int | None, str, str, str, str], str | None] = {}

    @property
    def is_name(self) -> IsName | None:
        return self._is_name

    def conflicts_of(self, vector: Vector, a: MatchRecord, b: MatchRecord) -> tuple[str, ...]:
        """The identity guards a pair violates, after a shared unique identifier lifted
        a single one. ``vector``: ``compare(a, b)``."""
        found = []
        key = (vector[0], a.given, b.given, a.given_code, b.given_code)
        try:
            given = self._given[key]
        except KeyError:
            if len(self._given) >= GIVEN_NAME_PAIRS_CACHED:
                self._given.clear()
            given = self._given[key] = given_name_conflict(*key, is_name=self._is_name)
        if given is not None:
            found.append(given)
        if vector[2] == BIRTH.differs:
            found.append(BIRTH_DATES_DIFFER)
        if a.suffix and b.suffix and a.suffix != b.suffix:
            found.append(SUFFIXES_DIFFER)
        if guarded_identifiers_differ(a, b):
            found.append(TAX_IDS_DIFFER)
        if len(found) == 1 and found[0] != TAX_IDS_DIFFER and same_unique_identifier(a, b):
            return ()
        return tuple(found)


def given_name_conflict(
    level: int | None, x: str, y: str, x_code: str, y_code: str, *, is_name: IsName | None = None
) -> str | None:
    """The guard a pair of given names violates, if any; ``level``: their comparison's."""
    if level == GIVEN.differs:
        return GIVEN_NAMES_DIFFER
    if alike_only_by_code(x, y, x_code, y_code, is_name=is_name):
        return ALIKE_ONLY_BY_CODE
    if level is not None and paired_given_names(x, y, is_name=is_name):
        return PAIRED_FORMS
    return None


def conflicts_of(
    vector: Vector, a: MatchRecord, b: MatchRecord, *, is_name: IsName | None = None
) -> tuple[str, ...]:
    """The identity guards a pair violates, after a shared unique identifier lifted
    a single one. ``vector``: ``compare(a, b)``; ``is_name``: the given names the
    trained model learnt from the data (carried by several persons)."""
    return Guards(is_name=is_name).conflicts_of(vector, a, b)
