"""One edit apart: the shortcut agrees with the Damerau-Levenshtein distance."""

from __future__ import annotations

import jellyfish
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine.edits import Spellings, within_one_edit

# Few letters, so that the generated pairs often are one or two edits apart.
_VALUES = st.text(alphabet="abcü0?", max_size=8)


@given(_VALUES, _VALUES)
@settings(max_examples=3000)
@example("", "a")
@example("ab", "ba")
@example("abc", "acb")
@example("abcd", "badc")
def test_agrees_with_the_edit_distance(x: str, y: str) -> None:
    assert within_one_edit(x, y) == (jellyfish.damerau_levenshtein_distance(x, y) <= 1)


@given(_VALUES, st.integers(min_value=0, max_value=8), st.sampled_from("abcü0?"))
def test_one_slip_is_one_edit(value: str, at: int, letter: str) -> None:
    at = min(at, len(value))
    slips = [
        value[:at] + letter + value[at:],
        value[:at] + value[at + 1 :],
        value[:at] + letter + value[at + 1 :],
    ]
    for slip in slips:
        assert within_one_edit(value, slip)
        assert within_one_edit(slip, value)


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        ("12345", "12354", True),
        ("12345", "21354", False),
        ("mueller", "muller", True),
        ("mueller", "mulleer", False),
        ("10115", "10115", True),
        ("a", "", True),
        ("ab", "", False),
    ],
)
def test_examples(x: str, y: str, *, expected: bool) -> None:
    assert within_one_edit(x, y) is expected


@given(st.lists(_VALUES, min_size=1), st.data())
@settings(max_examples=300)
def test_many_pairs_at_once_agree_with_one_at_a_time(
    values: list[str], data: st.DataObject
) -> None:
    spellings = Spellings(values)  # values may repeat
    positions = st.integers(min_value=0, max_value=len(values) - 1)
    pairs = data.draw(st.lists(st.tuples(positions, positions), min_size=1))
    x, y = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    expected = [within_one_edit(values[a], values[b]) for a, b in pairs]
    assert spellings.within_one_edit(x, y).tolist() == expected


@pytest.mark.parametrize(
    "values",
    [
        ["abcdefghijklmnop", "abcdefghijklmnpo", "abcdefghijklmno", "bacdefghijklmnop"],
        ["straße", "strasse", "ﬆraße", "ßtraße"],  # letters past one byte, and past two
        ["ab\U0001f600", "a\U0001f600b", "ab"],
    ],
)
def test_long_and_wide_letters(values: list[str]) -> None:
    spellings = Spellings(values)
    pairs = [(a, b) for a in range(len(values)) for b in range(len(values))]
    x, y = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    expected = [within_one_edit(values[a], values[b]) for a, b in pairs]
    assert spellings.within_one_edit(x, y).tolist() == expected
