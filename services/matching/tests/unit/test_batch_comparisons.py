"""Column-wise comparison levels: exactly those of ``compare`` pair by pair."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mdm_matching.domain.engine.batch_comparisons import UNKNOWN, BatchComparisons, NameLevels
from mdm_matching.domain.engine.columns import RecordTable
from mdm_matching.domain.engine.comparisons import compare, name_level
from mdm_matching.domain.engine.features import MatchRecord, make_record, phonetic


def _expected(records: list[MatchRecord], left: list[int], right: list[int]) -> np.ndarray:
    return np.array(
        [
            [UNKNOWN if level is None else level for level in compare(records[a], records[b])]
            for a, b in zip(left, right, strict=True)
        ],
        dtype=np.int8,
    ).reshape(-1, 7)


def _all_pairs(n: int) -> tuple[list[int], list[int]]:
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    return [a for a, _ in pairs], [b for _, b in pairs]


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_every_level_is_that_of_the_pair_by_pair_comparison(
    data: st.DataObject, tricky_records: Any
) -> None:
    records = data.draw(tricky_records)
    left, right = _all_pairs(len(records))
    comparisons = BatchComparisons(RecordTable.of(records))
    found = comparisons.levels(np.array(left), np.array(right))
    assert found.tolist() == _expected(records, left, right).tolist()


def test_the_decided_value_pairs_are_remembered_across_calls() -> None:
    records = [
        make_record(str(i), given=g, family="Kessel", birth="1980-01-02")
        for i, g in enumerate(["Anna", "Anne", "Ana", "Anna"])
    ]
    comparisons = BatchComparisons(RecordTable.of(records))
    left, right = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 3])
    first = comparisons.levels(left, right)
    again = comparisons.levels(left[::-1], right[::-1])
    assert again.tolist() == first[::-1].tolist()
    assert first.tolist() == _expected(records, [0, 1, 2, 0], [1, 2, 3, 3]).tolist()


def test_many_pairs_are_compared_in_slices_alike(monkeypatch: Any) -> None:
    from mdm_matching.domain.engine import batch_comparisons

    records = [
        make_record(str(i), given=g, family=f, email=f"{g}.{f}@web.de")
        for i, (g, f) in enumerate([("Anna", "Kessel"), ("Anne", "Kesel"), ("Paul", "Kessel")])
    ]
    left, right = _all_pairs(3)
    whole = BatchComparisons(RecordTable.of(records)).levels(np.array(left), np.array(right))
    monkeypatch.setattr(batch_comparisons, "COMPARED_AT_ONCE", 2)
    sliced = BatchComparisons(RecordTable.of(records)).levels(np.array(left), np.array(right))
    assert sliced.tolist() == whole.tolist()


_NAMES = ["anna", "anne", "ana", "anna maria", "maria", "a", "nicole", "michael", "ab", "ba"]


@given(st.lists(st.sampled_from(_NAMES), min_size=1), st.lists(st.sampled_from(_NAMES)))
def test_names_with_codes_of_their_own(names: list[str], other_codes: list[str]) -> None:
    # A name may carry a code other than its own (made by an older coding): the
    # (name, code) pair is what is compared.
    coded = [(n, phonetic(n)) for n in names] + [
        (n, phonetic(c)) for n, c in zip(names, other_codes, strict=False)
    ]
    coded = list(dict.fromkeys(coded))
    keys = RecordTable.of(
        [make_record(str(i), given=n) for i, (n, _) in enumerate(coded)]
    ).names.name_of_key
    name_ids = {n: i for i, n in enumerate(dict.fromkeys(n for n, _ in coded))}
    name_of_key = np.array([-1, *(name_ids[n] for n, _ in coded)], dtype=np.int32)
    levels = NameLevels(coded, name_of_key)
    x, y = np.meshgrid(np.arange(len(coded) + 1), np.arange(len(coded) + 1))
    found = levels(x.ravel(), y.ravel())
    everything = [("", ""), *coded]
    expected = [
        name_level(everything[a][0], everything[b][0], everything[a][1], everything[b][1])
        for a, b in zip(x.ravel().tolist(), y.ravel().tolist(), strict=True)
    ]
    assert found.tolist() == [UNKNOWN if e is None else e for e in expected]
    assert len(keys) >= 1
