"""Records as columns: equal values are equal positions, unknown ones are apart."""

from __future__ import annotations

import numpy as np

from mdm_matching.domain.engine.columns import (
    ABSENT,
    BIRTH_OTHER,
    BIRTH_UNKNOWN,
    RecordTable,
    Vocabulary,
)
from mdm_matching.domain.engine.features import MatchRecord, make_record


def test_a_vocabulary_numbers_values_as_they_first_occur() -> None:
    vocabulary = Vocabulary[str]()
    assert vocabulary.column(["b", None, "a", "b"]).tolist() == [0, ABSENT, 1, 0]
    assert vocabulary.column(["a", "c"]).tolist() == [1, 2]
    assert vocabulary.values == ["b", "a", "c"]


def test_names_are_keyed_with_their_code_the_most_common_first() -> None:
    records = [
        make_record("1", given="Anna", family="Kessel"),
        make_record("2", given="Kessel", family="Kessel"),
        MatchRecord("3", given="kessel", given_code="0"),  # another code: another key
        make_record("4"),
    ]
    names = RecordTable.of(records).names
    assert names.coded[0] == ("kessel", "485")
    assert names.given_key.tolist() == [2, 1, 3, 0]
    assert names.family_key.tolist() == [1, 1, 0, 0]
    kessel = names.names.index("kessel")
    assert names.name_of_key[[0, 1, 3]].tolist() == [ABSENT, kessel, kessel]


def test_birth_dates_of_eight_digits_are_their_digits_the_rest_compared_apart() -> None:
    births = ["1987-05-12", "1987", None, "1900-01-01"]
    table = RecordTable.of([make_record(str(i), birth=b) for i, b in enumerate(births)])
    assert table.births.code.tolist() == [0x19870512, BIRTH_OTHER, BIRTH_UNKNOWN, BIRTH_OTHER]
    assert table.births.values == ["19870512", "1987????", "19000101"]
    assert table.births.birth.tolist() == [0, 1, ABSENT, 2]


def test_records_keep_their_order_and_know_their_place_by_id() -> None:
    table = RecordTable.of([make_record(i) for i in ["c", "a", "b"]])
    assert [r.id for r in table.records] == ["c", "a", "b"]
    assert table.rank.tolist() == [2, 0, 1]
    assert table.unique_ids
    assert not RecordTable.of([make_record("a"), make_record("a")]).unique_ids
    assert np.array_equal(table.identified, [False, False, False])
