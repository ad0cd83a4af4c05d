from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from neo4j import Record
from neo4j.exceptions import Neo4jError, ServiceUnavailable
from neo4j.graph import Graph, Node
from neo4j.spatial import CartesianPoint
from neo4j.time import Date, DateTime, Duration

from mdm_common.graph import as_utc, row_of, worth_again

# What a Cypher row can hold: scalars, temporal values, and lists and maps of them.
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.builds(Date, st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28)),
    st.builds(DateTime, st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28)),
    st.builds(Duration, days=st.integers(-9, 9)),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


class TestRowOf:
    """``row_of`` gives what the driver's ``Record.data`` gives."""

    @given(st.dictionaries(st.text(min_size=1, max_size=5), _values, max_size=6))
    def test_plain_values_as_record_data_gives_them(self, values: dict[str, object]) -> None:
        record = Record(values)
        assert row_of(record) == record.data()

    def test_nodes_and_points_as_record_data_gives_them(self) -> None:
        graph = Graph()
        node = Node(graph, "4:x:1", 1, ["Person"], {"id": "a", "names": ["Anna"]})
        point = CartesianPoint((1.0, 2.0))
        record = Record({"p": node, "nested": {"people": [node], "at": point}})
        assert row_of(record) == record.data()
        assert row_of(record)["p"] == {"id": "a", "names": ["Anna"]}


class TestAsUtc:
    @given(st.datetimes(timezones=st.just(UTC)))
    def test_aware_values_keep_their_instant(self, value: datetime) -> None:
        assert as_utc(value) == value
        assert as_utc(value).tzinfo is UTC

    @given(st.datetimes())
    def test_naive_values_are_read_as_utc(self, value: datetime) -> None:
        assert as_utc(value) == value.replace(tzinfo=UTC)

    def test_other_zones_are_converted(self) -> None:
        berlin = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        assert as_utc(berlin) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)

    def test_driver_values(self) -> None:
        assert as_utc(DateTime(2026, 1, 2, 3, 4, 5)) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def test_rejects_non_datetimes(self) -> None:
        with pytest.raises(TypeError):
            as_utc("2026-01-01")


class TestWorthAgain:
    """Which failed transactions the client tries again."""

    @staticmethod
    def error(code: str) -> Neo4jError:
        # The driver's own constructor: the class follows the code, as from a server.
        return Neo4jError._hydrate_neo4j(code=code, message="test")

    def test_collisions_and_lost_connections(self) -> None:
        assert worth_again(self.error("Neo.TransientError.Transaction.DeadlockDetected"))
        assert worth_again(ServiceUnavailable("gone"))
        # ArcadeDB: a record another transaction deleted meanwhile.
        assert worth_again(self.error("Neo.ClientError.Statement.EntityNotFound"))

    def test_never_a_mistake_of_the_statement(self) -> None:
        assert not worth_again(self.error("Neo.ClientError.Statement.SyntaxError"))
        assert not worth_again(ValueError("no"))
