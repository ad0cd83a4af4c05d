"""How a read-audit record is laid out: persons whose ids share a prefix with many
others of the same request form a group; everyone else is stored alone."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mdm_common.read_audit.records import ReadAudit
from mdm_common.read_audit.store import GROUP_AT_LEAST, PREFIX_LENGTH, layout


def record(person_ids: list[str]) -> ReadAudit:
    return ReadAudit(
        id="a1",
        reader="service:matching",
        roles=("app",),
        operation="MatchingFeatures",
        person_ids=tuple(person_ids),
        at=datetime(2026, 12, 6, tzinfo=UTC),
    )


class TestLayout:
    def test_a_page_of_neighbouring_ids_is_one_group(self) -> None:
        ids = [f"7f{n:06d}" for n in range(200)]
        shape = layout(record(ids))
        assert shape.single == ()
        assert shape.groups == (("7f", tuple(ids)),)

    def test_a_few_persons_under_a_prefix_are_stored_one_by_one(self) -> None:
        few = [f"0a{n}" for n in range(GROUP_AT_LEAST - 1)]
        many = [f"0b{n:02d}" for n in range(GROUP_AT_LEAST)]
        shape = layout(record([*many, *few]))
        assert shape.single == tuple(sorted(few))
        assert shape.groups == (("0b", tuple(sorted(many))),)

    def test_one_person_is_stored_alone(self) -> None:
        assert layout(record(["9423542f-0000"])).single == ("9423542f-0000",)

    @given(st.lists(st.text("0123456789abcdef", min_size=1, max_size=6), max_size=300))
    def test_every_person_is_in_exactly_one_place(self, ids: list[str]) -> None:
        shape = layout(record(ids))
        grouped = [i for _, members in shape.groups for i in members]
        assert sorted([*shape.single, *grouped]) == sorted(set(ids))
        for prefix, members in shape.groups:
            assert len(members) >= GROUP_AT_LEAST
            assert {i[:PREFIX_LENGTH] for i in members} == {prefix}
