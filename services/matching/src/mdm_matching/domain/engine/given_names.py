"""Given names and their gender: knowledge for the identity guards, not string shape.

Twins and siblings are often named with a male and a female form of one name
(Paul / Paula, Christian / Christiane), and string similarity calls such names
close. A guard that only looks at the letters cannot tell them from a slip
(``"Marisa"`` / ``"Marisaa"``, ``"Dorothea"`` / ``"Dorothe"``). The lexicon can:
only a pair of two known given names of opposite gender is a pair of forms.

The lexicon is Jörg Michael's dictionary of some 48,000 given names from 54
countries with their gender (German names thoroughly covered), as the PyPI package
``gender-guesser`` ships it (GPLv3; the dictionary itself under the GNU FDL). It is
read unchanged from the installed package, folded like the match features
(``"Jürgen"`` -> ``"juergen"``) once per process.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping

from gender_guesser.detector import Detector

from mdm_common.text import fold


class Gender(enum.Enum):
    MALE = "male"
    FEMALE = "female"


# The dictionary's verdicts; "andy" (as often male as female, e.g. "Kim") is no gender.
_GENDERS = {"male": Gender.MALE, "mostly_male": Gender.MALE, "female": Gender.FEMALE,
            "mostly_female": Gender.FEMALE}  # fmt: skip


@functools.cache
def lexicon() -> Mapping[str, Gender | None]:
    """Every folded given name the dictionary knows, with its gender (``None``: either).

    Spellings that fold alike but differ in gender (rare) are of either gender.
    """
    detector = Detector(case_sensitive=False)
    known: dict[str, Gender | None] = {}
    for name in detector.names:
        key = fold(name)
        if not key:
            continue
        gender = _GENDERS.get(detector.get_gender(name))
        known[key] = gender if known.get(key, gender) == gender else None
    return known


def gender_of(folded: str) -> Gender | None:
    """The gender of a known given name; ``None`` for names of either gender and for
    strings that are no given name (a typo such as ``"marisaa"``)."""
    return lexicon().get(folded)


def is_given_name(folded: str) -> bool:
    return folded in lexicon()
