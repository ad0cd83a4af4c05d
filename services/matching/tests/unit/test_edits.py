"""One edit apart: the shortcut agrees with the Damerau-Levenshtein distance."""

from __future__ import annotations

import jellyfish
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine.edits import within_one_edit

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
