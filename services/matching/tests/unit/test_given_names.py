"""The given-name lexicon: names and their gender, folded like the match features."""

from __future__ import annotations

import pytest

from mdm_matching.domain.engine.features import make_record
from mdm_matching.domain.engine.given_names import Gender, gender_of, is_given_name


def _folded(name: str) -> str:
    return make_record("x", given=name).given


@pytest.mark.parametrize(
    ("name", "gender"),
    [("Paul", Gender.MALE), ("Paula", Gender.FEMALE), ("Jürgen", Gender.MALE),
     ("Günter", Gender.MALE), ("Dorothe", Gender.FEMALE), ("Andrea", Gender.FEMALE),
     ("Ayşe", Gender.FEMALE), ("Mehmet", Gender.MALE), ("Zeynep", Gender.FEMALE)],
)  # fmt: skip
def test_known_names_have_their_gender(name: str, gender: Gender) -> None:
    assert is_given_name(_folded(name))
    assert gender_of(_folded(name)) is gender


@pytest.mark.parametrize("slip", ["Marisaa", "Luisee", "Rebecc", "Sabiine", "Kessel"])
def test_slips_and_family_names_are_no_given_names(slip: str) -> None:
    assert not is_given_name(_folded(slip))
    assert gender_of(_folded(slip)) is None


@pytest.mark.parametrize("name", ["Dominique", "Eike"])
def test_a_name_of_either_gender_has_none(name: str) -> None:
    assert is_given_name(_folded(name))
    assert gender_of(_folded(name)) is None
