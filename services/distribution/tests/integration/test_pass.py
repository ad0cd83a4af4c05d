"""A distribution pass and the record of the messages it handled, on the real graph
server: both commit in one transaction, or neither."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from mdm_common.graph import GraphClient
from mdm_common.inbox import PROCESSED_MESSAGE
from mdm_distribution.adapters.transactions import SCHEMA, GraphTransactions
from mdm_distribution.domain.models import Cause
from mdm_distribution.domain.stores import Stores
from mdm_distribution.tasks import distribute_once

T = TypeVar("T")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Erased:
    """The profile, for persons erased there: no golden record, so no contact check
    either (a pass about persons nobody was sent writes their state and its record)."""

    async def persons(self, ids: Sequence[str]) -> dict[str, None]:
        return dict.fromkeys(ids)

    async def check(self, person_ids: Sequence[str], **_: Any) -> Any:
        raise AssertionError("no golden record to check")


class Counted(GraphTransactions):
    """The graph's transactions, counting the writes; ``fail`` refuses each write's
    commit after its work ran (as a conflict or a lost connection would)."""

    def __init__(self, graph: GraphClient, *, fail: bool = False) -> None:
        super().__init__(graph, stream_prefix="test:")
        self.writes = 0
        self._fail = fail

    async def write(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        self.writes += 1

        async def then_fail(stores: Stores) -> T:
            result = await work(stores)
            if self._fail:
                raise RuntimeError("the commit is refused")
            return result

        return await super().write(then_fail)


@pytest.fixture
async def graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    found = graph_for("distribution")
    await found.apply_schema(SCHEMA)
    return found


async def remembered(graph: GraphClient, message_ids: Sequence[str]) -> set[str]:
    rows = await graph.read(
        lambda tx: tx.run(
            "test.remembered",
            f"MATCH (m:{PROCESSED_MESSAGE}) WHERE m.id IN $ids RETURN m.id AS id",
            ids=list(message_ids),
        )
    )
    return {row["id"] for row in rows}


def messages(n: int) -> list[tuple[str | None, Cause]]:
    return [
        (f"{uuid.uuid4()}/distribution.on_person_erased", Cause("ERASED", str(uuid.uuid4())))
        for _ in range(n)
    ]


async def test_a_pass_remembers_its_messages_and_a_second_delivery_does_nothing(
    graph: GraphClient,
) -> None:
    events = messages(3)
    transactions = Counted(graph)
    done = await distribute_once(
        graph, events, transactions=transactions, records=Erased(), checks=Erased(), now=NOW
    )
    assert done == (3, 0)
    assert transactions.writes == 1  # the work and its record: one transaction
    ids = [mid for mid, _ in events if mid is not None]
    assert await remembered(graph, ids) == set(ids)

    again = await distribute_once(
        graph, events, transactions=transactions, records=Erased(), checks=Erased(), now=NOW
    )
    assert again is None
    assert transactions.writes == 1


async def test_a_pass_whose_commit_fails_remembers_nothing(graph: GraphClient) -> None:
    events = messages(2)
    with pytest.raises(RuntimeError):
        await distribute_once(
            graph,
            events,
            transactions=Counted(graph, fail=True),
            records=Erased(),
            checks=Erased(),
            now=NOW,
        )
    ids = [mid for mid, _ in events if mid is not None]
    assert await remembered(graph, ids) == set()  # delivered again, it is done again


async def test_only_the_new_messages_of_a_pass_are_handled(graph: GraphClient) -> None:
    first = messages(1)
    await distribute_once(
        graph, first, transactions=Counted(graph), records=Erased(), checks=Erased(), now=NOW
    )
    later = messages(1)
    done = await distribute_once(
        graph,
        [*first, *later, (None, Cause("ERASED", str(uuid.uuid4())))],
        transactions=Counted(graph),
        records=Erased(),
        checks=Erased(),
        now=NOW,
    )
    assert done == (2, 0)  # the later message and the direct call without an id
